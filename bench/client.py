"""The load generator's side of one telnet connection, kept lean on purpose.

On a 2-core machine the load generator competes with the server for CPU, so this is a bare
`asyncio.Protocol`: no StreamReader, no per-byte loops, no decoding. Telnet negotiation is
refused wholesale (WONT/DONT to everything except EOR), which takes the rare slow path; after
that every chunk costs a few `bytes.count` calls.

A command's round trip ends at the first prompt marker (IAC GA or IAC EOR) after the server
took the line: Dreamwave starts the reply to each line with a bare CR (it takes the cursor
back to column 0) and ends it with exactly one prompt. Messages from others arrive after a
line break and end with the prompt shown again, which ends no command; a connection has one
command in flight at a time. The response text is kept only while a command is in
flight, so callers can check it carries the expected token.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

IAC, DONT, DO, WONT, WILL, SB, SE = 255, 254, 253, 252, 251, 250, 240
GA, EOR_CMD, EOR_OPT = 249, 239, 25
GA_MARK = bytes([IAC, GA])
EOR_MARK = bytes([IAC, EOR_CMD])
IAC_BYTE = bytes([IAC])
NEGOTIATION_VERBS = (DO, DONT, WILL, WONT)

# Speech the bench sends carries a token starting with this, so deliveries can be counted.
TOKEN_MARK = b"zq"
ARRIVES = b" arrives"
LEAVES = b" leaves "


class CommandFailed(Exception):
    """The connection closed or the response never came."""


@dataclass
class Counters:
    """Totals over every connection of one workload (what arrived, not what was sent)."""

    bytes_in: int = 0
    lines_in: int = 0
    tokens_in: int = 0  # speech tokens seen, own echoes included
    moves_seen: int = 0  # "X arrives" / "X leaves" lines about others
    count_speech: bool = True

    def snapshot(self) -> tuple[int, int, int, int]:
        return self.bytes_in, self.lines_in, self.tokens_in, self.moves_seen


Listener = Callable[[bytes, float], None]
# Sees each chunk of one connection before its prompt markers end a command, and returns how
# many of them do (the reload and crash workloads drop the prompt that follows the "dream is
# back" line, which ends no command; see bench/recovery.py).
Watcher = Callable[["Conn", bytes, int, float], int]


class Conn(asyncio.Protocol):
    """One connection. `command()` sends a line and waits for the prompt that ends it."""

    def __init__(self, counters: Counters, listener: Listener | None = None) -> None:
        self.counters = counters
        self.listener = listener
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.name = ""
        self.exits: list[str] = []
        self.sent_at = 0.0  # when the command in flight was sent (watchdog reads this)
        self._waiter: asyncio.Future[float] | None = None
        self._chunks: list[bytes] = []
        self._taken = True  # the server took the line in flight (its reply has begun)
        self._carry = b""
        self._answered: set[tuple[int, int]] = set()
        self.watcher: Watcher | None = None

    # -- asyncio callbacks --------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.fail(CommandFailed("connection closed"))

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        if self._carry:
            data = self._carry + data
            self._carry = b""
        if data[-1] == IAC:  # a marker split across reads: finish it next time
            self._carry = data[-1:]
            data = data[:-1]
            if not data:
                return
        marks = data.count(GA_MARK) + data.count(EOR_MARK)
        if data.count(IAC_BYTE) != marks:
            data, marks = self._negotiate(data)
        c = self.counters
        c.bytes_in += len(data)
        c.lines_in += data.count(b"\n")
        if c.count_speech:
            c.tokens_in += data.count(TOKEN_MARK)
            c.moves_seen += data.count(ARRIVES) + data.count(LEAVES)
        if self.listener is not None:
            self.listener(data, now)
        if self.watcher is not None:
            marks = self.watcher(self, data, marks, now)
        waiter = self._waiter
        if waiter is not None:
            self._chunks.append(data)
            if not self._taken:  # (prompts before it: shown again after others' lines)
                at = taken_at(data)
                self._taken = at >= 0
                after = data.count(GA_MARK, at) + data.count(EOR_MARK, at) if at >= 0 else 0
                marks = min(marks, after)
            if marks:
                self._waiter = None
                if not waiter.done():
                    waiter.set_result(now)

    # -- telnet negotiation (slow path, only before the banner) -------------------------
    def _negotiate(self, data: bytes) -> tuple[bytes, int]:
        """Strip IAC sequences, refuse every option but EOR; keep prompt markers."""
        out = bytearray()
        replies = bytearray()
        marks = 0
        i, n = 0, len(data)
        while i < n:
            j = data.find(IAC_BYTE, i)
            if j < 0:
                out += data[i:]
                break
            out += data[i:j]
            if j + 1 >= n:
                self._carry = data[j:] + self._carry
                break
            cmd = data[j + 1]
            if cmd in NEGOTIATION_VERBS:
                if j + 2 >= n:
                    self._carry = data[j:] + self._carry
                    break
                opt = data[j + 2]
                if (cmd, opt) not in self._answered and cmd in (DO, WILL):
                    self._answered.add((cmd, opt))
                    if cmd == WILL:
                        replies += bytes([IAC, DO if opt == EOR_OPT else DONT, opt])
                    else:
                        replies += bytes([IAC, WONT, opt])
                i = j + 3
            elif cmd == SB:
                end = data.find(bytes([IAC, SE]), j + 2)
                if end < 0:
                    self._carry = data[j:] + self._carry
                    break
                i = end + 2
            elif cmd == IAC:
                out.append(IAC)
                i = j + 2
            else:
                if cmd in (GA, EOR_CMD):
                    out += data[j : j + 2]
                    marks += 1
                i = j + 2
        if replies and self.transport is not None:
            self.transport.write(bytes(replies))
        return bytes(out), marks

    # -- what workloads call ------------------------------------------------------------
    def expect_prompt(self, line_sent: bool = True) -> asyncio.Future[float]:
        """A future for the prompt that ends the reply to the line about to be sent (or, not
        `line_sent`, the next prompt at all: the banner's); resolves to the time it came."""
        if self.closed:
            raise CommandFailed("connection closed")
        fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiter = fut
        self._chunks = []
        self._taken = not line_sent
        self.sent_at = time.perf_counter()
        return fut

    def send(self, line: str) -> float:
        """Write one line; returns when it was written."""
        assert self.transport is not None
        self.transport.write(line.encode() + b"\r\n")
        return time.perf_counter()

    async def command(self, line: str) -> tuple[float, float, bytes]:
        """(sent, done, response) for one line: response is everything up to its prompt."""
        fut = self.expect_prompt()
        sent = self.send(line)
        done = await fut
        return sent, done, self.response()

    def response(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks = []
        return data

    def fail(self, exc: Exception) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)

    def close(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.close()


def taken_at(data: bytes) -> int:
    """Where the reply to a line begins in `data` (the bare CR the server starts it with:
    one not followed by LF), or -1."""
    i = data.find(b"\r")
    while i >= 0:
        if data[i + 1 : i + 2] != b"\n":
            return i
        i = data.find(b"\r", i + 2)
    return -1


async def connect(
    host: str, port: int, counters: Counters, listener: Listener | None = None
) -> Conn:
    loop = asyncio.get_running_loop()
    _transport, conn = await loop.create_connection(lambda: Conn(counters, listener), host, port)
    return conn


class _WsTransport:
    """What a Conn writes to, over a websocket: each write one binary frame, in order."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._closing = False
        self._sender = asyncio.get_running_loop().create_task(self._send())

    async def _send(self) -> None:
        try:
            while (data := await self._queue.get()) is not None:
                await self.ws.send(data)
        except Exception:
            pass
        finally:
            await self.ws.close()

    def write(self, data: bytes) -> None:
        if not self._closing:
            self._queue.put_nowait(bytes(data))

    def close(self) -> None:
        if not self._closing:
            self._closing = True
            self._queue.put_nowait(None)

    def is_closing(self) -> bool:
        return self._closing


async def connect_ws(
    host: str, port: int, counters: Counters, listener: Listener | None = None
) -> Conn:
    """A Conn over the browser client's port: the `telnet.mudstandards.org` subprotocol
    carries the same telnet stream in binary frames, so the same Conn reads it."""
    from websockets.asyncio.client import connect as ws_connect

    ws = await ws_connect(
        f"ws://{host}:{port}/ws", subprotocols=["telnet.mudstandards.org"],  # type: ignore[list-item]
        compression=None, max_size=None,
    )  # fmt: skip
    conn = Conn(counters, listener)
    transport = _WsTransport(ws)
    conn.connection_made(transport)  # type: ignore[arg-type]

    async def read() -> None:
        try:
            async for frame in ws:
                if isinstance(frame, bytes):
                    conn.data_received(frame)
        except Exception:
            pass
        finally:
            conn.connection_lost(None)

    conn.ws_reader = asyncio.get_running_loop().create_task(read())  # type: ignore[attr-defined]
    return conn


async def watchdog(conns: list[Conn], timeout: float, period: float = 0.5) -> None:
    """Fail any command that has waited longer than `timeout` (run as a task; cancel it)."""
    while True:
        await asyncio.sleep(period)
        now = time.perf_counter()
        for conn in conns:
            if conn._waiter is not None and now - conn.sent_at > timeout:
                conn.fail(CommandFailed(f"no response within {timeout:.0f}s"))
