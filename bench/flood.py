"""Telnet floods against one control player: how long does their `look` take meanwhile?

    python -m bench.flood [--attackers 20] [--kib 256] [--seconds 5] [--floods a,b,...]

For each kind of flood, a fresh server (`python server.py run`, through bench.serve) gets a
control player who types `look` every LOOK_INTERVAL seconds, and ATTACKERS connections that
each send KiB kibibytes of the flood as fast as the socket takes it, reconnecting to flood
again when cut off, for SECONDS. The table shows the control player's round trips (p50,
p99, max) during the flood, how many of the attackers' connections the server cut off, and
the server's CPU. Numbers, not a test: tests/test_hostile_input.py
checks the behaviour (flooders cut or ignored, the control player answered) without timing.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.proc import ServerProcess, Window, dreamwave_argv, machine, server_env

IAC, DONT, DO, WONT, WILL, SB, SE, GMCP = 255, 254, 253, 252, 251, 250, 240, 201
LOOK_INTERVAL = 0.05  # seconds between the control player's `look`s
LOOK_TIMEOUT = 30.0  # a look that takes longer counts as this long
SETTLE = 1.0  # seconds of quiet looks before the flood, as a baseline
CHUNK = 16 * 1024  # bytes per attacker write
CUT_WAIT = 2.0  # seconds after its flood an attacker waits to see whether it is cut off


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


FLOODS: dict[str, Callable[[int, random.Random], bytes]] = {
    "negotiation": negotiation,
    "iac-iac": iac_iac,
    "subnegotiation": subnegotiation,
    "random": garbage,
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
    server = ServerProcess(
        dreamwave_argv(workdir / f"{name}.db"), workdir / f"{name}.log", server_env()
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
        floods = [
            asyncio.ensure_future(attacker(server.port, data, until)) for _ in range(attackers)
        ]
        during = []
        while not all(f.done() for f in floods):
            during.append(await control.look())
            await asyncio.sleep(LOOK_INTERVAL)
        made = sum(f.result()[0] for f in floods)
        cut = sum(f.result()[1] for f in floods)
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
        "cpu_pct": cpu["cpu_pct"],
        "errors": len(errors),
    }


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
