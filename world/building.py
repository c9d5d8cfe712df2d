"""World mutations that builders cause. `World` inherits these; all state lives in World.

Like the rest of the World API, each method updates memory, tells whoever can see it, and
stages the changed rows (or their deletion) with the Store's writer.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from world import locks
from world.clock import WorldClock
from world.dreams import Dreamscape
from world.model import AuditEntry, Exit, Item, Player, Room, Zone

log = logging.getLogger("dreamwave.world")

MAX_AUDIT_DETAIL = 500  # characters of detail kept per audit entry


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


class BuildingMixin:
    # Provided by World.
    _stage: Callable[[str, Any, dict[str, Any] | None], int]
    zones: dict[str, Zone]
    rooms: dict[int, Room]
    rooms_by_key: dict[str, Room]
    exits: dict[int, Exit]
    items: dict[int, Item]
    players: dict[int, Player]
    audit_log: deque[AuditEntry]
    clock: WorldClock
    nexus: Room
    dreams: Dreamscape

    if TYPE_CHECKING:

        def new_id(self, table: str) -> int: ...
        def save(self, obj: Player | Room | Exit | Item | Zone) -> int: ...
        def unsave(self, obj: Room | Exit | Item | Zone) -> int: ...
        def broadcast(self, room: Room, text: str, exclude: Any = None) -> None: ...
        def move(self, p: Player, dest: Room, via: Exit | None = None) -> int: ...
        def _place(self, item: Item, where: Room | Player) -> None: ...
        def dream_state(self, p: Player) -> str: ...

    # -- the audit log --------------------------------------------------------------------
    def audit(self, actor: Player | None, action: str, detail: str) -> int:
        """Record a building change (actor None: an offline tool such as import-world)."""
        entry = AuditEntry(
            self.new_id("audit"), time.time(), actor.id if actor else None,
            actor.name if actor else "server", action, detail[:MAX_AUDIT_DETAIL],
        )  # fmt: skip
        self.audit_log.append(entry)
        return self._stage("audit", entry.id, entry.to_row())

    # -- changing things in place ---------------------------------------------------------
    def rename(
        self, obj: Room | Exit | Item, name: str, aliases: tuple[str, ...] | None = None
    ) -> int:
        if isinstance(obj, Exit):
            obj.rename(name, obj.aliases if aliases is None else aliases)
        else:
            obj.name = name
        return self.save(obj)

    def set_description(self, obj: Room | Exit | Item | Player, text: str) -> int:
        obj.description = text
        return self.save(obj)

    def link(self, ex: Exit, dest: Room | None) -> int:
        """Point an exit at a room, or at nowhere (None)."""
        ex.dest_id = dest.id if dest is not None else None
        return self.save(ex)

    def set_attr(self, obj: Room | Exit | Item, name: str, value: Any) -> int:
        """Set a typed attribute in `attrs`; None removes it."""
        if value is None:
            obj.attrs.pop(name, None)
        else:
            obj.attrs[name] = value
        return self.save(obj)

    def set_zone(self, room: Room, key: str) -> int:
        room.zone = key
        return self.save(room)

    def set_keywords(self, item: Item, keywords: tuple[str, ...]) -> int:
        item.keywords = tuple(k.lower() for k in keywords if k)
        return self.save(item)

    def teleport(self, obj: Player | Item, dest: Room | Player, actor: Player | None = None) -> int:
        """Move a dreamer to a room (or another dreamer's room), or an item anywhere.

        Private dreams and loops refuse anyone who isn't invited, unless an admin does it
        (the dream's owner is told). Raises DreamError when refused.
        """
        room = dest if isinstance(dest, Room) else dest.room
        if room is not None:
            self.dreams.check_teleport(actor, obj, room)
        if isinstance(obj, Player):
            assert room is not None
            return self.move(obj, room)
        old = obj.location
        if isinstance(old, Room):
            self.broadcast(old, f"{_cap(obj.name)} vanishes in a flicker of static.", actor)
        elif isinstance(old, Player) and old is not actor:
            old.send(f"{_cap(obj.name)} vanishes from your hands.")
        self._place(obj, dest)
        if isinstance(dest, Room):
            self.broadcast(dest, f"{_cap(obj.name)} appears out of thin air.", actor)
        elif dest is not actor:
            dest.send(f"{_cap(obj.name)} appears in your hands.")
        return self.save(obj)

    # -- destroying -----------------------------------------------------------------------
    def destroy_exit(self, ex: Exit) -> int:
        if ex in ex.room.exits:
            ex.room.exits.remove(ex)
            self.broadcast(ex.room, f"The way {ex.name} fades away.")
        self.exits.pop(ex.id, None)
        return self.unsave(ex)

    def destroy_item(self, item: Item) -> int:
        loc = item.location
        if isinstance(loc, Room):
            loc.items.remove(item)
            self.broadcast(loc, f"{_cap(item.name)} dissolves into dream-dust.")
        elif isinstance(loc, Player):
            loc.inventory.remove(item)
            loc.send(f"{_cap(item.name)} dissolves into dream-dust in your hands.")
        item.location = None
        self.items.pop(item.id, None)
        return self.unsave(item)

    def destroy_room(self, room: Room) -> list[Player]:
        """Unmake a room, its exits, the exits leading to it and the items in it.

        Dreamers inside are sent to the Nexus first (returned, so the caller can show them
        where they are); dreamers who were last here while offline wake up in the Nexus.
        """
        nexus = self.nexus
        if room is nexus:
            raise ValueError("the Nexus can't be destroyed")
        moved = []
        for p in self.players.values():
            if p.room is not room:
                continue
            if p.online:
                p.send("|yThe dream around you dissolves, and you drift back to the Nexus.|n")
                self.move(p, nexus)
                moved.append(p)
            else:
                p.room = nexus
                self.save(p)
        for ex in [e for e in self.exits.values() if e.dest_id == room.id or e.room is room]:
            self.destroy_exit(ex)
        for item in list(room.items):
            self.destroy_item(item)
        del self.rooms[room.id]
        if room.key and self.rooms_by_key.get(room.key) is room:
            del self.rooms_by_key[room.key]
        self.unsave(room)
        return moved

    # -- replacing the whole built world (import-world --replace) ---------------------------
    def clear_contents(self) -> None:
        """Forget the builders' world: every zone, and every room, exit and item that isn't
        a player's. Dreams, loops and what dreamers carry stay, ids and all (they are not in
        world files); call rehome_players after."""
        gone = {r.id: r for r in self.rooms.values() if not self.dreams.is_private(r)}
        for item in [i for i in self.items.values() if self._lies_in(i, gone)]:
            del self.items[item.id]
            self.unsave(item)
        for ex in [e for e in self.exits.values() if e.room.id in gone]:
            del self.exits[ex.id]
            self.unsave(ex)
        for room in gone.values():
            del self.rooms[room.id]
            if room.key and self.rooms_by_key.get(room.key) is room:
                del self.rooms_by_key[room.key]
            self.unsave(room)
        for zone in self.zones.values():
            self.unsave(zone)
        self.zones.clear()

    @staticmethod
    def _lies_in(item: Item, rooms: dict[int, Room]) -> bool:
        return isinstance(item.location, Room) and rooms.get(item.location.id) is item.location

    def rehome_players(self) -> int:
        """Point every dreamer at the room with their old room's id, else the Nexus."""
        moved = 0
        for p in self.players.values():
            room = self.rooms.get(p.room.id) if p.room is not None else None
            if room is None:
                moved += 1
            p.room = room or self.nexus
            self.save(p)
        return moved

    # -- locks ----------------------------------------------------------------------------
    def in_loop(self, p: Player) -> bool:
        """Is the dreamer inside a shared loop? (Always False until loops exist.)"""
        return self.dream_state(p) == "in loop"

    def holds(self, p: Player, thing: str) -> bool:
        """Does the dreamer carry an item by this keyword, name word or full name (or #id)?"""
        word = thing.lower()
        if word.startswith("#") and word[1:].isdigit():
            return any(it.id == int(word[1:]) for it in p.inventory)
        return any(
            word in it.keywords or word == it.name.lower() or word in it.name.lower().split()
            for it in p.inventory
        )

    def may_pass(self, p: Player, ex: Exit) -> bool:
        rule = ex.attrs.get("lock")
        if not rule:
            return True
        facts = locks.Facts(
            has_role=p.has_role,
            holds=lambda thing: self.holds(p, thing),
            in_loop=lambda: self.in_loop(p),
            phase=lambda: self.clock.phase,
        )
        try:
            return locks.check(str(rule), facts)
        except locks.LockError:
            log.warning("exit #%d has an unreadable lock %r; keeping it sealed", ex.id, rule)
            return False
