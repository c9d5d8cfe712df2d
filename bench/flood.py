"""Floods against one control player: how long does their `look` take meanwhile?

    python -m bench.flood [--attackers 20] [--kib 256] [--seconds 5] [--floods a,b,...]

For each kind of flood, a fresh server (`python server.py run`, through bench.serve) gets a
control player who types `look` every LOOK_INTERVAL seconds, and ATTACKERS connections that
each send KiB kibibytes of the flood as fast as the socket takes it, reconnecting to flood
again when cut off, for SECONDS. The table shows the control player's round trips (p50,
p99, max) during the flood, how many of the attackers' connections the server cut off, how
many new connections (one every PROBE_EVERY seconds) did not reach the login screen within
PROBE_TIMEOUT, and the server's CPU. Numbers, not a test: tests/test_hostile_input.py and
tests/test_edge_security.py check the behaviour (flooders cut, throttled or ignored, the
control player answered, newcomers admitted) without timing.

The floods: telnet negotiation, escaped IACs, subnegotiations and random bytes on the telnet
port; `web`, typed lines as a browser page sends them (BINARY frames) on the web port; and
`handshakes`, each attacker holding HOLD_PER_ADDRESS half-open web handshakes from its own
loopback address (127.0.0.N), with the default connection caps (the other floods lift them).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from bench.proc import ServerProcess, Window, dreamwave_argv, machine, server_env

IAC, DONT, DO, WONT, WILL, SB, SE, GMCP = 255, 254, 253, 252, 251, 250, 240, 201
LOOK_INTERVAL = 0.05  # seconds between the control player's `look`s
LOOK_TIMEOUT = 30.0  # a look that takes longer counts as this long
SETTLE = 1.0  # seconds of quiet looks before the flood, as a baseline
CHUNK = 16 * 1024  # bytes per attacker write
CUT_WAIT = 2.0  # seconds after its flood an attacker waits to see whether it is cut off
WEB_FRAME = 8 * 1024  # bytes per frame a flooding page sends
HOLD_PER_ADDRESS = 12  # half-open handshakes one `handshakes` attacker keeps open
HALF_OPEN = b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\n"  # and never the blank line
PROBE_EVERY = 0.25  # seconds between newcomers' connections during a flood
PROBE_TIMEOUT = 5.0  # a newcomer who sees no "Name:" by then counts as failed
DEFAULT_CAPS = {"max_connections_per_address": 10, "max_unauthenticated": 500}


def negotiation(n: int, rng: random.Random) -> bytes:
    """Random IAC DO/DONT/WILL/WONT <option>."""
    out = bytearray()
    while len(out) < n:
        out += bytes([IAC, rng.choice((DO, DONT, WILL, WONT)), rng.randrange(256)])
    return bytes(out[:n])


def iac_iac(n: int, rng: random.Random) -> bytes:
    """Escaped 0xFF data bytes: IAC IAC IAC IAC ..."""
    return bytes([IAC]) * n


def subnegotiation(n: int, rng: random.Random) -> bytes:
    """GMCP subnegotiations of 8,000 random bytes each (under every size limit)."""
    out = bytearray()
    while len(out) < n:
        body = bytes(rng.randrange(255) for _ in range(8000))
        out += bytes([IAC, SB, GMCP]) + body + bytes([IAC, SE])
    return bytes(out[:n])


def garbage(n: int, rng: random.Random) -> bytes:
    """Uniformly random bytes (about one in 256 is IAC)."""
    return rng.randbytes(n)


def typed_lines(n: int, rng: random.Random) -> bytes:
    """Lines of random letters, as fast as a script in a page can type them."""
    out = bytearray()
    while len(out) < n:
        out += bytes(rng.randrange(97, 123) for _ in range(60)) + b"\n"
    return bytes(out[:n])


FLOODS: dict[str, Callable[[int, random.Random], bytes]] = {
    "negotiation": negotiation,
    "iac-iac": iac_iac,
    "subnegotiation": subnegotiation,
    "random": garbage,
    "web": typed_lines,
    "handshakes": lambda n, rng: HALF_OPEN,
}


class Control:
    """The player who only wants to look around."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.buf = bytearray()

    async def until(self, needle: bytes, timeout: float) -> None:
        while needle not in self.buf:
            data = await asyncio.wait_for(self.reader.read(65536), timeout)
            if not data:
                raise ConnectionError("control player disconnected")
            self.buf += data
        del self.buf[: self.buf.index(needle) + len(needle)]

    async def look(self) -> float:
        t0 = time.perf_counter()
        self.writer.write(b"look\r\n")
        try:
            await self.until(b"Exits:", LOOK_TIMEOUT)
        except TimeoutError:
            return LOOK_TIMEOUT
        return time.perf_counter() - t0


