"""The crowd workload: many connected, some playing — what a big evening costs.

`players` dreamers log in and stay (a world of `grid` x `grid` rooms plus the default world,
everyone spread over it); `active` of them then send a command a second at a random phase
(the paced mix, without loops) while the rest idle. Reported: the active players' round
trips, and the server's memory per connection (RSS of the whole process tree once everyone
is in, less its idle RSS, over the number connected).

The idle ones are held by a process of their own (bench/crowd_idle.py), so reading their room
lines doesn't slow the load generator's loop that times the active players; the rates are
the active players' (the idle ones' totals are reported as `idle_*`).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from bench.client import Counters, watchdog
from bench.players import Dreamer, Endpoint, Mix, login_many
from bench.stats import Recorder
from bench.workloads import COMMAND_TIMEOUT, Probe, _paced_loop, probe_memory, rates


async def crowd(
    endpoint: Endpoint,
    names: list[str],
    active: int,
    probe: Probe,
    mix: Mix,
    duration: float,
    warmup: float,
    rss_idle: int,
) -> dict[str, object]:
    counters = Counters(count_speech=True)
    rec = Recorder()
    t_login = time.perf_counter()
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.crowd_idle", endpoint.host, str(endpoint.port),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert holder.stdin is not None and holder.stdout is not None
    holder.stdin.write("".join(f"{n}\n" for n in names[active:]).encode() + b"\n")
    await holder.stdin.drain()
    conns = await login_many(endpoint, names[:active], counters)
    ready = (await holder.stdout.readline()).decode().split()
    if ready[:1] != ["ready"]:
        raise RuntimeError(f"the idle crowd's process failed: {ready}")
    login_s = time.perf_counter() - t_login
    await asyncio.sleep(1.0)  # arrivals' lines settle before memory is read
    rss_loaded = probe_memory(probe)
    playing = [Dreamer(c, endpoint, rec, names) for c in conns]
    dog = asyncio.create_task(watchdog(conns, COMMAND_TIMEOUT))
    start = time.perf_counter()
    w0, w1 = start + warmup, start + warmup + duration

    def done(kind: str, sent: float, finished: float, _ok: bool) -> None:
        if w0 <= sent < w1:
            rec.add(kind, sent, finished - sent)

    async def window() -> dict[str, object]:
        await asyncio.sleep(w0 - time.perf_counter())
        before, windows = counters.snapshot(), probe.open()
        await asyncio.sleep(w1 - time.perf_counter())
        return {"usage": probe.close(windows), "rates": rates(counters, before, 0, duration)}

    measure = asyncio.create_task(window())
    await asyncio.gather(*(_paced_loop(d, mix, start, w1, 1.0, done) for d in playing))
    snap = await measure
    dog.cancel()
    holder.stdin.close()
    idle = json.loads((await holder.stdout.readline()).decode() or "{}")
    await holder.wait()
    connected = sum(1 for c in conns if not c.closed) + int(idle.get("connected", 0))
    for c in conns:
        c.close()
    out: dict[str, object] = {"players": len(names), "active": active, "duration_s": duration}
    out.update(rec.summary(w0, w1))
    out["cmds_per_s"] = round(rec.count(w0, w1) / duration, 1)
    out.update(snap["rates"])  # type: ignore[arg-type]
    out.update(snap["usage"])  # type: ignore[arg-type]
    out["still_connected"] = connected
    out["idle_lines_total"] = int(idle.get("lines", 0))
    out["login_all_s"] = round(login_s, 1)
    out["rss_loaded_kib"] = rss_loaded
    out["kib_per_connection"] = round((rss_loaded - rss_idle) / max(1, len(names)), 1)
    return out
