"""The default world as content files: schema, validation and first-start seeding."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from world import locks
from world.attrs import check_attrs
from world.model import DIRECTIONS, Player
from world.world import World
from world.yamlsrc import ContentError, Located, Path_, load_yaml, validate

CONTENT_DIR = Path(__file__).parent / "content"
KEY_PATTERN = r"^[a-z][a-z0-9_]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ZoneSpec(_Strict):
    key: str = Field(pattern=KEY_PATTERN, max_length=64)
    name: str = Field(min_length=1, max_length=200)


class ExitSpec(_Strict):
    id: int | None = Field(default=None, ge=1)
    name: str = Field(min_length=1, max_length=64)
    to: str | None = Field(default=None, pattern=KEY_PATTERN)  # None: leads nowhere
    aliases: list[str] = []
    description: str = ""
    lock: str | None = None
    attrs: dict[str, Any] = {}


class RoomSpec(_Strict):
    id: int | None = Field(default=None, ge=1)
    key: str = Field(pattern=KEY_PATTERN, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    zone: str
    description: str = ""
    attrs: dict[str, Any] = {}
    exits: list[ExitSpec] = []


class ItemSpec(_Strict):
    id: int | None = Field(default=None, ge=1)
    name: str = Field(min_length=1, max_length=200)
    keywords: list[str] = []
    description: str = ""
    room: str | None = None
    holder: str | None = None  # a dreamer's name: the item is in their hands
    attrs: dict[str, Any] = {}

    @model_validator(mode="after")
    def _one_place(self) -> ItemSpec:
        if (self.room is None) == (self.holder is None):
            raise ValueError("an item needs exactly one of room or holder")
        return self


class NpcPlaceSpec(_Strict):
    """Where a character stands and how it looks (its behaviour is in world/npcs/)."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    name: str = Field(min_length=1, max_length=80)
    short: str = ""
    description: str = ""
    room: str | None = None  # None: out of the world for now
    flags: dict[str, Any] = {}


class WorldSpec(_Strict):
    zones: list[ZoneSpec] = []
    rooms: list[RoomSpec] = Field(min_length=1)
    items: list[ItemSpec] = []
    npcs: list[NpcPlaceSpec] = []


def _check_ids(kind: str, objs: list[tuple[Path_, int | None]], src: Located) -> list[str]:
    seen: set[int] = set()
    problems = []
    for path, nid in objs:
        if nid is None:
            continue
        if nid in seen:
            problems.append(f"{src.where((*path, 'id'))}: {kind} id {nid} is repeated")
        seen.add(nid)
    return problems


def _check_attrs(kind: str, attrs: dict[str, Any], path: Path_, src: Located) -> list[str]:
    return [
        f"{src.where((*path, 'attrs', name))}: {kind} attribute {name!r}: {reason}"
        for name, reason in check_attrs(kind, attrs)
    ]


