"""Private dreams and shared loops: the rules, as plain objects and one service.

A **dream** belongs to one dreamer forever: a home room (plus up to a few extra rooms) whose
`attrs["dream"]` is the owner's id, a guest list, and the waking-world room to return to.
A **loop** is a room (`attrs["loop"]`) that several dreamers' dreams merged into by mutual
consent. It keeps a shared narrative and a stability from 0 to 100; at 0 it collapses.

The Dreamscape changes state only through World methods (move, create_room, ...) plus its own
rows (dream, loop, narrative), so every change is staged for the writer like any other.
Errors are DreamError with one sentence for the player.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mud.text import list_words
from world.model import Item, Player, Room

if TYPE_CHECKING:
    from world.world import World

DEFAULT_DREAM_DESC = (
    "Soft grey mist pools around you, waiting to be told what to become. Somewhere "
    "beyond hearing, your own heartbeat keeps time. Nothing here exists until you "
    "dream it: |wdream describe|n, |wdream name|n and |wdream motif|n give it shape."
)


def _bare(name: str) -> str:
    """'a glass bird' -> 'glass bird', for "Ada's glass bird"."""
    for article in ("a ", "an ", "the ", "some "):
        if name.lower().startswith(article):
            return name[len(article) :]
    return name


class DreamError(Exception):
    """A dream or loop rule refused the action; the message is for the player."""


@dataclass
class DreamLimits:
    max_motifs: int = 12
    max_extra_rooms: int = 5
    max_loop_size: int = 50
    proposal_ttl: float = 300.0  # seconds a merge proposal stays open
    weave_window: float = 60.0  # seconds: a weave answering another dreamer's within this...
    weave_bonus: int = 2  # ...raises stability by this much
    max_narrative: int = 5000  # lines one loop's narrative may hold
    max_weave_chars: int = 400
    narrative_page: int = 15


@dataclass
class Dream:
    owner_id: int
    room_id: int
    rooms: list[int]  # every room of the dream, the home room first
    wake_room_id: int | None = None
    guests: set[int] = field(default_factory=set)
    created_at: float = 0.0
    admin_visits: list[str] = field(default_factory=list)  # told to the owner on next look

    def to_row(self) -> dict[str, Any]:
        return {
            "owner_id": self.owner_id, "room_id": self.room_id, "rooms": json.dumps(self.rooms),
            "wake_room_id": self.wake_room_id, "guests": json.dumps(sorted(self.guests)),
            "created_at": self.created_at, "admin_visits": json.dumps(self.admin_visits),
        }  # fmt: skip


@dataclass
class Line:
    id: int
    loop_id: int
    at: float
    author_id: int | None
    author: str
    text: str

    def to_row(self) -> dict[str, Any]:
        return {
            "id": self.id, "loop_id": self.loop_id, "at": self.at,
            "author_id": self.author_id, "author": self.author, "text": self.text,
        }  # fmt: skip


@dataclass
class Loop:
    id: int
    room_id: int | None
    started_at: float
    participants: list[int]
    former: list[int]  # everyone who ever took part (for the journal)
    stability: int = 100
    state: str = "active"  # active | archived
    ended_at: float | None = None
    end_reason: str = ""
    title: str = ""
    host_id: int | None = None  # an NPC's loop (festival), if any
    narrative: list[Line] = field(default_factory=list)
    last_weave: tuple[float, int | None] | None = None
    invited: set[int] = field(default_factory=set)  # dreamers a host NPC asked in
    anchor_id: int | None = None  # where a hosted loop was opened: its NPCs step back out there

    def to_row(self) -> dict[str, Any]:
        return {
            "id": self.id, "room_id": self.room_id, "started_at": self.started_at,
            "participants": json.dumps(self.participants), "former": json.dumps(self.former),
            "stability": self.stability, "state": self.state, "ended_at": self.ended_at,
            "end_reason": self.end_reason, "title": self.title, "host_id": self.host_id,
            "invited": json.dumps(sorted(self.invited)), "anchor_id": self.anchor_id,
        }  # fmt: skip


@dataclass
class Proposal:
    proposer_id: int
    target_id: int
    expires: float
    loop_id: int | None = None  # an invitation into an existing loop


StabilityListener = Callable[[Loop, int, int], None]


class Dreamscape:
    def __init__(self, world: World, now: Callable[[], float] = time.time) -> None:
        self.world = world
        self.now = now
        self.limits = DreamLimits()
        self.dreams: dict[int, Dream] = {}  # owner id -> dream
        self.loops: dict[int, Loop] = {}  # every loop, active and archived
        self.proposals: dict[tuple[int, int], Proposal] = {}
        self.stability_listeners: list[StabilityListener] = []
        self._next_loop = 1
        self._next_line = 1

    # -- loading and saving -------------------------------------------------------------------
    def load(self, rows: dict[str, list[dict[str, Any]]]) -> None:
        for r in rows.get("dream", []):
            self.dreams[r["owner_id"]] = Dream(
                r["owner_id"], r["room_id"], json.loads(r["rooms"]), r["wake_room_id"],
                set(json.loads(r["guests"])), r["created_at"], json.loads(r["admin_visits"]),
            )  # fmt: skip
        for r in rows.get("loop", []):
            self.loops[r["id"]] = Loop(
                r["id"], r["room_id"], r["started_at"], json.loads(r["participants"]),
                json.loads(r["former"]), r["stability"], r["state"], r["ended_at"],
                r["end_reason"], r["title"], r.get("host_id"),
                invited=set(json.loads(r.get("invited") or "[]")), anchor_id=r.get("anchor_id"),
            )  # fmt: skip
            self._next_loop = max(self._next_loop, r["id"] + 1)
        for r in sorted(rows.get("narrative", []), key=lambda r: r["id"]):
            loop = self.loops.get(r["loop_id"])
            if loop is not None:
                loop.narrative.append(
                    Line(r["id"], r["loop_id"], r["at"], r["author_id"], r["author"], r["text"])
                )
            self._next_line = max(self._next_line, r["id"] + 1)

    def _save_dream(self, dream: Dream) -> int:
        return self.world._stage("dream", dream.owner_id, dream.to_row())

    def _save_loop(self, loop: Loop) -> int:
        return self.world._stage("loop", loop.id, loop.to_row())

    # -- what things are ----------------------------------------------------------------------
    def dream_of_room(self, room: Room | None) -> Dream | None:
        if room is None:
            return None
        owner = room.attrs.get("dream")
        return self.dreams.get(owner) if owner is not None else None

    def loop_of_room(self, room: Room | None) -> Loop | None:
        if room is None:
            return None
        lid = room.attrs.get("loop")
        loop = self.loops.get(lid) if lid is not None else None
        return loop if loop is not None and loop.state == "active" else None

    def loop_of(self, p: Player) -> Loop | None:
        loop = self.loop_of_room(p.room)
        return loop if loop is not None and p.id in loop.participants else None

    def in_own_dream(self, p: Player) -> bool:
        dream = self.dream_of_room(p.room)
        return dream is not None and dream.owner_id == p.id

    def state(self, p: Player) -> str:
        if self.loop_of(p) is not None:
            return "in loop"
        if self.dream_of_room(p.room) is not None:
            return "dreaming"
        return "awake"

    def is_private(self, room: Room | None) -> bool:
        return room is not None and ("dream" in room.attrs or "loop" in room.attrs)

    def may_enter(self, p: Player, room: Room) -> bool:
        """May `p` be in `room` without an admin's override? (owner, guest or participant)"""
        dream = self.dream_of_room(room)
        if dream is not None:
            return p.id == dream.owner_id or p.id in dream.guests
        if "loop" in room.attrs:
            loop = self.loop_of_room(room)
            return loop is not None and p.id in loop.participants
        return True

    def hidden_from(self, viewer: Player | None, room: Room | None) -> bool:
        """True if `room` is someone's private dream or loop that `viewer` may not see into.
        Admins see everything (their entries are recorded and told to the owner)."""
        if room is None or not self.is_private(room):
            return False
        if viewer is None or viewer.has_role("admin"):
            return False
        return not self.may_enter(viewer, room)

    def check_teleport(self, actor: Player | None, target: Player | Item, room: Room) -> None:
        """Refuse moving anyone or anything into a private dream or loop uninvited."""
        if not self.is_private(room):
            return
        if actor is None or actor.has_role("admin"):
            if actor is not None and not self.may_enter(actor, room):
                self.note_admin_visit(room, actor)
            return
        target_ok = not isinstance(target, Player) or self.may_enter(target, room)
        if target_ok and self.may_enter(actor, room):
            return
        raise DreamError("That place is someone's private dream; only invited guests may enter.")

    def details(self, p: Player) -> dict[str, Any]:
        dream = self.dream_of_room(p.room)
        loop = self.loop_of(p)
        world = self.world
        out: dict[str, Any] = {"dream": None, "loop": None}
        if dream is not None:
            owner = world.players.get(dream.owner_id)
            out["dream"] = {"owner": owner.name if owner else "?", "room": p.room.name}
        if loop is not None:
            out["loop"] = {
                "id": loop.id,
                "participants": [world.players[i].name for i in loop.participants],
                "stability": loop.stability,
            }
        return out

    def motifs_of(self, owner_id: int) -> list[Item]:
        return [it for it in self.world.items.values() if it.attrs.get("motif") == owner_id]

    def echoes(self, room: Room) -> list[str]:
        """What a loop room shows of its participants' motifs."""
        loop = self.loop_of_room(room)
        if loop is None:
            return []
        out = []
        for pid in loop.participants:
            owner = self.world.players.get(pid)
            for it in self.motifs_of(pid):
                out.append(f"an echo of {owner.name if owner else 'someone'}'s {_bare(it.name)}")
        return out

    # -- private dreams ------------------------------------------------------------------------
    def ensure_dream(self, p: Player) -> Dream:
        dream = self.dreams.get(p.id)
        if dream is not None and dream.room_id in self.world.rooms:
            return dream
        room = self.world.create_room(f"{p.name}'s Dream", DEFAULT_DREAM_DESC, "dreams")
        room.attrs["dream"] = p.id
        self.world.save(room)
        dream = Dream(p.id, room.id, [room.id], created_at=self.now())
        self.dreams[p.id] = dream
        self._save_dream(dream)
        return dream

    def _waking_room(self, p: Player) -> Room | None:
        room = p.room
        return None if self.is_private(room) else room

    def _lie_down(self, p: Player) -> Dream:
        """`p`'s own dream, remembering the waking-world room they fell asleep in."""
        here = self._waking_room(p)
        dream = self.ensure_dream(p)
        if here is not None:
            dream.wake_room_id = here.id
            self._save_dream(dream)
        return dream

    def fall_asleep(self, p: Player) -> Room:
        """`dream`: into your own dream, remembering where you lay down."""
        if self.loop_of(p) is not None:
            raise DreamError("You are woven into a loop; |wunmerge|n to return to your own dream.")
        if self.in_own_dream(p):
            raise DreamError("You are already in your own dream.")
        here = self._waking_room(p)
        if here is not None and here.attrs.get("no_dream"):
            raise DreamError("Something in this place keeps you from sleeping here.")
        dream = self._lie_down(p)
        home = self.world.rooms[dream.room_id]
        self.world.move(
            p, home, leave_text=f"|c{p.name}|n closes their eyes and drifts into a dream.",
            arrive_text=f"|c{p.name}|n settles into their own dream.",
        )  # fmt: skip
        return home

    def wake(self, p: Player) -> Room:
        """`wake`: back to the waking room where you fell asleep (the Nexus if it is gone)."""
        if self.state(p) == "awake":
            raise DreamError("You are already awake.")
        loop = self.loop_of(p)
        dream = self.dreams.get(p.id)
        dest = None
        if dream is not None and dream.wake_room_id is not None:
            dest = self.world.rooms.get(dream.wake_room_id)
        if dest is None or self.is_private(dest):
            dest = self.world.nexus
        self.world.move(
            p, dest, leave_text=f"|c{p.name}|n fades as they wake.",
            arrive_text=f"|c{p.name}|n blinks awake.",
        )  # fmt: skip
        if loop is not None:
            self._left(loop, p)
        p.notify("status")
        return dest

    def _own_room(self, p: Player) -> Room:
        dream = self.dream_of_room(p.room)
        if dream is None or dream.owner_id != p.id:
            raise DreamError("You can only shape your own dream from inside it. Type |wdream|n.")
        assert p.room is not None
        return p.room

    def describe(self, p: Player, text: str) -> None:
        room = self._own_room(p)
        self.world.set_description(room, text)

    def rename(self, p: Player, name: str) -> None:
        room = self._own_room(p)
        self.world.rename(room, name)

    def add_motif(self, p: Player, name: str) -> Item:
        self._own_room(p)
        if len(self.motifs_of(p.id)) >= self.limits.max_motifs:
            raise DreamError(f"Your dream already holds {self.limits.max_motifs} motifs.")
        words = tuple(w.lower() for w in name.replace(",", " ").split() if len(w) > 2)
        item = self.world.create_item(name, words[-2:], f"A motif of {p.name}'s dreaming.", p)
        item.attrs["motif"] = p.id
        self.world.save(item)
        return item

    def dig(self, p: Player, name: str, exit_there: str, exit_back: str) -> Room:
        here = self._own_room(p)
        dream = self.dreams[p.id]
        if len(dream.rooms) - 1 >= self.limits.max_extra_rooms:
            raise DreamError(
                f"Your dream can hold at most {self.limits.max_extra_rooms} more rooms."
            )
        if here.find_exit(exit_there) is not None:
            raise DreamError(f"There is already a way '{exit_there}' here.")
        room = self.world.create_room(name, DEFAULT_DREAM_DESC, "dreams")
        room.attrs["dream"] = p.id
        self.world.save(room)
        self.world.create_exit(here, exit_there, room)
        self.world.create_exit(room, exit_back, here)
        dream.rooms.append(room.id)
        self._save_dream(dream)
        return room

    def invite(self, owner: Player, guest: Player) -> None:
        if guest is owner:
            raise DreamError("You are always welcome in your own dream.")
        dream = self.ensure_dream(owner)
        if guest.id in dream.guests:
            raise DreamError(f"{guest.name} is already invited.")
        dream.guests.add(guest.id)
        self._save_dream(dream)

    def uninvite(self, owner: Player, guest: Player) -> bool:
        """Take back an invitation; ejects the guest if present. True if they were ejected."""
        dream = self.dreams.get(owner.id)
        if dream is None or guest.id not in dream.guests:
            raise DreamError(f"{guest.name} isn't on your guest list.")
        dream.guests.discard(guest.id)
        self._save_dream(dream)
        if guest.room is not None and guest.room.id in dream.rooms:
            self._send_home(guest, f"|c{guest.name}|n is gently shown out of the dream.")
            return True
        return False

    def visit(self, p: Player, owner: Player) -> Room:
        if owner is p:
            return self.fall_asleep(p)
        dream = self.dreams.get(owner.id)
        if dream is None or p.id not in dream.guests:
            raise DreamError(f"You haven't been invited into {owner.name}'s dream.")
        if self.loop_of(p) is not None:
            raise DreamError("You are woven into a loop; |wunmerge|n first.")
        self._lie_down(p)
        home = self.world.rooms[dream.room_id]
        self.world.move(
            p, home, leave_text=f"|c{p.name}|n drifts off to visit a friend's dream.",
            arrive_text=f"|c{p.name}|n steps into the dream as an invited guest.",
        )  # fmt: skip
        return home

    def guests(self, owner: Player) -> list[Player]:
        dream = self.dreams.get(owner.id)
        if dream is None:
            return []
        return [self.world.players[g] for g in sorted(dream.guests) if g in self.world.players]

    def _send_home(self, p: Player, leave_text: str) -> None:
        """Out of someone else's dream: to your own waking room, or the Nexus."""
        mine = self.dreams.get(p.id)
        dest = self.world.rooms.get(mine.wake_room_id) if mine and mine.wake_room_id else None
        if dest is None or self.is_private(dest):
            dest = self.world.nexus
        self.world.move(p, dest, leave_text=leave_text, arrive_text=f"|c{p.name}|n blinks awake.")
        p.send("You are returned to the waking world.")

    def note_admin_visit(self, room: Room, admin: Player) -> None:
        dream = self.dream_of_room(room)
        if dream is not None and dream.owner_id != admin.id:
            dream.admin_visits.append(f"{admin.name} (admin) entered your dream")
            del dream.admin_visits[:-20]
            self._save_dream(dream)

    def take_admin_visits(self, p: Player) -> list[str]:
        dream = self.dreams.get(p.id)
        if dream is None or not dream.admin_visits:
            return []
        notes, dream.admin_visits = dream.admin_visits, []
        self._save_dream(dream)
        return notes

    # -- merging -------------------------------------------------------------------------------
    def _live_proposals(self) -> None:
        now = self.now()
        for key in [k for k, pr in self.proposals.items() if pr.expires <= now]:
            del self.proposals[key]

    def pending(self, p: Player) -> tuple[list[Proposal], list[Proposal]]:
        """(proposals to p, proposals by p), unexpired."""
        self._live_proposals()
        incoming = [pr for pr in self.proposals.values() if pr.target_id == p.id]
        outgoing = [pr for pr in self.proposals.values() if pr.proposer_id == p.id]
        return incoming, outgoing

    def merge(self, p: Player, other: Player) -> Loop | None:
        """`merge <other>`: accept their proposal if there is one, else propose.

        Returns the loop when one was formed or joined, None when a proposal was made.
        """
        if other is p:
            raise DreamError("You can't merge with yourself.")
        self._live_proposals()
        offer = self.proposals.get((other.id, p.id))
        if offer is not None:
            return self._accept(p, other, offer)
        if not self.in_own_dream(p):
            raise DreamError("You must be in your own dream to merge. Type |wdream|n first.")
        if not other.online or not self.in_own_dream(other):
            raise DreamError(f"{other.name} isn't in their own dream right now.")
        self.proposals[(p.id, other.id)] = Proposal(
            p.id, other.id, self.now() + self.limits.proposal_ttl
        )
        return None

    def invite_to_loop(self, p: Player, other: Player) -> Loop:
        loop = self.loop_of(p)
        if loop is None:
            raise DreamError("You aren't in a loop.")
        if other.id in loop.participants:
            raise DreamError(f"{other.name} is already part of this loop.")
        if len(loop.participants) >= self.limits.max_loop_size:
            raise DreamError(f"The loop already holds {self.limits.max_loop_size} dreamers.")
        self.proposals[(p.id, other.id)] = Proposal(
            p.id, other.id, self.now() + self.limits.proposal_ttl, loop.id
        )
        return loop

    def _accept(self, p: Player, proposer: Player, offer: Proposal) -> Loop:
        if not self.in_own_dream(p):
            raise DreamError("You must be in your own dream to accept. Type |wdream|n first.")
        if offer.loop_id is not None:
            loop = self.loops.get(offer.loop_id)
            if loop is None or loop.state != "active":
                del self.proposals[(proposer.id, p.id)]
                raise DreamError("That loop has already come apart.")
            if len(loop.participants) >= self.limits.max_loop_size:
                raise DreamError(f"The loop already holds {self.limits.max_loop_size} dreamers.")
            del self.proposals[(proposer.id, p.id)]
            self.join(loop, p)
            return loop
        if not proposer.online or not self.in_own_dream(proposer):
            del self.proposals[(proposer.id, p.id)]
            raise DreamError(
                f"{proposer.name} is no longer in their own dream; the proposal fades."
            )
        del self.proposals[(proposer.id, p.id)]
        self.proposals.pop((p.id, proposer.id), None)
        loop = self.open_loop([proposer, p])
        return loop

    def open_loop(
        self, members: list[Player], title: str = "", host_id: int | None = None,
        stability: int = 100, description: str = "", anchor: Room | None = None,
    ) -> Loop:  # fmt: skip
        """Weave a new loop room from the members' dreams and move them in."""
        world = self.world
        names = [m.name for m in members]
        room = world.create_room(title or f"Loop of {list_words(names)}", "", "loops")
        room.description = description or (self._woven_description(members) if members else title)
        loop = Loop(
            self._next_loop,
            room.id,
            self.now(),
            [],
            [],
            stability,
            title=title,
            host_id=host_id,
            anchor_id=anchor.id if anchor is not None else None,
        )
        self._next_loop += 1
        room.attrs["loop"] = loop.id
        world.save(room)
        self.loops[loop.id] = loop
        for m in members:
            self._enter_loop(loop, m, room)
        self._save_loop(loop)
        for m in members:
            m.send(f"|mYour dream merges into a shared loop with {self._others(loop, m)}.|n")
            m.notify("status")
        return loop

    def _woven_description(self, members: list[Player]) -> str:
        parts = [
            "Several dreams braid together here, their edges bleeding softly into one another."
        ]
        for m in members:
            dream = self.dreams.get(m.id)
            room = self.world.rooms.get(dream.room_id) if dream else None
            if room is None:
                continue
            first = room.description.split(". ")[0].strip().rstrip(".")
            if first:
                parts.append(f"From {m.name}'s dream: {first}.")
        return " ".join(parts)

    def _others(self, loop: Loop, p: Player) -> str:
        names = [self.world.players[i].name for i in loop.participants if i != p.id]
        return list_words(names) if names else "no one else yet"

    def _enter_loop(self, loop: Loop, p: Player, room: Room) -> None:
        loop.participants.append(p.id)
        if p.id not in loop.former:
            loop.former.append(p.id)
        self.world.move(
            p, room, leave_text=f"|c{p.name}|n's dream folds away into a loop.",
            arrive_text=f"|c{p.name}|n's dream merges into the loop.",
        )  # fmt: skip

    def join(self, loop: Loop, p: Player) -> None:
        room = self.world.rooms[loop.room_id] if loop.room_id is not None else None
        if room is None:
            raise DreamError("That loop has already come apart.")
        self._enter_loop(loop, p, room)
        self._save_loop(loop)
        p.send(f"|mYou merge into the loop. Here with you: {self._others(loop, p)}.|n")
        p.notify("status")

    # -- inside a loop --------------------------------------------------------------------------
    def weave(self, p: Player, text: str) -> Loop:
        loop = self.loop_of(p)
        if loop is None:
            raise DreamError("You aren't in a loop. |wmerge|n with another dreamer first.")
        text = text.strip()
        if not text:
            raise DreamError("Weave what? Type |wweave <a line of the story>|n.")
        if len(text) > self.limits.max_weave_chars:
            raise DreamError(f"Keep a woven line under {self.limits.max_weave_chars} characters.")
        if len(loop.narrative) >= self.limits.max_narrative:
            raise DreamError("This loop's narrative is full; its story is told.")
        self.add_line(loop, p.id, p.name, text)
        room = self.world.rooms[loop.room_id]  # type: ignore[index]
        self.world.broadcast(
            room, f"|m~ {p.name} weaves:|n {text}", channel={"channel": "weave", "talker": p.name}
        )
        now = self.now()
        last = loop.last_weave
        loop.last_weave = (now, p.id)
        if last is not None and last[1] != p.id and now - last[0] <= self.limits.weave_window:
            self.adjust_stability(
                loop, self.limits.weave_bonus, "Shared storytelling steadies the loop."
            )
        return loop

    def add_line(self, loop: Loop, author_id: int | None, author: str, text: str) -> Line:
        line = Line(self._next_line, loop.id, self.now(), author_id, author, text)
        self._next_line += 1
        loop.narrative.append(line)
        self.world._stage("narrative", line.id, line.to_row())
        return line

    def adjust_stability(self, loop: Loop, delta: int, reason: str = "") -> int:
        """Raise or lower a loop's stability; at 0 it collapses. Returns the new value."""
        if loop.state != "active":
            return loop.stability
        old = loop.stability
        new = max(0, min(100, old + delta))
        if new == old:
            return new
        loop.stability = new
        self._save_loop(loop)
        room = self.world.rooms.get(loop.room_id) if loop.room_id is not None else None
        if room is not None:
            trend = "steadies" if delta > 0 else "shudders"
            note = f" {reason}" if reason else ""
            self.world.broadcast(room, f"|mThe loop {trend} (stability {new}).|n{note}")
            for pid in loop.participants:
                self.world.players[pid].notify("status")
        for listener in list(self.stability_listeners):
            listener(loop, old, new)
        if new == 0 and loop.state == "active":
            self.collapse(loop)
        return new

    def collapse(self, loop: Loop) -> None:
        """Stability reached 0: everyone is thrown back into their own dream."""
        room = self.world.rooms.get(loop.room_id) if loop.room_id is not None else None
        if room is not None:
            self.world.broadcast(
                room, "|rThe loop tears apart; its threads scatter into the dark.|n"
            )
        for pid in list(loop.participants):
            p = self.world.players[pid]
            loop.participants.remove(pid)
            self._return_to_dream(p, f"|c{p.name}|n is flung back into their own dream.")
            p.send(
                "|rThe loop collapsed. You wake inside your own dream, its story still in you.|n"
            )
        self._archive(loop, "collapsed")

    def unmerge(self, p: Player) -> Loop:
        loop = self.loop_of(p)
        if loop is None:
            raise DreamError("You aren't in a loop.")
        self._return_to_dream(p, f"|c{p.name}|n unravels from the loop.")
        self._left(loop, p)
        return loop

    def _left(self, loop: Loop, p: Player) -> None:
        """`p` has moved out of the loop room: drop them, and dissolve an empty loop (a loop
        an NPC hosts stays open for its invited dreamers until its host closes it)."""
        loop.participants.remove(p.id)
        if loop.participants or loop.host_id is not None:
            self._save_loop(loop)
        else:
            self._archive(loop, "dissolved")

    def _return_to_dream(self, p: Player, leave_text: str | None) -> None:
        dream = self.ensure_dream(p)
        home = self.world.rooms[dream.room_id]
        self.world.move(
            p, home, leave_text=leave_text,
            arrive_text=f"|c{p.name}|n returns to their own dream.",
        )  # fmt: skip
        p.notify("status")

    def _archive(self, loop: Loop, reason: str) -> None:
        """The loop is over: keep its narrative for the journal, unmake its room."""
        loop.state = "archived"
        loop.ended_at = self.now()
        loop.end_reason = reason
        loop.invited.clear()
        room = self.world.rooms.get(loop.room_id) if loop.room_id is not None else None
        loop.room_id = None
        self._save_loop(loop)
        for key in [k for k, pr in self.proposals.items() if pr.loop_id == loop.id]:
            del self.proposals[key]
        if room is None:
            return
        nexus = self.world.nexus
        # Whoever is still here (an admin who came to look) and whatever was dropped here
        # goes to the Nexus; then the room is unmade.
        for q in list(room.players.values()):
            self.world.move(q, nexus)
        anchor = self.world.rooms.get(loop.anchor_id) if loop.anchor_id is not None else None
        for npc in list(room.npcs.values()):  # a host who stepped inside steps back out
            self.world.move_npc(npc, anchor or nexus)
        for item in list(room.items):
            self.world.move_item(item, nexus)
        self.world.destroy_room(room)

    # -- hosted loops: an NPC opens a loop and asks the dreamers around it in -----------------
    def invite_hosted(self, loop: Loop, players: list[Player]) -> list[Player]:
        """Invite dreamers into a hosted loop; returns those newly invited."""
        new = [
            p for p in players
            if p.id not in loop.invited and p.id not in loop.participants
        ]  # fmt: skip
        if new and loop.state == "active":
            loop.invited.update(p.id for p in new)
            self._save_loop(loop)
            return new
        return []

    def hosted_invitations(self, p: Player) -> list[Loop]:
        return [lp for lp in self.loops.values() if lp.state == "active" and p.id in lp.invited]

    def find_hosted_invitation(self, p: Player, word: str) -> Loop | None:
        """The hosted loop `p` was invited into by an NPC called `word` (key or name)."""
        for loop in self.hosted_invitations(p):
            host = self.world.npcs.get(loop.host_id) if loop.host_id is not None else None
            if host is not None and word.strip() and host.matches(word):
                return loop
        return None

    def join_hosted(self, p: Player, loop: Loop) -> None:
        """Accept a host's invitation: from wherever you are, awake or dreaming (a festival
        loop gathers its audience where it stands; waking returns you there)."""
        if loop.state != "active" or p.id not in loop.invited:
            raise DreamError("That invitation has faded.")
        if self.loop_of(p) is not None:
            raise DreamError("You are woven into another loop; |wunmerge|n first.")
        if len(loop.participants) >= self.limits.max_loop_size:
            raise DreamError(f"The loop already holds {self.limits.max_loop_size} dreamers.")
        here = self._waking_room(p)
        if here is not None:
            dream = self.ensure_dream(p)
            dream.wake_room_id = here.id
            self._save_dream(dream)
        loop.invited.discard(p.id)
        self.join(loop, p)

    def decline_hosted(self, p: Player, loop: Loop) -> None:
        loop.invited.discard(p.id)
        self._save_loop(loop)

    def end_loop(self, loop: Loop, reason: str = "closed") -> None:
        """Close a loop gently: everyone wakes where they merged from (or the Nexus)."""
        if loop.state != "active":
            return
        for pid in list(loop.participants):
            p = self.world.players[pid]
            loop.participants.remove(pid)
            dream = self.dreams.get(pid)
            wake_id = dream.wake_room_id if dream is not None else None
            dest = self.world.rooms.get(wake_id) if wake_id is not None else None
            if dest is None or self.is_private(dest):
                dest = self.world.nexus
            self.world.move(
                p, dest, leave_text=f"|c{p.name}|n unwinds from the loop.",
                arrive_text=f"|c{p.name}|n blinks awake, the loop's story still warm.",
            )  # fmt: skip
            p.send("|mThe loop unwinds around you, and you wake where you joined it.|n")
            p.notify("status")
        self._archive(loop, reason)

    # -- reading ----------------------------------------------------------------------------
    def journal(self, p: Player) -> list[Loop]:
        """Past loops `p` took part in, oldest first."""
        return [
            lp for lp in sorted(self.loops.values(), key=lambda lp: lp.id)
            if lp.state == "archived" and p.id in lp.former
        ]  # fmt: skip

    def narrative_page(self, loop: Loop, page: int | None) -> tuple[list[Line], int, int]:
        """(lines, page, pages); pages count from 1, newest last; default the last page."""
        size = self.limits.narrative_page
        pages = max(1, -(-len(loop.narrative) // size))
        page = pages if page is None else max(1, min(page, pages))
        return loop.narrative[(page - 1) * size : page * size], page, pages
