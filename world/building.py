"""World mutations that builders cause: the World's `building` component (all state lives in
the World; its methods of the same names call these).

Like the rest of the World API, each method updates memory, tells whoever can see it, and
stages the changed rows (or their deletion) with the Store's writer.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from world.model import AuditEntry, Exit, Item, Player, Room

if TYPE_CHECKING:
    from world.world import World


MAX_AUDIT_DETAIL = 500  # characters of detail kept per audit entry


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


class Building:
    """The World's builders' changes (the World's own methods of the same names call these)."""

    def __init__(self, world: World) -> None:
        self.world = world

    # -- the audit log --------------------------------------------------------------------
    def audit(self, actor: Player | None, action: str, detail: str) -> int:
        """Record a building change (actor None: an offline tool such as import-world)."""
        entry = AuditEntry(
            self.world.new_id("audit"), time.time(), actor.id if actor else None,
            actor.name if actor else "server", action, detail[:MAX_AUDIT_DETAIL],
        )  # fmt: skip
        self.world.audit_log.append(entry)
        return self.world.stage("audit", entry.id, entry.to_row())

    # -- changing things in place ---------------------------------------------------------
    def rename(
        self, obj: Room | Exit | Item, name: str, aliases: tuple[str, ...] | None = None
    ) -> int:
        if isinstance(obj, Exit):
            obj.rename(name, obj.aliases if aliases is None else aliases)
        else:
            obj.name = name
        return self.world.save(obj)

    def set_description(self, obj: Room | Exit | Item | Player, text: str) -> int:
        obj.description = text
        return self.world.save(obj)

    def link(self, ex: Exit, dest: Room | None) -> int:
        """Point an exit at a room, or at nowhere (None)."""
        ex.dest_id = dest.id if dest is not None else None
        return self.world.save(ex)

    def set_attr(self, obj: Room | Exit | Item, name: str, value: Any) -> int:
        """Set a typed attribute in `attrs`; None removes it."""
        if value is None:
            obj.attrs.pop(name, None)
        else:
            obj.attrs[name] = value
        return self.world.save(obj)

    def set_zone(self, room: Room, key: str) -> int:
        room.zone = key
        return self.world.save(room)

    def set_keywords(self, item: Item, keywords: tuple[str, ...]) -> int:
        item.keywords = tuple(k.lower() for k in keywords if k)
        return self.world.save(item)

    def teleport(self, obj: Player | Item, dest: Room | Player, actor: Player | None = None) -> int:
        """Move a dreamer to a room (or another dreamer's room), or an item anywhere.

        Private dreams and loops refuse anyone who isn't invited, unless an admin does it
        (the dream's owner is told). Raises DreamError when refused.
        """
        room = dest if isinstance(dest, Room) else dest.room
        if room is not None:
            self.world.dreams.check_teleport(actor, obj, room)
        if isinstance(obj, Player):
            assert room is not None
            return self.world.move(obj, room)
        old = obj.location
        if isinstance(old, Room):
            self.world.broadcast(old, f"{_cap(obj.name)} vanishes in a flicker of static.", actor)
        elif isinstance(old, Player) and old is not actor:
            old.send(f"{_cap(obj.name)} vanishes from your hands.")
        self.world._place(obj, dest)
        if isinstance(dest, Room):
            self.world.broadcast(dest, f"{_cap(obj.name)} appears out of thin air.", actor)
        elif dest is not actor:
            dest.send(f"{_cap(obj.name)} appears in your hands.")
        return self.world.save(obj)

    # -- destroying -----------------------------------------------------------------------
    def destroy_exit(self, ex: Exit) -> int:
        if ex in ex.room.exits:
            ex.room.exits.remove(ex)
            self.world.broadcast(ex.room, f"The way {ex.name} fades away.")
        self.world.exits.pop(ex.id, None)
        return self.world.unsave(ex)

    def destroy_item(self, item: Item) -> int:
        loc = item.location
        if isinstance(loc, Room):
            loc.items.remove(item)
            self.world.broadcast(loc, f"{_cap(item.name)} dissolves into dream-dust.")
        elif isinstance(loc, Player):
            loc.inventory.remove(item)
            loc.send(f"{_cap(item.name)} dissolves into dream-dust in your hands.")
        item.location = None
        self.world.items.pop(item.id, None)
        return self.world.unsave(item)

    def destroy_room(self, room: Room) -> list[Player]:
        """Unmake a room, its exits, the exits leading to it and the items in it.

        Dreamers inside are sent to the Nexus first (returned, so the caller can show them
        where they are); dreamers who were last here while offline wake up in the Nexus.
        """
        nexus = self.world.nexus
        if room is nexus:
            raise ValueError("the Nexus can't be destroyed")
        moved = []
        for p in self.world.players.values():
            if p.room is not room:
                continue
            if p.online:
                p.send("|yThe dream around you dissolves, and you drift back to the Nexus.|n")
                self.world.move(p, nexus)
                moved.append(p)
            else:
                p.room = nexus
                self.world.save(p)
        for ex in [e for e in self.world.exits.values() if e.dest_id == room.id or e.room is room]:
            self.destroy_exit(ex)
        for item in list(room.items):
            self.destroy_item(item)
        del self.world.rooms[room.id]
        if room.key and self.world.rooms_by_key.get(room.key) is room:
            del self.world.rooms_by_key[room.key]
        self.world.unsave(room)
        return moved

    # -- replacing the whole built world (import-world --replace) ---------------------------
    def clear_contents(self) -> None:
        """Forget the builders' world: every zone, and every room, exit and item that isn't
        a player's. Dreams, loops and what dreamers carry stay, ids and all (they are not in
        world files); call rehome_players after."""
        gone = {r.id: r for r in self.world.rooms.values() if not self.world.dreams.is_private(r)}
        for item in [i for i in self.world.items.values() if self._lies_in(i, gone)]:
            del self.world.items[item.id]
            self.world.unsave(item)
        for ex in [e for e in self.world.exits.values() if e.room.id in gone]:
            del self.world.exits[ex.id]
            self.world.unsave(ex)
        for room in gone.values():
            del self.world.rooms[room.id]
            if room.key and self.world.rooms_by_key.get(room.key) is room:
                del self.world.rooms_by_key[room.key]
            self.world.unsave(room)
        for zone in self.world.zones.values():
            self.world.unsave(zone)
        self.world.zones.clear()

    @staticmethod
    def _lies_in(item: Item, rooms: dict[int, Room]) -> bool:
        return isinstance(item.location, Room) and rooms.get(item.location.id) is item.location

    def rehome_players(self) -> int:
        """Point every dreamer at the room with their old room's id, else the Nexus."""
        moved = 0
        for p in self.world.players.values():
            room = self.world.rooms.get(p.room.id) if p.room is not None else None
            if room is None:
                moved += 1
            p.room = room or self.world.nexus
            self.world.save(p)
        return moved
