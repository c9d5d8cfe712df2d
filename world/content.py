"""The default world as content files: schema, validation and first-start seeding."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from world.model import DIRECTIONS
from world.world import World
from world.yamlsrc import ContentError, Located, load_yaml, validate

CONTENT_DIR = Path(__file__).parent / "content"
KEY_PATTERN = r"^[a-z][a-z0-9_]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ZoneSpec(_Strict):
    key: str = Field(pattern=KEY_PATTERN, max_length=64)
    name: str = Field(min_length=1, max_length=200)


class ExitSpec(_Strict):
    name: str = Field(min_length=1, max_length=64)
    to: str = Field(pattern=KEY_PATTERN)
    aliases: list[str] = []


class RoomSpec(_Strict):
    key: str = Field(pattern=KEY_PATTERN, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    zone: str
    description: str = ""
    exits: list[ExitSpec] = []


class ItemSpec(_Strict):
    name: str = Field(min_length=1, max_length=200)
    keywords: list[str] = []
    description: str = ""
    room: str


class WorldSpec(_Strict):
    zones: list[ZoneSpec] = []
    rooms: list[RoomSpec] = Field(min_length=1)
    items: list[ItemSpec] = []


def _cross_check(spec: WorldSpec, src: Located) -> None:
    problems: list[str] = []
    zones = {z.key for z in spec.zones}
    rooms: set[str] = set()
    for i, room in enumerate(spec.rooms):
        if room.key in rooms:
            problems.append(f"{src.where(('rooms', i, 'key'))}: room key {room.key!r} is repeated")
        rooms.add(room.key)
        if room.zone not in zones:
            problems.append(
                f"{src.where(('rooms', i, 'zone'))}: unknown zone {room.zone!r}; "
                f"expected one of {sorted(zones)}"
            )
    for i, room in enumerate(spec.rooms):
        for j, ex in enumerate(room.exits):
            if ex.to not in rooms:
                problems.append(
                    f"{src.where(('rooms', i, 'exits', j, 'to'))}: exit {ex.name!r} leads to "
                    f"unknown room {ex.to!r}"
                )
    for i, item in enumerate(spec.items):
        if item.room not in rooms:
            problems.append(f"{src.where(('items', i, 'room'))}: unknown room {item.room!r}")
    if problems:
        raise ContentError(problems)


def load_world_spec(path: Path | None = None) -> WorldSpec:
    src = load_yaml(path or CONTENT_DIR / "world.yaml")
    spec = validate(WorldSpec, src)
    _cross_check(spec, src)
    return spec


def seed(world: World, spec: WorldSpec) -> None:
    """Create the content's zones, rooms, exits and items in an empty world."""
    for z in spec.zones:
        world.create_zone(z.key, z.name)
    rooms = {
        r.key: world.create_room(r.name, r.description.strip(), r.zone, key=r.key)
        for r in spec.rooms
    }
    for r in spec.rooms:
        for ex in r.exits:
            aliases = tuple(a for a in ex.aliases if a.lower() != DIRECTIONS.get(ex.name.lower()))
            world.create_exit(rooms[r.key], ex.name, rooms[ex.to], aliases)
    for it in spec.items:
        world.create_item(it.name, tuple(it.keywords), it.description.strip(), rooms[it.room])
