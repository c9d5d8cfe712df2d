"""Talking person to person: tells and replies, whispers, shouts, and who ignores whom.

A dreamer's ignore list is in their settings (`ignore`: account ids), saved through the
World like any setting. `ignores(listener, speaker)` is the one check every personal kind
of speech makes (tells, whispers, channels, socials, shouts); an admin's wall-to-everyone
simply doesn't ask it. For channel and room lines the engine needs the other direction
("who ignores Ada?"), kept as an index built at load and updated with every change.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from world.model import Player, Room

if TYPE_CHECKING:
    from world.world import World

MAX_IGNORED = 100  # names on one dreamer's ignore list
SHOUT_INTERVAL = 10.0  # seconds between two shouts of one dreamer
IGNORE_KEY = "ignore"


class CommsError(ValueError):
    """A refusal, as one sentence for the player."""


def ignores(listener: Player, speaker: Player) -> bool:
    """Does `listener` not want to hear from `speaker`? (A wall would not ask.)"""
    ids = listener.settings.get(IGNORE_KEY)
    if not ids:
        return False
    return speaker.id in ids


class Comms:
    def __init__(self, world: World) -> None:
        self.world = world
        self.ignored_by: dict[int, set[Player]] = {}  # speaker id -> who ignores them
        self.last_tell: dict[int, int] = {}  # dreamer id -> who last told them something
        self.last_shout: dict[int, float] = {}  # dreamer id -> time.monotonic() of it

    def load(self) -> None:
        for p in self.world.players.values():
            for sid in p.settings.get(IGNORE_KEY) or ():
                self.ignored_by.setdefault(sid, set()).add(p)

    # -- ignoring ----------------------------------------------------------------------------
    def ignore_list(self, p: Player) -> list[Player]:
        ids = p.settings.get(IGNORE_KEY) or []
        return [self.world.players[i] for i in ids if i in self.world.players]

    def ignore(self, p: Player, other: Player) -> int:
        if other is p:
            raise CommsError("You can't ignore yourself.")
        ids = list(p.settings.get(IGNORE_KEY) or [])
        if other.id in ids:
            raise CommsError(f"You are already ignoring {other.name}.")
        if len(ids) >= MAX_IGNORED:
            raise CommsError(f"You are ignoring {MAX_IGNORED} dreamers, the most; unignore one.")
        ids.append(other.id)
        self.ignored_by.setdefault(other.id, set()).add(p)
        return self.world.set_setting(p, IGNORE_KEY, ids)

    def unignore(self, p: Player, other: Player) -> int:
        ids = list(p.settings.get(IGNORE_KEY) or [])
        if other.id not in ids:
            raise CommsError(f"You are not ignoring {other.name}.")
        ids.remove(other.id)
        who = self.ignored_by.get(other.id)
        if who is not None:
            who.discard(p)
            if not who:
                del self.ignored_by[other.id]
        return self.world.set_setting(p, IGNORE_KEY, ids)

    def ignoring(self, speaker: Player) -> frozenset[Player] | None:
        """Everyone who ignores `speaker` (None: nobody, the common case)."""
        who = self.ignored_by.get(speaker.id)
        return frozenset(who) if who else None

    def ignoring_here(self, room: Room, speaker: Player) -> tuple[Player, ...]:
        """Those in `room` who ignore `speaker` (to leave out of a room line)."""
        who = self.ignored_by.get(speaker.id)
        if not who:
            return ()
        return tuple(q for q in who if q.id in room.players)

    # -- tells -----------------------------------------------------------------------------
    def tell(self, sender: Player, target: Player, text: str) -> None:
        """A private message; the target's `reply` goes back to the sender."""
        if target is sender:
            raise CommsError("You murmur to yourself. (Tell someone else.)")
        if ignores(target, sender):
            raise CommsError(f"{target.name} isn't listening to you.")
        heard = f'|m{sender.name} tells you, "{text}|m"|n'
        said = f'|mYou tell {target.name}, "{text}|m"|n'
        target.send(heard)
        sender.send(said)
        self.last_tell[target.id] = sender.id
        target.notify("channel", {"channel": "tell", "talker": sender.name, "text": heard})
        sender.notify("channel", {"channel": "tell", "talker": sender.name, "text": said})

    def reply_target(self, p: Player) -> Player:
        pid = self.last_tell.get(p.id)
        if pid is None:
            raise CommsError("Nobody has told you anything yet; use |wtell <dreamer> <text>|n.")
        other = self.world.players.get(pid)
        if other is None or not other.online:
            name = other.name if other is not None else "They"
            raise CommsError(f"{name} is not awake in the Dreamwave right now.")
        return other

    # -- shouting ------------------------------------------------------------------------------
    def shout_wait(self, p: Player, now: float | None = None) -> float:
        """Seconds before `p` may shout again (0: now)."""
        last = self.last_shout.get(p.id)
        if last is None:
            return 0.0
        now = time.monotonic() if now is None else now
        return max(0.0, SHOUT_INTERVAL - (now - last))

    def shout(self, p: Player, text: str) -> int:
        """Everyone awake in the speaker's zone hears it. Returns how many did."""
        room = p.room
        if room is None:
            raise CommsError("You are nowhere at all; nobody could hear you.")
        if self.world.dream_state(p) != "awake":
            raise CommsError("Your shout is swallowed by the dream; wake up to be heard.")
        wait = self.shout_wait(p)
        if wait > 0:
            raise CommsError(f"Your voice needs a rest; you can shout again in {wait:.0f}s.")
        self.last_shout[p.id] = time.monotonic()
        zone = room.zone
        heard = [
            q.session
            for q in self.world.online.values()
            if q is not p and q.room is not None and q.room.zone == zone
            and q.session is not None and not ignores(q, p)
        ]  # fmt: skip
        line = f'|y{p.name} shouts, "{text}|y"|n'
        if heard:
            self.world.observer.fanout(heard, line)
            for listener in heard:
                if listener.wants_oob:
                    listener.notify("channel", {"channel": "shout", "talker": p.name, "text": line})
        p.send(f'|yYou shout, "{text}|y"|n')
        return len(heard)
