"""World files: the builders' world as YAML, for version control, and back again.

The format is the seed content's (world/content/world.yaml) plus ids, locks, attributes,
exit descriptions and where the characters (NPCs) stand, so one schema (world/content.py)
validates both. A world file holds the builders' world only: rooms, exits, the items lying
in rooms, NPC placement and locks. What belongs to players -- their private dreams (rooms,
exits, motifs), shared loops, and whatever they carry -- is never written, and importing
with --replace keeps it as it is; players' data belongs to backups. Rooms without a key are
written with a generated one (room_<id>) that importing drops again. Import checks the whole
file first and changes nothing unless all is well; the caller writes the result in one
transaction.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from world.content import (
    ExitSpec,
    ItemSpec,
    RoomSpec,
    WorldSpec,
    generated_key,
    read_world_file,
    seed,
)
from world.model import Room
from world.npcs import Npc
from world.world import NEXUS_KEY, World
from world.yamlsrc import ContentError, Located, Path_

HEADER = "# Dreamwave world file: rooms, exits, items, locks and descriptions (no dreams).\n"


class ImportRefused(Exception):
    """The database already has a world and --replace wasn't given."""


@dataclass
class ImportReport:
    zones: int = 0
    rooms: int = 0
    exits: int = 0
    items: int = 0
    npcs: int = 0
    rehomed: int = 0  # dreamers whose room vanished, now in the Nexus
    warnings: list[str] = field(default_factory=list)


# -- export ---------------------------------------------------------------------------------
def public_rooms(world: World) -> list[Room]:
    """The builders' rooms, by id: every room that isn't part of a dream or a loop."""
    rooms = (r for r in world.rooms.values() if not world.dreams.is_private(r))
    return sorted(rooms, key=lambda r: r.id)


def _room_keys(world: World, rooms: list[Room]) -> dict[int, str]:
    used = set(world.rooms_by_key)
    keys = {}
    for room in rooms:
        key = room.key
        if not key:
            key = generated_key(room.id)
            while key in used:
                key += "_"
            used.add(key)
        keys[room.id] = key
    return keys


def export_data(world: World) -> dict[str, Any]:
    """The builders' world as plain data in the world-file shape (nothing of players')."""
    public = public_rooms(world)
    keys = _room_keys(world, public)
    data: dict[str, Any] = {"zones": _zones(world, public), "rooms": _rooms(public, keys)}
    data["items"] = _items(world, keys)
    npcs = _npcs(world, keys)
    if npcs:
        data["npcs"] = npcs
    return data


def _zones(world: World, rooms: list[Room]) -> list[dict[str, Any]]:
    ordered = sorted(world.zones.values(), key=lambda z: z.id)
    zones = [{"key": z.key, "name": z.name} for z in ordered]
    known = {z.key for z in world.zones.values()}
    for zone in sorted({r.zone for r in rooms} - known - {""}):
        zones.append({"key": zone, "name": zone.replace("_", " ").title()})
    return zones


def _rooms(public: list[Room], keys: dict[int, str]) -> list[dict[str, Any]]:
    rooms = []
    for room in public:
        r: dict[str, Any] = {"id": room.id, "key": keys[room.id], "name": room.name}
        r["zone"] = room.zone
        if room.description:
            r["description"] = room.description
        if room.attrs:
            r["attrs"] = dict(room.attrs)
        exits = []
        for ex in room.exits:
            e: dict[str, Any] = {"id": ex.id, "name": ex.name}
            if ex.dest_id in keys:  # a way into a dream or loop is written as leading nowhere
                e["to"] = keys[ex.dest_id]
            if ex.aliases:
                e["aliases"] = list(ex.aliases)
            if ex.description:
                e["description"] = ex.description
            if ex.attrs.get("lock"):
                e["lock"] = ex.attrs["lock"]
            attrs = {k: v for k, v in ex.attrs.items() if k != "lock"}
            if attrs:
                e["attrs"] = attrs
            exits.append(e)
        if exits:
            r["exits"] = exits
        rooms.append(r)
    return rooms


def _items(world: World, keys: dict[int, str]) -> list[dict[str, Any]]:
    """Items lying in the builders' rooms (not what dreamers carry, nor motifs)."""
    items = []
    for item in sorted(world.items.values(), key=lambda i: i.id):
        loc = item.location
        if not isinstance(loc, Room) or loc.id not in keys or "motif" in item.attrs:
            continue
        it: dict[str, Any] = {"id": item.id, "name": item.name}
        if item.keywords:
            it["keywords"] = list(item.keywords)
        if item.description:
            it["description"] = item.description
        it["room"] = keys[loc.id]
        if item.attrs:
            it["attrs"] = dict(item.attrs)
        items.append(it)
    return items


