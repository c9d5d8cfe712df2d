"""Plain world objects. They are the run-time truth; `to_row()` is their durable copy."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

# (a connection, as the world sees it; re-exported for older imports)
from world.ports import Listener as Listener

if TYPE_CHECKING:
    from world.npcs import Npc

ROLES = ("player", "builder", "admin")

# Direction words, their abbreviations and opposites.
DIRECTIONS = {
    "north": "n", "south": "s", "east": "e", "west": "w",
    "northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw",
    "up": "u", "down": "d",
}  # fmt: skip
OPPOSITE = {
    "north": "south", "south": "north", "east": "west", "west": "east",
    "northeast": "southwest", "southwest": "northeast",
    "northwest": "southeast", "southeast": "northwest", "up": "down", "down": "up",
}  # fmt: skip
ABBREVIATION_OF = {abbr: word for word, abbr in DIRECTIONS.items()}


class Zone:
    __slots__ = ("id", "key", "name")

    def __init__(self, id: int, key: str, name: str) -> None:
        self.id, self.key, self.name = id, key, name

    def to_row(self) -> dict[str, Any]:
        return {"id": self.id, "key": self.key, "name": self.name}


class Room:
    __slots__ = (
        "attrs", "description", "exits", "feed", "id", "items", "key", "name", "npcs", "players",
        "zone",
    )  # fmt: skip

    def __init__(
        self, id: int, name: str, description: str = "", zone: str = "",
        key: str | None = None, attrs: dict[str, Any] | None = None,
    ) -> None:  # fmt: skip
        self.id = id
        self.key = key
        self.name = name
        self.description = description
        self.zone = zone
        self.attrs: dict[str, Any] = attrs or {}
        self.exits: list[Exit] = []
        self.items: list[Item] = []
        # Connected dreamers here, in arrival order (dict: O(1) removal).
        self.players: dict[int, Player] = {}
        self.npcs: dict[int, Npc] = {}  # by id
        # The engine's output log for this room (mud.core.feed.RoomFeed): the world only
        # keeps it for the engine, which reads it back with a cast (mud/core/output.py).
        self.feed: object | None = None

    def to_row(self) -> dict[str, Any]:
        return {
            "id": self.id, "key": self.key, "name": self.name, "description": self.description,
            "zone": self.zone, "attrs": json.dumps(self.attrs),
        }  # fmt: skip

    def find_exit(self, word: str) -> Exit | None:
        word = word.lower()
        for ex in self.exits:
            if ex.matches(word):
                return ex
        return None

    def __repr__(self) -> str:
        return f"<Room #{self.id} {self.name!r}>"


class Exit:
    __slots__ = ("aliases", "attrs", "description", "dest_id", "id", "name", "room", "words")

    def __init__(
        self, id: int, room: Room, name: str, dest_id: int | None,
        aliases: tuple[str, ...] = (), attrs: dict[str, Any] | None = None,
        description: str = "",
    ) -> None:  # fmt: skip
        self.id = id
        self.room = room
        self.dest_id = dest_id
        self.attrs: dict[str, Any] = attrs or {}
        self.description = description
        self.rename(name, aliases)

    def rename(self, name: str, aliases: tuple[str, ...]) -> None:
        self.name = name
        self.aliases = tuple(a for a in aliases if a)
        self.words = self._words()

    def _words(self) -> frozenset[str]:
        words = {self.name.lower(), *(a.lower() for a in self.aliases)}
        abbr = DIRECTIONS.get(self.name.lower())
        if abbr:
            words.add(abbr)
        return frozenset(words)

    def matches(self, word: str) -> bool:
        return word in self.words

    def to_row(self) -> dict[str, Any]:
        return {
            "id": self.id, "room_id": self.room.id, "name": self.name,
            "aliases": ";".join(self.aliases), "dest_id": self.dest_id,
            "attrs": json.dumps(self.attrs), "description": self.description,
        }  # fmt: skip

    def __repr__(self) -> str:
        return f"<Exit #{self.id} {self.name!r} of #{self.room.id}>"


class Item:
    __slots__ = ("attrs", "description", "id", "keywords", "location", "name")

    def __init__(
        self, id: int, name: str, keywords: tuple[str, ...] = (), description: str = "",
        attrs: dict[str, Any] | None = None,
    ) -> None:  # fmt: skip
        self.id = id
        self.name = name
        self.keywords = tuple(k.lower() for k in keywords if k)
        self.description = description
        self.attrs: dict[str, Any] = attrs or {}
        self.location: Room | Player | None = None

    def to_row(self) -> dict[str, Any]:
        loc = self.location
        return {
            "id": self.id, "name": self.name, "keywords": " ".join(self.keywords),
            "description": self.description,
            "room_id": loc.id if isinstance(loc, Room) else None,
            "holder_id": loc.id if isinstance(loc, Player) else None,
            "attrs": json.dumps(self.attrs),
        }  # fmt: skip

    def matches(self, word: str) -> bool:
        """A keyword, or any word of the name, starting with `word`."""
        word = word.lower()
        if word in self.keywords or word == self.name.lower():
            return True
        return any(k.startswith(word) for k in self.keywords) or any(
            w.startswith(word) for w in self.name.lower().split()
        )


class Player:
    """A dreamer's account and body. Exists for every account; `session` is set while online."""

    __slots__ = (
        "created_at", "description", "id", "inventory", "key", "last_login", "name",
        "password_hash", "role", "room", "session", "settings",
    )  # fmt: skip

    def __init__(
        self, id: int, name: str, password_hash: str, role: str = "player",
        settings: dict[str, Any] | None = None, created_at: float = 0.0, last_login: float = 0.0,
        description: str = "",
    ) -> None:  # fmt: skip
        self.id = id
        self.name = name
        self.key = name.lower()
        self.password_hash = password_hash
        self.role = role
        self.settings: dict[str, Any] = settings or {}
        self.created_at = created_at
        self.last_login = last_login
        self.description = description
        self.room: Room | None = None
        self.inventory: list[Item] = []
        self.session: Listener | None = None

    @property
    def online(self) -> bool:
        return self.session is not None

    def send(self, text: str) -> None:
        if self.session is not None:
            self.session.send(text)

    def notify(self, kind: str, data: dict[str, Any] | None = None) -> None:
        """Out-of-band news for the client (GMCP): 'room', 'status', 'channel'."""
        if self.session is not None:
            self.session.notify(kind, data)

    def has_role(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)

    def to_row(self) -> dict[str, Any]:
        return {
            "id": self.id, "name": self.name, "name_key": self.key,
            "password_hash": self.password_hash, "role": self.role,
            "room_id": self.room.id if self.room else None,
            "settings": json.dumps(self.settings), "created_at": self.created_at,
            "last_login": self.last_login, "description": self.description,
        }  # fmt: skip

    def __repr__(self) -> str:
        return f"<Player #{self.id} {self.name}>"


class AuditEntry:
    """One building change: who did what, when. Kept in memory (recent ones) and on disk."""

    __slots__ = ("action", "actor_id", "actor_name", "at", "detail", "id")

    def __init__(
        self, id: int, at: float, actor_id: int | None, actor_name: str, action: str, detail: str
    ) -> None:
        self.id, self.at, self.actor_id = id, at, actor_id
        self.actor_name, self.action, self.detail = actor_name, action, detail

    def to_row(self) -> dict[str, Any]:
        return {
            "id": self.id, "at": self.at, "actor_id": self.actor_id,
            "actor_name": self.actor_name, "action": self.action, "detail": self.detail,
        }  # fmt: skip
