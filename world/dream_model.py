"""The records of dreaming: dreams, loops, their woven lines and merge proposals.

Plain dataclasses with their rows (`to_row`), shared by the Dreamscape (world/dreams.py) and
its loop rules (world/loops.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


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
