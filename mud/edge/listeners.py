"""The gateway's telnet listeners and its budget of open files.

Every host in the settings listens on one port (the first host's, when the port is 0), with
a long accept backlog; `open_file_budget` says how many client sockets may be open at once."""

from __future__ import annotations

import asyncio
import contextlib
import resource
import socket
from collections.abc import Callable, Sequence

from mud.supervisor.procs import ListenError

LISTEN_BACKLOG = 4096
MAX_OPEN_FILES = 1 << 20  # what we count on with no open-file limit at all


def open_file_budget(reserve: int) -> int:
    """Raise the soft open-file limit to the hard one (the usual soft 1,024 is a few hundred
    half-open sockets) and return how many client sockets may be open, `reserve` kept free
    for listeners, the link and logs: past it `accept()` would fail for everyone, unlogged."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
    if soft == resource.RLIM_INFINITY:
        soft = MAX_OPEN_FILES
    return max(1, soft - reserve)


async def listen(
    hosts: Sequence[str],
    port: int,
    factory: Callable[[], asyncio.Protocol],
    reuse_port: bool,
) -> tuple[list[asyncio.Server], int]:
    """A server on each host (serving), and the port they share. ListenError if one can't
    listen (those already made are closed)."""
    loop = asyncio.get_running_loop()
    servers: list[asyncio.Server] = []
    for host in hosts:
        try:
            server = await loop.create_server(
                factory, host, port, backlog=32, reuse_address=True,
                reuse_port=reuse_port or None, start_serving=False,
            )  # fmt: skip
        except OSError as err:
            for s in servers:
                s.close()
            raise ListenError(host, port, err) from err
        servers.append(server)
        port = server.sockets[0].getsockname()[1]
    for server in servers:
        await server.start_serving()
    for server in servers:
        for tsock in server.sockets:
            dup = socket.fromfd(tsock.fileno(), tsock.family, tsock.type)
            try:
                dup.listen(LISTEN_BACKLOG)
            finally:
                dup.close()
    return servers, port


def listening_on(servers: Sequence[asyncio.Server]) -> str:
    """Where the servers listen, IPv4 first: "127.0.0.1:4000, [::1]:4000"."""
    names = sorted(
        {s.getsockname()[:2] for srv in servers for s in srv.sockets},
        key=lambda a: ":" in a[0],
    )
    return ", ".join(f"[{h}]:{p}" if ":" in h else f"{h}:{p}" for h, p in names)
