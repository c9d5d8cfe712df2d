"""Typed attributes builders may set with @set, per kind of object.

Most live in the object's `attrs` JSON; a few are columns (`column=True`). Each has a type,
so `@set here/dark = yes` stores `True` and a typo is refused rather than saved. New systems
register their attributes here; world files are checked against the same table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from world.model import Exit, Item, Player, Room

TRUE_WORDS = ("yes", "true", "on", "1")
FALSE_WORDS = ("no", "false", "off", "0")
MAX_TEXT_ATTR = 300  # characters in a text attribute


@dataclass(frozen=True)
class AttrSpec:
    name: str
    type: type  # bool, int or str
    help: str
    column: bool = False  # stored as the object's own field, not in attrs
    settable: bool = True  # False: kept by the engine, shown by @examine only


ATTRIBUTES: dict[str, dict[str, AttrSpec]] = {
    "room": {
        "dark": AttrSpec("dark", bool, "no light here (for sight rules)"),
        "no_dream": AttrSpec("no_dream", bool, "no private dreams here"),
        "zone": AttrSpec("zone", str, "the zone key it belongs to", column=True),
        "owner": AttrSpec("owner", str, "who built it", settable=False),
    },
    "exit": {
        "fail": AttrSpec("fail", str, "told to dreamers the lock refuses"),
        "lock": AttrSpec("lock", str, "who may pass (use @lock)", settable=False),
        "severed": AttrSpec(
            "severed", str, "cut by an event: what dreamers who try it are told", settable=False
        ),
        "owner": AttrSpec("owner", str, "who built it", settable=False),
    },
    "item": {
        "keywords": AttrSpec("keywords", str, "words that name it", column=True),
        "owner": AttrSpec("owner", str, "who made it", settable=False),
    },
}  # fmt: skip


def kind_of(obj: Room | Exit | Item | Player) -> str:
    return "player" if isinstance(obj, Player) else type(obj).__name__.lower()


def parse_value(spec: AttrSpec, text: str) -> Any:
    """Turn a builder's text into the attribute's type. Raises ValueError with a sentence."""
    text = text.strip()
    if spec.type is bool:
        low = text.lower()
        if low in TRUE_WORDS:
            return True
        if low in FALSE_WORDS:
            return False
        raise ValueError(f"{spec.name} is yes or no.")
    if spec.type is int:
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"{spec.name} is a whole number.") from None
    if len(text) > MAX_TEXT_ATTR:
        raise ValueError(f"{spec.name} can be at most {MAX_TEXT_ATTR} characters.")
    return text


def check_value(spec: AttrSpec, value: Any) -> str | None:
    """Why a stored value (from a world file) is wrong for `spec`, or None."""
    if spec.type is bool and not isinstance(value, bool):
        return f"{spec.name} must be true or false"
    if spec.type is int and (isinstance(value, bool) or not isinstance(value, int)):
        return f"{spec.name} must be a whole number"
    if spec.type is str and not isinstance(value, str):
        return f"{spec.name} must be text"
    return None


def check_attrs(kind: str, attrs: dict[str, Any]) -> list[tuple[str, str]]:
    """Problems with an attrs mapping, as (attribute name, reason)."""
    known = ATTRIBUTES.get(kind, {})
    problems = []
    for name, value in attrs.items():
        spec = known.get(name)
        if spec is None or spec.column:
            stored = sorted(n for n, s in known.items() if not s.column)
            problems.append((name, f"unknown {kind} attribute; expected one of {stored}"))
            continue
        reason = check_value(spec, value)
        if reason:
            problems.append((name, reason))
    return problems
