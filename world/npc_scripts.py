"""NPC script files (world/npcs/<key>.yaml): schema, validation with file:line, seeding.

A script says who an NPC is (name, short and long description, start room) and how it
behaves: a greeting for dreamers who arrive, answers to `ask <npc> about <topic>`, reactions
to words said in its room, idle chatter and an optional wandering route. Only the entity
lives in the database; the script is read again on every start, so editing a file and
restarting changes how an NPC talks without touching its saved place or edits.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from world.npc_behaviour import topic_key
from world.yamlsrc import ContentError, Located, load_yaml, validate

if TYPE_CHECKING:
    from world.npcs import Npc
    from world.world import World

log = logging.getLogger("dreamwave.npcs")

NPC_SCRIPT_DIR = Path(__file__).parent / "npcs"
NPC_KEY_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"
ROOM_KEY_PATTERN = r"^[a-z][a-z0-9_]*$"
MAX_LINE = 600  # characters in one line an NPC says
MAX_NAME = 80  # characters in an NPC's name (the npc table's limit)
MIN_INTERVAL = 5.0  # seconds: idle chatter and wandering never run faster than this
MAX_INTERVAL = 86_400.0
SEEDED_META_KEY = "npcs_seeded"  # meta row: script keys already placed once (deleting sticks)
DEFAULT_UNKNOWN = ":tilts their head. They don't seem to know anything about {topic}."


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_LINE)]
RoomKey = Annotated[str, StringConstraints(pattern=ROOM_KEY_PATTERN)]
FlagName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
FlagValue = bool | int | Annotated[str, StringConstraints(max_length=200)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ScriptLine(_Strict):
    """One line an NPC may say: `"text"`, or `{text: ..., room: key}` / `{text: ..., rooms:
    [keys]}` for a line that only fits there (elsewhere it is never picked)."""

    text: Text
    room: RoomKey | None = None
    rooms: list[RoomKey] = []

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"text": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_scope(self) -> ScriptLine:
        if self.room is not None and self.rooms:
            raise ValueError("give room or rooms, not both")
        return self

    def fits(self, room_key: str | None) -> bool:
        """Unscoped lines fit anywhere; scoped ones only in their rooms (never in a loop)."""
        if self.room is None and not self.rooms:
            return True
        return room_key is not None and (room_key == self.room or room_key in self.rooms)


Lines = Annotated[list[ScriptLine], BeforeValidator(_as_list), Field(min_length=1)]


class Condition(_Strict):
    """When a topic variant applies: every condition given must hold.

    `flag`: a world flag (set by events) is set to anything but false/0/"" (or, with `is`,
    equals that value). `event` with `running` (default true): that event is running now, or
    (false) is not.
    """

    flag: FlagName | None = None
    is_: FlagValue | None = Field(default=None, alias="is")
    event: FlagName | None = None
    running: bool | None = None

    @model_validator(mode="after")
    def _something(self) -> Condition:
        if self.flag is None and self.event is None:
            raise ValueError("give flag, event or both: what the variant depends on")
        if self.is_ is not None and self.flag is None:
            raise ValueError("`is` goes with flag")
        if self.running is not None and self.event is None:
            raise ValueError("`running` goes with event")
        return self


class Variant(_Strict):
    when: Condition
    lines: Lines


class TopicSpec(_Strict):
    """What an NPC says when asked about one topic: `festival: "a line"`, a list of lines,
    or `{aliases: [...], lines: [...]}`."""

    aliases: list[Annotated[str, StringConstraints(min_length=1, max_length=60)]] = []
    lines: Lines
    variants: list[Variant] = []  # the first whose `when` holds answers instead of `lines`

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, str | list):
            return {"lines": value}
        return value


class IdleSpec(_Strict):
    every: float = Field(ge=MIN_INTERVAL, le=MAX_INTERVAL)  # seconds between chances
    chance: float = Field(default=1.0, gt=0, le=1)  # of saying something at each chance
    lines: Lines


class WanderSpec(_Strict):
    route: list[Annotated[str, StringConstraints(pattern=ROOM_KEY_PATTERN)]] = Field(min_length=2)
    every: float = Field(ge=MIN_INTERVAL, le=MAX_INTERVAL)
    chance: float = Field(default=1.0, gt=0, le=1)
    circuit: bool = False  # True: last room leads back to the first; else walk back and forth


class NpcScript(_Strict):
    key: str = Field(pattern=NPC_KEY_PATTERN)
    name: str = Field(min_length=1, max_length=MAX_NAME)
    short: str = Field(min_length=1, max_length=200)
    description: str = ""
    room: str = Field(pattern=ROOM_KEY_PATTERN)
    keywords: list[Annotated[str, StringConstraints(min_length=1, max_length=40)]] = []
    greetings: Annotated[list[ScriptLine], BeforeValidator(_as_list)] = []
    topics: dict[str, TopicSpec] = {}
    unknown: Lines = [ScriptLine(text=DEFAULT_UNKNOWN)]
    hears: dict[str, Lines] = {}
    idle: IdleSpec | None = None
    wander: WanderSpec | None = None


def _cross_check(spec: NpcScript, src: Located, path: Path, rooms: Collection[str] | None) -> None:
    problems: list[str] = []
    if spec.key != path.stem:
        problems.append(f"{src.where(('key',))}: the key {spec.key!r} must match the file "
                        f"name ({path.stem}.yaml)")  # fmt: skip
    seen: dict[str, str] = {}
    for topic, t in spec.topics.items():
        for i, word in enumerate((topic, *t.aliases)):
            norm = topic_key(word)
            where = src.where(("topics", topic, "aliases", i - 1) if i else ("topics", topic))
            if not norm:
                problems.append(f"{where}: topic word {word!r} has no letters or digits")
            elif seen.setdefault(norm, topic) != topic:
                problems.append(f"{where}: {word!r} is already a word for topic {seen[norm]!r}")
    for heard in spec.hears:
        if not any(topic_key(w) for w in heard.split(",")):
            problems.append(f"{src.where(('hears', heard))}: {heard!r} names no word to listen for")
    if spec.wander is not None:
        route = spec.wander.route
        if len(set(route)) != len(route):
            problems.append(f"{src.where(('wander', 'route'))}: a room is repeated in the route")
        if spec.room not in route:
            problems.append(f"{src.where(('wander', 'route'))}: the route must include the "
                            f"start room {spec.room!r}")  # fmt: skip
    if rooms is not None:
        if spec.room not in rooms:
            problems.append(f"{src.where(('room',))}: unknown room {spec.room!r}")
        for i, key in enumerate(spec.wander.route if spec.wander else []):
            if key not in rooms:
                problems.append(f"{src.where(('wander', 'route', i))}: unknown room {key!r}")
        for place, line in _all_lines(spec):
            for j, key in enumerate([line.room] if line.room else line.rooms):
                if key not in rooms:
                    at = (*place, "room") if line.room else (*place, "rooms", j)
                    problems.append(f"{src.where(at)}: unknown room {key!r} for this line")
        events = _event_names()
        for topic, t in spec.topics.items():
            for i, v in enumerate(t.variants):
                if v.when.event is not None and events and v.when.event not in events:
                    at = ("topics", topic, "variants", i, "when", "event")
                    problems.append(f"{src.where(at)}: unknown event {v.when.event!r}; "
                                    f"expected one of {', '.join(sorted(events))}")  # fmt: skip
    if problems:
        raise ContentError(problems)


def _all_lines(spec: NpcScript) -> Iterable[tuple[tuple[Any, ...], ScriptLine]]:
    """Every line in a script with its place in the file, for checks that point at it."""
    for i, line in enumerate(spec.greetings):
        yield ("greetings", i), line
    for topic, t in spec.topics.items():
        for i, line in enumerate(t.lines):
            yield ("topics", topic, "lines", i), line
        for v, variant in enumerate(t.variants):
            for i, line in enumerate(variant.lines):
                yield ("topics", topic, "variants", v, "lines", i), line
    for i, line in enumerate(spec.unknown):
        yield ("unknown", i), line
    for heard, lines in spec.hears.items():
        for i, line in enumerate(lines):
            yield ("hears", heard, i), line
    for i, line in enumerate(spec.idle.lines if spec.idle else []):
        yield ("idle", "lines", i), line


def _event_names() -> set[str]:
    """The shipped events' names (their file names), which topic variants may refer to."""
    from world.scripting.loader import event_paths

    return {p.stem for p in event_paths()}