def _npcs(world: World, keys: dict[int, str]) -> list[dict[str, Any]]:
    """Where the characters stand; one inside a loop is written at its loop's anchor."""
    npcs = []
    for npc in sorted(world.npcs.values(), key=lambda n: n.id):
        n: dict[str, Any] = {"key": npc.key, "name": npc.name, "short": npc.short}
        if npc.description:
            n["description"] = npc.description
        room = _npc_room(world, npc)
        if room is not None and room.id in keys:
            n["room"] = keys[room.id]
        if npc.flags:
            n["flags"] = dict(npc.flags)
        npcs.append(n)
    return npcs


def _npc_room(world: World, npc: Npc) -> Room | None:
    room = npc.room
    if room is None or world.rooms.get(room.id) is not room:
        return None
    loop = world.dreams.loop_of_room(room)
    if loop is not None and loop.anchor_id is not None:
        return world.rooms.get(loop.anchor_id)
    return room


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, text: str) -> yaml.Node:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _str)


def dump(data: dict[str, Any]) -> str:
    body: str = yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=96, default_flow_style=None
    )
    return HEADER + body


def export_world(world: World, path: Path) -> dict[str, int]:
    data = export_data(world)
    text = dump(data)
    if str(path) == "-":
        print(text, end="")
    else:
        path.write_text(text, encoding="utf-8")
    exits = sum(len(r.get("exits", [])) for r in data["rooms"])
    return {"rooms": len(data["rooms"]), "exits": exits, "items": len(data["items"])}


# -- import ---------------------------------------------------------------------------------
def _warnings(world: World, spec: WorldSpec, src: Located) -> list[str]:
    warnings = []
    for i, item in enumerate(spec.items):
        if item.holder and item.holder.lower() not in world.players_by_key:
            warnings.append(
                f"{src.where(('items', i, 'holder'))}: no dreamer called {item.holder!r} here; "
                "the item is left in the Nexus"
            )
    if not any(r.key == NEXUS_KEY for r in spec.rooms):
        warnings.append(
            f"{src.filename}:1: no room has the key {NEXUS_KEY!r}; dreamers will wake in "
            f"{spec.rooms[0].name!r} instead"
        )
    return warnings


def _free_ids(world: World, spec: WorldSpec, src: Located) -> list[str]:
    """Give a new id to whatever in the file has the id of a dream, loop or carried thing
    that stays (only possible with a file from another server)."""
    taken: list[tuple[str, Path_, RoomSpec | ExitSpec | ItemSpec, Mapping[int, object]]] = []
    for i, room in enumerate(spec.rooms):
        taken.append(("room", ("rooms", i), room, world.rooms))
        for j, ex in enumerate(room.exits):
            taken.append(("exit", ("rooms", i, "exits", j), ex, world.exits))
    taken += [("item", ("items", i), it, world.items) for i, it in enumerate(spec.items)]
    warnings = []
    for kind, path, obj, kept in taken:
        if obj.id is not None and obj.id in kept:
            warnings.append(
                f"{src.where((*path, 'id'))}: {kind} id {obj.id} belongs to a dreamer's "
                f"{kind} here; this {kind} gets a new id"
            )
            obj.id = None
    return warnings


def _back_in_loops(world: World, rooms: dict[str, Room | None]) -> None:
    """NPCs that were inside a loop (hosting it) stay there: the loop isn't in the file."""
    for key, room in rooms.items():
        npc = world.npcs_by_key.get(key)
        if npc is None or room is None or npc.room is room:
            continue
        if npc.room is not None:
            npc.room.npcs.pop(npc.id, None)
        npc.room = room
        room.npcs[npc.id] = npc
        world.save_npc(npc)


def import_world(world: World, path: Path, replace: bool = False) -> ImportReport:
    """Check `path` completely, then rebuild the world from it (staged, not yet written).

    Raises ContentError (every problem, as file:line) or ImportRefused; in both cases the
    world is untouched.
    """
    spec, src = read_world_file(path)
    if world.rooms and not replace:
        raise ImportRefused(
            f"The database already has a world ({len(world.rooms)} rooms). Use --replace to "
            "replace it (accounts are kept), or import into an empty database."
        )
    report = ImportReport(warnings=_warnings(world, spec, src))
    in_loops = {n.key: n.room for n in world.npcs.values() if world.dreams.is_private(n.room)}
    world.clear_contents()
    report.warnings += _free_ids(world, spec, src)
    seed(world, spec, holders=world.players_by_key)
    _back_in_loops(world, in_loops)
    report.rehomed = world.rehome_players()
    world.rehome_npcs(placed={n.key for n in spec.npcs})
    report.npcs = len(spec.npcs)
    report.zones, report.rooms = len(world.zones), len(world.rooms)
    report.exits, report.items = len(world.exits), len(world.items)
    world.audit(
        None, "import-world",
        f"{Path(path).name}: {report.rooms} rooms, {report.exits} exits, {report.items} items"
        + (" (replacing the world)" if replace else ""),
    )  # fmt: skip
    world.save_meta("imported_at", str(time.time()))
    return report


__all__ = ["ContentError", "ImportRefused", "ImportReport", "export_world", "import_world"]
