"""Reading event files: YAML -> EventSpec, then cross-checks, every problem as file:line.

Checks happen in two layers. The schema (pydantic) catches shape: unknown fields, missing
ones, wrong kinds, bad durations. The cross-check catches references: labels a branch goes
to, NPCs, rooms, exits and zones a step names, events a step starts, placeholders in text.
"""

from __future__ import annotations

import logging
import string
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from world.scripting import schema as S
from world.yamlsrc import ContentError, Located, load_yaml

log = logging.getLogger("dreamwave.events")

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
EVENTS_DIR = PROJECT_ROOT / "world" / "events"
# The festival's four protagonists are always known; NPC script files add more.
CORE_NPCS = frozenset({"lyra", "ezra", "mira", "dara"})
LOOP_ROOM = "loop"  # a room reference meaning "the event's loop"

_STEP_MODELS: dict[str, type[BaseModel]] = {}
for _m in (
    S.Say, S.Emote, S.Move, S.Announce, S.Wait, S.SetFlag, S.ClearFlag, S.If, S.Goto, S.End,
    S.Prompt, S.Goal, S.Sever, S.Restore, S.OpenLoop, S.Invite, S.Stability, S.CloseLoop, S.Give,
    S.Place, S.Gather, S.StartEvent, S.StopEvent,
):  # fmt: skip
    _STEP_MODELS[_m.model_fields["do"].annotation.__args__[0]] = _m  # type: ignore[union-attr]
_TRIGGER_MODELS: dict[str, type[BaseModel]] = {
    m.model_fields["when"].annotation.__args__[0]: m  # type: ignore[union-attr]
    for m in (
        S.ManualTrigger, S.ScheduleTrigger, S.EnterTrigger, S.SayTrigger, S.StepTrigger,
        S.StabilityTrigger,
    )
}  # fmt: skip
TEXT_FIELDS = ("text", "leave", "arrive", "message", "reason", "heading")


@dataclass
class WorldFacts:
    """What scripts may refer to: room keys (with their exits' words), zones and NPCs."""

    rooms: dict[str, set[str]] = field(default_factory=dict)
    zones: set[str] = field(default_factory=set)
    npcs: set[str] = field(default_factory=lambda: set(CORE_NPCS))

    def merged(self, other: WorldFacts) -> WorldFacts:
        rooms = {k: set(v) for k, v in self.rooms.items()}
        for key, words in other.rooms.items():
            rooms.setdefault(key, set()).update(words)
        return WorldFacts(rooms, self.zones | other.zones, self.npcs | other.npcs)


def shipped_facts() -> WorldFacts:
    """Facts from the shipped content: world/content/world.yaml and world/npcs/*.yaml."""
    from world.content import load_world_spec
    from world.model import DIRECTIONS

    facts = WorldFacts()
    try:
        spec = load_world_spec()
    except ContentError:
        return facts  # the world file reports its own problems
    for room in spec.rooms:
        words = set()
        for ex in room.exits:
            words |= {ex.name.lower(), *(a.lower() for a in ex.aliases)}
            abbr = DIRECTIONS.get(ex.name.lower())
            if abbr:
                words.add(abbr)
        facts.rooms[room.key] = words
    facts.zones = {z.key for z in spec.zones}
    facts.npcs |= npc_script_keys()
    return facts


def npc_script_keys() -> set[str]:
    """Keys of the NPC script files (their file names), if that loader is present."""
    try:
        from world.npc_scripts import npc_script_paths
    except ImportError:
        return set()
    return {p.stem for p in npc_script_paths()}


def event_paths(directory: Path | None = None) -> list[Path]:
    folder = directory or EVENTS_DIR
    return sorted(folder.glob("*.yaml")) if folder.is_dir() else []


# -- schema: shape ----------------------------------------------------------------------------
def _clean_loc(loc: tuple[Any, ...], src: Located) -> tuple[Any, ...]:
    """Drop the union tags pydantic puts in a location ('steps', 3, 'say', 'npc')."""
    out: list[Any] = []
    for i, part in enumerate(loc):
        tag_spot = i > 0 and isinstance(loc[i - 1], int) and isinstance(part, str)
        tags = (*_STEP_MODELS, *_TRIGGER_MODELS, "function-before")
        if tag_spot and part in tags and (*out, part) not in src.lines:
            continue
        out.append(part)
    return tuple(out)


