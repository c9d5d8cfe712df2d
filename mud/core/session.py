"""One connection: input limits, ordered command processing, and a bounded output queue.

Lines arrive from the gateway already split. Each is decoded, sanitised and handed to the
current mode (login flow, editor, or the dispatcher: see commands/api.py Mode). While a
command's changes are being committed, the session holds its output and queues further
input, so a player is told "done" only once it is durable and their commands always run in
order.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections import deque
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from mud.core import pager
from mud.core.text import render, sanitize, strip_markup
from mud.core.tx import CommandTx
from mud.protocol import ClientCaps, Echo, Item, Oob, Prompt, Text
from mud.protocol.charset import usable_charset
from world.moderation import normalise_address

if TYPE_CHECKING:
    from commands.api import Mode
    from mud.core.app import App
    from mud.core.feed import RoomFeed
    from mud.core.peer import Out, SessionPort
    from world.model import Player

# What a session's output is made of until its flush: text bytes, items (a prompt, echo,
# out-of-band data), or a tuple of items a crowd shares (a room's lines and the prompt again)
Piece = bytes | Text | Prompt | Echo | Oob | tuple[Item, ...]

log = logging.getLogger("dreamwave.session")

DEFAULT_WIDTH = 80
MIN_WIDTH = 20
MAX_WIDTH = 250
PROMPT = "> "
PROMPT_TOKEN = re.compile(r"%(.)")
# Clients that keep their own input line, where a prompt shown again after other people's
# lines would be a line of its own (the browser page): they get no redrawn prompt.
NO_REDRAW_CLIENTS = frozenset({"dreamwave-web"})


# Every distinct (colour, width, ascii, screen reader, encoding) seen, numbered. Bounded in
# practice by the widths clients report (MIN_WIDTH..MAX_WIDTH) times a handful of charsets.
_OUT_KEYS: dict[tuple[bool, int, bool, bool, str], int] = {}


class Session:
    def __init__(
        self, app: App, link: SessionPort, address: str, port: int, caps: ClientCaps
    ) -> None:
        self.app = app
        self.link = link  # its gateway, under its sid: where output and orders go
        self.limits = app.settings.limits
        self.address: str = normalise_address(str(address))  # ::ffff:1.2.3.4 as 1.2.3.4
        self.port: int = int(port)
        self.taking_input = True  # (False: closed, or the server stops)
        self.player: Player | None = None
        # who has the input: the base mode (login flow, then dispatcher) and the modes that
        # borrow it over that (see set_base_mode / push_mode / pop_mode)
        self._modes: list[Mode] = []
        self.started = False
        self.closed = False
        # what the client can do, as its gateway says (mud.protocol.ClientCaps), and the
        # rendering decided from it (see decide_capabilities)
        self.caps = caps
        self.colour = False
        self.screen_reader = False  # plain output: no decoration, sentences for maps
        self.width = DEFAULT_WIDTH
        self.height = 25
        self.encoding = "utf-8"
        self.wants_oob = caps.gmcp and bool(caps.gmcp_packages)  # it enabled GMCP packages
        # the arguments of mud.core.text.render after the text: colour, width, ascii, screen reader
        self.render_key: tuple[bool, int, bool, bool] = (False, DEFAULT_WIDTH, False, False)
        self.out_key = 0
        # output
        self._out: list[Piece] = []
        self._flush_pending = False
        # The unit of work (mud/core/tx.py) whose commit output and input wait for: the last
        # one to hold this session (units release in order), and the last of this dreamer's
        # own commands among them (see drop_held).
        self.held_by: CommandTx | None = None
        self.own_tx: CommandTx | None = None
        self._close_pending: tuple[str | None] | None = None  # close() waits for a release
        self._at_prompt = False
        # the prompt last shown, shown again at the flush after output that interrupted it
        # (`_redraw`), as telnet clients expect
        self._prompt = Prompt(b"")
        self._redraw = False
        self._redraws = True  # this kind of client wants that (see NO_REDRAW_CLIENTS)
        # (position in _out, shared bytes, their variants with a prompt): see add_shared
        self._shared_tail: tuple[int, bytes, dict[bytes, tuple[Item, ...]]] | None = None
        self._output_broken = False  # see output_failed
        # the room feed this dreamer reads (mud.core.feed) and how far they have read it
        self.feed: RoomFeed | None = None
        self.feed_pos = 0
        self.feed_all = False  # read held room lines too (output held with them: App)
        # input
        self._queue: deque[bytes] = deque()
        self._busy = False
        self.lines_in = 0  # input lines the gateway sent us (see lines_done)
        self.connected_at = time.monotonic()
        self.last_input = self.connected_at
        self._last_throttle_notice = 0.0

    def __repr__(self) -> str:
        who = self.player.name if self.player else "-"
        return f"<Session {self.address}:{self.port} {who}>"

    # -- who has the input ----------------------------------------------------------------
    @property
    def mode(self) -> Mode | None:
        """Whatever has the input now: the top of the stack (None: no more input)."""
        modes = self._modes
        return modes[-1] if modes else None

    @property
    def base_mode(self) -> Mode | None:
        """The bottom of the stack: the login flow, then the dreamer's dispatcher."""
        return self._modes[0] if self._modes else None

    @property
    def modes(self) -> tuple[Mode, ...]:
        """The stack, the base first."""
        return tuple(self._modes)

    def set_base_mode(self, mode: Mode | None) -> None:
        """The base mode: the login flow, then the dreamer's dispatcher (None: no more
        input, the dreamer was taken over by another connection). Modes over the old one
        go with it."""
        self._modes = [mode] if mode is not None else []

    def push_mode(self, mode: Mode) -> None:
        """`mode` borrows the input; it goes back to the one before when popped."""
        self._modes.append(mode)

    def pop_mode(self, mode: Mode, prompt: bool = True) -> bool:
        """`mode` gives the input back to the one under it (and shows that one's prompt);
        False if it didn't have the input any more."""
        modes = self._modes
        if not modes or modes[-1] is not mode:
            return False
        modes.pop()
        if prompt and modes:
            modes[-1].prompt()
        return True

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        """Negotiation is over (or timed out): greet the client and begin the login flow."""
        if self.closed or self.started:
            return
        self.started = True
        self.decide_capabilities()
        self.app.lifecycle.begin_login(self)
        self._drain_queue()

    @property
    def client(self) -> ClientCaps:
        """What the client said about itself (name, terminal, MTTS, colour...)."""
        return self.caps

    def set_caps(self, caps: ClientCaps) -> None:
        """The gateway says the client can do something else now (TTYPE, CHARSET or GMCP
        answered, the window resized): decide again."""
        old, self.caps = self.caps, caps
        self.wants_oob = caps.gmcp and bool(caps.gmcp_packages)
        if caps.cols != old.cols or caps.rows != old.rows:
            self.on_resize(caps.cols or 0, caps.rows or 0)
        self.client_changed()

    def moved(self, address: str, port: int) -> None:
        """A browser page resumed from another address (what @who shows, what bans check)."""
        self.address, self.port = normalise_address(address), int(port)

    def decide_capabilities(self) -> None:
        """Colour, charset and width from what the client told us, then player overrides."""
        self._redraws = self.client.name.lower() not in NO_REDRAW_CLIENTS
        settings = self.player.settings if self.player is not None else {}
        self.colour = bool(settings["colour"]) if "colour" in settings else self.client.has_colour
        # Screen-reader mode, the one place every command and layer asks: the dreamer's
        # `config screenreader on|off`, else (auto) what the client said (MTTS bit 64).
        choice = settings.get("screenreader")
        chosen = choice in ("on", "off")
        self.screen_reader = choice == "on" if chosen else self.client.screen_reader
        # A stored charset the server no longer accepts (saved before it checked) is ignored.
        stored = settings.get("charset")
        taken = isinstance(stored, str) and self.set_encoding(stored)
        if not taken and not self.set_encoding(self._negotiated_charset()):
            self.set_encoding("utf-8")
        self.on_resize(self.caps.cols or DEFAULT_WIDTH, self.caps.rows or 25)

    def _negotiated_charset(self) -> str:
        """CHARSET's answer if there was one; else what MTTS says; else UTF-8.

        A client that refused UTF-8 and says nothing about it in MTTS gets ASCII, with our
        text transliterated. One that never took part in CHARSET keeps the UTF-8 default.
        """
        state = self.caps.charset_state
        if state == "accepted":
            return self.caps.charset or "utf-8"
        if self.client.utf8 is not None:
            return "utf-8" if self.client.utf8 else "ascii"
        return "ascii" if state == "rejected" else "utf-8"

    def set_encoding(self, name: str) -> bool:
        """Use charset `name` for this connection; False (nothing changed) unless it is a
        text encoding that keeps ASCII as it is (mud.protocol.charset)."""
        codec = usable_charset(name)
        if codec is None:
            return False
        self.encoding = codec
        self._update_render_key()
        return True

    def client_changed(self) -> None:
        """TTYPE or CHARSET answered after the banner went out: decide again."""
        if self.started and not self.closed:
            self.decide_capabilities()

    def on_resize(self, cols: int, rows: int) -> None:
        try:
            cols, rows = int(cols), int(rows)
        except (TypeError, ValueError):
            cols, rows = DEFAULT_WIDTH, 25
        self.height = rows if rows > 0 else 25
        # 0 means "unknown" in NAWS; absurd sizes are clamped.
        self.width = DEFAULT_WIDTH if cols <= 0 else max(MIN_WIDTH, min(MAX_WIDTH, cols))
        self._update_render_key()

    def set_colour(self, on: bool) -> None:
        self.colour = on
        self._update_render_key()

    def _update_render_key(self) -> None:
        self.render_key = (self.colour, self.width, self.encoding == "ascii", self.screen_reader)
        # What makes two sessions' bytes for one message identical (see OutputPump.fanout), as a
        # small int: it is hashed once per recipient of every broadcast.
        self.out_key = _OUT_KEYS.setdefault((*self.render_key, self.encoding), len(_OUT_KEYS))

    def close(self, farewell: str | None = None) -> None:
        """Say goodbye (if anything) and close once the output has gone out."""
        if self.closed:
            return
        for mode in reversed(self._modes):
            mode.on_closing()
        if self.held_by is not None:
            # A reply waits for its commit: it goes out once it is durable (never before),
            # then the farewell, and then the connection closes (see release).
            self._close_pending = (farewell,)
            self._queue.clear()
            return
        if farewell:
            self.send(farewell)
        self._redraw = False  # (no prompt after goodbye)
        self.flush()
        self.closed = True
        self.link.close()  # sends what is buffered, then closes
        self._detach()

    def abort(self, reason: str) -> None:
        """Drop the connection now, without flushing (misbehaving client)."""
        if self.closed:
            return
        log.info("dropping %r: %s", self, reason)
        self.closed = True
        self._out.clear()
        self.link.abort()
        self._detach()

    def on_disconnect(self) -> None:
        if not self.closed:
            log.info("connection closed by %r", self)
            self.closed = True
        self._detach()

    def _detach(self) -> None:
        self.taking_input = False
        self._queue.clear()
        modes, self._modes = self._modes, []
        for mode in reversed(modes):  # the top one first, the dispatcher (leaving) last
            try:
                mode.on_close()
            except Exception:
                log.exception("error while closing %r", self)
        self.app.lifecycle.session_closed(self)

    # -- output ---------------------------------------------------------------------------
    def send(self, text: str) -> None:
        """Queue markup text as one or more lines."""
        if self.closed:
            return
        self.write_rendered(render(text, *self.render_key))

    def page(self, text: str) -> None:
        """Like send, but a screen at a time when it is longer (mud/core/pager.py)."""
        pager.page(self, text)

    def page_lines(self) -> int:
        """Lines per page for this dreamer; 0 means "don't page"."""
        return pager.page_lines(self)

    def render(self, text: str) -> str:
        """Markup as this client is shown it (not yet encoded)."""
        return render(text, *self.render_key)

    def write_rendered(self, text: str) -> None:
        self.write_line_bytes(self.encode_line(text))

    def encode_line(self, text: str) -> bytes:
        return self._encode(text + "\r\n")

    def _encode(self, text: str) -> bytes:
        try:
            data = text.encode(self.encoding, "replace")
        except Exception:  # a codec we shouldn't have taken: this connection goes back to UTF-8
            log.exception("encoding output as %s for %r failed; using UTF-8", self.encoding, self)
            self.set_encoding("utf-8")
            data = text.encode("utf-8", "replace")
        return data

    def output_failed(self) -> None:
        """Preparing this connection's output raised (called from an except block): log it
        once and drop this connection alone, after the loop that was writing to everyone."""
        if self.closed or self._output_broken:
            return
        self._output_broken = True
        log.exception("output for %r failed; dropping the connection", self)
        self.app.loop.call_soon(self.abort, "output failed")

    def catch_up(self) -> bool:
        """Take into the output the room feed's lines this dreamer hasn't had yet (called
        before anything else is written to them, so the order is the order of events)."""
        feed = self.feed
        if feed is None or (self.feed_pos == feed.end and not self.feed_all):
            return False
        feed.drain(self)
        return True

    def write_line_bytes(self, data: bytes) -> None:
        # On every delivery of every broadcast: kept flat on purpose.
        if self.closed:
            return
        tx = CommandTx.current
        if tx is not None and tx.actor is not self:
            tx.told(self)  # another's command told us: held like its reply
        self.catch_up()  # what the room saw first comes first
        if self._at_prompt:
            self._interrupt()
        self._out.append(data)
        if not self._flush_pending and self.held_by is None:
            self._flush_pending = True
            self.app.output.want_flush(self)

    # What the room feeds, the channel feeds and fan-outs use: bytes they rendered once for
    # every session of this kind, added here (only Session touches its output state).
    def line_start(self) -> bool:
        """Output is about to be added: True if a prompt was showing, so it must start on a
        new line (the caller adds one, or uses bytes that begin with one), and it is no
        longer showing (it is shown again at the flush)."""
        if self._at_prompt:
            self._at_prompt = False
            self._redraw = self._redraws
            return True
        return False

    def _interrupt(self) -> None:
        """Output interrupts the prompt: it starts on a new line, and the prompt comes back
        after it (at the flush)."""
        self._out.append(b"\r\n")
        self._at_prompt = False
        self._redraw = self._redraws

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
        self._schedule_flush()

    def line_ended(self) -> None:
        """The client's cursor is at the start of a line (we ended a hidden password's)."""
        self._at_prompt = False
        self._redraw = False

    @property
    def held(self) -> bool:
        """Output waits for a commit (see hold)."""
        return self.held_by is not None

    def stop_input(self) -> None:
        """No more commands from this connection (the server stops): drop what is queued."""
        self.taking_input = False
        self._queue.clear()

    def send_prompt(self, text: str | None = None) -> None:
        """A prompt: `text`, or (None) the dreamer's command prompt (config prompt), which
        for a screen reader ends its line, so it is never read run into the next one."""
        if self.closed:
            return
        self.catch_up()
        own_line = False
        if text is None:
            text = self.prompt_text()
            own_line = self.screen_reader
        colour, _width, ascii_only, screen_reader = self.render_key
        body = self._encode(render(text, colour, 0, ascii_only, screen_reader))
        if own_line:
            body += b"\r\n"
        if body != self._prompt.data:  # (the same object kept: its bytes' hash is cached, and
            self._prompt = Prompt(body)  # they key the crowd's shared variants: _redraw_prompt)
        self._out.append(self._prompt)
        self._at_prompt = not own_line
        self._redraw = False
        self._schedule_flush()

    def prompt_text(self) -> str:
        """The command prompt: the dreamer's `config prompt` with its tokens filled in
        (%n name, %s awake/dreaming/in loop, %r room, %% a percent sign), or "> "."""
        p = self.player
        own = p.settings.get("prompt") if p is not None else None
        if not own or p is None:
            return PROMPT
        state = self.app.world.dream_state(p) if "%s" in own else ""
        room = strip_markup(p.room.name) if "%r" in own and p.room is not None else ""
        values = {"n": p.name, "s": state, "r": room}

        def fill(m: re.Match[str]) -> str:
            code = m.group(1)
            if code == "%":
                return "%"
            # the template was stored with its markup escaped; what fills it is escaped too
            return values[code].replace("|", "||") if code in values else m.group(0)

        out = PROMPT_TOKEN.sub(fill, own)
        return out + " "

    def write_raw(self, data: bytes | Echo | Oob) -> None:
        """Text bytes that bypass rendering, or an item (echo, out-of-band), kept in order
        with the text."""
        if not self.closed:
            self.catch_up()
            self._out.append(data)
            self._schedule_flush()

    def set_echo(self, off: bool) -> None:
        """Ask the client to stop (`off`) or go back to echoing what is typed (passwords)."""
        self.write_raw(Echo(off))

    def flush_soon(self) -> None:
        """Output was added from outside a write (a feed caught up): the pump takes it."""
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        if not self._flush_pending and self.held_by is None:
            self._flush_pending = True
            self.app.output.want_flush(self)

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
        self.link.output(data, self.lines_done)

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

    # -- GMCP ---------------------------------------------------------------------------------
    def on_gmcp(self, package: str, data: Any) -> None:
        """A GMCP message for the engine (the gateway answered Core.* itself and told us the
        packages in the caps before this)."""
        if package.lower().startswith("core.supports") and self.player is not None:
            self.notify("login")  # the packages it just enabled, filled in
        elif package.lower() == "comm.channel.list" and self.player is not None:
            self.notify("channel_list")  # the client asks which channels there are

    def send_gmcp(self, package: str, data: Any) -> None:
        """Out-of-band data (GMCP), if the client enabled `package`: an item in order with
        the text; the gateway frames it for its protocol."""
        if self.caps.wants(package):
            body = "" if data is None else json.dumps(data, separators=(",", ":"))
            self.write_raw(Oob(package, body))

    def notify(self, kind: str, data: dict[str, Any] | None = None) -> None:
        """Out-of-band news from the world (room changed, a channel line...) for GMCP."""
        if not self.wants_oob or self.closed:
            return
        from mud.core import gmcp_packages

        for package, payload in gmcp_packages.for_event(self, kind, data or {}):
            self.send_gmcp(package, payload)

    def hold(self, tx: CommandTx, own: bool) -> None:
        """Hold output and input until `tx`'s changes are durable (its one commit callback
        then calls `release`). `own`: this dreamer's own command (else another's told them)."""
        self.held_by = tx
        if own:
            self.own_tx = tx

    def release(self, tx: CommandTx) -> None:
        """`tx`'s changes are durable: unless a later unit still holds this session, its
        output goes out at once (then a farewell that waited, or the next queued line)."""
        if self.own_tx is tx:
            self.own_tx = None
        if self.held_by is not tx:  # a later unit holds it still, or dropped (drop_held)
            return
        self.held_by = None
        if self._close_pending is not None:
            (farewell,) = self._close_pending
            self._close_pending = None
            self.close(farewell)
            return
        self.flush()  # the confirmation of a committed change: at once
        self._drain_queue()

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

    # -- input ----------------------------------------------------------------------------
    @property
    def lines_done(self) -> int:
        """Input lines finished and, if they changed anything, committed: the gateway tells
        a player whose line is past this one, if the engine dies, that it may not have
        happened (every output flush carries it; a held one doesn't flush)."""
        return self.lines_in - len(self._queue) - (1 if self._busy else 0)

    @property
    def active(self) -> bool:
        """A command is running, waiting for its commit, or queued."""
        return bool(self.held_by is not None or self._busy or self._queue)

    def on_line(self, raw: bytes) -> None:
        if self.closed:
            return
        self.lines_in += 1
        self.last_input = time.monotonic()
        # The client's Enter ended the line typed; some clients (netkit telnet) echo it as a
        # bare LF, so the next output starts with CR to get back to column 0. (Also when the
        # line was typed after other players' lines rather than at a prompt.)
        self._at_prompt = self._redraw = False
        self._out.append(b"\r")
        if not self.started or self._busy or self.held_by is not None or self._queue:
            if len(self._queue) >= self.limits.max_queued_lines:
                self._throttle_notice()
                return
            self._queue.append(raw)
            return
        self._process(raw)

    def on_flood(self) -> None:
        self.send("Your client sent more telnet negotiation than the server takes; disconnecting.")
        self.close()

    def on_overflow(self) -> None:
        self.send("You sent too much text without pressing Enter; disconnecting.")
        self.close()

    def line_refused(self, size: int) -> None:
        """The gateway refused a line over `max_line_bytes` (it never came up): say so."""
        self._at_prompt = False
        self._out.append(b"\r")
        self.send(
            f"That line was too long ({size} bytes); the most is "
            f"{self.limits.max_line_bytes}. Nothing was done."
        )
        self.send_prompt()

    def throttled(self) -> None:
        """The gateway dropped lines over `commands_per_second` (it tells us at most once per
        `throttle_notice_interval`)."""
        self._at_prompt = False
        self._out.append(b"\r")
        self._throttle_notice()

    def _throttle_notice(self) -> None:
        now = time.monotonic()
        if now - self._last_throttle_notice >= self.limits.throttle_notice_interval:
            self._last_throttle_notice = now
            self.send("You're sending commands faster than the dream can follow; slow down.")
            self.send_prompt()

    def _process(self, raw: bytes) -> None:
        codec = "utf-8" if self.encoding == "ascii" else self.encoding
        text = sanitize(raw.decode(codec, "replace")).strip()
        mode = self.mode
        if mode is None:
            return
        tx = self.app.txs.begin(self)  # the command's unit of work (mud/core/tx.py)
        try:
            mode.on_line(text)
        except Exception:
            log.exception("error handling %r from %r", text[:80], self)
            self.send("|rSomething went wrong with that command; it has been logged.|n")
            if self.mode is mode:
                mode.prompt()
        finally:
            tx.end()  # held until its changes are durable, if it staged any
        if self.held_by is None:
            # The reply to what this player typed goes out now, not with the next output
            # pump (which, when busy, gathers other players' lines for a while).
            self.flush()

    def _drain_queue(self) -> None:
        while self._queue and not self._busy and self.held_by is None and not self.closed:
            self._process(self._queue.popleft())

    @property
    def busy(self) -> bool:
        """A background task (password hashing, file reading) is running for this session."""
        return self._busy

    def run_task(
        self, coro: Coroutine[Any, Any, None], then: Callable[[], None] | None = None
    ) -> None:
        """Run async work (e.g. password hashing) with input paused until it finishes."""
        self._busy = True

        async def runner() -> None:
            try:
                await coro
            except Exception:
                log.exception("task failed for %r", self)
                self.send("|rSomething went wrong; please try again.|n")
            finally:
                self._busy = False
                if then is not None:
                    tx = self.app.txs.begin(self)  # (like a typed command's)
                    try:
                        then()
                    finally:
                        tx.end()
                if not self.closed and self.held_by is None:
                    self.flush()  # the reply to the line that started it, at once
                if not self.closed:
                    self._drain_queue()

        self.app.spawn(runner())


def _items(pieces: list[Piece]) -> tuple[Item, ...]:
    """A flush's pieces as output items: neighbouring text joined into one Text."""
    items: list[Item] = []
    text: list[bytes] = []
    for piece in pieces:
        if isinstance(piece, bytes):
            text.append(piece)
            continue
        for item in piece if isinstance(piece, tuple) else (piece,):
            if type(item) is Text:
                text.append(item.data)
                continue
            if text:
                items.append(Text(b"".join(text)))
                text = []
            items.append(item)
    if text:
        items.append(Text(b"".join(text)))
    return tuple(items)
