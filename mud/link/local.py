"""The local transport: a Unix-domain socket between processes on one machine.

The engine listens on a socket file inside a folder only its owner may enter (one it made
itself, 0700; the socket 0600), so only the same user's gateways can connect; a folder others
may enter is refused, never chmod'ed. Each gateway still proves the link secret first
(mud.link.auth): the configured one, else a key file the engine writes beside the socket.
Payloads are length-prefixed. Nothing extra to install and no broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Unpack, cast

from mud.link.auth import Guard, LinkRefused, folder_secret
from mud.link.base import Link, LinkOptions, LinkTuning
from mud.link.frames import LinkProtocolError, StreamFramer

READ_HIGH_WATER = 4 * 1024 * 1024  # bytes the kernel may hold for us before reading pauses
# Back-pressure: past WRITE_HIGH_WATER bytes unsent to the peer, stop reading from it (a slow
# gateway sends no more input, so its players make no more output) until it is down to
# WRITE_LOW_WATER; past Link.max_pending the peer is dropped.
WRITE_HIGH_WATER = 4 * 1024 * 1024
WRITE_LOW_WATER = 1024 * 1024


class StreamLink(Link, asyncio.Protocol):
    """A Link over one stream connection (either end of the Unix socket)."""

    def __init__(self, name: str, **kw: Unpack[LinkOptions]) -> None:
        Link.__init__(self, name, **kw)
        self._framer = StreamFramer(self.max_payload)
        self.transport: asyncio.Transport | None = None
        self.connected = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # asyncio's, or uvloop's: a Transport in all but its base class
        self.transport = cast(asyncio.Transport, transport)
        self.transport.set_write_buffer_limits(WRITE_HIGH_WATER, WRITE_LOW_WATER)
        if not self.connected.done():
            self.connected.set_result(None)

    def data_received(self, data: bytes) -> None:
        try:
            payloads = self._framer.feed(data)
        except LinkProtocolError as err:
            self.close(f"protocol error: {err}")
            return
        for payload in payloads:
            if self.closed:
                return
            self._received(payload)

    def pause_writing(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        self.close("peer closed the connection" if exc is None else f"connection lost: {exc}")

    def _send(self, payload: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(StreamFramer.frame(payload))

    def pending_bytes(self) -> int:
        return self.transport.get_write_buffer_size() if self.transport is not None else 0

    def _shutdown(self) -> None:
        if self.transport is not None:
            self.transport.close()


class LocalListener:
    """The engine's end: accepts gateways on a socket file; `on_link` gets each new Link."""

    def __init__(
        self,
        path: str | Path,
        on_link: Callable[[StreamLink], None],
        secret: bytes | None = None,
        **kw: Unpack[LinkTuning],
    ) -> None:
        """`on_link` gets each gateway once it has proven `secret` (None: the folder's key)."""
        self.path = Path(path)
        self.on_link = on_link
        self.secret = secret
        self.kw = kw
        self.server: asyncio.AbstractServer | None = None
        self._count = 0

    async def start(self) -> None:
        private_directory(self.path.parent)
        if self.secret is None:
            self.secret = folder_secret(self.path, create=True)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()  # a socket file left by an engine that was killed
        loop = asyncio.get_running_loop()
        old = os.umask(0o177)
        try:
            self.server = await loop.create_unix_server(self._accept, str(self.path))
        finally:
            os.umask(old)
        os.chmod(self.path, 0o600)

    def _accept(self) -> StreamLink:
        self._count += 1
        assert self.secret is not None
        guard = Guard(self.secret, "engine")
        link = StreamLink(f"gateway-{self._count}", guard=guard, **self.kw)
        link.on_ready = lambda: self.on_link(link)
        return link

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


async def connect_local(
    path: str | Path, name: str = "engine", secret: bytes | None = None, **kw: Unpack[LinkTuning]
) -> StreamLink:
    """A gateway's end: connect to the engine's socket file and start proving `secret`
    (None: the key file beside the socket). What is posted waits until that is done."""
    loop = asyncio.get_running_loop()
    if secret is None:
        secret = folder_secret(path, create=False)  # (OSError while the engine isn't there)
    link = StreamLink(name, guard=Guard(secret, "gateway"), **kw)
    try:
        await loop.create_unix_connection(lambda: link, str(path))
        await link.connected
    except BaseException:
        link.discard()  # never connected: nothing to tell anyone
        raise
    link.knock()
    return link


def private_directory(path: Path) -> None:
    """Make `path`, private (0700), if it isn't there; refuse one that is there and that
    others may enter or that isn't ours. A folder is never chmod'ed: it may be /tmp, or home."""
    try:
        path.mkdir(mode=0o700, parents=True)
    except FileExistsError:
        pass
    except OSError as err:
        raise LinkRefused(f"Can't make the link socket's folder {path}: {err.strerror}.") from None
    st = path.stat()
    if st.st_uid != os.getuid() or st.st_mode & 0o077:
        raise LinkRefused(
            f"The link socket must be in a folder only you can enter, and {path} is "
            f"{'open to others' if st.st_mode & 0o077 else 'not yours'}: name a new folder "
            "in link.socket (Dreamwave makes it private) or leave it empty."
        )
