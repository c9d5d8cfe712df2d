"""Room feeds: what happens in a room, written once and read by everyone there.

A busy room is the server's hottest path: with 180 dreamers in one room, every `say` is 180
deliveries. Doing them one by one in Python cost about a microsecond each and, at 2,000
players, most of the event loop. A RoomFeed turns that around: a broadcast is one append to
the room's feed (O(1), whatever the crowd), and each dreamer reads what they have not seen
yet when their output goes out: at the next output pump, or earlier when something private
(their own command's reply, a tell) is written to them, so the order everyone sees is the
order things happened.

Per pump window, a feed keeps each line's markup and, per kind of client (`Session.out_key`:
colour, width, charset, screen reader), the encoded bytes of every line plus all of them
joined: the dreamers who saw none of the window yet and are excluded from none of it (nearly all of
them) get that one joined chunk. Only the actor of a line (excluded from it: they got "You
say" instead), someone who was already caught up mid-window, or a GMCP client that wants
speech out of band takes the per-line path.

The window ends at the output pump: every dreamer in the room catches up, and the feed
starts empty again, so it never holds more than one pump interval of lines.

Nobody is told of a change before it is durable, bystanders no more than the actor. A line
that depends on staged changes ("Ada drops a token") is posted behind a *gate*: readers read
only up to `end`, the visible end, and a gate opens (moves `end` on, in order) once the Store
has committed the staging sequence it waits for. A line that depends on nothing ("Ada says")
behind a closed gate waits with it, so the order stays the order of events. Lines a command
posts get their gate when the command is done (`gate`, from its unit of work, mud/core/tx.py,
which knows then whether it staged anything), and it opens them (`advance`) once durable.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mud.core.text import render

log = logging.getLogger("dreamwave.feed")

# Lines a feed keeps behind closed gates at most (the database is failing and the room keeps
# talking): further lines are not delivered (dropped, never shown out of order).
MAX_HELD_LINES = 5000

if TYPE_CHECKING:
    from mud.core.session import Session
    from world.model import Room


class RoomFeed:
    __slots__ = (
        "base", "blobs", "channels", "dropped", "end", "excluded", "excludes", "gates", "lines",
        "opened", "queued", "room", "texts", "top", "watchers",
    )  # fmt: skip

    def __init__(self, room: Room, opened: Callable[[RoomFeed], None] | None = None) -> None:
        self.room = room
        self.base = 0  # the position of texts[0]; positions only grow
        self.end = 0  # the visible end: readers read up to here (see the gates)
        self.top = 0  # base + len(texts): the position a newcomer starts at
        # [position, seq]: lines before `position` become visible once `seq` is durable
        self.gates: deque[list[int]] = deque()
        self.dropped = 0  # lines not delivered since the held lines reached MAX_HELD_LINES
        self.opened = opened  # called when lines became visible (the output pump queues it)
        self.texts: list[str] = []
        self.excludes: list[Any] = []  # per line: players who don't get it, or None
        self.channels: list[dict[str, Any] | None] = []  # per line: GMCP channel data
        self.excluded: set[Any] = set()  # every player excluded from some line this window
        self.lines: dict[int, list[bytes]] = {}  # out_key -> encoded lines so far
        # out_key -> [end, all lines joined, the same after a line break (or None), and that
        # with each prompt shown again after it]: one bytes object for everyone of that kind
        # (and prompt), which the Link then sends once (mud/core/peer.py)
        self.blobs: dict[int, list[Any]] = {}
        self.queued = False  # waiting in the App's list for the output pump
        # sessions here whose client takes Room GMCP: told who comes and goes (Room.AddPlayer
        # and Room.RemovePlayer), so a move costs one message per watcher, not a list each
        self.watchers: set[Any] = set()

    def post(
        self, text: str, exclude: tuple[Any, ...] | None, channel: dict[str, Any] | None
    ) -> bool:
        """Append a line, not visible yet: the next `gate` says when it is. False if it was
        dropped (too many held)."""
        if self.top - self.end >= MAX_HELD_LINES:
            self.dropped += 1
            if self.dropped == 1:
                log.warning(
                    "room %s: %d lines wait for the database; dropping more",
                    self.room.id, MAX_HELD_LINES,
                )  # fmt: skip
            return False
        self.texts.append(text)
        self.excludes.append(exclude)
        self.channels.append(channel)
        if exclude:
            self.excluded.update(exclude)
        self.top += 1
        return True

    def gate(self, seq: int, committed: int) -> None:
        """The lines posted since the last gate may be shown once staging sequence `seq` is
        durable (0: at once), after the lines before them; `committed` is the Store's
        durable point. Whoever staged `seq` calls `advance` once it is durable."""
        gates = self.gates
        if self.end == self.top:
            return
        if not gates and seq <= committed:
            self.end = self.top  # the common case: nothing to wait for
            self.dropped = 0
            if self.opened is not None:
                self.opened(self)
            return
        if gates and seq <= gates[-1][1]:
            gates[-1][0] = self.top  # shown with the lines before it
        else:
            gates.append([self.top, seq])
        if seq <= committed:  # (durable already: the head gates that are, open)
            self.advance(committed)

    def last_seq(self) -> int:
        """The highest sequence a line of this feed waits for (0: none)."""
        return max((g[1] for g in self.gates), default=0)

    def advance(self, committed: int) -> None:
        """Open every gate at the head whose sequence is durable (in order)."""
        gates = self.gates
        moved = False
        while gates and gates[0][1] <= committed:
            self.end = gates.popleft()[0]
            moved = True
            self.dropped = 0
        if moved and self.opened is not None:
            self.opened(self)

    def _encoded(self, s: Session) -> list[bytes]:
        return encoded_lines(self.lines, self.texts, s)

    def drain(self, s: Session) -> None:
        """Append to `s`'s output every line it has not had yet (it is in this room): the
        visible ones, or all of them if `s.feed_all` (another's command tells it something
        privately: its output is held as long as they are, see CommandTx.end)."""
        upto = self.top if s.feed_all else self.end
        if s.feed_pos >= upto:  # (a newcomer starts past lines still held)
            return
        start = s.feed_pos - self.base
        s.feed_pos = upto
        stop = upto - self.base
        if s.closed or start >= stop:
            return
        lines = self._encoded(s)
        add = s.add_rendered
        if start == 0 and not s.wants_oob and s.player not in self.excluded:
            key = s.out_key
            blob = self.blobs.get(key)
            if blob is None or blob[0] != upto:
                blob = self.blobs[key] = [upto, b"".join(lines[:stop]), None, {}]
            if s.line_start():  # (most of a crowd sits at its prompt: they share this one too)
                if blob[2] is None:
                    blob[2] = b"\r\n" + blob[1]
                s.add_shared(blob[2], blob[3])  # (and the prompt shown again after it)
            else:
                add(blob[1])
            return
        player = s.player
        excludes = self.excludes
        mine = [i for i in range(start, stop) if excludes[i] is None or player not in excludes[i]]
        if not mine:  # all of it left out (the actor's own line): the prompt stays as it is
            return
        if s.line_start():
            add(b"\r\n")
        channels = self.channels
        oob = s.wants_oob
        for i in mine:
            add(lines[i])
            channel = channels[i] if oob else None
            if channel is not None:
                s.notify("channel", {**channel, "text": self.texts[i]})

    def reset(self) -> None:
        """Everyone in the room has caught up: start the next window empty (but for the
        lines still held behind a gate)."""
        self.queued = False
        if self.top != self.end:
            n = self.end - self.base
            self.base = self.end
            del self.texts[:n], self.excludes[:n], self.channels[:n]
            for got in self.lines.values():
                del got[:n]
            self.blobs.clear()
            self.excluded = {p for ex in self.excludes if ex for p in ex}
            return
        self.base = self.end
        self.texts.clear()
        self.excludes.clear()
        self.channels.clear()
        self.excluded.clear()
        self.lines.clear()
        self.blobs.clear()


def encoded_lines(cache: dict[int, list[bytes]], texts: list[str], s: Session) -> list[bytes]:
    """Every line of a feed's window as `s`'s kind of client gets it, encoded on first need
    and kept in `cache` (out_key -> lines) for everyone else of that kind."""
    key = s.out_key
    got = cache.get(key)
    if got is None:
        got = cache[key] = []
    if len(got) < len(texts):
        args = s.render_key
        encode = s.encode_line
        got.extend(encode(render(t, *args)) for t in texts[len(got) :])
    return got
