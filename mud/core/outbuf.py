"""One connection's output: what waits to be flushed, the prompt, holds, the room it reads.

`OutputBuffer` is the one writer of a connection's output state. Everything that shows a
dreamer something goes through its methods: their own replies (Session.send), a line fanned
out to many (OutputPump.fanout), the lines of the room feed they read (`read_feed`, the feed
drain: mud/core/feed.py) and of the channels they listen to (mud/core/channel_feed.py). It
keeps:

- the pieces waiting for the flush (`Piece`), flushed to the gateway in one message;
- the prompt: whether one is showing, the last one shown (shown again, `redraw`, at the flush
  after output that interrupted it, as telnet clients expect), and the crowd's shared tail
  (a room's lines that everyone with the same prompt gets as one object with it);
- the unit of work that holds it until its commit (mud/core/tx.py: `hold`/`release`);
- where it reads its room's feed (`feed`, `feed_pos`, `feed_all`).

It is a `Rendering` (mud/core/rendering.py), so the hot loops that hold a buffer read the
client's render and out keys from the same object.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from mud.core.feed import encoded_lines
from mud.core.rendering import Rendering
from mud.core.text import render
from mud.core.tx import CommandTx
from mud.protocol import ClientCaps, Echo, Item, Oob, Prompt, Text

if TYPE_CHECKING:
    from mud.core.feed import RoomFeed
    from mud.core.peer import Out, SessionPort
    from mud.core.session import Session
    from world.model import Player

# What a session's output is made of until its flush: text bytes, items (a prompt, echo,
# out-of-band data), or a tuple of items a crowd shares (a room's lines and the prompt again)
Piece = bytes | Text | Prompt | Echo | Oob | tuple[Item, ...]

log = logging.getLogger("dreamwave.session")


class OutputBuffer(Rendering):
    def __init__(
        self,
        session: Session,
        link: SessionPort,
        caps: ClientCaps,
        want_flush: Callable[[OutputBuffer], None],
    ) -> None:
        super().__init__(caps)
        self.session = session  # whose output this is (its input state: lines_done)
        self.link = link  # its gateway, under its sid: where the flush goes
        self._want_flush = want_flush  # the output pump's: flush this soon
        self.closed = False  # no more output (the connection closes or closed)
        self._out: list[Piece] = []
        self._flush_pending = False
        # The unit of work (mud/core/tx.py) whose commit output and input wait for: the last
        # one to hold this session (units release in order), and the last of this dreamer's
        # own commands among them (see drop_held).
        self.held_by: CommandTx | None = None
        self.own_tx: CommandTx | None = None
        self._at_prompt = False
        # the prompt last shown, shown again at the flush after output that interrupted it
        # (`_redraw`), as telnet clients expect
        self._prompt = Prompt(b"")
        self._redraw = False
        # (position in _out, shared bytes, their variants with a prompt): see add_shared
        self._shared_tail: tuple[int, bytes, dict[bytes, tuple[Item, ...]]] | None = None
        self._broken = False  # see output_failed
        # the room feed this dreamer reads (mud.core.feed) and how far they have read it
        self.feed: RoomFeed | None = None
        self.feed_pos = 0
        self.feed_all = False  # read held room lines too (another's command told them: tx)

    def __repr__(self) -> str:
        return repr(self.session)

    # -- adding output ----------------------------------------------------------------------
    def write_line(self, data: bytes) -> None:
        """A rendered, encoded line from the dreamer's own session or another's command."""
        # On every delivery of every broadcast: kept flat on purpose.
        if self.closed:
            return
        tx = CommandTx.current
        if tx is not None and tx.actor is not self.session:
            tx.told(self.session)  # another's command told us: held like its reply
        self.catch_up()  # what the room saw first comes first
        if self._at_prompt:
            self._interrupt()
        self._out.append(data)
        if not self._flush_pending and self.held_by is None:
            self._flush_pending = True
            self._want_flush(self)

    # What the room feeds, the channel feeds and fan-outs use: bytes they rendered once for
    # every session of this kind, added here.
    def line_start(self) -> bool:
        """Output is about to be added: True if a prompt was showing, so it must start on a
        new line (the caller adds one, or uses bytes that begin with one), and it is no
        longer showing (it is shown again at the flush)."""
        if self._at_prompt:
            self._at_prompt = False
            self._redraw = self.redraws
            return True
        return False

    def _interrupt(self) -> None:
        """Output interrupts the prompt: it starts on a new line, and the prompt comes back
        after it (at the flush)."""
        self._out.append(b"\r\n")
        self._at_prompt = False
        self._redraw = self.redraws

    def add_rendered(self, data: bytes | tuple[Item, ...]) -> None:
        """Add rendered, encoded bytes (after `line_start`); they go out with the next
        flush (the pump's, unless output is held)."""
        self._out.append(data)

    def add_shared(self, data: bytes, variants: dict[bytes, tuple[Item, ...]]) -> None:
        """Add bytes that a crowd shares and that begin with a line break (after
        `line_start` said a prompt was showing). If they are still the last output at the
        flush, the variant ending with the prompt goes instead (`variants`: prompt text ->
        items, kept by the caller), so everyone with the same prompt shares one object."""
        self._shared_tail = (len(self._out), data, variants)
        self._out.append(data)

    def add_line(self, data: bytes) -> None:
        """A rendered line after whatever is showing, flushed by the next output pump."""
        if self._at_prompt:
            self._interrupt()
        self._out.append(data)
        self.schedule_flush()

    def line_ended(self) -> None:
        """The client's cursor is at the start of a line (we ended a hidden password's)."""
        self._at_prompt = False
        self._redraw = False

    def input_line(self, typed: bool) -> None:
        """A line came in (`typed`), or the gateway refused or dropped one: the client's
        Enter ended the line typed; some clients (netkit telnet) echo it as a bare LF, so
        the next output starts with CR to get back to column 0. (Also when the line was
        typed after other players' lines rather than at a prompt.)"""
        self._at_prompt = False
        if typed:
            self._redraw = False
        self._out.append(b"\r")

    def prompt(self, text: str, own_line: bool) -> None:
        """Show prompt markup `text`; `own_line`: it ends its line (a screen reader's)."""
        self.catch_up()
        colour, _width, ascii_only, screen_reader = self.render_key
        body = self.encode(render(text, colour, 0, ascii_only, screen_reader))
        if own_line:
            body += b"\r\n"
        if body != self._prompt.data:  # (the same object kept: its bytes' hash is cached, and
            self._prompt = Prompt(body)  # they key the crowd's shared variants: _redraw_prompt)
        self._out.append(self._prompt)
        self._at_prompt = not own_line
        self._redraw = False
        self.schedule_flush()

    def write_raw(self, data: bytes | Echo | Oob) -> None:
        """Text bytes that bypass rendering, or an item (echo, out-of-band), kept in order
        with the text."""
        if not self.closed:
            self.catch_up()
            self._out.append(data)
            self.schedule_flush()

    def oob(self, package: str, data: object) -> None:
        """Out-of-band data (GMCP), if the client enabled `package`: an item in order with
        the text; the gateway frames it for its protocol."""
        if self.caps.wants(package):
            body = "" if data is None else json.dumps(data, separators=(",", ":"))
            self.write_raw(Oob(package, body))

    # -- flushing ---------------------------------------------------------------------------
    def schedule_flush(self) -> None:
        """Output was added: the output pump flushes it (unless it is held)."""
        if not self._flush_pending and self.held_by is None:
            self._flush_pending = True
            self._want_flush(self)

    def flush(self) -> None:
        self._flush_pending = False
        if self.held_by is not None or not self._out or self.closed:
            return
        if self._redraw:
            self._redraw_prompt()
        self._shared_tail = None
        out = self._out
        # One piece alone (a crowd's shared bytes or items, see mud/core/feed.py) goes as it
        # is, so the gateway's output group sends it once for all of them.
        first = out[0]
        data: Out
        if len(out) == 1 and (type(first) is bytes or type(first) is tuple):
            data = first
        else:
            data = _items(out)
        out.clear()
        # To the gateway's output group; the gateway writes the socket and drops a client
        # that doesn't read once max_output_bytes wait (mud/edge/gateway.py, Conn.write).
        self.link.output(data, self.session.lines_done)

    def last_flush(self) -> None:
        """The connection closes: what is buffered goes out, with no prompt after it, and
        nothing more is taken."""
        self._redraw = False
        self.flush()
        self.closed = True

    def shut(self) -> None:
        """The connection is gone: nothing more is taken."""
        self.closed = True

    def discard(self) -> None:
        """The connection is dropped: nothing buffered goes out, nothing more is taken."""
        self.closed = True
        self._out.clear()

    def _redraw_prompt(self) -> None:
        """Output interrupted the prompt: show it again after that output. When the output
        ends with bytes a crowd shares (a room's lines), their variant with this prompt."""
        self._redraw = False
        self._at_prompt = True
        prompt = self._prompt
        out = self._out
        tail = self._shared_tail
        if tail is not None and tail[0] == len(out) - 1 and out[-1] is tail[1]:
            variants = tail[2]
            got = variants.get(prompt.data)
            if got is None:
                got = variants[prompt.data] = (Text(tail[1]), prompt)
            out[-1] = got
        else:
            out.append(prompt)

    def output_failed(self) -> None:
        """Preparing this connection's output raised (called from an except block): log it
        once and drop this connection alone, after the loop that was writing to everyone."""
        if self.closed or self._broken:
            return
        self._broken = True
        log.exception("output for %r failed; dropping the connection", self.session)
        self.session.app.loop.call_soon(self.session.abort, "output failed")

    # -- held until a commit (mud/core/tx.py) -----------------------------------------------
    def hold(self, tx: CommandTx, own: bool) -> None:
        """Hold output until `tx`'s changes are durable. `own`: the dreamer's own command."""
        self.held_by = tx
        if own:
            self.own_tx = tx

    def release(self, tx: CommandTx) -> bool:
        """`tx`'s changes are durable: True if no later unit still holds this output."""
        if self.own_tx is tx:
            self.own_tx = None
        if self.held_by is not tx:  # a later unit holds it still, or dropped (drop_held)
            return False
        self.held_by = None
        return True

    def drop_held(self) -> bool:
        """The commit held output waits for will never come (shutdown gave up): forget that
        output, unsent, and stop holding. True if this player's own command was waiting."""
        own = self.own_tx is not None
        if self.held_by is not None:
            self._out.clear()
            self.held_by = self.own_tx = None
            self._at_prompt = self._redraw = False
            self._shared_tail = None
        return own

    # -- the room feed it reads (mud/core/feed.py) --------------------------------------------
    def read_room(self, feed: RoomFeed | None) -> None:
        """From now on read `feed` (None: no room), from its top: nothing said before."""
        self.feed = feed
        if feed is not None:
            self.feed_pos = feed.top

    def read_held(self, on: bool) -> None:
        """Read the room's held lines too (another's command tells this dreamer something
        privately: its output is held as long as they are, see CommandTx.end)."""
        self.feed_all = on

    def catch_up(self) -> bool:
        """Take into the output the room feed's lines this dreamer hasn't had yet (called
        before anything else is written to them, so the order is the order of events)."""
        feed = self.feed
        if feed is None or (self.feed_pos == feed.end and not self.feed_all):
            return False
        self.read_feed(feed, self.session.player)
        return True

    def read_feed(self, feed: RoomFeed, player: Player | None) -> None:
        """Append every line of `feed` (this dreamer's room; `player`: the dreamer) not had
        yet: the visible ones, or all of them if `feed_all`. (The feed drain: once per
        reader per output pump.)"""
        upto = feed.top if self.feed_all else feed.end
        start = self.feed_pos
        if start >= upto:  # (a newcomer starts past lines still held)
            return
        self.feed_pos = upto
        start -= feed.base
        stop = upto - feed.base
        if self.closed or start >= stop:
            return
        lines = encoded_lines(feed.lines, feed.texts, self)
        if start == 0 and not self.wants_oob and player not in feed.excluded:
            key = self.out_key
            blob = feed.blobs.get(key)
            if blob is None or blob.upto != upto:
                blob = feed.new_blob(key, upto, lines[:stop])
            if self._at_prompt:  # (most of a crowd sits at its prompt: they share this too)
                self._at_prompt = False
                self._redraw = self.redraws
                broken = blob.broken
                if broken is None:
                    broken = feed.broken_blob(blob)
                self.add_shared(broken, blob.variants)  # (and the prompt shown again after it)
            else:
                self._out.append(blob.joined)
            return
        excludes = feed.excludes
        mine = [i for i in range(start, stop) if (ex := excludes[i]) is None or player not in ex]
        if not mine:  # all of it left out (the actor's own line): the prompt stays as it is
            return
        out = self._out
        if self.line_start():
            out.append(b"\r\n")
        channels = feed.channels
        oob = self.wants_oob
        for i in mine:
            out.append(lines[i])
            channel = channels[i] if oob else None
            if channel is not None:
                self.session.notify("channel", {**channel, "text": feed.texts[i]})


def _items(pieces: list[Piece]) -> tuple[Item, ...]:
    """A flush's pieces as output items: neighbouring text joined into one Text. (Once per
    connection written: most are a few text pieces, then the prompt.)"""
    items: list[Item] = []
    text: list[bytes] = []
    for piece in pieces:
        if isinstance(piece, bytes):
            text.append(piece)
        elif isinstance(piece, tuple):
            for item in piece:
                if isinstance(item, Text):
                    text.append(item.data)
                    continue
                if text:
                    items.append(Text(text[0] if len(text) == 1 else b"".join(text)))
                    text = []
                items.append(item)
        elif isinstance(piece, Text):
            text.append(piece.data)
        else:
            if text:
                items.append(Text(text[0] if len(text) == 1 else b"".join(text)))
                text = []
            items.append(piece)
    if text:
        items.append(Text(text[0] if len(text) == 1 else b"".join(text)))
    return tuple(items)