def _cross_check(spec: WorldSpec, src: Located) -> None:
    problems: list[str] = []
    zones = {z.key for z in spec.zones}
    rooms: set[str] = set()
    for i, room in enumerate(spec.rooms):
        if room.key in rooms:
            problems.append(f"{src.where(('rooms', i, 'key'))}: room key {room.key!r} is repeated")
        rooms.add(room.key)
        if room.zone and room.zone not in zones:
            problems.append(
                f"{src.where(('rooms', i, 'zone'))}: unknown zone {room.zone!r}; "
                f"expected one of {sorted(zones)}"
            )
        problems += _check_attrs("room", room.attrs, ("rooms", i), src)
    exits: list[tuple[Path_, int | None]] = []
    for i, room in enumerate(spec.rooms):
        for j, ex in enumerate(room.exits):
            path = ("rooms", i, "exits", j)
            exits.append((path, ex.id))
            if ex.to is not None and ex.to not in rooms:
                problems.append(
                    f"{src.where((*path, 'to'))}: exit {ex.name!r} leads to unknown room {ex.to!r}"
                )
            if ex.lock is not None:
                try:
                    locks.parse(ex.lock)
                except locks.LockError as err:
                    problems.append(f"{src.where((*path, 'lock'))}: {err}")
            if "lock" in ex.attrs:
                problems.append(f"{src.where((*path, 'attrs', 'lock'))}: write the lock as lock:")
            problems += _check_attrs("exit", ex.attrs, path, src)
    for i, item in enumerate(spec.items):
        if item.room is not None and item.room not in rooms:
            problems.append(f"{src.where(('items', i, 'room'))}: unknown room {item.room!r}")
        problems += _check_attrs("item", item.attrs, ("items", i), src)
    npc_keys: set[str] = set()
    for i, npc in enumerate(spec.npcs):
        if npc.key in npc_keys:
            problems.append(f"{src.where(('npcs', i, 'key'))}: NPC key {npc.key!r} is repeated")
        npc_keys.add(npc.key)
        if npc.room is not None and npc.room not in rooms:
            problems.append(f"{src.where(('npcs', i, 'room'))}: unknown room {npc.room!r}")
    problems += _check_ids("room", [(("rooms", i), r.id) for i, r in enumerate(spec.rooms)], src)
    problems += _check_ids("exit", exits, src)
    problems += _check_ids("item", [(("items", i), t.id) for i, t in enumerate(spec.items)], src)
    if problems:
        raise ContentError(problems)


def read_world_file(path: Path, text: str | None = None) -> tuple[WorldSpec, Located]:
    """Parse and check a world file; ContentError lists every problem as file:line."""
    src = load_yaml(path, text)
    spec = validate(WorldSpec, src)
    _cross_check(spec, src)
    return spec, src


def load_world_spec(path: Path | None = None) -> WorldSpec:
    return read_world_file(path or CONTENT_DIR / "world.yaml")[0]


def generated_key(room_id: int) -> str:
    """The key a room without one gets in a world file (and loses again on import)."""
    return f"room_{room_id}"


def seed(world: World, spec: WorldSpec, holders: dict[str, Player] | None = None) -> None:
    """Create the content's zones, rooms, exits and items in an empty world.

    Ids given in the spec are kept. An item whose holder isn't in `holders` (dreamers by
    lowercase name) is left in the Nexus.
    """
    world.reserve_ids("room", (r.id for r in spec.rooms if r.id))
    world.reserve_ids("exit", (e.id for r in spec.rooms for e in r.exits if e.id))
    world.reserve_ids("item", (t.id for t in spec.items if t.id))
    for z in spec.zones:
        world.create_zone(z.key, z.name)
    rooms = {}
    for r in spec.rooms:
        key = None if r.id and r.key == generated_key(r.id) else r.key
        rooms[r.key] = world.create_room(
            r.name, r.description.strip(), r.zone, key=key, id=r.id, attrs=dict(r.attrs)
        )
    for r in spec.rooms:
        for ex in r.exits:
            aliases = tuple(a for a in ex.aliases if a.lower() != DIRECTIONS.get(ex.name.lower()))
            attrs = dict(ex.attrs)
            if ex.lock:
                attrs["lock"] = locks.normalise(ex.lock)
            dest = rooms[ex.to] if ex.to is not None else None
            world.create_exit(
                rooms[r.key], ex.name, dest, aliases, id=ex.id, attrs=attrs,
                description=ex.description.strip(),
            )  # fmt: skip
    for it in spec.items:
        holder = (holders or {}).get(it.holder.lower()) if it.holder else None
        where = holder or (rooms[it.room] if it.room is not None else world.nexus)
        world.create_item(
            it.name, tuple(it.keywords), it.description.strip(), where, id=it.id,
            attrs=dict(it.attrs),
        )  # fmt: skip
    for n in spec.npcs:
        room = rooms[n.room] if n.room is not None else None
        world.place_npc(n.key, n.name, n.short, n.description.strip(), room, dict(n.flags))
