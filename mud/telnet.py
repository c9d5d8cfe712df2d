"""Bytes <-> lines on top of telnetlib3, with every buffer bounded.

telnetlib3 parses IAC sequences and runs option negotiation; everything in-band it hands
to our `LineReader`, which splits lines itself (push-based: no task per connection, no
unbounded readline) and passes them to the Session. Telnet settings follow what we measured
(see DEPENDENCIES.md): line mode, forced BINARY with replacement of bad bytes, a short
negotiation wait, and the idle timer switched off because the Session owns idleness.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any, Protocol

from telnetlib3.server import TelnetServer
from telnetlib3.telopt import ECHO, EOR, GA, IAC, SGA, WILL, WONT

if TYPE_CHECKING:
    from mud.config import Limits

log = logging.getLogger("dreamwave.telnet")

CR, LF, NUL = 13, 10, 0
GA_BYTES = IAC + GA
EOR_BYTES = IAC + b"\xef"  # IAC EOR (239): end of record, marks a prompt


class LineSink(Protocol):
    def on_line(self, line: bytes) -> None: ...
    def on_overflow(self) -> None: ...
    def on_eof(self) -> None: ...


class LineReader:
    """Stands in for telnetlib3's reader: splits in-band bytes into lines, bounded.

    A line ends at CR LF, CR NUL, a bare LF or a bare CR; the LF or NUL after a CR is
    dropped even when it arrives in the next packet, so a split CR LF never yields an
    empty extra line.
    """

    def __init__(self, *_args: Any, max_pending: int = 65536, **_kwargs: Any) -> None:
        self._buf = bytearray()
        self._after_cr = False
        self._exc: BaseException | None = None
        self.max_pending = max_pending
        self.sink: LineSink | None = None

    # -- the interface telnetlib3 calls -----------------------------------------------------
    def feed_data(self, data: bytes) -> None:
        if self.sink is None or not data:
            return
        start = 0
        if self._after_cr:
            self._after_cr = False
            if data[0] in (LF, NUL):
                start = 1
        buf = self._buf
        n = len(data)
        i = start
        while i < n:
            # find the next CR or LF
            lf = data.find(b"\n", i)
            cr = data.find(b"\r", i)
            if lf == -1 and cr == -1:
                buf += data[i:]
                break
            end = lf if cr == -1 else cr if lf == -1 else min(lf, cr)
            buf += data[i:end]
            line = bytes(buf)
            buf.clear()
            i = end + 1
            if data[end] == CR:
                if i < n:
                    if data[i] in (LF, NUL):
                        i += 1
                else:
                    self._after_cr = True
            self.sink.on_line(line)
            if self.sink is None:  # the line closed the session
                return
        if len(buf) > self.max_pending:
            buf.clear()
            self.sink.on_overflow()

    def feed_eof(self) -> None:
        if self.sink is not None:
            sink, self.sink = self.sink, None
            sink.on_eof()

    def set_exception(self, exc: BaseException) -> None:
        self._exc = exc
        self.feed_eof()

    def exception(self) -> BaseException | None:
        return self._exc

    def at_eof(self) -> bool:
        return self.sink is None


class MudTelnet(TelnetServer):
    """One telnet connection. Creates its Session and feeds it lines and window sizes."""

    def __init__(self, app: Any) -> None:
        limits: Limits = app.settings.limits
        super().__init__(
            shell=self._negotiated,
            encoding="utf8",
            encoding_errors="replace",
            force_binary=True,
            line_mode=True,
            connect_maxwait=limits.connect_maxwait,
            timeout=0,
            reader_factory=LineReader,
            reader_factory_encoding=LineReader,
        )
        self.app = app
        self.limits = limits
        self.session: Any = None
        self._budget = float(limits.bytes_per_second)
        self._budget_at = time.monotonic()
        self._paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.reader.max_pending = self.limits.max_pending_bytes
        self.session = self.app.new_session(self, transport)
        self.reader.sink = self.session

    def begin_advanced_negotiation(self) -> None:
        super().begin_advanced_negotiation()
        self.writer.iac(WILL, EOR)

    def _negotiated(self, _reader: Any, _writer: Any) -> None:
        if self.session is not None:
            self.session.start()

    def data_received(self, data: bytes) -> None:
        # Byte budget: telnetlib3 parses IAC sequences byte by byte in Python, so a flood of
        # garbage costs real CPU. Over budget, stop reading until the budget refills.
        now = time.monotonic()
        rate = self.limits.bytes_per_second
        self._budget = min(rate, self._budget + (now - self._budget_at) * rate)
        self._budget_at = now
        self._budget -= len(data)
        try:
            super().data_received(data)
        except Exception:
            log.exception("telnet parsing failed for %s; closing", self.session)
            self.abort()
            return
        if self._budget < 0 and not self._paused and self._transport is not None:
            self._paused = True
            self._transport.pause_reading()
            asyncio.get_running_loop().call_later(-self._budget / rate, self._resume)

    def _resume(self) -> None:
        self._paused = False
        if self._transport is not None and not self._closing:
            self._transport.resume_reading()

    def on_naws(self, rows: int, cols: int) -> None:
        super().on_naws(rows, cols)
        if self.session is not None:
            self.session.on_resize(cols, rows)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._closing:
            return
        super().connection_lost(exc)
        session, self.session = self.session, None
        if session is not None:
            session.on_disconnect()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    # -- options the Session asks for -------------------------------------------------------
    def echo_off(self) -> bytes:
        """IAC WILL ECHO: the client stops echoing (password prompts). Returns the bytes to
        send, so the caller keeps them in order with its text."""
        w = self.writer
        w.local_option[ECHO] = True
        w.pending_option[WILL + ECHO] = False
        return IAC + WILL + ECHO

    def echo_on(self) -> bytes:
        self.writer.local_option[ECHO] = False
        return IAC + WONT + ECHO

    def prompt_marker(self) -> bytes:
        """IAC EOR when the client agreed to EOR, else IAC GA unless it suppressed go-ahead."""
        w = self.writer
        if w.local_option.enabled(EOR):
            return EOR_BYTES
        if w.local_option.enabled(SGA):
            return b""
        return GA_BYTES
