"""Shared loops: merging by consent, weaving, stability, collapse, NPC-hosted loops.

A component of the Dreamscape (world/dreams.py), kept apart because loops are most of the rules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from world.dream_model import DreamError, Line, Loop, Proposal
from world.model import Player, Room
from world.moderation import describe_wait
from world.words import list_words

if TYPE_CHECKING:
    from world.dreams import Dreamscape


class SharedLoops:
    """The Dreamscape's loops: its `shared_loops` component (the loops, proposals and quotas
    are the Dreamscape's; its methods of the same names call these)."""

    def __init__(self, scape: Dreamscape) -> None:
        self.scape = scape
        self.world = scape.world

    # -- merging -------------------------------------------------------------------------------
    def _live_proposals(self) -> None:
        now = self.scape.now()
        for key in [k for k, pr in self.scape.proposals.items() if pr.expires <= now]:
            del self.scape.proposals[key]

    def pending(self, p: Player) -> tuple[list[Proposal], list[Proposal]]:
        """(proposals to p, proposals by p), unexpired."""
        self._live_proposals()
        incoming = [pr for pr in self.scape.proposals.values() if pr.target_id == p.id]
        outgoing = [pr for pr in self.scape.proposals.values() if pr.proposer_id == p.id]
        return incoming, outgoing

    def merge(self, p: Player, other: Player) -> Loop | None:
        """`merge <other>`: accept their proposal if there is one, else propose.

        Returns the loop when one was formed or joined, None when a proposal was made.
        """
        if other is p:
            raise DreamError("You can't merge with yourself.")
        self._live_proposals()
        offer = self.scape.proposals.get((other.id, p.id))
        if offer is not None:
            return self._accept(p, other, offer)
        if not self.scape.in_own_dream(p):
            raise DreamError("You must be in your own dream to merge. Type |wdream|n first.")
        self._check_loop_quota(p, p)
        if not other.online or not self.scape.in_own_dream(other):
            raise DreamError(f"{other.name} isn't in their own dream right now.")
        self.scape.proposals[(p.id, other.id)] = Proposal(
            p.id, other.id, self.scape.now() + self.scape.limits.proposal_ttl
        )
        return None

    def _check_loop_quota(self, p: Player, starter: Player) -> None:
        """Refuse `p` a new loop while `starter` (p, or whoever proposed) has started as many
        as the hour allows: each loop is a room and rows that stay (loops_per_hour)."""
        wait = self.scape.loop_quota.wait(starter.id, self.scape.now())
        if wait:
            who = "You have" if starter is p else f"{starter.name} has"
            raise DreamError(
                f"{who} started enough loops for now; try again {describe_wait(wait)}."
            )

    def invite_to_loop(self, p: Player, other: Player) -> Loop:
        loop = self.scape.loop_of(p)
        if loop is None:
            raise DreamError("You aren't in a loop.")
        if other.id in loop.participants:
            raise DreamError(f"{other.name} is already part of this loop.")
        if len(loop.participants) >= self.scape.limits.max_loop_size:
            raise DreamError(f"The loop already holds {self.scape.limits.max_loop_size} dreamers.")
        self.scape.proposals[(p.id, other.id)] = Proposal(
            p.id, other.id, self.scape.now() + self.scape.limits.proposal_ttl, loop.id
        )
        return loop

    def _accept(self, p: Player, proposer: Player, offer: Proposal) -> Loop:
        if not self.scape.in_own_dream(p):
            raise DreamError("You must be in your own dream to accept. Type |wdream|n first.")
        if offer.loop_id is not None:
            loop = self.scape.loops.get(offer.loop_id)
            if loop is None or loop.state != "active":
                del self.scape.proposals[(proposer.id, p.id)]
                raise DreamError("That loop has already come apart.")
            if len(loop.participants) >= self.scape.limits.max_loop_size:
                raise DreamError(
                    f"The loop already holds {self.scape.limits.max_loop_size} dreamers."
                )
            del self.scape.proposals[(proposer.id, p.id)]
            self.join(loop, p)
            return loop
        if not proposer.online or not self.scape.in_own_dream(proposer):
            del self.scape.proposals[(proposer.id, p.id)]
            raise DreamError(
                f"{proposer.name} is no longer in their own dream; the proposal fades."
            )
        self._check_loop_quota(p, p)
        self._check_loop_quota(p, proposer)
        del self.scape.proposals[(proposer.id, p.id)]
        self.scape.proposals.pop((p.id, proposer.id), None)
        for m in (proposer, p):
            self.scape.loop_quota.take(m.id, self.scape.now())
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
            self.scape.next_loop_id,
            room.id,
            self.scape.now(),
            [],
            [],
            stability,
            title=title,
            host_id=host_id,
            anchor_id=anchor.id if anchor is not None else None,
        )
        self.scape.next_loop_id += 1
        room.attrs["loop"] = loop.id
        world.save(room)
        self.scape.loops[loop.id] = loop
        for m in members:
            self._enter_loop(loop, m, room)
        self.scape._save_loop(loop)
        for m in members:
            m.send(f"|mYour dream merges into a shared loop with {self._others(loop, m)}.|n")
            m.notify("status")
        return loop

    def _woven_description(self, members: list[Player]) -> str:
        parts = [
            "Several dreams braid together here, their edges bleeding softly into one another."
        ]
        for m in members:
            dream = self.scape.dreams.get(m.id)
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
        self.scape._save_loop(loop)
        p.send(f"|mYou merge into the loop. Here with you: {self._others(loop, p)}.|n")
        p.notify("status")

    # -- inside a loop --------------------------------------------------------------------------
    def weave(self, p: Player, text: str) -> Loop:
        loop = self.scape.loop_of(p)
        if loop is None:
            raise DreamError("You aren't in a loop. |wmerge|n with another dreamer first.")
        text = text.strip()
        if not text:
            raise DreamError("Weave what? Type |wweave <a line of the story>|n.")
        if len(text) > self.scape.limits.max_weave_chars:
            raise DreamError(
                f"Keep a woven line under {self.scape.limits.max_weave_chars} characters."
            )
        if len(loop.narrative) >= self.scape.limits.max_narrative:
            raise DreamError("This loop's narrative is full; its story is told.")
        wait = self.scape.weave_quota.take(
            p.id, self.scape.now()
        )  # each line is a row kept for good
        if wait:
            raise DreamError(
                f"The story can't keep up with you; weave again {describe_wait(wait)}."
            )
        self.add_line(loop, p.id, p.name, text)
        room = self.world.rooms[loop.room_id]  # type: ignore[index]
        weave = f"|m|[~ |]{p.name} weaves:|n {text}"  # (|[~ |]: not for screen readers)
        self.world.broadcast(room, weave, channel={"channel": "weave", "talker": p.name})
        now = self.scape.now()
        last = loop.last_weave
        loop.last_weave = (now, p.id)
        if last is not None and last[1] != p.id and now - last[0] <= self.scape.limits.weave_window:
            self.adjust_stability(
                loop, self.scape.limits.weave_bonus, "Shared storytelling steadies the loop."
            )
        return loop

    def add_line(self, loop: Loop, author_id: int | None, author: str, text: str) -> Line:
        line = Line(self.scape.next_line_id, loop.id, self.scape.now(), author_id, author, text)
        self.scape.next_line_id += 1
        loop.narrative.append(line)
        self.world.stage("narrative", line.id, line.to_row())
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
        self.scape._save_loop(loop)
        room = self.world.rooms.get(loop.room_id) if loop.room_id is not None else None
        if room is not None:
            trend = "steadies" if delta > 0 else "shudders"
            note = f" {reason}" if reason else ""
            self.world.broadcast(room, f"|mThe loop {trend} (stability {new}).|n{note}")
            for pid in loop.participants:
                self.world.players[pid].notify("status")
        for listener in list(self.scape.stability_listeners):
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
            # told first: the move shows them where they landed (World.landed)
            p.send(
                "|rThe loop collapsed. You wake inside your own dream, its story still in you.|n"
            )
            self._return_to_dream(p, f"|c{p.name}|n is flung back into their own dream.")
        self._archive(loop, "collapsed")

    def unmerge(self, p: Player) -> Loop:
        loop = self.scape.loop_of(p)
        if loop is None:
            raise DreamError("You aren't in a loop.")
        self._return_to_dream(p, f"|c{p.name}|n unravels from the loop.")
        self.left(loop, p)
        return loop

    def left(self, loop: Loop, p: Player) -> None:
        """`p` has moved out of the loop room: drop them, and dissolve an empty loop (a loop
        an NPC hosts stays open for its invited dreamers until its host closes it)."""
        loop.participants.remove(p.id)
        if loop.participants or loop.host_id is not None:
            self.scape._save_loop(loop)
        else:
            self._archive(loop, "dissolved")

    def _return_to_dream(self, p: Player, leave_text: str | None) -> None:
        dream = self.scape.ensure_dream(p)
        home = self.world.rooms[dream.room_id]
        self.world.move(
            p, home, leave_text=leave_text,
            arrive_text=f"|c{p.name}|n returns to their own dream.",
        )  # fmt: skip
        p.notify("status")

    def _archive(self, loop: Loop, reason: str) -> None:
        """The loop is over: keep its narrative for the journal, unmake its room."""
        loop.state = "archived"
        loop.ended_at = self.scape.now()
        loop.end_reason = reason
        loop.invited.clear()
        room = self.world.rooms.get(loop.room_id) if loop.room_id is not None else None
        loop.room_id = None
        self.scape._save_loop(loop)
        for key in [k for k, pr in self.scape.proposals.items() if pr.loop_id == loop.id]:
            del self.scape.proposals[key]
        if room is None:
            return
        nexus = self.world.nexus
        # Whoever is still here (an admin who came to look) and whatever was dropped here
        # goes to the Nexus; then the room is unmade.
        for q in list(room.players.values()):
            q.send("|yThe loop comes apart around you, and you drift back to the Nexus.|n")
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
            self.scape._save_loop(loop)
            return new
        return []

    def hosted_invitations(self, p: Player) -> list[Loop]:
        return [
            lp for lp in self.scape.loops.values() if lp.state == "active" and p.id in lp.invited
        ]

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
        if self.scape.loop_of(p) is not None:
            raise DreamError("You are woven into another loop; |wunmerge|n first.")
        if len(loop.participants) >= self.scape.limits.max_loop_size:
            raise DreamError(f"The loop already holds {self.scape.limits.max_loop_size} dreamers.")
        here = self.scape._waking_room(p)
        if here is not None:
            dream = self.scape.ensure_dream(p)
            dream.wake_room_id = here.id
            self.scape._save_dream(dream)
        loop.invited.discard(p.id)
        self.join(loop, p)

    def decline_hosted(self, p: Player, loop: Loop) -> None:
        loop.invited.discard(p.id)
        self.scape._save_loop(loop)

    def end_loop(self, loop: Loop, reason: str = "closed") -> None:
        """Close a loop gently: everyone wakes where they merged from (or the Nexus)."""
        if loop.state != "active":
            return
        for pid in list(loop.participants):
            p = self.world.players[pid]
            loop.participants.remove(pid)
            dest = self.scape.waking_place(p)
            p.send("|mThe loop unwinds around you, and you wake where you joined it.|n")
            self.world.move(
                p, dest, leave_text=f"|c{p.name}|n unwinds from the loop.",
                arrive_text=f"|c{p.name}|n blinks awake, the loop's story still warm.",
            )  # fmt: skip
            p.notify("status")
        self._archive(loop, reason)

    # -- reading ----------------------------------------------------------------------------
    def journal(self, p: Player) -> list[Loop]:
        """Past loops `p` took part in, oldest first."""
        return [
            lp for lp in sorted(self.scape.loops.values(), key=lambda lp: lp.id)
            if lp.state == "archived" and p.id in lp.former
        ]  # fmt: skip

    def narrative_page(self, loop: Loop, page: int | None) -> tuple[list[Line], int, int]:
        """(lines, page, pages); pages count from 1, newest last; default the last page."""
        size = self.scape.limits.narrative_page
        pages = max(1, -(-len(loop.narrative) // size))
        page = pages if page is None else max(1, min(page, pages))
        return loop.narrative[(page - 1) * size : page * size], page, pages
