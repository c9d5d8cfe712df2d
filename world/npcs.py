"""Non-player characters: persisted world entities that act through the players' paths.

An Npc has a key (`lyra`), a name, a short description shown in rooms, a long description
shown on `look`, a location and free-form state flags. Its *behaviour* (greetings, topics,
idle chatter, wandering) is script data loaded from files; only the entity is in the database.
NPCs speak and emote through World.say/World.emote, exactly like players, so everything a
player's say reaches (room, GMCP channel, reactions, event triggers) an NPC's reaches too.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import TYPE_CHECKING, Any

from world.model import Room

if TYPE_CHECKING:
    from world.world import World


class Npc:
    __slots__ = ("description", "flags", "id", "key", "keywords", "name", "room", "short")

    def __init__(
        self, id: int, key: str, name: str, short: str = "", description: str = "",
        flags: dict[str, Any] | None = None,
    ) -> None:  # fmt: skip
        self.id = id
        self.key = key
        self.name = name
        self.short = short or name
        self.description = description
        self.flags: dict[str, Any] = flags or {}
        self.room: Room | None = None
        self.keywords = self._keywords()

    def _keywords(self) -> frozenset[str]:
        return frozenset({self.key.lower(), *(w.lower() for w in self.name.split())})

    def rename(self, name: str) -> None:
        self.name = name
        self.keywords = self._keywords()

    def matches(self, word: str) -> bool:
        low = word.lower().strip()
        return (
            low in self.keywords
            or low == self.name.lower()
            or any(k.startswith(low) for k in self.keywords)
        )

    @property
    def first_name(self) -> str:
        return self.name.split()[0]

    def to_row(self) -> dict[str, Any]:
        return {
            "id": self.id, "key": self.key, "name": self.name, "short": self.short,
            "description": self.description, "room_id": self.room.id if self.room else None,
            "flags": json.dumps(self.flags),
        }  # fmt: skip

    def __repr__(self) -> str:
        return f"<Npc #{self.id} {self.key}>"


class NpcRoster:
    """The World's NPCs changing: placed, moved, renamed, destroyed (the World's `npc_roster`;
    the NPCs themselves are in `World.npcs`, and its methods of the same names call these)."""

    def __init__(self, world: World) -> None:
        self.world = world

    def save_npc(self, npc: Npc) -> int:
        return self.world.stage("npc", npc.id, npc.to_row())

    def load_npcs(self, rows: list[dict[str, Any]]) -> None:
        for r in rows:
            npc = Npc(
                r["id"], r["key"], r["name"], r["short"], r["description"],
                json.loads(r["flags"] or "{}"),
            )  # fmt: skip
            self._add_npc(npc)
            room = self.world.rooms.get(r["room_id"]) if r["room_id"] is not None else None
            if room is not None:
                npc.room = room
                room.npcs[npc.id] = npc

    def _add_npc(self, npc: Npc) -> None:
        self.world.npcs[npc.id] = npc
        self.world.npcs_by_key[npc.key] = npc
        self.world._saw_id("npc", npc.id)

    def create_npc(
        self, key: str, name: str, short: str = "", description: str = "",
        room: Room | None = None,
    ) -> Npc:  # fmt: skip
        npc = Npc(self.world.new_id("npc"), key, name, short, description)
        self._add_npc(npc)
        if room is not None:
            npc.room = room
            room.npcs[npc.id] = npc
        self.save_npc(npc)
        return npc

    def find_npc(self, word: str, room: Room | None = None) -> Npc | None:
        """An NPC by key or name word: in `room` if given, else anywhere (exact key first)."""
        low = word.lower().strip()
        pool = list(room.npcs.values()) if room is not None else list(self.world.npcs.values())
        for npc in pool:
            if npc.key == low:
                return npc
        matches = [npc for npc in pool if npc.matches(low)]
        return matches[0] if len(matches) == 1 else None

    def move_npc(
        self, npc: Npc, dest: Room | None, leave_text: str | None = None,
        arrive_text: str | None = None, *, show: tuple[bool, bool] = (True, True),
        greet: bool = True,
    ) -> int:  # fmt: skip
        """Walk or send an NPC somewhere (None: out of the world); rooms see it (unless
        `show` says not to: (leave line, arrive line)). `greet`: the NPC greets whoever is
        there on arrival (an event's NPC, arriving with its own words, doesn't)."""
        src = npc.room
        if src is not None:
            src.npcs.pop(npc.id, None)
            if show[0]:
                self.world.broadcast(src, leave_text or f"|y{npc.name}|n leaves.")
        npc.room = dest
        if dest is not None:
            dest.npcs[npc.id] = npc
            if show[1]:
                self.world.broadcast(dest, arrive_text or f"|y{npc.name}|n arrives.")
            self.world.emit("npc_enter", npc=npc, room=dest, greet=greet)
        return self.save_npc(npc)

    def set_npc_flag(self, npc: Npc, name: str, value: Any) -> int:
        if value is None:
            npc.flags.pop(name, None)
        else:
            npc.flags[name] = value
        return self.save_npc(npc)

    # -- builders' changes (@npc, world files) ------------------------------------------------
    def rename_npc(self, npc: Npc, name: str) -> int:
        npc.rename(name)
        return self.save_npc(npc)

    def set_npc_text(self, npc: Npc, field: str, text: str) -> int:
        """Change an NPC's `short` or `description`."""
        if field not in ("short", "description"):
            raise ValueError(f"not an NPC text field: {field}")
        setattr(npc, field, text or (npc.name if field == "short" else ""))
        return self.save_npc(npc)

    def destroy_npc(self, npc: Npc) -> int:
        room = npc.room
        if room is not None:
            room.npcs.pop(npc.id, None)
            self.world.broadcast(room, f"|y{npc.name}|n thins into mist and is gone.")
        npc.room = None
        self.world.npcs.pop(npc.id, None)
        if self.world.npcs_by_key.get(npc.key) is npc:
            del self.world.npcs_by_key[npc.key]
        return self.world.stage("npc", npc.id, None)

    def place_npc(
        self, key: str, name: str, short: str, description: str, room: Room | None,
        flags: dict[str, Any] | None = None,
    ) -> Npc:  # fmt: skip
        """Make the NPC `key` look and stand as given, creating it if needed (world files)."""
        npc = self.world.npcs_by_key.get(key)
        if npc is None:
            npc = self.create_npc(key, name, short, description, room)
        else:
            if npc.room is not None:
                npc.room.npcs.pop(npc.id, None)
            npc.rename(name)
            npc.short, npc.description, npc.room = short or name, description, room
            if room is not None:
                room.npcs[npc.id] = npc
        if flags is not None:
            npc.flags = dict(flags)
        self.save_npc(npc)
        return npc

    def rehome_npcs(self, placed: Collection[str] = ()) -> int:
        """After the rooms were rebuilt: every NPC not in `placed` goes to the room with its
        old room's id, else the Nexus. Returns how many had to move to the Nexus."""
        moved = 0
        for npc in self.world.npcs.values():
            if npc.key in placed or npc.room is None:
                continue
            room = self.world.rooms.get(npc.room.id)
            if room is None:
                room = self.world.nexus
                moved += 1
            npc.room = room
            room.npcs[npc.id] = npc
            self.save_npc(npc)
        return moved
