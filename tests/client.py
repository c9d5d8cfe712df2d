"""A small telnet client for tests: handles IAC, records negotiation, reads like a person.

It answers the server's negotiation the way a simple MUD client would (configurable), keeps
every telnet command it received in `commands`, and collects in-band text in `text`.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import zlib

IAC, DONT, DO, WONT, WILL, SB, SE = 255, 254, 253, 252, 251, 250, 240
GA, EOR_CMD = 249, 239
ECHO, SGA, TTYPE, NAWS, BINARY, EOR, CHARSET = 1, 3, 24, 31, 0, 25, 42
MSSP, MCCP2, MCCP3, GMCP = 70, 86, 87, 201
ANSI_RE = re.compile(r"\x1b\[[0-9;]*m")

DEFAULT_TIMEOUT = 5.0


class Client:
    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        ttype: str | None = None,
        naws: tuple[int, int] | None = None,
        answer: bool = True,
        agree: frozenset[int] | set[int] = frozenset({ECHO, SGA, BINARY, EOR}),
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.ttype = ttype
        self.naws = naws
        self.answer = answer  # False: behave like a raw socket that ignores negotiation
        self.agree = set(agree)  # options we answer DO to when the server offers WILL
        self.raw = bytearray()  # every byte received, IAC included
        self.text = ""  # in-band text received, decoded
        self.pos = 0  # how far expect() has consumed `text`
        self.commands: list[tuple[int, int]] = []  # (verb, option) in order received
        self.subnegotiations: list[bytes] = []
        self.prompts = 0  # IAC GA / IAC EOR seen
        self.prompt_marks: list[int] = []  # GA or EOR_CMD, in order
        self.gmcp: list[tuple[str, object]] = []  # decoded GMCP messages received
        self.compressed = False  # inside an MCCP2 stream
        self.compressed_bytes = 0
        self._zlib: zlib._Decompress | None = None
        self._buf = bytearray()
        self._closed = False
        self._task = asyncio.create_task(self._pump())

    @classmethod
    async def connect(cls, port: int, host: str = "127.0.0.1", **kw: object) -> Client:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer, **kw)  # type: ignore[arg-type]

    # -- receiving --------------------------------------------------------------------------
    async def _pump(self) -> None:
        try:
            while True:
                data = await self.reader.read(65536)
                if not data:
                    break
                self._receive(data)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._closed = True

    def _receive(self, data: bytes) -> None:
        if self._zlib is not None:
            self.compressed_bytes += len(data)
            plain = self._zlib.decompress(data)
            if self._zlib.eof:  # the server ended compression: the rest is plain
                rest = self._zlib.unused_data
                self._zlib = None
                self.compressed = False
                plain += rest
            data = plain
        self.raw += data
        self._feed(data)

    def _feed(self, data: bytes) -> None:
        buf = self._buf
        buf += data
        out = bytearray()
        i = 0
        while i < len(buf):
            b = buf[i]
            if b != IAC:
                out.append(b)
                i += 1
                continue
            if i + 1 >= len(buf):
                break
            cmd = buf[i + 1]
            if cmd == IAC:
                out.append(IAC)
                i += 2
            elif cmd in (DO, DONT, WILL, WONT):
                if i + 2 >= len(buf):
                    break
                opt = buf[i + 2]
                self.commands.append((cmd, opt))
                self._negotiate(cmd, opt)
                i += 3
            elif cmd == SB:
                end = buf.find(bytes([IAC, SE]), i + 2)
                if end == -1:
                    break
                payload = bytes(buf[i + 2 : end]).replace(b"\xff\xff", b"\xff")
                self.subnegotiations.append(payload)
                self._subneg(payload)
                i = end + 2
                if payload == bytes([MCCP2]):
                    # Everything after IAC SB MCCP2 IAC SE is a zlib stream.
                    rest = bytes(buf[i:])
                    del buf[:]
                    self.text += out.decode("utf-8", "replace")
                    self._zlib = zlib.decompressobj()
                    self.compressed = True
                    if rest:
                        self._receive(rest)
                    return
            else:
                if cmd in (GA, EOR_CMD):
                    self.prompts += 1
                    self.prompt_marks.append(cmd)
                self.commands.append((cmd, 0))
                i += 2
        del buf[:i]
        self.text += out.decode("utf-8", "replace")

    def _send_raw(self, data: bytes) -> None:
        if not self.writer.is_closing():
            self.writer.write(data)

    def _negotiate(self, cmd: int, opt: int) -> None:
        if not self.answer:
            return
        if cmd == DO:
            if opt == TTYPE and self.ttype:
                self._send_raw(bytes([IAC, WILL, TTYPE]))
            elif opt == NAWS and self.naws:
                self._send_raw(bytes([IAC, WILL, NAWS]))
                self.send_naws(*self.naws)
            elif opt == BINARY:
                self._send_raw(bytes([IAC, WILL, BINARY]))
            else:
                self._send_raw(bytes([IAC, WONT, opt]))
        elif cmd == WILL:
            if opt in self.agree:
                self._send_raw(bytes([IAC, DO, opt]))
            else:
                self._send_raw(bytes([IAC, DONT, opt]))

    def _subneg(self, payload: bytes) -> None:
        if payload[:1] == bytes([GMCP]):
            text = payload[1:].decode("utf-8", "replace")
            pkg, _, rest = text.partition(" ")
            self.gmcp.append((pkg, json.loads(rest) if rest.strip() else None))
        if not self.answer or not payload:
            return
        if payload[0] == TTYPE and self.ttype:
            self._send_raw(bytes([IAC, SB, TTYPE, 0]) + self.ttype.encode() + bytes([IAC, SE]))

    def send_naws(self, cols: int, rows: int) -> None:
        body = cols.to_bytes(2, "big") + rows.to_bytes(2, "big")
        body = body.replace(b"\xff", b"\xff\xff")
        self._send_raw(bytes([IAC, SB, NAWS]) + body + bytes([IAC, SE]))

    # -- the test-facing API ----------------------------------------------------------------
    def send(self, line: str) -> None:
        self._send_raw(line.encode("utf-8") + b"\r\n")

    def send_bytes(self, data: bytes) -> None:
        self._send_raw(data)

    def send_gmcp(self, package: str, data: object = None) -> None:
        body = package if data is None else f"{package} {json.dumps(data)}"
        self._send_raw(bytes([IAC, SB, GMCP]) + body.encode() + bytes([IAC, SE]))

    async def expect_command(self, cmd: int, opt: int, timeout: float = DEFAULT_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while (cmd, opt) not in self.commands:
            if time.monotonic() > deadline:
                raise AssertionError(f"no IAC {cmd} {opt}; got {self.commands}")
            await asyncio.sleep(0.005)

    async def expect_gmcp(self, package: str, timeout: float = DEFAULT_TIMEOUT) -> object:
        """The data of the next not-yet-consumed GMCP message named `package`."""
        deadline = time.monotonic() + timeout
        while True:
            for i, (pkg, data) in enumerate(self.gmcp):
                if pkg == package:
                    del self.gmcp[: i + 1]
                    return data
            if time.monotonic() > deadline:
                raise AssertionError(f"no GMCP {package}; got {self.gmcp}")
            await asyncio.sleep(0.005)

    async def expect(self, pattern: str, timeout: float = DEFAULT_TIMEOUT) -> re.Match[str]:
        """Wait for `pattern` (regex) in text after what earlier expects consumed."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.text, self.pos)
            if m:
                self.pos = m.end()
                return m
            if self._closed:
                raise AssertionError(f"closed before {pattern!r}; got:\n{self.text[self.pos :]}")
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out waiting for {pattern!r}; got:\n{self.text[self.pos :]}"
                )
            await asyncio.sleep(0.005)

    async def cmd(self, line: str, pattern: str, timeout: float = DEFAULT_TIMEOUT) -> str:
        """Type a line and wait for the response pattern; returns the text up to the match."""
        start = self.pos
        self.send(line)
        m = await self.expect(pattern, timeout)
        return self.text[start : m.end()]

    async def quiet(self, seconds: float = 0.2) -> str:
        """Everything that arrives during `seconds` (for asserting that nothing came)."""
        await asyncio.sleep(seconds)
        out = self.text[self.pos :]
        self.pos = len(self.text)
        return out

    async def wait_closed(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while not self._closed:
            if time.monotonic() > deadline:
                raise AssertionError("connection still open")
            await asyncio.sleep(0.01)

    @property
    def closed(self) -> bool:
        return self._closed

    def plain(self) -> str:
        return ANSI_RE.sub("", self.text)

    async def close(self) -> None:
        self.writer.close()
        self._task.cancel()
        try:
            await self._task
        except BaseException:
            pass


async def said(c: Client, line: str, prompt: str = r"\n> ") -> str:
    """Everything one command printed, up to its prompt (earlier output is skipped: the tail
    of what came before, its prompt included, already arrived). The reply begins where the
    server took the line (a bare CR): a prompt shown again after other people's lines
    before that ends nothing."""
    start = c.pos = len(c.text)
    c.send(line)
    await c.expect(r"\r(?=[^\n])")
    m = await c.expect(prompt)
    return c.text[start : m.end()]


async def login(
    port: int, name: str, password: str = "secretpass", create: bool = True, **kw: object
) -> Client:
    """Connect and log in with the one-line form; returns once the room is shown."""
    c = await Client.connect(port, **kw)  # type: ignore[arg-type]
    await c.expect("Name: ")
    verb = "create" if create else "connect"
    c.send(f"{verb} {name} {password}")
    await c.expect(r"(?s)Exits:.*?> ", timeout=10)
    return c
