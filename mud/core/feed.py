"""Room feeds: what happens in a room, written once and read by everyone there.

A busy room is the server's hottest path: with 180 dreamers in one room, every `say` is 180
deliveries. Doing them one by one in Python cost about a microsecond each and, at 2,000
players, most of the event loop. A RoomFeed turns that around: a broadcast is one append to
the room's feed (O(1), whatever the crowd), and each dreamer reads what they have not seen
yet when their output goes out: at the next output pump, or earlier when something private
(their own command's reply, a tell) is written to them, so the order everyone sees is the
order things happened.

Per pump window, a feed keeps each line's markup and, per kind of client (`OutputBuffer.out_key`:
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
from typing import TYPE_CHECKING

from mud.core.text import render

log = logging.getLogger("dreamwave.feed")

# Lines a feed keeps behind closed gates at most (the database is failing and the room keeps
# talking): further lines are not delivered (dropped, never shown out of order).
MAX_HELD_LINES = 5000

if TYPE_CHECKING:
    from mud.core.rendering import Rendering
    from mud.core.session import Session
    from mud.protocol import Item
    from world.model import Player, Room
    from world.ports import Speech


class Blob:
    """A window's lines up to `upto` joined, shared by every reader of one kind of client
    who had none of them: `joined`; the same after a line break, made on first need
    (`broken`); and, per prompt text, that with the prompt shown again after it
    (`variants`, kept by OutputBuffer.add_shared)."""

    __slots__ = ("broken", "joined", "upto", "variants")

    def __init__(self, upto: int, joined: bytes) -> None:
        self.upto = upto
        self.joined = joined
        self.broken: bytes | None = None
        self.variants: dict[bytes, tuple[Item, ...]] = {}


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
        self.excludes: list[tuple[Player, ...] | None] = []  # per line: who doesn't get it
        self.channels: list[Speech | None] = []  # per line: GMCP channel data
        self.excluded: set[Player] = set()  # every player excluded from some line this window
        self.lines: dict[int, list[bytes]] = {}  # out_key -> encoded lines so far
        # out_key -> the lines joined (a Blob): one bytes object for everyone of that kind
        # (and prompt), which the Link then sends once (mud/core/peer.py)
        self.blobs: dict[int, Blob] = {}
        self.queued = False  # waiting in the App's list for the output pump
        # sessions here whose client takes Room GMCP: told who comes and goes (Room.AddPlayer
        # and Room.RemovePlayer), so a move costs one message per watcher, not a list each
        self.watchers: set[Session] = set()

    def post(self, text: str, exclude: tuple[Player, ...] | None, channel: Speech | None) -> bool:
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

    # The feed drain itself is the reader's (OutputBuffer.read_feed, the one writer of where
    # a dreamer has read to); the feed keeps the window's caches it fills.
    def new_blob(self, key: int, upto: int, lines: list[bytes]) -> Blob:
        """The window's lines up to `upto` joined, for every reader of kind `key` who had
        none of them (one bytes object they all share)."""
        blob = self.blobs[key] = Blob(upto, b"".join(lines))
        return blob

    @staticmethod
    def broken_blob(blob: Blob) -> bytes:
        """A blob's bytes after a line break (for readers at their prompt), made once."""
        broken = blob.broken = b"\r\n" + blob.joined
        return broken

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


def encoded_lines(cache: dict[int, list[bytes]], texts: list[str], s: Rendering) -> list[bytes]:
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