async def attacker(port: int, data: bytes, until: float) -> tuple[int, int]:
    """Flood again and again until `until`: (connections made, connections cut off)."""
    made = cut = 0
    while time.perf_counter() < until:
        made += 1
        cut += await flood_once(port, data)
    return made, cut


async def flood_once(port: int, data: bytes) -> bool:
    """Send `data`; True if the server cut us off before we were done (or right after)."""
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return True
    closed = asyncio.ensure_future(_discard(reader))
    try:
        for i in range(0, len(data), CHUNK):
            if closed.done():
                break
            writer.write(data[i : i + CHUNK])
            await writer.drain()
        await asyncio.wait([closed], timeout=CUT_WAIT)
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()
    cut = closed.done()
    closed.cancel()
    return cut


async def web_attacker(port: int, data: bytes, until: float) -> tuple[int, int]:
    """A page sending `data` as BINARY frames, again and again until `until`."""
    made = cut = 0
    while time.perf_counter() < until:
        made += 1
        try:
            await asyncio.wait_for(web_flood_once(port, data), until - time.perf_counter())
        except TimeoutError:  # still sending (throttled) when the flood ended
            return made, cut
        except (OSError, ConnectionClosed):
            cut += 1
    return made, cut


async def web_flood_once(port: int, data: bytes) -> None:
    url = f"ws://127.0.0.1:{port}/ws"
    async with connect(url, subprotocols=[Subprotocol("gmcp.mudstandards.org")]) as ws:
        await ws.send('Dreamwave.Client {"cols": 80}')
        for i in range(0, len(data), WEB_FRAME):
            await ws.send(data[i : i + WEB_FRAME])


