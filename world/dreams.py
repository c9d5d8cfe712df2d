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
from typing import TYPE_CHECKING, Any

from world.dream_model import (
    Dream,
    DreamError,
    DreamLimits,
    Line,
    Loop,
    Proposal,
    StabilityListener,
    _bare,
)
from world.loops import SharedLoops
from world.model import Item, Player, Room
from world.moderation import HOUR, MINUTE, Quota
from world.words import capitalise_first

if TYPE_CHECKING:
    from world.world import World

# Every dream's rooms are in this zone. It has no Zone row (dreams are made and unmade as
# dreamers come and go), so this is the area's name as clients are told it (GMCP Room.Info),
# named like the content's zones ("The Dreamwave Nexus").
DREAM_ZONE = "dreams"
DREAM_AREA = "The Dreams"

DEFAULT_DREAM_DESC = (
    "Soft grey mist pools around you, waiting to be told what to become. Somewhere "
    "beyond hearing, your own heartbeat keeps time. Nothing here exists until you "
    "dream it: |wdream describe|n, |wdream name|n and |wdream motif|n give it shape."
)


def plural(n: int, noun: str) -> str:
    """'1 motif', '5 motifs', '1 added room'."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


class Dreamscape:
    """Every dream and loop, and the rules they change by. Loops are its `shared_loops`
    component (world/loops.py); its methods of the same names call that one."""

    def __init__(self, world: World, now: Callable[[], float] = time.time) -> None:
        self.world = world
        self.now = now
        self.limits = DreamLimits()
        # loops started and lines woven per dreamer; no quota until the server sets the limits
        self.loop_quota = Quota(0, HOUR)
        self.weave_quota = Quota(0, MINUTE)
        self.dreams: dict[int, Dream] = {}  # owner id -> dream
        self.loops: dict[int, Loop] = {}  # every loop, active and archived
        self.proposals: dict[tuple[int, int], Proposal] = {}
        self.stability_listeners: list[StabilityListener] = []
        self.next_loop_id = 1
        self.next_line_id = 1
        self.shared_loops = SharedLoops(self)  # merging, weaving, stability (world/loops.py)

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
            self.next_loop_id = max(self.next_loop_id, r["id"] + 1)
        for r in sorted(rows.get("narrative", []), key=lambda r: r["id"]):
            loop = self.loops.get(r["loop_id"])
            if loop is not None:
                loop.narrative.append(
                    Line(r["id"], r["loop_id"], r["at"], r["author_id"], r["author"], r["text"])
                )
            self.next_line_id = max(self.next_line_id, r["id"] + 1)

    def _save_dream(self, dream: Dream) -> int:
        return self.world.stage("dream", dream.owner_id, dream.to_row())

    def _save_loop(self, loop: Loop) -> int:
        return self.world.stage("loop", loop.id, loop.to_row())

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

    def details(self, p: Player) -> dict[str, object]:
        room = p.room
        dream = self.dream_of_room(room)
        loop = self.loop_of(p)
        world = self.world
        out: dict[str, object] = {"dream": None, "loop": None}
        if dream is not None and room is not None:  # (a dream's room is a room)
            owner = world.players.get(dream.owner_id)
            out["dream"] = {"owner": owner.name if owner else "?", "room": room.name}
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

    def leave_motifs(self, p: Player) -> int:
        """`p` has carried things out of the dreamscape: motifs can't exist awake, so each
        stays behind, on the floor of its dreamer's dream (or fades if that is gone)."""
        seq = 0
        for it in [it for it in p.inventory if "motif" in it.attrs]:
            dream = self.dreams.get(it.attrs["motif"])
            home = self.world.rooms.get(dream.room_id) if dream is not None else None
            if home is not None:
                seq = self.world.move_item(it, home)
                p.send(f"{capitalise_first(it.name)} fades from your hands; it stays in the dream.")
            else:
                seq = self.world.destroy_item(it)
        return seq

    # -- private dreams ------------------------------------------------------------------------
    def ensure_dream(self, p: Player) -> Dream:
        dream = self.dreams.get(p.id)
        if dream is not None and dream.room_id in self.world.rooms:
            return dream
        room = self.world.create_room(f"{p.name}'s Dream", DEFAULT_DREAM_DESC, DREAM_ZONE)
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

    def waking_place(self, p: Player) -> Room:
        """Where `p` wakes: the waking-world room they fell asleep in, else the Nexus."""
        dream = self.dreams.get(p.id)
        wake_id = dream.wake_room_id if dream is not None else None
        dest = self.world.rooms.get(wake_id) if wake_id is not None else None
        if dest is None or self.is_private(dest):
            dest = self.world.nexus
        return dest

    def wake(self, p: Player) -> Room:
        """`wake`: back to the waking room where you fell asleep (the Nexus if it is gone)."""
        if self.state(p) == "awake":
            raise DreamError("You are already awake.")
        loop = self.loop_of(p)
        dest = self.waking_place(p)
        self.world.move(
            p, dest, leave_text=f"|c{p.name}|n fades as they wake.",
            arrive_text=f"|c{p.name}|n blinks awake.",
        )  # fmt: skip
        if loop is not None:
            self.shared_loops.left(loop, p)
        p.notify("status")
        return dest

    def home(self, p: Player) -> Room:
        """`home`: the way out of anywhere. Awake: the Nexus; dreaming: the entrance of the
        dream you are in (yours, or the one you visit). A loop is left only by |wunmerge|n,
        since leaving it changes it for everyone else there."""
        if self.loop_of(p) is not None:
            raise DreamError(
                "You are woven into a loop; |wunmerge|n returns you to your own dream "
                "(|wwake|n to the waking world)."
            )
        dream = self.dream_of_room(p.room)
        world = self.world
        if dream is not None and dream.room_id in world.rooms:
            dest = world.rooms[dream.room_id]
            if p.room is dest:
                raise DreamError("You are already at the entrance of this dream.")
        else:
            dest = world.nexus
            if p.room is dest:
                raise DreamError("You are already in the Nexus.")
        world.move(
            p, dest, leave_text=f"|c{p.name}|n fades away, drawn home.",
            arrive_text=f"|c{p.name}|n appears, drawn home.",
        )  # fmt: skip
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
            most = plural(self.limits.max_motifs, "motif")
            raise DreamError(f"Your dream already holds {most}, as many as it can.")
        words = tuple(w.lower() for w in name.replace(",", " ").split() if len(w) > 2)
        desc = f"A motif of {p.name}'s dreaming. It lives only in dreams; waking, you leave it."
        item = self.world.create_item(name, words[-2:], desc, p)
        item.attrs["motif"] = p.id
        self.world.save(item)
        return item

    def dig(self, p: Player, name: str, exit_there: str, exit_back: str) -> Room:
        here = self._own_room(p)
        dream = self.dreams[p.id]
        added, most = len(dream.rooms) - 1, self.limits.max_extra_rooms
        if added >= most:
            raise DreamError(
                f"Your dream can hold at most {plural(most, 'added room')}; you have {added}."
            )
        if here.find_exit(exit_there) is not None:
            raise DreamError(f"There is already a way '{exit_there}' here.")
        room = self.world.create_room(name, DEFAULT_DREAM_DESC, DREAM_ZONE)
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
        dest = self.waking_place(p)
        p.send("You are returned to the waking world.")  # then the move shows them where
        self.world.move(p, dest, leave_text=leave_text, arrive_text=f"|c{p.name}|n blinks awake.")

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

    # -- loops: the shared_loops component's (world/loops.py) -------------------------------
    def pending(self, p: Player) -> tuple[list[Proposal], list[Proposal]]:
        return self.shared_loops.pending(p)

    def merge(self, p: Player, other: Player) -> Loop | None:
        return self.shared_loops.merge(p, other)

    def invite_to_loop(self, p: Player, other: Player) -> Loop:
        return self.shared_loops.invite_to_loop(p, other)

    def open_loop(
        self, members: list[Player], title: str = "", host_id: int | None = None,
        stability: int = 100, description: str = "", anchor: Room | None = None,
    ) -> Loop:  # fmt: skip
        return self.shared_loops.open_loop(members, title, host_id, stability, description, anchor)

    def join(self, loop: Loop, p: Player) -> None:
        self.shared_loops.join(loop, p)

    def weave(self, p: Player, text: str) -> Loop:
        return self.shared_loops.weave(p, text)

    def add_line(self, loop: Loop, author_id: int | None, author: str, text: str) -> Line:
        return self.shared_loops.add_line(loop, author_id, author, text)

    def adjust_stability(self, loop: Loop, delta: int, reason: str = "") -> int:
        return self.shared_loops.adjust_stability(loop, delta, reason)

    def collapse(self, loop: Loop) -> None:
        self.shared_loops.collapse(loop)

    def unmerge(self, p: Player) -> Loop:
        return self.shared_loops.unmerge(p)

    def invite_hosted(self, loop: Loop, players: list[Player]) -> list[Player]:
        return self.shared_loops.invite_hosted(loop, players)

    def hosted_invitations(self, p: Player) -> list[Loop]:
        return self.shared_loops.hosted_invitations(p)

    def find_hosted_invitation(self, p: Player, word: str) -> Loop | None:
        return self.shared_loops.find_hosted_invitation(p, word)

    def join_hosted(self, p: Player, loop: Loop) -> None:
        self.shared_loops.join_hosted(p, loop)

    def decline_hosted(self, p: Player, loop: Loop) -> None:
        self.shared_loops.decline_hosted(p, loop)

    def end_loop(self, loop: Loop, reason: str = "closed") -> None:
        self.shared_loops.end_loop(loop, reason)

    def journal(self, p: Player) -> list[Loop]:
        return self.shared_loops.journal(p)

    def narrative_page(self, loop: Loop, page: int | None) -> tuple[list[Line], int, int]:
        return self.shared_loops.narrative_page(loop, page)


__all__ = [
    "DEFAULT_DREAM_DESC", "Dream", "DreamError", "DreamLimits", "Dreamscape", "Line", "Loop",
    "Proposal", "StabilityListener",
]  # fmt: skip