def _model_at(loc: tuple[Any, ...]) -> tuple[str, type[BaseModel]] | None:
    for i, part in enumerate(loc):
        if i > 0 and isinstance(loc[i - 1], int):
            article = "an" if str(part)[:1] in "aeiou" else "a"
            if loc[0] == "steps" and part in _STEP_MODELS:
                return f"{article} {part} step", _STEP_MODELS[part]
            if loc[0] == "triggers" and part in _TRIGGER_MODELS:
                return f"{article} {part} trigger", _TRIGGER_MODELS[part]
    return None


def _fields(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def _message(err: ErrorDetails, raw_loc: tuple[Any, ...]) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    what = "step" if raw_loc[:1] == ("steps",) else "trigger"
    kinds = S.STEP_KINDS if what == "step" else S.TRIGGER_KINDS
    word = "do" if what == "step" else "when"
    if kind == "union_tag_invalid":
        return f"unknown {what} kind {ctx.get('tag')!r}; expected one of {', '.join(kinds)}"
    if kind == "union_tag_not_found":
        return f"each {what} needs `{word}: <kind>`, one of {', '.join(kinds)}"
    found = _model_at(raw_loc)
    if kind == "extra_forbidden":
        allowed = _fields(found[1]) if found else None
        name = raw_loc[-1]
        where = f" for {found[0]}" if found else ""
        return f"unknown field {name!r}{where}" + (
            f"; expected one of {', '.join(allowed)}" if allowed else ""
        )
    if kind == "missing":
        where = f" ({found[0]} needs it)" if found else ""
        return f"missing required field {raw_loc[-1]!r}{where}"
    msg = str(err["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix) :]
    return msg


def _validate(src: Located) -> S.EventSpec:
    try:
        return S.EventSpec.model_validate(src.data if src.data is not None else {})
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            raw = tuple(err["loc"])
            loc = _clean_loc(raw, src)
            dotted = ".".join(str(p) for p in loc) or "(top level)"
            problems.append(f"{src.where(loc)}: {dotted}: {_message(err, raw)}")
        raise ContentError(problems) from None


def display_name(path: Path) -> str:
    """A file's name for messages: relative to the project when it is inside it."""
    try:
        return str(Path(path).resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def read_event_file(path: Path, text: str | None = None) -> tuple[S.EventSpec, Located]:
    """Parse one file's shape (no cross-checks). ContentError lists problems as file:line."""
    if text is None:
        text = Path(path).read_text(encoding="utf-8")
    src = load_yaml(display_name(path), text)
    if src.data is not None and not isinstance(src.data, dict):
        raise ContentError([f"{src.filename}:1: an event file is a mapping (name:, title:, "
                            "steps: ...), not a list or a single value"])  # fmt: skip
    spec = _validate(src)
    spec._file = src.filename
    spec._lines = tuple(src.lines.get(("steps", i), 1) for i in range(len(spec.steps)))
    return spec, src


# -- cross-checks: references -------------------------------------------------------------------
def _placeholders(text: str) -> str | None:
    try:
        names = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
    except ValueError:
        return "unbalanced { or }: write {{ and }} for a literal brace"
    bad = [n for n in names if n not in S.PLACEHOLDERS]
    if bad:
        return f"unknown placeholder {{{bad[0]}}}; expected one of " + ", ".join(
            "{" + p + "}" for p in S.PLACEHOLDERS
        )
    return None


def _line_of(problem: str) -> int:
    parts = problem.split(":", 2)
    return int(parts[1]) if len(parts) > 2 and parts[1].isdigit() else 0


class _Checker:
    def __init__(
        self, spec: S.EventSpec, src: Located, path: Path, facts: WorldFacts,
        events: dict[str, S.EventSpec | None],
    ) -> None:  # fmt: skip
        self.spec, self.src, self.path, self.facts, self.events = spec, src, path, facts, events
        self.problems: list[str] = []
        self.has_loop = any(isinstance(s, S.OpenLoop) for s in spec.steps) or any(
            isinstance(t, S.StabilityTrigger) for t in spec.triggers
        )
        # Where "here" is: the event's room:, else the room (or loop) its trigger happened in.
        self.has_room = spec.room is not None or any(
            isinstance(t, S.EnterTrigger | S.SayTrigger | S.StabilityTrigger) for t in spec.triggers
        )

    def bad(self, path: tuple[Any, ...], text: str) -> None:
        self.problems.append(f"{self.src.where(path)}: {'.'.join(map(str, path))}: {text}")

    def room(self, path: tuple[Any, ...], key: str | None, loop_ok: bool = False) -> None:
        if key is None:
            return
        if key == LOOP_ROOM:
            if not loop_ok:
                self.bad(path, "`loop` can't be used here; name a room")
            elif not self.has_loop:
                self.bad(path, "this event never has a loop: add an open_loop step first")
            return
        if key not in self.facts.rooms:
            self.bad(path, f"unknown room {key!r}; expected a room key such as "
                           f"{', '.join(sorted(self.facts.rooms)[:6])}")  # fmt: skip

    def npc(self, path: tuple[Any, ...], key: str | None) -> None:
        if key is not None and key not in self.facts.npcs:
            self.bad(
                path, f"unknown NPC {key!r}; expected one of {', '.join(sorted(self.facts.npcs))}"
            )

    def label(self, path: tuple[Any, ...], label: str | None, labels: dict[str, int]) -> None:
        if label is not None and label not in labels:
            known = ", ".join(labels) or "none: give a step an id: first"
            self.bad(path, f"no step is labelled {label!r}; labels here: {known}")

    def event(self, path: tuple[Any, ...], name: str) -> None:
        if name not in self.events:
            self.bad(
                path, f"unknown event {name!r}; expected one of {', '.join(sorted(self.events))}"
            )

    def run(self) -> list[str]:
        spec = self.spec
        if spec.name != self.path.stem:
            self.bad(("name",), f"the name {spec.name!r} must match the file name "
                                f"({self.path.stem}.yaml)")  # fmt: skip
        self.room(("room",), spec.room)
        labels: dict[str, int] = {}
        for i, step in enumerate(spec.steps):
            if step.id is not None:
                if step.id in labels:
                    first = self.src.where(("steps", labels[step.id], "id"))
                    self.bad(("steps", i, "id"), f"label {step.id!r} is already used at {first}")
                labels.setdefault(step.id, i)
        for i, t in enumerate(spec.triggers):
            self.trigger(("triggers", i), t)
        for i, step in enumerate(spec.steps):
            self.step(("steps", i), step, labels)
        return sorted(self.problems, key=_line_of)

    def trigger(self, path: tuple[Any, ...], t: S.Trigger) -> None:
        if isinstance(t, S.EnterTrigger | S.SayTrigger):
            self.room((*path, "room"), t.room)
        elif isinstance(t, S.StepTrigger):
            self.event((*path, "event"), t.event)
            other = self.events.get(t.event)
            if other is not None and t.step not in other.label_index():
                self.bad((*path, "step"), f"event {t.event!r} has no step labelled {t.step!r}; "
                         f"its labels: {', '.join(other.label_index()) or 'none'}")  # fmt: skip
            if t.event == self.spec.name:
                self.bad((*path, "event"), "an event can't be triggered by its own steps")
        elif isinstance(t, S.StabilityTrigger):
            self.npc((*path, "host"), t.host)

    def step(self, path: tuple[Any, ...], s: S.Step, labels: dict[str, int]) -> None:
        for name in TEXT_FIELDS:
            value = getattr(s, name, None)
            if isinstance(value, str):
                problem = _placeholders(value)
                if problem:
                    self.bad((*path, name), problem)
        self.npc((*path, "npc"), getattr(s, "npc", None))
        if isinstance(s, S.Move):
            self.room((*path, "to"), s.to, loop_ok=True)
        elif isinstance(s, S.Announce):
            self.room((*path, "room"), s.room, loop_ok=True)
            targets = (s.room, s.zone, s.everyone or None, s.actor or None)
            if all(t is None for t in targets) and not self.has_room:
                self.bad(path, "say where to announce: room:, zone:, everyone: true or actor: "
                               "true (this event has no room of its own)")  # fmt: skip
            if s.zone is not None and s.zone not in self.facts.zones:
                self.bad((*path, "zone"), f"unknown zone {s.zone!r}; expected one of "
                                          f"{', '.join(sorted(self.facts.zones))}")  # fmt: skip
        elif isinstance(s, S.If):
            if s.event is not None:
                self.event((*path, "event"), s.event)
            self.label((*path, "then"), s.then, labels)
            self.label((*path, "else"), s.else_, labels)
            self.room((*path, "room"), s.room, loop_ok=True)
            if s.count == "players" and s.room is None and not self.has_room:
                self.bad((*path, "count"), "count players where? give room: (this event has no "
                                           "room of its own)")  # fmt: skip
            if s.count in ("participants", "joined", "woven", "stability") and not self.has_loop:
                self.bad((*path, "count"), "this event never has a loop: add an open_loop "
                                           "step first")  # fmt: skip
        elif isinstance(s, S.Goto):
            self.label((*path, "to"), s.to, labels)
        elif isinstance(s, S.Goal):
            self.label((*path, "then"), s.then, labels)
            self.label((*path, "else"), s.else_, labels)
            self.room((*path, "room"), s.room, loop_ok=True)
            if s.room is None and not self.has_room:
                self.bad(path, "say where the goal is announced: room: here, or room: at the top")
            if s.count in ("participants", "joined", "woven", "stability") and not self.has_loop:
                self.bad((*path, "count"), "this event never has a loop: add an open_loop "
                                           "step first")  # fmt: skip
        elif isinstance(s, S.Prompt):
            self.room((*path, "room"), s.room, loop_ok=True)
            for j, opt in enumerate(s.options):
                self.label((*path, "options", j, "goto"), opt.goto, labels)
                if opt.text is not None and _placeholders(opt.text):
                    self.bad((*path, "options", j, "text"), _placeholders(opt.text) or "")
            if s.room is None and not self.has_room:
                self.bad(path, "say where the prompt is offered: room: here, or room: at the top")
        elif isinstance(s, S.Sever | S.Restore) and s.room is not None:
            self.room((*path, "room"), s.room)
            exits = self.facts.rooms.get(s.room)
            if exits is not None and s.exit is not None and s.exit.lower() not in exits:
                known = ", ".join(sorted(exits)) or "none"
                self.bad((*path, "exit"), f"room {s.room!r} has no exit {s.exit!r}; "
                                          f"expected one of {known}")  # fmt: skip
        elif isinstance(s, S.OpenLoop | S.Invite):
            self.room((*path, "room"), s.room)
            if isinstance(s, S.Invite) and s.room is None and not self.has_room:
                self.bad(path, "say whose dreamers to invite: room: here, or room: at the top")
        elif isinstance(s, S.Place | S.Gather):
            self.room((*path, "room"), s.room)
        elif isinstance(s, S.StartEvent | S.StopEvent):
            self.event((*path, "event"), s.event)
        if isinstance(s, S.LOOP_STEPS) and not self.has_loop:
            self.bad((*path, "do"), "this event never has a loop: add an open_loop step first")


# -- whole sets of files ----------------------------------------------------------------------
def read_events(
    paths: Iterable[Path], facts: WorldFacts, known: dict[str, S.EventSpec] | None = None
) -> tuple[dict[str, S.EventSpec], list[str]]:
    """Read and check files. Returns (the events that are fine, by name; every problem).

    `known` are other events the files may refer to (the shipped set when checking a few).
    """
    parsed: list[tuple[S.EventSpec, Located, Path]] = []
    problems: list[str] = []
    names: dict[str, S.EventSpec | None] = dict(known or {})
    for path in paths:
        path = Path(path)
        try:
            spec, src = read_event_file(path)
        except ContentError as err:
            problems += err.problems
            names.setdefault(path.stem, None)  # refer to it without cascading errors
            continue
        except OSError as err:
            problems.append(f"{path}:1: can't read the file: {err.strerror or err}")
            continue
        parsed.append((spec, src, path))
        names[spec.name] = spec
    good: dict[str, S.EventSpec] = {}
    seen: dict[str, Path] = {}
    for spec, src, path in parsed:
        found = _Checker(spec, src, path, facts, names).run()
        if spec.name in seen:
            found.append(f"{src.where(('name',))}: name: event {spec.name!r} is already defined "
                         f"in {seen[spec.name]}")  # fmt: skip
        seen.setdefault(spec.name, path)
        if found:
            problems += found
        else:
            good[spec.name] = spec
    return good, problems


def load_events(
    paths: Iterable[Path] | None = None, facts: WorldFacts | None = None
) -> dict[str, S.EventSpec]:
    """Every event, or ContentError listing every problem (all or nothing: @event reload)."""
    good, problems = read_events(
        paths if paths is not None else event_paths(), facts or shipped_facts()
    )
    if problems:
        raise ContentError(problems)
    return good
