"""MCCP2 (option 86): compressing everything we send once the client agrees.

Every byte for a connection — our text and telnetlib3's negotiation replies — goes through
one CompressingTransport standing in front of the real transport. telnetlib3's own MCCP2
swaps `transport.write` on the transport object, which uvloop's C transports don't allow.
Each write is flushed with Z_SYNC_FLUSH so a line or a prompt reaches the client at once.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from typing import Any, cast

log = logging.getLogger("dreamwave.telnet")

COMPRESS_LEVEL = 6  # zlib level: most of the gain for a fraction of level 9's CPU
WINDOW_BITS = 12  # 4 KiB history per connection: MUD text compresses well with a small window
MEM_LEVEL = 5


class CompressingTransport(asyncio.Transport):
    """A transport in front of the real one: `write` compresses while MCCP2 is on; the rest
    is the real transport's."""

    def __init__(self, transport: asyncio.BaseTransport) -> None:
        super().__init__()
        # a connection's transport: asyncio's, or uvloop's (one in all but its base class)
        self._transport = cast(asyncio.Transport, transport)
        self._zlib: zlib._Compress | None = None

    @property
    def compressing(self) -> bool:
        return self._zlib is not None

    def start(self) -> None:
        self._zlib = zlib.compressobj(COMPRESS_LEVEL, zlib.DEFLATED, WINDOW_BITS, MEM_LEVEL)

    def finish(self) -> None:
        """End the zlib stream (the client then reads plain bytes again)."""
        z, self._zlib = self._zlib, None
        if z is not None:
            try:
                self._transport.write(z.flush(zlib.Z_FINISH))
            except zlib.error as exc:
                log.debug("MCCP2 end: %s", exc)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        z = self._zlib
        if z is not None:
            data = z.compress(data) + z.flush(zlib.Z_SYNC_FLUSH)
        self._transport.write(data)

    # -- the rest: the real transport's -----------------------------------------------------
    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def close(self) -> None:
        self._transport.close()

    def abort(self) -> None:
        self._transport.abort()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._transport.get_protocol()

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._transport.set_write_buffer_limits(high, low)

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size()

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._transport.get_write_buffer_limits()

    def write_eof(self) -> None:
        self._transport.write_eof()

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def __getattr__(self, name: str) -> Any:  # anything else a transport has
        return getattr(self._transport, name)
