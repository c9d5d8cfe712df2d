"""Splitting in-band telnet bytes into lines, with a bound on what may pile up."""

from __future__ import annotations

from typing import Any, Protocol

CR, LF, NUL = 13, 10, 0


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
