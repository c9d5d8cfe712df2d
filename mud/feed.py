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
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mud.text import render

if TYPE_CHECKING:
    from mud.session import Session
    from world.model import Room


class RoomFeed:
    __slots__ = (
        "base", "blobs", "channels", "end", "excluded", "excludes", "lines", "queued", "room",
        "texts",
    )  # fmt: skip

    def __init__(self, room: Room) -> None:
        self.room = room
        self.base = 0  # the position of texts[0]; positions only grow
        self.end = 0  # base + len(texts): the position a newcomer starts at
        self.texts: list[str] = []
        self.excludes: list[Any] = []  # per line: players who don't get it, or None
        self.channels: list[dict[str, Any] | None] = []  # per line: GMCP channel data
        self.excluded: set[Any] = set()  # every player excluded from some line this window
        self.lines: dict[int, list[bytes]] = {}  # out_key -> encoded lines so far
        self.blobs: dict[int, tuple[int, bytes]] = {}  # out_key -> (end, all lines joined)
        self.queued = False  # waiting in the App's list for the output pump

    def post(
        self, text: str, exclude: tuple[Any, ...] | None, channel: dict[str, Any] | None
    ) -> None:
        self.texts.append(text)
        self.excludes.append(exclude)
        self.channels.append(channel)
        if exclude:
            self.excluded.update(exclude)
        self.end += 1

    def _encoded(self, s: Session) -> list[bytes]:
        """Every line of the window as `s`'s kind of client gets it (encoded on first need)."""
        key = s.out_key
        got = self.lines.get(key)
        if got is None:
            got = self.lines[key] = []
        if len(got) < len(self.texts):
            args = s.render_key
            encode = s.encode_line
            got.extend(encode(render(t, *args)) for t in self.texts[len(got) :])
        return got

    def drain(self, s: Session) -> None:
        """Append to `s`'s output every line it has not had yet (it is in this room)."""
        start = s.feed_pos - self.base
        s.feed_pos = self.end
        if s.closed or start >= len(self.texts):
            return
        lines = self._encoded(s)
        out = s._out
        if s._at_prompt:
            out.append(b"\r\n")
            s._at_prompt = False
        if start == 0 and not s.wants_oob and s.player not in self.excluded:
            key = s.out_key
            blob = self.blobs.get(key)
            if blob is None or blob[0] != self.end:
                blob = self.blobs[key] = (self.end, b"".join(lines))
            out.append(blob[1])
            return
        player = s.player
        excludes = self.excludes
        channels = self.channels
        oob = s.wants_oob
        for i in range(start, len(lines)):
            ex = excludes[i]
            if ex is not None and player in ex:
                continue
            out.append(lines[i])
            if oob and channels[i] is not None:
                s.notify("channel", {**channels[i], "text": self.texts[i]})

    def reset(self) -> None:
        """Everyone in the room has caught up: start the next window empty."""
        self.base = self.end
        self.texts.clear()
        self.excludes.clear()
        self.channels.clear()
        self.excluded.clear()
        self.lines.clear()
        self.blobs.clear()
        self.queued = False
