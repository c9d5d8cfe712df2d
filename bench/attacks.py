"""Attack workloads: what one hostile page or a few hostile addresses do to everyone else.

- `webflood`: paced telnet players type `look` once a second; halfway through the window,
  `flooders` websocket pages start sending as fast as the server takes it (binary frames of
  junk lines and GMCP `Dreamwave.Client` text frames). The players' round trips before and
  during the flood are reported apart: a page's flood should cost the others little.
- `halfopen`: the server runs with a soft open-file limit of 1,024 (`prlimit`) and its
  default connection caps; `sockets` connections from one address (127.0.0.2) open the web
  port and send half an HTTP handshake, then hang. Meanwhile `probes` newcomers from
  127.0.0.1 try the telnet port (do they get the "Name:" prompt?) and the web page (HTTP 200?).
- `loginpool`: `addresses` x `per_address` silent telnet sockets (from 127.0.1.x) sit at the
  login screen; then `probes` newcomers from 127.0.0.1 try to log in. The pre-login pool is
  set to exactly `addresses * per_address`, so without per-address shares it is full.

Each returns the newcomers who got in (`probes_in`); `errors` counts only the server's own
ERROR lines (the caller adds them), never a refused newcomer: that is the measurement.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from typing import Any

from bench.client import Counters, watchdog
from bench.players import Dreamer, Endpoint, Mix, login_many
from bench.stats import Recorder

PROBE_TIMEOUT = 10.0  # seconds a newcomer waits for the prompt (or the page) before giving up
NAME_PROMPT = b"Name:"
LOOK_ONLY = Mix((["look"], [1]), None)
FLOOD_LINE = b"xyzzy " + b"q" * 58 + b"\r\n"  # an unknown command, 64 bytes with its CRLF
FLOOD_FRAME = FLOOD_LINE * 16  # 1 KiB a binary frame
FLOOD_GMCP = 'Dreamwave.Client {"width": 80, "pad": "' + "z" * 900 + '"}'


async def _flood(host: str, port: int, until: float, sent: list[int]) -> None:
    """One page that sends as fast as the server reads: junk lines and GMCP frames."""
    from websockets.asyncio.client import connect as ws_connect

    try:
        async with ws_connect(
            f"ws://{host}:{port}/ws", subprotocols=["gmcp.mudstandards.org"],  # type: ignore[list-item]
            compression=None, max_size=None, open_timeout=PROBE_TIMEOUT,
        ) as ws:  # fmt: skip
            reader = asyncio.create_task(_drain(ws))
            while time.perf_counter() < until:
                await ws.send(FLOOD_FRAME)
                await ws.send(FLOOD_GMCP)
                sent[0] += len(FLOOD_FRAME) + len(FLOOD_GMCP)
            reader.cancel()
    except Exception:  # the server may close a flooding page: that is allowed
        return


async def _drain(ws: Any) -> None:
    with contextlib.suppress(Exception):
        async for _ in ws:
            pass


async def webflood(endpoint: Endpoint, names: list[str], flooders: int, duration: float) -> dict:
    """Round trips of `look` for telnet players, quiet half then flooded half."""
    counters = Counters(count_speech=False)
    quiet, flooded = Recorder(), Recorder()
    conns = await login_many(endpoint, names, counters)
    dreamers = [Dreamer(c, endpoint, Recorder(), names) for c in conns]
    dog = asyncio.create_task(watchdog(conns, PROBE_TIMEOUT * 3))
    start = time.perf_counter()
    half = start + duration / 2
    end = start + duration
    sent = [0]
    floods: list[asyncio.Task[None]] = []

    async def player(d: Dreamer) -> None:
        t = start + d.rng.random()
        while t < end and not d.conn.closed:
            await asyncio.sleep(max(0.0, t - time.perf_counter()))
            try:
                kind, s, done, _ok = await d.run_one(LOOK_ONLY)
            except Exception as err:
                (flooded if t >= half else quiet).error("lost", str(err))
            else:
                (flooded if s >= half else quiet).add(kind, s, done - s)
            t += 1.0

    async def start_flood() -> None:
        await asyncio.sleep(max(0.0, half - time.perf_counter()))
        floods.extend(
            asyncio.create_task(_flood(endpoint.host, endpoint.web_port, end, sent))
            for _ in range(flooders)
        )

    starter = asyncio.create_task(start_flood())
    await asyncio.gather(*(player(d) for d in dreamers))
    await starter
    await asyncio.gather(*floods, return_exceptions=True)
    dog.cancel()
    for c in conns:
        c.close()
    q, f = quiet.summary(start, half), flooded.summary(half, end)
    return {
        "players": len(conns),
        "flooders": flooders,
        "flood_kib_sent": round(sent[0] / 1024),
        "quiet_p50_ms": q.get("p50_ms"),
        "quiet_p99_ms": q.get("p99_ms"),
        "p50_ms": f.get("p50_ms"),
        "p99_ms": f.get("p99_ms"),
        "max_ms": f.get("max_ms"),
        "slowdown_p50": round(f["p50_ms"] / q["p50_ms"], 2) if q.get("p50_ms") else None,
        "lost": q.get("errors", 0) + f.get("errors", 0),
        "errors": 0,
    }


async def _newcomer_telnet(host: str, port: int) -> float | None:
    """Seconds until a new telnet connection shows the "Name:" prompt; None if it doesn't."""
    t0 = time.perf_counter()
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, local_addr=("127.0.0.1", 0)), PROBE_TIMEOUT
        )
    except (OSError, TimeoutError):
        return None
    got = b""
    try:
        async with asyncio.timeout(PROBE_TIMEOUT):
            while NAME_PROMPT not in got:
                chunk = await reader.read(4096)
                if not chunk:
                    return None
                got += chunk
        return time.perf_counter() - t0
    except TimeoutError:
        return None
    finally:
        writer.close()


