"""One connection: input limits, ordered command processing, and its output.

Lines arrive from the gateway already split. Each is decoded, sanitised and handed to the
current mode (login flow, editor, or the dispatcher: see commands/api.py Mode). While a
command's changes are being committed, the session holds its output and queues further
input, so a player is told "done" only once it is durable and their commands always run in
order.

A Session is identity, lifecycle, input and the mode stack. What it shows is its
`OutputBuffer` (`self.out`, mud/core/outbuf.py), the one writer of its output state, which is
also how its client is shown text (mud/core/rendering.py); the methods here that commands use
(`CommandSession`: send, send_prompt, colour, screen_reader...) hand over to it.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from mud.core import pager
from mud.core.outbuf import OutputBuffer
from mud.core.text import command_prompt, sanitize
from mud.protocol import ClientCaps, Echo, Oob
from world.moderation import normalise_address

if TYPE_CHECKING:
    from commands.api import Mode
    from mud.core.app import App
    from mud.core.peer import SessionPort
    from mud.core.tx import CommandTx
    from world.model import Player

log = logging.getLogger("dreamwave.session")


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
        self._close_pending: tuple[str | None] | None = None  # close() waits for a release
        # its output (the one writer of it), and how its client is shown text
        self.out = OutputBuffer(self, link, caps, app.output.want_flush)
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

    def reattached(self) -> None:
        """It started under the engine before this one (kept by its gateway): decide how it
        is shown text again, with no greeting."""
        self.started = True
        self.decide_capabilities()

    def attach(self, player: Player | None) -> None:
        """The dreamer this connection plays from now on (None: none, taken over)."""
        self.player = player

    @property
    def closed(self) -> bool:
        """No more output: the connection closes or closed."""
        return self.out.closed

    def moved(self, address: str, port: int) -> None:
        """A browser page resumed from another address (what @who shows, what bans check)."""
        self.address, self.port = normalise_address(address), int(port)

    def close(self, farewell: str | None = None) -> None:
        """Say goodbye (if anything) and close once the output has gone out."""
        if self.closed:
            return
        for mode in reversed(self._modes):
            mode.on_closing()
        if self.out.held_by is not None:
            # A reply waits for its commit: it goes out once it is durable (never before),
            # then the farewell, and then the connection closes (see release).
            self._close_pending = (farewell,)
            self._queue.clear()
            return
        if farewell:
            self.send(farewell)
        self.out.last_flush()  # (no prompt after goodbye)
        self.link.close()  # sends what is buffered, then closes
        self._detach()

    def abort(self, reason: str) -> None:
        """Drop the connection now, without flushing (misbehaving client)."""
        if self.closed:
            return
        log.info("dropping %r: %s", self, reason)
        self.out.discard()
        self.link.abort()
        self._detach()

    def on_disconnect(self) -> None:
        if not self.closed:
            log.info("connection closed by %r", self)
            self.out.shut()
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

    # -- what the client is shown as (the buffer's Rendering) -------------------------------
    @property
    def caps(self) -> ClientCaps:
        """What the client can do, as its gateway says (mud.protocol.ClientCaps)."""
        return self.out.caps

    @property
    def client(self) -> ClientCaps:
        """What the client said about itself (name, terminal, MTTS, colour...)."""
        return self.out.caps

    @property
    def colour(self) -> bool:
        return self.out.colour

    @property
    def screen_reader(self) -> bool:
        return self.out.screen_reader

    @property
    def width(self) -> int:
        return self.out.width

    @property
    def height(self) -> int:
        return self.out.height

    @property
    def encoding(self) -> str:
        return self.out.encoding

    @property
    def wants_oob(self) -> bool:
        return self.out.wants_oob

    @property
    def render_key(self) -> tuple[bool, int, bool, bool]:
        return self.out.render_key

    @property
    def out_key(self) -> int:
        return self.out.out_key

    def set_caps(self, caps: ClientCaps) -> None:
        """The gateway says the client can do something else now (TTYPE, CHARSET or GMCP
        answered, the window resized): decide again."""
        self.out.set_caps(caps)
        if self.started and not self.closed:
            self.decide_capabilities()

    def decide_capabilities(self) -> None:
        """Colour, charset and width from what the client told us, then player overrides."""
        self.out.decide(self.player.settings if self.player is not None else {})

    def set_encoding(self, name: str) -> bool:
        """Use charset `name`; False (nothing changed) unless the server takes it."""
        return self.out.set_encoding(name)

    def set_colour(self, on: bool) -> None:
        self.out.set_colour(on)

    # -- output (the buffer's) --------------------------------------------------------------
    def send(self, text: str) -> None:
        """Queue markup text as one or more lines."""
        out = self.out
        if not out.closed:
            out.write_line(out.encode_line(out.render(text)))

    def page(self, text: str) -> None:
        """Like send, but a screen at a time when it is longer (mud/core/pager.py)."""
        pager.page(self, text)

    def page_lines(self) -> int:
        """Lines per page for this dreamer; 0 means "don't page"."""
        return pager.page_lines(self)

    def render(self, text: str) -> str:
        """Markup as this client is shown it (not yet encoded)."""
        return self.out.render(text)

    def write_rendered(self, text: str) -> None:
        out = self.out
        out.write_line(out.encode_line(text))

    def send_prompt(self, text: str | None = None) -> None:
        """A prompt: `text`, or (None) the dreamer's command prompt (config prompt), which
        for a screen reader ends its line, so it is never read run into the next one."""
        if self.closed:
            return
        if text is None:
            text = command_prompt(self.player, self.app.world.dream_state)
            self.out.prompt(text, self.out.screen_reader)
        else:
            self.out.prompt(text, False)

    def write_raw(self, data: bytes | Echo | Oob) -> None:
        """Text bytes that bypass rendering, or an item (echo, out-of-band), in order."""
        self.out.write_raw(data)

    def set_echo(self, off: bool) -> None:
        """Ask the client to stop (`off`) or go back to echoing what is typed (passwords)."""
        self.out.write_raw(Echo(off))

    def line_ended(self) -> None:
        """The client's cursor is at the start of a line (we ended a hidden password's)."""
        self.out.line_ended()

    # -- GMCP (mud/core/gmcp_packages.py) ----------------------------------------------------
    def on_gmcp(self, package: str, data: Any) -> None:
        """A GMCP message for the engine (the gateway answered Core.* itself)."""
        from mud.core import gmcp_packages

        gmcp_packages.received(self, package, data)

    def notify(self, kind: str, data: dict[str, Any] | None = None) -> None:
        """Out-of-band news from the world (room changed, a channel line...) for GMCP."""
        if self.out.wants_oob and not self.out.closed:
            from mud.core import gmcp_packages

            for package, payload in gmcp_packages.for_event(self, kind, data or {}):
                self.out.oob(package, payload)

    # -- held until a commit: the unit of work's contract (mud/core/tx.py) --------------------
    def hold(self, tx: CommandTx, own: bool) -> None:
        """Hold output and input until `tx`'s changes are durable (its one commit callback
        then calls `release`). `own`: this dreamer's own command (else another's told them)."""
        self.out.hold(tx, own)

    def release(self, tx: CommandTx) -> None:
        """`tx`'s changes are durable: unless a later unit still holds this session, its
        output goes out at once (then a farewell that waited, or the next queued line)."""
        if not self.out.release(tx):
            return
        if self._close_pending is not None:
            (farewell,) = self._close_pending
            self._close_pending = None
            self.close(farewell)
            return
        self.out.flush()  # the confirmation of a committed change: at once
        self._drain_queue()

    def drop_held(self) -> bool:
        """The commit held output waits for will never come (shutdown gave up): forget that
        output, unsent. True if this player's own command was waiting."""
        return self.out.drop_held()

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
        return bool(self.out.held_by is not None or self._busy or self._queue)

    def on_line(self, raw: bytes) -> None:
        if self.closed:
            return
        self.lines_in += 1
        self.last_input = time.monotonic()
        self.out.input_line(True)  # (the next output starts back at column 0)
        if not self.started or self._busy or self.out.held_by is not None or self._queue:
            if len(self._queue) >= self.limits.max_queued_lines:
                self._throttle_notice()
                return
            self._queue.append(raw)
            return
        self._process(raw)

    def stop_input(self) -> None:
        """No more commands from this connection (the server stops): drop what is queued."""
        self.taking_input = False
        self._queue.clear()

    def on_flood(self) -> None:
        self.send("Your client sent more telnet negotiation than the server takes; disconnecting.")
        self.close()

    def on_overflow(self) -> None:
        self.send("You sent too much text without pressing Enter; disconnecting.")
        self.close()

    def line_refused(self, size: int) -> None:
        """The gateway refused a line over `max_line_bytes` (it never came up): say so."""
        self.out.input_line(False)
        self.send(
            f"That line was too long ({size} bytes); the most is "
            f"{self.limits.max_line_bytes}. Nothing was done."
        )
        self.send_prompt()

    def throttled(self) -> None:
        """The gateway dropped lines over `commands_per_second` (it tells us at most once per
        `throttle_notice_interval`)."""
        self.out.input_line(False)
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
        if self.out.held_by is None:
            # The reply to what this player typed goes out now, not with the next output
            # pump (which, when busy, gathers other players' lines for a while).
            self.out.flush()

    def _drain_queue(self) -> None:
        while self._queue and not self._busy and self.out.held_by is None and not self.closed:
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
                if not self.closed and self.out.held_by is None:
                    self.out.flush()  # the reply to the line that started it, at once
                if not self.closed:
                    self._drain_queue()

        self.app.spawn(runner())
