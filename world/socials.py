"""Socials: `smile`, `bow ada`, ... as data (world/content/socials.yaml), no code per social.

Each social has the lines for its three uses, with `{actor}` and `{target}` for the names:

    alone / alone_room      no target: what the actor sees / what the room sees
    self / self_room        aimed at oneself (optional: without them, `smile me` is refused)
    actor / target / room   aimed at someone: what the actor, the target and the others see
                            (optional as a set: without them the social takes no target)

A social's name is a command word only where no command or exit uses it (mud/core/dispatch.py
asks for socials after both), so a new command never breaks, and is never broken by, one.
"""

from __future__ import annotations

import string
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from world.yamlsrc import ContentError, load_yaml, validate

SOCIALS_FILE = Path(__file__).parent / "content" / "socials.yaml"
MAX_SOCIAL_LINE = 200  # characters in one line of a social
ALONE_FIELDS = ("alone", "alone_room", "self", "self_room")
TARGET_FIELDS = ("actor", "target", "room")
# Which placeholders each line may use.
ALLOWED = {
    "alone": set(), "alone_room": {"actor"}, "self": set(), "self_room": {"actor"},
    "actor": {"target"}, "target": {"actor"}, "room": {"actor", "target"},
}  # fmt: skip


class Social(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z]{2,20}$")
    alone: str = Field(min_length=1, max_length=MAX_SOCIAL_LINE)
    alone_room: str = Field(min_length=1, max_length=MAX_SOCIAL_LINE)
    self: str | None = Field(default=None, max_length=MAX_SOCIAL_LINE)
    self_room: str | None = Field(default=None, max_length=MAX_SOCIAL_LINE)
    actor: str | None = Field(default=None, max_length=MAX_SOCIAL_LINE)
    target: str | None = Field(default=None, max_length=MAX_SOCIAL_LINE)
    room: str | None = Field(default=None, max_length=MAX_SOCIAL_LINE)

    @model_validator(mode="after")
    def _complete(self) -> Social:
        given = [f for f in TARGET_FIELDS if getattr(self, f) is not None]
        if given and len(given) != len(TARGET_FIELDS):
            missing = [f for f in TARGET_FIELDS if f not in given]
            raise ValueError(f"a targeted social needs actor, target and room; add {missing}")
        if (self.self is None) != (self.self_room is None):
            raise ValueError("give both self and self_room, or neither")
        return self

    @property
    def targeted(self) -> bool:
        return self.actor is not None

    @property
    def to_self(self) -> bool:
        return self.self is not None


class SocialsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    socials: list[Social] = Field(min_length=1)


def _placeholders(text: str) -> set[str] | str:
    """The names a line uses, or a sentence saying why it can't be read."""
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as err:
        return f"can't read the placeholders ({err}); write {{actor}} or {{target}}"


def read_socials(path: Path | None = None, text: str | None = None) -> dict[str, Social]:
    """Parse and check a socials file; ContentError lists every problem as file:line."""
    src = load_yaml(path or SOCIALS_FILE, text)
    spec = validate(SocialsFile, src)
    problems = []
    out: dict[str, Social] = {}
    for i, social in enumerate(spec.socials):
        if social.name in out:
            problems.append(
                f"{src.where(('socials', i, 'name'))}: social {social.name!r} is repeated"
            )
        out[social.name] = social
        for field, allowed in ALLOWED.items():
            line = getattr(social, field)
            if line is None:
                continue
            used = _placeholders(line)
            where = src.where(("socials", i, field))
            if isinstance(used, str):
                problems.append(f"{where}: {field}: {used}")
            elif used - allowed:
                bad = ", ".join("{" + u + "}" for u in sorted(used - allowed))
                can = " and ".join("{" + a + "}" for a in sorted(allowed)) or "no placeholders"
                problems.append(f"{where}: {field} uses {bad}; this line may use {can}")
    if problems:
        raise ContentError(problems)
    return out


@lru_cache(maxsize=1)
def load_socials() -> dict[str, Social]:
    """The shipped socials (read once per process)."""
    return read_socials()


def fill(line: str, actor: str = "", target: str = "", npc: bool = False) -> str:
    """A social's line with the names in, coloured as names are everywhere (a dreamer's
    cyan, a character's yellow)."""
    return line.format(actor=f"|c{actor}|n", target=f"|{'y' if npc else 'c'}{target}|n")
