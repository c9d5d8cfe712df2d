"""The play workloads: paced, saturation, festival crowd, channel crowd and login storm.

Each takes an Endpoint (a server that is already listening, with accounts seeded), runs its
clients in this process, and returns a dict of metrics. Server-side CPU and memory are read
by the caller around the measurement window (see bench/run.py), using `Probe`.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.client import CommandFailed, Conn, Counters, watchdog
from bench.players import Dreamer, Endpoint, Mix, form_loops, login, login_many
from bench.proc import TreeWindow, Window, machine_cpu, tree_memory
from bench.stats import Recorder, summarise

COMMAND_TIMEOUT = 30.0  # seconds before a command counts as lost
LATE_S = 0.1  # a paced send this far behind its schedule counts as late
SPEECH_KINDS = ("say", "emote", "tell", "weave")  # each echoes its token to the sender once


@dataclass
class Probe:
    """Reads the server's CPU/RSS (and ours) around a window; with `profile` set, py-spy
    records the server during the window too (profiles perturb timings: use separate runs).
    The server is a process tree (supervisor, engine, gateways): CPU is read over all of it
    and by role."""

    server_pid: int
    profile: Path | None = None
    _spy: subprocess.Popen[bytes] | None = None

    _machine: tuple[float, float] = (0.0, 0.0)

    def open(self) -> tuple[TreeWindow, Window]:
        if self.profile is not None:
            self._spy = start_profiler(self.server_pid, self.profile)
        self._machine = machine_cpu()
        return TreeWindow.open(self.server_pid), Window.open("self")

    def close(self, windows: tuple[TreeWindow, Window]) -> dict[str, float]:
        """Server and load-generator CPU, plus what the rest of the machine used meanwhile
        (other processes, e.g. a test run, and hypervisor steal): a busy machine skews
        every number, so the report shows it."""
        server, client = windows
        wall = time.perf_counter() - server.t0
        s, c = server.close(), client.close("self")
        busy, steal = machine_cpu()
        if self._spy is not None:
            stop_profiler(self._spy)
            self._spy = None
        other = (busy - self._machine[0]) - s["cpu_s"] - c["cpu_pct"] * wall / 100
        out = {
            "server_cpu_s": s["cpu_s"],
            "server_cpu_pct": s["cpu_pct"],
            "client_cpu_pct": c["cpu_pct"],
            "other_cpu_pct": round(max(0.0, 100 * other / wall), 1),
            "steal_pct": round(100 * (steal - self._machine[1]) / wall, 1),
        }
        for group in ("engine", "gateways", "supervisor"):
            if f"{group}_cpu_pct" in s:
                out[f"{group}_cpu_pct"] = s[f"{group}_cpu_pct"]
        return out


def rates(counters: Counters, before: tuple[int, ...], own_speech: int, seconds: float) -> dict:
    """Lines and messages from others delivered per second over a window."""
    b0, l0, t0, m0 = before
    b1, l1, t1, m1 = counters.snapshot()
    delivered = (t1 - t0 - own_speech) + (m1 - m0)
    return {
        "lines_in_per_s": round((l1 - l0) / seconds),
        "kib_in_per_s": round((b1 - b0) / 1024 / seconds),
        "messages_per_s": round(max(0, delivered) / seconds),
    }


def _window_result(
    conns: list[Conn], rec: Recorder, w0: float, duration: float, snap: dict, in_loops: int
) -> dict[str, object]:
    """Close the connections; the round trips, rates and usage of the window [w0, w1]."""
    for c in conns:
        c.close()
    w1 = w0 + duration
    out: dict[str, object] = {"players": len(conns), "duration_s": duration}
    out.update(rec.summary(w0, w1))
    out["cmds_per_s"] = round(rec.count(w0, w1) / duration, 1)
    out.update(snap["rates"])
    out.update(snap["usage"])
    out["in_loops"] = in_loops
    return out


async def _paced_loop(
    d: Dreamer, mix: Mix, start: float, end: float, period: float, on_done: Callable[..., None]
) -> None:
    """One command per `period`, at a random phase; late sends go out at once."""
    t = start + d.rng.random() * period
    while t < end and not d.conn.closed:
        now = time.perf_counter()
        if t > now:
            await asyncio.sleep(t - now)
        try:
            kind, sent, done, ok = await d.run_one(mix)
        except CommandFailed as err:
            d.rec.error("lost", str(err))
            t += period
            continue
        if sent - t > LATE_S:
            d.rec.late += 1
        on_done(kind, sent, done, ok)
        t += period


async def paced(
    endpoint: Endpoint,
    names: list[str],
    probe: Probe,
    mix: Mix,
    duration: float,
    warmup: float,
    period: float = 1.0,
    web: set[str] | None = None,
) -> dict[str, object]:
    """Every player sends a command a second. Those named in `web` play over websockets (the
    browser client's port): their round trips are also reported apart, beside telnet's."""
    counters = Counters(count_speech=not endpoint.echo)
    rec = Recorder()
    by_transport = {"telnet": Recorder(), "websocket": Recorder()}
    t_login = time.perf_counter()
    conns = await login_many(endpoint, names, counters, web=web)
    login_s = time.perf_counter() - t_login
    rss_loaded = probe_memory(probe)
    dreamers = [Dreamer(c, endpoint, rec, names) for c in conns]
    in_loops = await form_loops(dreamers, mix)
    dog = asyncio.create_task(watchdog(conns, COMMAND_TIMEOUT))
    start = time.perf_counter()
    w0, w1 = start + warmup, start + warmup + duration
    own = [0]
    snap: dict[str, object] = {}

    def done_cb(kind: str, sent: float, done: float, ok: bool) -> None:
        if w0 <= sent < w1:
            rec.add(kind, sent, done - sent)
            if kind in SPEECH_KINDS:
                own[0] += 1

    def done_by(transport: str) -> Callable[..., None]:
        apart = by_transport[transport]

        def done(kind: str, sent: float, finished: float, ok: bool) -> None:
            done_cb(kind, sent, finished, ok)
            if w0 <= sent < w1:
                apart.add(kind, sent, finished - sent)

        return done

    async def window() -> None:
        await asyncio.sleep(w0 - time.perf_counter())
        snap["counters"] = counters.snapshot()
        snap["windows"] = probe.open()
        await asyncio.sleep(w1 - time.perf_counter())
        snap["usage"] = probe.close(snap["windows"])  # type: ignore[arg-type]
        snap["rates"] = rates(counters, snap["counters"], own[0], duration)  # type: ignore[arg-type]

    measure = asyncio.create_task(window())
    await asyncio.gather(
        *(
            _paced_loop(
                d, mix, start, w1, period,
                done_by("websocket" if web and d.conn.name in web else "telnet"),
            )
            for d in dreamers
        )
    )  # fmt: skip
    await measure
    dog.cancel()
    rss_end = probe_memory(probe)
    out = _window_result(conns, rec, w0, duration, snap, in_loops)
    if web:
        out["by_transport"] = {
            t: {"players": sum(1 for n in names if (n in web) == (t == "websocket")),
                **r.summary(w0, w1)}
            for t, r in by_transport.items()
        }  # fmt: skip
    out["late_sends"] = rec.late
    out["login_all_s"] = round(login_s, 2)
    out["rss_loaded_kib"] = rss_loaded
    out["rss_end_kib"] = rss_end
    if mix.skipped:
        out["skipped"] = mix.skipped
    return out


async def saturation(
    endpoint: Endpoint, names: list[str], probe: Probe, mix: Mix, duration: float, warmup: float
) -> dict[str, object]:
    """Every player sends its next command as soon as the last one's prompt arrives."""
    counters = Counters(count_speech=not endpoint.echo)
    rec = Recorder()
    conns = await login_many(endpoint, names, counters)
    dreamers = [Dreamer(c, endpoint, rec, names) for c in conns]
    in_loops = await form_loops(dreamers, mix)
    dog = asyncio.create_task(watchdog(conns, COMMAND_TIMEOUT))
    start = time.perf_counter()
    w0, w1 = start + warmup, start + warmup + duration
    own = 0
    snap: dict[str, object] = {}

    async def player(d: Dreamer) -> None:
        nonlocal own
        while not d.conn.closed:
            try:
                kind, sent, done, _ok = await d.run_one(mix)
            except CommandFailed as err:
                d.rec.error("lost", str(err))
                return
            if done >= w1:
                return
            if sent >= w0:
                rec.add(kind, sent, done - sent)
                own += kind in SPEECH_KINDS

    async def window() -> None:
        await asyncio.sleep(w0 - time.perf_counter())
        snap["counters"] = counters.snapshot()
        snap["windows"] = probe.open()
        await asyncio.sleep(w1 - time.perf_counter())
        snap["usage"] = probe.close(snap["windows"])  # type: ignore[arg-type]
        snap["rates"] = rates(counters, snap["counters"], own, duration)  # type: ignore[arg-type]

    measure = asyncio.create_task(window())
    await asyncio.gather(*(player(d) for d in dreamers))
    await measure
    dog.cancel()
    out = _window_result(conns, rec, w0, duration, snap, in_loops)
    if mix.skipped:
        out["skipped"] = mix.skipped
    return out


@dataclass(frozen=True)
class Speech:
    """What a crowd workload's speakers type and how a delivery is recognised."""

    line: str  # the command, with {tok} for the unique token
    heard: re.Pattern[bytes]  # a delivery of token group(1)
    marker: bytes  # cheap test before the regex
    echo: str  # the speaker's own response must contain this ({tok})
    talker_counts: bool  # the speaker receives the very line others get (counted too)


SAID_RE = re.compile(rb'says, "zq(\d+)')
FESTIVAL_SPEECH = Speech(
    "say zq{tok} fireworks over the pavilion!", SAID_RE, b'says, "zq', 'You say, "zq{tok}', False
)
CHANNEL_SPEECH = Speech(
    "public zq{tok} lanterns over the lake!", re.compile(rb"\[public\] \w+: zq(\d+)"),
    b"[public] ", ": zq{tok} ", True,
)  # fmt: skip


async def festival(
    endpoint: Endpoint, names: list[str], probe: Probe, duration: float, interval: float
) -> dict[str, object]:
    """Everyone in one room; each says something every `interval` seconds."""
    return await speech_crowd(endpoint, names, probe, duration, interval, FESTIVAL_SPEECH)


async def channels(
    endpoint: Endpoint, names: list[str], probe: Probe, duration: float, interval: float
) -> dict[str, object]:
    """Everyone on the public channel, spread over the rooms; each speaks on it every
    `interval` seconds."""
    return await speech_crowd(endpoint, names, probe, duration, interval, CHANNEL_SPEECH)


async def speech_crowd(
    endpoint: Endpoint,
    names: list[str],
    probe: Probe,
    duration: float,
    interval: float,
    speech: Speech,
) -> dict[str, object]:
    """Each player speaks every `interval` seconds; every line must reach everyone else,
    and delivery is timed to the last of them."""
    counters = Counters(count_speech=False)
    rec = Recorder()
    said: dict[int, list[float]] = {}  # token -> [sent, recipients so far, last arrival]
    marker, pattern = speech.marker, speech.heard

    def heard(data: bytes, now: float) -> None:
        if marker not in data:
            return
        for m in pattern.finditer(data):
            entry = said.get(int(m.group(1)))
            if entry is not None:
                entry[1] += 1
                entry[2] = now

    conns = await login_many(endpoint, names, counters, heard)
    expected = len(conns) - (0 if speech.talker_counts else 1)
    dog = asyncio.create_task(watchdog(conns, COMMAND_TIMEOUT))
    start = time.perf_counter()
    end = start + duration
    counter = iter(range(1, 1 << 62))

    async def speaker(conn: Conn, rng: random.Random) -> None:
        t = start + rng.random() * interval
        while t < end and not conn.closed:
            await asyncio.sleep(max(0.0, t - time.perf_counter()))
            tok = next(counter)
            fut = conn.expect_prompt()
            sent = conn.send(speech.line.format(tok=tok))
            said[tok] = [sent, 0, 0.0]
            try:
                done = await fut
            except CommandFailed as err:
                rec.error("lost", str(err))
                t += interval
                continue
            kind = speech.line.split()[0]
            rec.add(kind, sent, done - sent)
            if speech.echo.format(tok=tok).encode() not in conn.response():
                rec.error(kind, "own echo missing")
            t += interval

    windows = probe.open()
    before = counters.snapshot()
    await asyncio.gather(*(speaker(c, random.Random(i)) for i, c in enumerate(conns)))
    # Let the last lines arrive everywhere (bounded), then judge every one.
    settle = time.perf_counter() + COMMAND_TIMEOUT
    while time.perf_counter() < settle and any(e[1] < expected for e in said.values()):
        await asyncio.sleep(0.05)
    usage = probe.close(windows)
    seconds = time.perf_counter() - start
    dog.cancel()
    deliveries = [e[2] - e[0] for e in said.values() if e[1] >= expected]
    missing = sum(expected - e[1] for e in said.values() if e[1] < expected)
    if missing:
        rec.error("undelivered", f"{missing} deliveries never arrived")
    for c in conns:
        c.close()
    recv = sum(e[1] for e in said.values())
    out: dict[str, object] = {"players": len(conns), "duration_s": duration}
    out.update(rec.summary())
    out["says"] = len(said)
    delivery = summarise(deliveries)
    out["delivery_p50_ms"] = delivery["p50_ms"]
    out["delivery_p95_ms"] = delivery["p95_ms"]
    out["delivery_p99_ms"] = delivery["p99_ms"]
    out["delivery_max_ms"] = delivery["max_ms"]
    out["messages_per_s"] = round(recv / seconds)
    out["lines_in_per_s"] = round((counters.lines_in - before[1]) / seconds)
    out["cmds_per_s"] = round(len(said) / seconds, 1)
    out.update(usage)
    return out


async def login_storm(
    endpoint: Endpoint,
    online: list[str],
    returning: list[str],
    probe: Probe,
    mix: Mix,
    warmup: float,
    tail: float,
) -> dict[str, object]:
    """`returning` players reconnect at once while `online` players keep playing, paced."""
    counters = Counters()
    rec = Recorder()
    conns = await login_many(endpoint, online, counters)
    dreamers = [Dreamer(c, endpoint, rec, online) for c in conns]
    dog = asyncio.create_task(watchdog(conns, COMMAND_TIMEOUT))
    stop = asyncio.Event()
    start = time.perf_counter()

    def done_cb(kind: str, sent: float, done: float, ok: bool) -> None:
        rec.add(kind, sent, done - sent)

    horizon = start + 3600.0  # the players stop when `stop` is set, not at a time
    players = [
        asyncio.create_task(_paced_loop(d, mix, start, horizon, 1.0, done_cb)) for d in dreamers
    ]
    await asyncio.sleep(warmup)
    storm_rec = Recorder()
    windows = probe.open()
    storm_start = time.perf_counter()
    storm_counters = Counters(count_speech=False)
    arrived: list[float] = []

    async def returner(name: str) -> Conn | None:
        t0 = time.perf_counter()
        try:
            conn = await login(endpoint, name, storm_counters)
        except (CommandFailed, OSError) as err:
            storm_rec.error("login", str(err))
            return None
        arrived.append(time.perf_counter())
        storm_rec.add("login", t0, time.perf_counter() - t0)
        return conn

    storm_conns = await asyncio.gather(*(returner(n) for n in returning))
    all_in = time.perf_counter()
    usage = probe.close(windows)
    await asyncio.sleep(tail)
    stop.set()
    for task in players:
        task.cancel()
    for task in players:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    dog.cancel()
    for c in [*conns, *(s for s in storm_conns if s is not None)]:
        c.close()
    during = summarise(rec.latencies(storm_start, all_in))
    before = summarise(rec.latencies(start, storm_start))
    logins = summarise(storm_rec.latencies())
    errors = sum(rec.errors.values()) + sum(storm_rec.errors.values())
    out: dict[str, object] = {
        "players": len(returning),
        "online_players": len(online),
        "logged_in": sum(1 for s in storm_conns if s is not None),
        "all_in_s": round(all_in - storm_start, 2),
        "login_p50_ms": logins["p50_ms"],
        "login_p99_ms": logins["p99_ms"],
        "online_p50_ms": during["p50_ms"],
        "online_p99_ms": during["p99_ms"],
        "online_max_ms": during["max_ms"],
        "online_cmds": during["count"],
        "online_p99_before_ms": before["p99_ms"],
        "errors": errors,
    }
    out.update(usage)
    samples = storm_rec.error_samples + rec.error_samples
    if samples:
        out["error_samples"] = samples[:8]
    return out


PROFILE_RATE = 100  # py-spy samples per second


def start_profiler(pid: int, path: Path) -> subprocess.Popen[bytes]:
    """py-spy on the server and every process under it (--subprocesses: the engine and the
    gateways of the split server, and an engine started while it records)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    argv = ["py-spy", "record", "--pid", str(pid), "--format", "raw", "--threads"]
    argv += ["--subprocesses"]
    argv += ["--rate", str(PROFILE_RATE), "-o", str(path)]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_profiler(spy: subprocess.Popen[bytes]) -> None:
    """py-spy writes its file when interrupted."""
    spy.send_signal(signal.SIGINT)
    try:
        spy.wait(30)
    except subprocess.TimeoutExpired:
        spy.kill()


def probe_memory(probe: Probe) -> int:
    return tree_memory(probe.server_pid)["rss"]
