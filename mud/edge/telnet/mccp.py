"""MCCP2 (option 86): compressing everything we send once the client agrees.

Every byte for a connection — our text and telnetlib3's negotiation replies — goes through
one CompressingTransport standing in front of the real transport. telnetlib3's own MCCP2
swaps `transport.write` on the transport object, which uvloop's C transports don't allow.
Each write is flushed with Z_SYNC_FLUSH so a line or a prompt reaches the client at once.
"""

from __future__ import annotations

import logging
import zlib
from typing import Any

log = logging.getLogger("dreamwave.telnet")

COMPRESS_LEVEL = 6  # zlib level: most of the gain for a fraction of level 9's CPU
WINDOW_BITS = 12  # 4 KiB history per connection: MUD text compresses well with a small window
MEM_LEVEL = 5


class CompressingTransport:
    """Delegates to the real transport; `write` compresses while MCCP2 is on."""

    def __init__(self, transport: Any) -> None:
        self._transport = transport
        self._zlib: Any = None

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

    def write(self, data: bytes) -> None:
        z = self._zlib
        if z is not None:
            data = z.compress(data) + z.flush(zlib.Z_SYNC_FLUSH)
        self._transport.write(data)

    def __getattr__(self, name: str) -> Any:  # close, abort, get_extra_info, buffer sizes...
        return getattr(self._transport, name)
