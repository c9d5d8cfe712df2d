"""Channel feeds: a channel line written once and read by every listener at the output pump.

Like a room's feed (mud/core/feed.py), a line on a channel is one append, whatever the audience;
the work per listener happens when output goes out, and is then one list append of bytes
shared by everyone with the same kind of client (`OutputBuffer.out_key`). Per pump window a feed
keeps each line's markup, who is left out of it (those ignoring the talker), and per kind of
client the encoded lines plus all of them joined.

Listeners normally read the whole window at the pump; `read` remembers (listener -> lines
already had) for anyone who joined mid-window (they start at its end) and for a feed drained
again because lines came in meanwhile. The talker is left out of their own line (it was
part of their command's reply), as are those ignoring them; they, and clients that take
speech out of band (GMCP Comm.Channel.Text), read line by line.

The window ends when the pump has drained every listener; it never holds more than one pump
interval of lines.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from mud.core.feed import encoded_lines

if TYPE_CHECKING:
    from mud.core.outbuf import OutputBuffer
    from mud.core.world_port import Connected
    from world.channels import Channel
    from world.model import Player


class ChannelFeed:
    __slots__ = (
        "blobs", "channel", "excluded", "excludes", "lines", "queued", "read", "talkers", "texts",
    )  # fmt: skip

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self.texts: list[str] = []
        self.talkers: list[str] = []
        self.excludes: list[frozenset[Player] | None] = []
        self.excluded: set[Player] = set()  # every listener left out of some line this window
        self.lines: dict[int, list[bytes]] = {}  # out_key -> encoded lines so far
        self.blobs: dict[int, tuple[int, bytes]] = {}  # out_key -> (count, lines joined)
        self.read: dict[Player, int] = {}  # listener -> lines of this window already had
        self.queued = False  # waiting in the pump's list

    def post(self, text: str, talker: str, exclude: frozenset[Player] | None) -> None:
        self.texts.append(text)
        self.talkers.append(talker)
        self.excludes.append(exclude)
        if exclude:
            self.excluded.update(exclude)

    def joined(self, p: Player) -> None:
        """A listener came in mid-window: they hear only what is said from now on."""
        if self.texts:
            self.read[p] = len(self.texts)

    def _encoded(self, s: OutputBuffer) -> list[bytes]:
        return encoded_lines(self.lines, self.texts, s)

    def drain(self, p: Player, s: OutputBuffer) -> bool:
        """Append to `s`'s output the lines `p` has not had yet; True if any were."""
        texts = self.texts
        start = self.read.get(p, 0)
        if s.closed or start >= len(texts):
            return False
        self.read[p] = len(texts)
        lines = self._encoded(s)
        if start == 0 and not s.wants_oob and p not in self.excluded:
            key = s.out_key
            blob = self.blobs.get(key)
            if blob is None or blob[0] != len(texts):
                blob = self.blobs[key] = (len(texts), b"".join(lines))
            self._write(s, blob[1])
            return True
        excludes = self.excludes
        mine = [i for i in range(start, len(lines)) if not (ex := excludes[i]) or p not in ex]
        if not mine:  # all of it left out (their own line, someone they ignore)
            return False
        self._write(s, b"".join(lines[i] for i in mine))
        if s.wants_oob:
            name, talkers = self.channel.name, self.talkers
            for i in mine:
                s.session.notify(
                    "channel", {"channel": name, "talker": talkers[i], "text": texts[i]}
                )
        return True

    @staticmethod
    def _write(s: OutputBuffer, data: bytes) -> None:
        s.catch_up()  # what the room saw first comes first
        if s.line_start():
            s.add_rendered(b"\r\n")
        s.add_rendered(data)

    def reset(self) -> None:
        self.texts.clear()
        self.talkers.clear()
        self.excludes.clear()
        self.excluded.clear()
        self.lines.clear()
        self.blobs.clear()
        self.read.clear()
        self.queued = False


class ChannelPump:
    """The channel side of the output pump: which feeds have lines waiting."""

    def __init__(self, wake: Callable[[], None]) -> None:
        self._wake = wake  # the output pump runs soon
        self._dirty: deque[ChannelFeed] = deque()
        self._run: deque[ChannelFeed] = deque()

    def cast(
        self, channel: Channel, text: str, speaker: Player | None, exclude: frozenset[Player] | None
    ) -> None:
        """World.channels' delivery: one append, read by every listener at the pump."""
        if not channel.listeners:
            return
        feed = cast("ChannelFeed | None", channel.feed)  # (the world only keeps it)
        if feed is None:
            feed = channel.feed = ChannelFeed(channel)
        feed.post(text, speaker.name if speaker is not None else "", exclude)
        if not feed.queued:
            feed.queued = True
            self._dirty.append(feed)
            self._wake()

    @property
    def running(self) -> bool:
        return bool(self._run)

    @property
    def waiting(self) -> bool:
        return bool(self._dirty)

    def pump(self, written: int, budget: int) -> int:
        """Drain whole feeds until `budget` sockets have been written; returns the count."""
        if not self._run:
            self._run, self._dirty = self._dirty, self._run
        feeds = self._run
        while feeds and written < budget:
            feed = feeds.popleft()
            count = len(feed.texts)
            # (a copy: a write can drop a client that stopped reading, who then leaves)
            listeners = cast("dict[int, Connected]", feed.channel.listeners)
            for p in list(listeners.values()):
                s = p.session
                if s is None:
                    continue
                o = s.out
                try:
                    if not feed.drain(p, o):
                        continue
                    if o.held_by is None:
                        o.flush()
                        written += 1
                except Exception:  # one connection's trouble stays its own
                    o.output_failed()
            if len(feed.texts) == count:
                feed.reset()
            else:  # a line came in meanwhile
                feeds.append(feed)
        return written