async def _newcomer_page(host: str, port: int) -> float | None:
    """Seconds until the web port answers GET / with 200; None if it doesn't."""
    t0 = time.perf_counter()
    try:
        async with asyncio.timeout(PROBE_TIMEOUT):
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(f"GET / HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
            status = await reader.readline()
            writer.close()
    except (OSError, TimeoutError):
        return None
    return time.perf_counter() - t0 if b" 200 " in status else None


async def _hold(host: str, port: int, source: str, payload: bytes, held: list[Any]) -> None:
    """Open a socket from `source`, send `payload`, keep it open (closed by the caller)."""
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, local_addr=(source, 0)), PROBE_TIMEOUT
        )
    except (OSError, TimeoutError):
        return
    if payload:
        writer.write(payload)
    held.append((reader, writer))


async def _still_open(held: list[Any]) -> int:
    """How many the server still holds: a refused socket gets a line and EOF, which a look at
    `at_eof()` alone misses while the line sits unread."""

    async def closed(reader: asyncio.StreamReader) -> bool:
        try:
            async with asyncio.timeout(0.5):
                while await reader.read(4096):
                    pass
            return True
        except TimeoutError:  # (an OSError too: first)
            return False
        except OSError:  # reset: refused at once
            return True

    return sum(not c for c in await asyncio.gather(*(closed(r) for r, _w in held)))


async def _probe_newcomers(endpoint: Endpoint, probes: int, page: bool) -> dict[str, Any]:
    telnet = [await _newcomer_telnet(endpoint.host, endpoint.port) for _ in range(probes)]
    out: dict[str, Any] = {
        "probes": probes,
        "probes_in": sum(t is not None for t in telnet),
        "probe_max_s": round(max((t for t in telnet if t is not None), default=0.0), 3),
    }
    if page:
        pages = [await _newcomer_page(endpoint.host, endpoint.web_port) for _ in range(probes)]
        out["pages_ok"] = sum(t is not None for t in pages)
    return out


async def halfopen(endpoint: Endpoint, sockets: int, probes: int) -> dict[str, Any]:
    """Half-open web handshakes from one address, then newcomers on telnet and the page."""
    held: list[Any] = []
    half = f"GET /ws HTTP/1.1\r\nHost: {endpoint.host}\r\n".encode()
    await asyncio.gather(
        *(_hold(endpoint.host, endpoint.web_port, "127.0.0.2", half, held) for _ in range(sockets))
    )
    await asyncio.sleep(1.0)  # let the server refuse what it refuses
    out = {"players": sockets, "attack_held": await _still_open(held)}
    out.update(await _probe_newcomers(endpoint, probes, page=True))
    for _r, w in held:
        w.close()
    out["errors"] = 0
    return out


async def loginpool(
    endpoint: Endpoint, addresses: int, per_address: int, probes: int
) -> dict[str, Any]:
    """Silent sockets from many addresses at the login screen, then newcomers."""
    held: list[Any] = []
    await asyncio.gather(
        *(
            _hold(endpoint.host, endpoint.port, f"127.0.1.{a + 1}", b"", held)
            for a in range(addresses)
            for _ in range(per_address)
        )
    )
    await asyncio.sleep(1.0)
    out = {"players": addresses * per_address, "attack_held": await _still_open(held)}
    out.update(await _probe_newcomers(endpoint, probes, page=False))
    for _r, w in held:
        w.close()
    out["errors"] = 0
    return out


def nofile_argv(argv: list[str], soft: int) -> list[str]:
    """`argv` run with a soft open-file limit of `soft` (the usual 1,024 of a login shell),
    the hard limit left as it is: a server may raise its own soft limit up to it."""
    import resource

    _cur, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = max(soft, 1 << 20)
    return (
        ["prlimit", f"--nofile={soft}:{hard}", "--", *argv]
        if os.path.exists("/usr/bin/prlimit")
        else argv
    )
