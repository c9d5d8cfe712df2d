"""The World: registry of every object and the one API through which the world changes.

Each mutation updates memory, tells the people who can see it, and stages the changed rows
with the Store's writer. Commands call these methods; they never touch rows or sockets.
"""

from __future__ import annotations

import json
import logging
import time
from collections import deque
from collections.abc import Callable, Collection, Iterable
from typing import Any

from world import locks
from world.building import Building
from world.channels import Channels
from world.clock import WorldClock
from world.comms import Comms
from world.dreams import Dreamscape
from world.mail import PostOffice
from world.model import AuditEntry, Exit, Item, Listener, Player, Room, Zone
from world.moderation import Moderation
from world.npcs import Npc, NpcRoster
from world.ports import DirectDelivery, Speech, Stage, WorldObserver
from world.socials import Social

log = logging.getLogger("dreamwave.world")

NEXUS_KEY = "nexus"
# How an arrival reads when the way back is up or down ("arrives from below").
FROM_WHERE = {"up": "from above", "down": "from below"}
# Recent audit entries kept in memory for @audit (the Store loads as many: LOAD_RECENT).
AUDIT_MEMORY = 1000


Hook = Callable[..., None]
HOOK_KINDS = ("enter", "say", "npc_enter", "login")


class World:
    """Every object, and the one API through which the world changes. Its parts are
    components it holds (dreams, channels, comms, mail, moderation, building, npc_roster),
    each given the World; the World's methods for building and NPCs call theirs, so callers
    keep one API. What people should see goes to `observer` (world/ports.py)."""

    def __init__(
        self,
        stage: Stage,
        observer: WorldObserver | None = None,
    ) -> None:
        """`stage` takes each changed row for the Store's writer; `observer` is told what
        people should see (the engine's delivery; none: straight to each listener)."""
        self.stage = stage  # (the one seam to the Store: every component stages through it)
        self.observer: WorldObserver = observer if observer is not None else DirectDelivery()
        self.zones: dict[str, Zone] = {}
        self.rooms: dict[int, Room] = {}
        self.rooms_by_key: dict[str, Room] = {}
        self.exits: dict[int, Exit] = {}
        self.items: dict[int, Item] = {}
        self.players: dict[int, Player] = {}
        self.players_by_key: dict[str, Player] = {}
        self.online: dict[int, Player] = {}
        self.npcs: dict[int, Npc] = {}
        self.npcs_by_key: dict[str, Npc] = {}
        # Observers of what happens (NPC reactions, event triggers): kind -> callbacks.
        self.hooks: dict[str, list[Hook]] = {kind: [] for kind in HOOK_KINDS}
        self.audit_log: deque[AuditEntry] = deque(maxlen=AUDIT_MEMORY)
        self.clock = WorldClock()
        self.dreams = Dreamscape(self)
        self.moderation = Moderation(stage, lambda: self.new_id("ban"))
        self.channels = Channels(self)  # channels and subscriptions (world/channels.py)
        self.comms = Comms(self)  # tells, shouts and ignore lists (world/comms.py)
        self.socials: dict[str, Social] = {}  # filled from content (world/socials.py)
        self.event_rows: list[dict[str, Any]] = []  # saved event-script state, for the runtime
        self.meta: dict[str, str] = {}  # the meta table (seeded_at, motd, ...)
        self._next_id: dict[str, int] = {
            "zone": 1, "room": 1, "exit": 1, "item": 1, "account": 1, "audit": 1, "npc": 1,
            "ban": 1, "mail": 1,
        }  # fmt: skip
        self.mail = PostOffice(stage, self.new_id, self._saw_id)
        self.building = Building(self)  # builders' changes (world/building.py)
        self.npc_roster = NpcRoster(self)  # NPCs placed, moved and changed (world/npcs.py)

    # -- ids and staging ------------------------------------------------------------------
    # An id is never handed out twice, not even after its object is destroyed and the
    # engine restarts or crashes: the high-water mark of each id space is staged before the
    # row that uses the id, so no commit can hold the row without the mark.
    def new_id(self, table: str) -> int:
        nid = self._next_id[table]
        self._raise_mark(table, nid + 1)
        return nid

    def _raise_mark(self, table: str, next_id: int) -> None:
        self._next_id[table] = next_id
        self.stage("id_mark", table, {"space": table, "next_id": next_id})

    def _saw_id(self, table: str, nid: int) -> None:
        """Loading: start new ids above one that exists (the marks are loaded too)."""
        if nid >= self._next_id[table]:
            self._next_id[table] = nid + 1

    def _claim_id(self, table: str, nid: int) -> None:
        """An id given from outside (a world file) is used: never hand it out later."""
        if nid >= self._next_id[table]:
            self._raise_mark(table, nid + 1)

    def reserve_ids(self, table: str, ids: Iterable[int]) -> None:
        """Make sure new ids in `table` never reuse these (importing with fixed ids)."""
        for nid in ids:
            self._claim_id(table, nid)

    def save(self, obj: Player | Room | Exit | Item | Zone) -> int:
        table = "account" if isinstance(obj, Player) else type(obj).__name__.lower()
        return self.stage(table, obj.id, obj.to_row())

    def unsave(self, obj: Room | Exit | Item | Zone) -> int:
        """Stage the deletion of an object's row."""
        return self.stage(type(obj).__name__.lower(), obj.id, None)

    def save_meta(self, key: str, value: str) -> int:
        self.meta[key] = value
        return self.stage("meta", key, {"key": key, "value": value})

    # -- loading --------------------------------------------------------------------------
    def load(self, rows: dict[str, list[dict[str, Any]]]) -> None:
        """Build the world from database rows (start-up only)."""
        for r in rows.get("id_mark", []):
            if r["space"] in self._next_id:
                self._saw_id(r["space"], r["next_id"] - 1)
        for r in rows.get("zone", []):
            self.zones[r["key"]] = Zone(r["id"], r["key"], r["name"])
            self._saw_id("zone", r["id"])
        for r in rows.get("room", []):
            room = Room(
                r["id"], r["name"], r["description"], r["zone"], r["key"],
                json.loads(r["attrs"] or "{}"),
            )  # fmt: skip
            self._add_room(room)
        for r in rows.get("exit", []):
            src = self.rooms.get(r["room_id"])
            self._saw_id("exit", r["id"])
            if src is None:
                continue
            aliases = tuple(a for a in (r["aliases"] or "").split(";") if a)
            ex = Exit(
                r["id"], src, r["name"], r["dest_id"], aliases, json.loads(r["attrs"] or "{}"),
                r.get("description") or "",
            )  # fmt: skip
            src.exits.append(ex)
            self.exits[ex.id] = ex
        for r in rows.get("account", []):
            p = Player(
                r["id"], r["name"], r["password_hash"], r["role"],
                json.loads(r["settings"] or "{}"), r["created_at"], r["last_login"],
                r.get("description") or "",
            )  # fmt: skip
            p.room = self.rooms.get(r["room_id"]) if r["room_id"] is not None else None
            self._add_player(p)
        for r in rows.get("item", []):
            item = Item(
                r["id"], r["name"], tuple((r["keywords"] or "").split()), r["description"],
                json.loads(r["attrs"] or "{}"),
            )  # fmt: skip
            self.items[item.id] = item
            self._saw_id("item", item.id)
            if r["holder_id"] is not None and r["holder_id"] in self.players:
                holder = self.players[r["holder_id"]]
                item.location = holder
                holder.inventory.append(item)
            elif r["room_id"] is not None and r["room_id"] in self.rooms:
                room = self.rooms[r["room_id"]]
                item.location = room
                room.items.append(item)
        for r in rows.get("audit", []):
            self.audit_log.append(
                AuditEntry(
                    r["id"], r["at"], r["actor_id"], r["actor_name"], r["action"], r["detail"]
                )
            )
            self._saw_id("audit", r["id"])
        self.npc_roster.load_npcs(rows.get("npc", []))
        self.dreams.load(rows)
        self.event_rows = rows.get("event_state", [])
        self.moderation.load(rows.get("ban", []))
        for r in rows.get("ban", []):
            self._saw_id("ban", r["id"])
        self.meta = {r["key"]: r["value"] for r in rows.get("meta", [])}
        self.mail.load(rows.get("mail", []))
        self.channels.load(rows)
        self.comms.load()

    def _add_room(self, room: Room) -> None:
        self.rooms[room.id] = room
        if room.key:
            self.rooms_by_key[room.key] = room
        self._saw_id("room", room.id)

    def _add_player(self, p: Player) -> None:
        self.players[p.id] = p
        self.players_by_key[p.key] = p
        self._saw_id("account", p.id)

    # -- lookups --------------------------------------------------------------------------
    @property
    def nexus(self) -> Room:
        room = self.rooms_by_key.get(NEXUS_KEY)
        if room is None:
            room = min(self.rooms.values(), key=lambda r: r.id)
        return room

    def exit_destination(self, ex: Exit) -> Room | None:
        return self.rooms.get(ex.dest_id) if ex.dest_id is not None else None

    def find_online(self, name: str) -> Player | None:
        """An online player by exact name, else by unique name prefix.

        An exact name that belongs to an offline dreamer never falls through to a prefix
        match: `tell bob` must not reach Bobby because Bob is asleep."""
        key = name.lower()
        p = self.players_by_key.get(key)
        if p is not None:
            return p if p.online else None
        matches = [q for q in self.online.values() if q.key.startswith(key)]
        return matches[0] if len(matches) == 1 else None

    # -- building blocks (used by seeding, building commands and tests) -------------------
    def create_zone(self, key: str, name: str) -> Zone:
        zone = Zone(self.new_id("zone"), key, name)
        self.zones[key] = zone
        self.save(zone)
        return zone

    # `id=` (importing a world file) keeps an id; reserve_ids() first so none collide.
    def create_room(
        self, name: str, description: str = "", zone: str = "", key: str | None = None,
        *, id: int | None = None, attrs: dict[str, Any] | None = None,
    ) -> Room:  # fmt: skip
        room = Room(id or self.new_id("room"), name, description, zone, key, attrs)
        self._claim_id("room", room.id)
        self._add_room(room)
        self.save(room)
        return room

    def create_exit(
        self, room: Room, name: str, dest: Room | None, aliases: tuple[str, ...] = (),
        *, id: int | None = None, attrs: dict[str, Any] | None = None, description: str = "",
    ) -> Exit:  # fmt: skip
        ex = Exit(
            id or self.new_id("exit"), room, name, dest.id if dest else None, aliases, attrs,
            description,
        )  # fmt: skip
        self._claim_id("exit", ex.id)
        room.exits.append(ex)
        self.exits[ex.id] = ex
        self.save(ex)
        return ex

    def create_item(
        self, name: str, keywords: tuple[str, ...], description: str, where: Room | Player,
        *, id: int | None = None, attrs: dict[str, Any] | None = None,
    ) -> Item:  # fmt: skip
        item = Item(id or self.new_id("item"), name, keywords, description, attrs)
        self._claim_id("item", item.id)
        self.items[item.id] = item
        self._place(item, where)
        self.save(item)
        return item

    def create_player(self, name: str, password_hash: str, role: str = "player") -> Player:
        p = Player(self.new_id("account"), name, password_hash, role, created_at=time.time())
        p.room = self.nexus
        self._add_player(p)
        self.save(p)
        return p

    def set_role(self, p: Player, role: str) -> int:
        p.role = role
        return self.save(p)

    def set_setting(self, p: Player, key: str, value: Any) -> int:
        p.settings[key] = value
        return self.save(p)

    def clear_setting(self, p: Player, key: str) -> int:
        p.settings.pop(key, None)
        return self.save(p)

    def set_password_hash(self, p: Player, password_hash: str) -> int:
        p.password_hash = password_hash
        return self.save(p)

    # -- hooks: who reacts to what happens ------------------------------------------------
    def on(self, kind: str, callback: Hook) -> None:
        """Call `callback(**data)` whenever `kind` happens (see HOOK_KINDS)."""
        self.hooks[kind].append(callback)

    def emit(self, kind: str, **data: Any) -> None:
        for callback in self.hooks.get(kind, ()):
            try:
                callback(**data)
            except Exception:  # one broken reaction must not break the action itself
                log.exception("%s hook %r failed", kind, callback)

    # -- speech, for players and NPCs alike ---------------------------------------------
    def say(self, speaker: Player | Npc, text: str) -> None:
        """`speaker` says `text` aloud in their room: everyone there hears it."""
        room = speaker.room
        if room is None:
            return
        name = f"|c{speaker.name}|n" if isinstance(speaker, Player) else f"|y{speaker.name}|n"
        channel: Speech = {"channel": "say", "talker": speaker.name}
        exclude = speaker if isinstance(speaker, Player) else None
        self.broadcast(room, f'{name} says, "{text}|n"', exclude=exclude, channel=channel)
        if isinstance(speaker, Player) and speaker.settings.get("echo", True):
            speaker.send(f'You say, "{text}|n"')
            speaker.notify("channel", {**channel, "text": f'You say, "{text}"'})
        self.emit("say", speaker=speaker, room=room, text=text)

    def emote(self, actor: Player | Npc, text: str) -> None:
        room = actor.room
        if room is None:
            return
        name = f"|c{actor.name}|n" if isinstance(actor, Player) else f"|y{actor.name}|n"
        sep = "" if text[:1] in (",", "'") else " "
        channel: Speech = {"channel": "emote", "talker": actor.name}
        self.broadcast(room, f"{name}{sep}{text}|n", channel=channel)

    # -- dreaming (extended by dreams and loops) ---------------------------------------------
    def dream_state(self, p: Player) -> str:
        """'awake', 'dreaming' or 'in loop'."""
        return self.dreams.state(p)

    def dream_details(self, p: Player) -> dict[str, object]:
        """Extra GMCP Dreamwave.Status fields: the dream and loop a dreamer is in."""
        return self.dreams.details(p)

    # -- presence -------------------------------------------------------------------------
    def enter_game(self, p: Player, session: Listener, announce: bool = True) -> None:
        """Attach a connection to a dreamer and put them in their room (`announce`: the
        room sees them come; not when a new engine puts back who was already there)."""
        p.session = session
        self.online[p.id] = p
        if p.room is None or p.room.id not in self.rooms:
            p.room = self.nexus
        p.last_login = time.time()
        self.save(p)
        if announce:
            self.broadcast(p.room, f"|c{p.name}|n shimmers into the dreamscape.", exclude=p)
        self._join_room(p, p.room)
        self.channels.entered(p)

    def leave_game(self, p: Player) -> None:
        if self.online.pop(p.id, None) is None:
            return
        p.settings["last_seen"] = time.time()  # for finger; saved with the account row
        self.save(p)
        self.channels.left(p)
        room = p.room
        if room is not None:
            self._leave_room(p, room)
            self.broadcast(room, f"|c{p.name}|n fades from the dreamscape.")
        p.session = None

    # -- messages -------------------------------------------------------------------------
    def broadcast(
        self,
        room: Room,
        text: str,
        exclude: Player | tuple[Player, ...] | None = None,
        channel: Speech | None = None,
    ) -> None:
        """Tell everyone in `room` (but `exclude`). `channel` marks a line of speech, which
        clients also get out of band (GMCP Comm.Channel.Text)."""
        if isinstance(exclude, Player):
            exclude = (exclude,)
        self.observer.room_cast(room, text, exclude, channel)

    def _join_room(self, p: Player, room: Room) -> None:
        room.players[p.id] = p
        self.observer.room_joined(p, room)

    def _leave_room(self, p: Player, room: Room) -> None:
        if room.players.pop(p.id, None) is not None:
            self.observer.room_left(p, room)

    def announce(self, text: str) -> None:
        targets = [q.session for q in self.online.values() if q.session is not None]
        if targets:
            self.observer.fanout(targets, text)

    # -- mutations players cause ----------------------------------------------------------
    def move(
        self,
        p: Player,
        dest: Room,
        via: Exit | None = None,
        leave_text: str | None = None,
        arrive_text: str | None = None,
    ) -> int:
        """Move a dreamer; the rooms see them go and come (custom texts for dreaming)."""
        src = p.room
        if src is not None:
            self._leave_room(p, src)
            if leave_text is None:
                leave_text = (
                    f"|c{p.name}|n leaves {via.name}." if via else f"|c{p.name}|n vanishes."
                )
            self.broadcast(src, leave_text)
        if arrive_text is None:
            arrive_text = f"|c{p.name}|n arrives."
            if via is not None and src is not None:
                back = next((e for e in dest.exits if e.dest_id == src.id), None)
                if back is not None:
                    whence = FROM_WHERE.get(back.name, f"from the {back.name}")
                    arrive_text = f"|c{p.name}|n arrives {whence}."
        self.broadcast(dest, arrive_text)
        p.room = dest
        seq = self.save(p)
        if p.online:
            self._join_room(p, dest)
            # motifs live only in dreams: carried out of one, they stay behind
            dreams = self.dreams
            if p.inventory and dreams.is_private(src) and not dreams.is_private(dest):
                seq = dreams.leave_motifs(p) or seq
            p.notify("room")
            self.observer.landed(p, seq)  # whoever others moved sees where they landed
            self.emit("enter", player=p, room=dest, source=src)
        return seq

    def _place(self, item: Item, where: Room | Player) -> None:
        old = item.location
        if isinstance(old, Room):
            old.items.remove(item)
        elif isinstance(old, Player):
            old.inventory.remove(item)
        item.location = where
        if isinstance(where, Room):
            where.items.append(item)
        else:
            where.inventory.append(item)

    def move_item(self, item: Item, where: Room | Player) -> int:
        self._place(item, where)
        return self.save(item)

    # -- locks ----------------------------------------------------------------------------
    def in_loop(self, p: Player) -> bool:
        """Is the dreamer inside a shared loop?"""
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

    # -- builders' changes: the building component's (world/building.py) -------------------
    def audit(self, actor: Player | None, action: str, detail: str) -> int:
        return self.building.audit(actor, action, detail)

    def rename(
        self, obj: Room | Exit | Item, name: str, aliases: tuple[str, ...] | None = None
    ) -> int:
        return self.building.rename(obj, name, aliases)

    def set_description(self, obj: Room | Exit | Item | Player, text: str) -> int:
        return self.building.set_description(obj, text)

    def link(self, ex: Exit, dest: Room | None) -> int:
        return self.building.link(ex, dest)

    def set_attr(self, obj: Room | Exit | Item, name: str, value: Any) -> int:
        return self.building.set_attr(obj, name, value)

    def set_zone(self, room: Room, key: str) -> int:
        return self.building.set_zone(room, key)

    def set_keywords(self, item: Item, keywords: tuple[str, ...]) -> int:
        return self.building.set_keywords(item, keywords)

    def teleport(self, obj: Player | Item, dest: Room | Player, actor: Player | None = None) -> int:
        return self.building.teleport(obj, dest, actor)

    def destroy_exit(self, ex: Exit) -> int:
        return self.building.destroy_exit(ex)

    def destroy_item(self, item: Item) -> int:
        return self.building.destroy_item(item)

    def destroy_room(self, room: Room) -> list[Player]:
        return self.building.destroy_room(room)

    def clear_contents(self) -> None:
        self.building.clear_contents()

    def rehome_players(self) -> int:
        return self.building.rehome_players()

    # -- NPCs: the roster's (world/npcs.py) ---------------------------------------------------
    def save_npc(self, npc: Npc) -> int:
        return self.npc_roster.save_npc(npc)

    def create_npc(
        self, key: str, name: str, short: str = "", description: str = "",
        room: Room | None = None,
    ) -> Npc:  # fmt: skip
        return self.npc_roster.create_npc(key, name, short, description, room)

    def find_npc(self, word: str, room: Room | None = None) -> Npc | None:
        return self.npc_roster.find_npc(word, room)

    def move_npc(
        self, npc: Npc, dest: Room | None, leave_text: str | None = None,
        arrive_text: str | None = None, *, show: tuple[bool, bool] = (True, True),
        greet: bool = True,
    ) -> int:  # fmt: skip
        return self.npc_roster.move_npc(npc, dest, leave_text, arrive_text, show=show, greet=greet)

    def set_npc_flag(self, npc: Npc, name: str, value: Any) -> int:
        return self.npc_roster.set_npc_flag(npc, name, value)

    def rename_npc(self, npc: Npc, name: str) -> int:
        return self.npc_roster.rename_npc(npc, name)

    def set_npc_text(self, npc: Npc, field: str, text: str) -> int:
        return self.npc_roster.set_npc_text(npc, field, text)

    def destroy_npc(self, npc: Npc) -> int:
        return self.npc_roster.destroy_npc(npc)

    def place_npc(
        self, key: str, name: str, short: str, description: str, room: Room | None,
        flags: dict[str, Any] | None = None,
    ) -> Npc:  # fmt: skip
        return self.npc_roster.place_npc(key, name, short, description, room, flags)

    def rehome_npcs(self, placed: Collection[str] = ()) -> int:
        return self.npc_roster.rehome_npcs(placed)