def read_npc_script(
    path: Path, text: str | None = None, rooms: Collection[str] | None = None
) -> NpcScript:
    """Parse and check one script; ContentError lists every problem as file:line."""
    src = load_yaml(path, text)
    spec = validate(NpcScript, src)
    _cross_check(spec, src, Path(path), rooms)
    return spec


def npc_script_paths(directory: Path | None = None) -> list[Path]:
    """The script files shipped with the world (world/npcs/*.yaml), in a stable order."""
    folder = directory or NPC_SCRIPT_DIR
    return sorted(folder.glob("*.yaml")) if folder.is_dir() else []


def load_npc_scripts(
    paths: Iterable[Path] | None = None, rooms: Collection[str] | None = None
) -> dict[str, NpcScript]:
    """Read every script (default: npc_script_paths()), by key.

    Raises ContentError listing every problem in every file as file:line. `rooms`, when
    given, is the set of room keys the start rooms and routes must name (check-scripts
    passes the shipped world's; the server doesn't, since builders may have changed it).
    """
    scripts: dict[str, NpcScript] = {}
    problems: list[str] = []
    for path in paths if paths is not None else npc_script_paths():
        try:
            spec = read_npc_script(Path(path), rooms=rooms)
        except ContentError as err:
            problems += err.problems
            continue
        except OSError as err:
            problems.append(f"{path}:1: can't read the file: {err.strerror or err}")
            continue
        if spec.key in scripts:
            problems.append(f"{path}:1: another script already defines the NPC {spec.key!r}")
        scripts[spec.key] = spec
    if problems:
        raise ContentError(problems)
    return scripts


def seed_npcs(
    world: World, scripts: Mapping[str, NpcScript], meta: Iterable[Mapping[str, Any]] = ()
) -> list[Npc]:
    """Create each scripted NPC that this database has never had, in its start room.

    `meta` is the database's meta rows: keys placed once before are not brought back, so a
    builder's `@npc delete` lasts. Returns the NPCs created (their rows are staged).
    """
    seeded: set[str] = set()
    for row in meta:
        if row.get("key") == SEEDED_META_KEY:
            try:
                seeded = set(json.loads(row.get("value") or "[]"))
            except ValueError:
                log.warning("meta %s is unreadable; treating every script as new", SEEDED_META_KEY)
    created = []
    before = set(seeded)
    for key, spec in scripts.items():
        if key in world.npcs_by_key:
            seeded.add(key)
            continue
        if key in seeded:
            continue
        room = world.rooms_by_key.get(spec.room)
        if room is None:
            log.warning("NPC %s: no room %r in this world; placing them in the Nexus", key,
                        spec.room)  # fmt: skip
            room = world.nexus
        created.append(world.create_npc(key, spec.name, spec.short, spec.description.strip(), room))
        seeded.add(key)
    if seeded != before:
        world.save_meta(SEEDED_META_KEY, json.dumps(sorted(seeded)))
    return created