async def handshake_attacker(port: int, index: int, until: float) -> tuple[int, int]:
    """HOLD_PER_ADDRESS half-open handshakes from 127.0.0.<2+index>, reopened when closed."""
    source = f"127.0.0.{2 + index % 250}"
    made = cut = 0
    held: list[asyncio.Future[None]] = []
    writers: dict[asyncio.Future[None], asyncio.StreamWriter] = {}  # (a lost writer closes)
    while time.perf_counter() < until:
        held = [f for f in held if not f.done()]
        while len(held) < HOLD_PER_ADDRESS:
            made += 1
            try:
                reader, writer = await asyncio.open_connection(
                    "127.0.0.1", port, local_addr=(source, 0)
                )
            except OSError:
                cut += 1
                continue
            writer.write(HALF_OPEN)
            held.append(asyncio.ensure_future(_discard(reader)))
            writers[held[-1]] = writer
        done, _ = await asyncio.wait(held, timeout=until - time.perf_counter(),
                                     return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
        cut += len(done)
        for f in done:
            writers.pop(f).close()
    for f in held:
        f.cancel()
    for writer in writers.values():
        writer.close()
    return made, cut


async def prober(port: int, until: float) -> tuple[int, int]:
    """A newcomer every PROBE_EVERY seconds: (tried, did not see the login screen)."""
    tried = failed = 0
    while time.perf_counter() < until:
        tried += 1
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", port), PROBE_TIMEOUT
            )
            try:
                await asyncio.wait_for(reader.readuntil(b"Name: "), PROBE_TIMEOUT)
            finally:
                writer.close()
        except (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            failed += 1
        await asyncio.sleep(PROBE_EVERY)
    return tried, failed


async def _discard(reader: asyncio.StreamReader) -> None:
    """Read until the server closes the connection."""
    try:
        while await reader.read(65536):
            pass
    except (ConnectionError, OSError):
        pass


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def one_flood(
    name: str, attackers: int, kib: int, seconds: float, workdir: Path
) -> dict[str, object]:
    rng = random.Random(name)
    data = FLOODS[name](kib * 1024, rng)
    limits = DEFAULT_CAPS if name == "handshakes" else None
    server = ServerProcess(
        dreamwave_argv(workdir / f"{name}.db", limits=limits), workdir / f"{name}.log", server_env()
    )
    await server.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        control = Control(reader, writer)
        await control.until(b"Name: ", 10)
        writer.write(b"create Control secretpass\r\n")
        await control.until(b"Exits:", 30)
        quiet = []
        t_end = time.perf_counter() + SETTLE
        while time.perf_counter() < t_end:
            quiet.append(await control.look())
            await asyncio.sleep(LOOK_INTERVAL)
        window = Window.open(server.pid)
        until = time.perf_counter() + seconds
        floods = [asyncio.ensure_future(one_attacker(name, server, data, until, i))
                  for i in range(attackers)]  # fmt: skip
        probe = asyncio.ensure_future(prober(server.port, until))
        during = []
        while not all(f.done() for f in floods):
            during.append(await control.look())
            await asyncio.sleep(LOOK_INTERVAL)
        made = sum(f.result()[0] for f in floods)
        cut = sum(f.result()[1] for f in floods)
        tried, failed = await probe
        cpu = window.close(server.pid)
        writer.close()
        errors = server.error_lines()
    finally:
        await server.stop()
    during = during or [0.0]
    return {
        "flood": name,
        "looks": len(during),
        "quiet_p50_ms": statistics.median(quiet) * 1000,
        "p50_ms": statistics.median(during) * 1000,
        "p99_ms": pct(during, 0.99) * 1000,
        "max_ms": max(during) * 1000,
        "cut/connections": f"{cut}/{made}",
        "newcomers failed": f"{failed}/{tried}",
        "cpu_pct": cpu["cpu_pct"],
        "errors": len(errors),
    }


def one_attacker(
    name: str, server: ServerProcess, data: bytes, until: float, index: int
) -> Coroutine[Any, Any, tuple[int, int]]:
    if name == "web":
        return web_attacker(server.web_port, data, until)
    if name == "handshakes":
        return handshake_attacker(server.web_port, index, until)
    return attacker(server.port, data, until)


def table(rows: list[dict[str, object]]) -> str:
    cols = list(rows[0])
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        cells = [f"{v:.1f}" if isinstance(v, float) else str(v) for v in r.values()]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


async def main_async(args: argparse.Namespace) -> int:
    names = args.floods.split(",")
    unknown = [n for n in names if n not in FLOODS]
    if unknown:
        print(f"unknown flood(s) {unknown}; known: {', '.join(FLOODS)}", file=sys.stderr)
        return 2
    if args.keep:
        keep = Path(tempfile.mkdtemp(prefix="dreamwave-flood-"))
        rows = [await one_flood(n, args.attackers, args.kib, args.seconds, keep) for n in names]
        print(f"server logs and databases kept in {keep}")
    else:
        with tempfile.TemporaryDirectory(prefix="dreamwave-flood-") as tmp:
            rows = [
                await one_flood(n, args.attackers, args.kib, args.seconds, Path(tmp)) for n in names
            ]
    m = machine()
    print(
        f"{args.attackers} attackers x {args.kib} KiB per connection, reconnecting for "
        f"{args.seconds:g} s; control `look` every {LOOK_INTERVAL * 1000:.0f} ms; "
        f"machine: {m.get('cpu')}, {m.get('cores')} cores"
    )
    print(table(rows))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.flood", description=__doc__)
    parser.add_argument("--attackers", type=int, default=20)
    parser.add_argument("--kib", type=int, default=256, help="KiB each attacker sends")
    parser.add_argument(
        "--seconds",
        type=float,
        default=5.0,
        help="attackers reconnect and flood again for this long",
    )
    parser.add_argument("--floods", default=",".join(FLOODS))
    parser.add_argument("--keep", action="store_true", help="keep the server logs")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
