"""Run the Dreamwave benchmark suite.

    python -m bench.run [--quick] [--workloads paced,saturation,...] [--json out.json]
                        [--gateways 1,2] [--baseline-rev REV|none]

Each workload gets a fresh database (seeded through the World/Store API by bench.seed) and
a fresh server (`server.py run`, via bench.serve: a supervisor, its gateways and the
engine); this process is the load generator. Each workload runs once per server variant:
the split with each gateway count asked for, and the single-process server of an older
commit (`--baseline-rev`, exported into a temporary folder). Results go to stdout as tables
and to bench/results/<time>.{json,txt}, keyed `paced` (1 gateway), `paced@2gw`,
`paced@single`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import report
from bench.attacks import halfopen, loginpool, nofile_argv, webflood
from bench.builders import BUILDING_COMMANDS, builders
from bench.client import Counters
from bench.crowd import crowd
from bench.players import Endpoint, Mix, login_many
from bench.proc import (
    ROOT,
    ServerProcess,
    cpu_seconds,
    dreamwave_argv,
    echo_argv,
    loop_available,
    machine,
    machine_cpu,
    memory_kib,
    server_env,
)
from bench.recovery import CRASH, RELOAD, outage, verify_titles
from bench.seed import bench_name
from bench.workloads import Probe, channels, festival, login_storm, paced, saturation

RESULTS = ROOT / "bench" / "results"
# baseline runs right before saturation: the ratio is fairest when both see the same machine.
WORKLOADS = (
    "startup", "paced", "baseline", "saturation", "festival", "channels", "login_storm", "builders",
    "reload", "crash", "webflood", "halfopen", "loginpool", "crowd",
)  # fmt: skip
# The attack workloads keep the server's own connection caps (bench/serve.py lifts them for
# the others, whose thousands of players all come from 127.0.0.1): these are their defaults.
DEFAULT_CAPS = {"max_connections_per_address": 10, "max_unauthenticated": 500, "login_failures": 5}
USUAL_NOFILE = 1024  # the soft open-file limit of a login shell, which a server starts with
BASELINE_REV = "1462030"  # the last commit before the gateway/engine split (one process)
# The supervisor backs off before restarting an engine that dies within this many seconds
# of its start (mud/supervisor/supervisor.py QUICK_DEATH): the crash workload kills one
# older than that.
ENGINE_AGE_S = 11.0
# What the crash workload makes the server log at ERROR on purpose.
EXPECTED_ERRORS = {"crash": ("the engine died",)}
QUIET_CPU_S = 0.15  # CPU seconds per second that other processes may use on a "quiet" machine
QUIET_SECONDS = 2  # ...for this many seconds in a row
IDLE_SETTLE_S = 0.5  # after "listening", before reading the idle RSS
# The per-player command throttle (20/s, burst 40) would cap 200 back-to-back players at
# 4,000 commands/s, under the target, and builders at 400/s: lift it where the workload is
# about the server's own limit. Paced, festival and storm players stay within it.
UNTHROTTLED = {"commands_per_second": 1_000_000, "command_burst": 1_000_000}

FULL: dict[str, dict[str, float]] = {
    "startup": {"grid": 100, "accounts": 10_000, "runs": 3},
    "baseline": {"paced_players": 2000, "paced_duration": 15, "saturation_players": 200,
                 "saturation_duration": 15, "warmup": 2},
    "paced": {"players": 2000, "duration": 20, "warmup": 3, "web": 500},
    "saturation": {"players": 200, "duration": 15, "warmup": 2},
    "festival": {"players": 500, "duration": 30, "interval": 10},
    "channels": {"players": 500, "duration": 30, "interval": 10},
    "login_storm": {"players": 1000, "online": 100, "warmup": 3, "tail": 2},
    "builders": {"players": 20, "duration": 15, "warmup": 1},
    "reload": {"players": 2000, "active": 200, "before": 5, "after": 10},
    "crash": {"players": 2000, "active": 200, "before": 5, "after": 10},
    "webflood": {"players": 200, "flooders": 10, "duration": 20},
    "halfopen": {"sockets": 1100, "probes": 5},
    "loginpool": {"addresses": 50, "per_address": 10, "probes": 5},
    "crowd": {"players": 10_000, "active": 1000, "grid": 32, "duration": 20, "warmup": 3},
}  # fmt: skip
QUICK: dict[str, dict[str, float]] = {
    "startup": {"grid": 20, "accounts": 400, "runs": 1},
    "baseline": {"paced_players": 40, "paced_duration": 2, "saturation_players": 20,
                 "saturation_duration": 2, "warmup": 0.5},
    "paced": {"players": 40, "duration": 3, "warmup": 1, "web": 10},
    "saturation": {"players": 20, "duration": 2, "warmup": 0.5},
    "festival": {"players": 20, "duration": 3, "interval": 1},
    "channels": {"players": 20, "duration": 3, "interval": 1},
    "login_storm": {"players": 30, "online": 10, "warmup": 1, "tail": 0.5},
    "builders": {"players": 4, "duration": 2, "warmup": 0.5},
    "reload": {"players": 40, "active": 10, "before": 1, "after": 3},
    "crash": {"players": 40, "active": 10, "before": 1, "after": 3},
    "webflood": {"players": 20, "flooders": 2, "duration": 4},
    "halfopen": {"sockets": 60, "probes": 2},
    "loginpool": {"addresses": 3, "per_address": 10, "probes": 2},
    "crowd": {"players": 100, "active": 20, "grid": 4, "duration": 2, "warmup": 0.5},
}  # fmt: skip


@dataclass(frozen=True)
class Variant:
    """One server under test: the split from this tree with N gateways, or the
    single-process server of an older commit exported to `root`."""

    key: str  # appended to the workload's name in the results: "" (split, 1 gateway)
    label: str
    root: Path
    gateways: int | None  # --gateways N (None: the single-process server has no such flag)

    @property
    def split(self) -> bool:
        return self.gateways is not None


def split_variant(gateways: int) -> Variant:
    key = "" if gateways == 1 else f"@{gateways}gw"
    return Variant(key, f"split, {gateways} gateway{'s' if gateways > 1 else ''}", ROOT, gateways)


def export_tree(rev: str, into: Path) -> Variant:
    """The tree of commit `rev`, exported with `git archive` (nothing is checked out or
    registered in the repository)."""
    short = subprocess.run(
        ["git", "rev-parse", "--short", f"{rev}^{{commit}}"], cwd=ROOT, capture_output=True,
        text=True,
    ).stdout.strip()  # fmt: skip
    if not short:
        raise SystemExit(f"--baseline-rev {rev}: no such commit")
    into.mkdir(parents=True)
    archive = subprocess.Popen(["git", "archive", short], cwd=ROOT, stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", str(into)], stdin=archive.stdout, check=True)
    if archive.wait():
        raise SystemExit(f"--baseline-rev {rev}: git archive failed")
    if (into / "mud" / "supervisor.py").exists():  # a commit after the split: one gateway
        return Variant(f"@{short}", f"split at {short}", into, None)
    return Variant("@single", f"single process ({short})", into, None)


def available_commands() -> set[str]:
    """The command words the server registers (asked in a subprocess, like the server)."""
    code = (
        "import json, commands; from commands.api import REGISTRY; "
        "print(json.dumps(sorted(REGISTRY.words())))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=server_env(), capture_output=True, check=True
    )
    return set(json.loads(out.stdout))


class Bench:
    def __init__(self, args: argparse.Namespace, tmp: Path, variants: list[Variant]) -> None:
        self.args = args
        self.tmp = tmp
        self.plan = QUICK if args.quick else FULL
        self.no_uvloop = args.server_loop == "asyncio"
        self.variants = variants
        self.variant = variants[0]
        self.env = server_env(no_uvloop=self.no_uvloop)
        self.server_loop = "?"
        self.commands: set[str] = set()

    def use(self, variant: Variant) -> None:
        self.variant = variant
        self.env = server_env(no_uvloop=self.no_uvloop, root=variant.root)

    def named(self, name: str) -> str:
        """The name of this workload's files (database, log, profile) for this variant."""
        return f"{name}{self.variant.key}"

    def argv(self, db: Path, limits: dict[str, float] | None = None) -> list[str]:
        return dreamwave_argv(db, limits=limits, gateways=self.variant.gateways)

    async def seed(self, name: str, spec: dict[str, Any]) -> tuple[Path, dict[str, Any]]:
        """A database seeded by the variant's own bench.seed (its schema, its world)."""
        db = self.tmp / f"{self.named(name)}.db"
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.seed", str(db), json.dumps(spec),
            cwd=str(self.variant.root), env=self.env, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, _ = await proc.communicate()
        if proc.returncode:
            raise RuntimeError(f"seeding {name} failed")
        return db, json.loads(out)

    async def server(
        self, name: str, groups: list[dict[str, Any]], limits: dict[str, float] | None = None
    ) -> tuple[ServerProcess, Endpoint, Path]:
        db, _info = await self.seed(name, {"groups": groups})
        log = self.tmp / f"{self.named(name)}.log"
        sp = ServerProcess(self.argv(db, limits), log, self.env, cwd=self.variant.root)
        await sp.start()
        self.server_loop = sp.loop_name
        await asyncio.sleep(IDLE_SETTLE_S)
        return sp, Endpoint("127.0.0.1", sp.port), db

    async def finish(
        self, sp: ServerProcess, out: dict[str, Any], idle: int, expected: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        """Stop the server; ERROR lines it logged count as errors (but `expected` ones)."""
        out["rss_idle_kib"] = idle
        memory = sp.memory()
        out["rss_peak_kib"] = memory["hwm"]
        for key in ("rss_engine", "rss_gateways", "rss_supervisor"):
            if key in memory:
                out[f"{key}_kib"] = memory[key]
        errors = [e for e in sp.error_lines() if not any(x in e for x in expected)]
        await sp.stop()
        if errors:
            out["server_errors"] = len(errors)
            out["errors"] = int(out.get("errors", 0)) + len(errors)
            out.setdefault("error_samples", []).extend(e[-160:] for e in errors[:3])
        return out

    def probe(self, sp: ServerProcess, name: str) -> Probe:
        folder = self.args.profile
        return Probe(sp.pid, folder / f"{self.named(name)}.raw" if folder else None)

    # -- the workloads ------------------------------------------------------------------
    async def run_startup(self) -> dict[str, Any]:
        p = self.plan["startup"]
        groups = [{"prefix": "Sleeper", "count": int(p["accounts"]), "place": "spread"}]
        db, info = await self.seed("startup", {"groups": groups, "grid": int(p["grid"])})
        runs, ready, idle = [], [], 0
        for i in range(int(p["runs"])):
            log = self.tmp / f"{self.named('startup')}-{i}.log"
            sp = ServerProcess(self.argv(db), log, self.env, cwd=self.variant.root)
            runs.append(round(await sp.start(), 3))
            m = re.search(r"ready in ([\d.]+)s", sp.log_path.read_text())
            ready.append(float(m.group(1)) if m else 0.0)
            await asyncio.sleep(IDLE_SETTLE_S)
            idle = sp.memory()["rss"]
            await sp.stop()
        return {
            "players": int(p["grid"]) ** 2,
            "rooms": info["rooms"], "exits": info["exits"], "accounts": info["accounts"],
            "listening_s": statistics.median(runs), "runs_s": runs,
            "ready_in_s": statistics.median(ready), "rss_idle_kib": idle, "errors": 0,
        }  # fmt: skip

    async def run_baseline(self, mix: Mix) -> dict[str, Any]:
        p = self.plan["baseline"]
        out: dict[str, Any] = {}
        for sub in ("paced", "saturation"):
            sp = ServerProcess(echo_argv(), self.tmp / f"echo-{sub}.log", self.env)
            await sp.start()
            await asyncio.sleep(IDLE_SETTLE_S)
            idle = sp.memory()["rss"]
            ep = Endpoint("127.0.0.1", sp.port, echo=True)
            names = [bench_name("Echo", i) for i in range(int(p[f"{sub}_players"]))]
            probe = self.probe(sp, f"baseline-{sub}")
            dur = p[f"{sub}_duration"]
            if sub == "paced":
                data = await paced(ep, names, probe, mix, dur, p["warmup"])
            else:
                data = await saturation(ep, names, probe, mix, dur, p["warmup"])
            data.pop("skipped", None)
            out[sub] = await self.finish(sp, data, idle)
        out["errors"] = sum(int(d.get("errors", 0)) for d in out.values())
        out["players"] = out["saturation"]["players"]
        return out

    async def run_paced(self, mix: Mix) -> dict[str, Any]:
        p = self.plan["paced"]
        n = int(p["players"])
        groups = [
            {"prefix": "Walker", "count": n, "place": "spread"},
            {"prefix": "Warmup", "count": 2, "place": "nexus"},
        ]
        sp, ep, _db = await self.server("paced", groups)
        idle = sp.memory()["rss"]
        await warm_up(ep)  # (RSS per player is also given over this warm idle)
        await asyncio.sleep(IDLE_SETTLE_S)
        warm_rss = sp.memory()["rss"]
        names = [bench_name("Walker", i) for i in range(n)]
        # a share of them in browsers' place: websockets to the gateway's web port
        share = int(p.get("web", 0)) if sp.web_port else 0
        ep.web_port = sp.web_port
        web = set(names[:: max(1, n // share)][:share]) if share else None
        out = await paced(
            ep, names, self.probe(sp, "paced"), mix, p["duration"], p["warmup"], web=web
        )
        out["rss_kib_per_player"] = round((out["rss_end_kib"] - idle) / n, 1)
        out["rss_warm_kib"] = warm_rss
        out["rss_kib_per_player_warm"] = round((out["rss_end_kib"] - warm_rss) / n, 1)
        return await self.finish(sp, out, idle)

    async def run_saturation(self, mix: Mix) -> dict[str, Any]:
        p = self.plan["saturation"]
        n = int(p["players"])
        groups = [{"prefix": "Racer", "count": n, "place": "spread"}]
        sp, ep, _db = await self.server("saturation", groups, UNTHROTTLED)
        idle = sp.memory()["rss"]
        names = [bench_name("Racer", i) for i in range(n)]
        out = await saturation(
            ep, names, self.probe(sp, "saturation"), mix, p["duration"], p["warmup"]
        )
        out["limits"] = "commands_per_second and command_burst = 1,000,000"
        return await self.finish(sp, out, idle)

    async def run_festival(self) -> dict[str, Any]:
        p = self.plan["festival"]
        n = int(p["players"])
        groups = [{"prefix": "Reveller", "count": n, "place": "festival_grounds"}]
        sp, ep, _db = await self.server("festival", groups)
        idle = sp.memory()["rss"]
        names = [bench_name("Reveller", i) for i in range(n)]
        out = await festival(ep, names, self.probe(sp, "festival"), p["duration"], p["interval"])
        return await self.finish(sp, out, idle)

    async def run_channels(self) -> dict[str, Any]:
        if "channels" not in self.commands:
            return {"skipped_all": "skipped: command not available (channels)"}
        p = self.plan["channels"]
        n = int(p["players"])
        # spread over every room: a channel reaches its listeners wherever they are
        groups = [{"prefix": "Listener", "count": n, "place": "spread"}]
        sp, ep, _db = await self.server("channels", groups)
        idle = sp.memory()["rss"]
        names = [bench_name("Listener", i) for i in range(n)]
        out = await channels(ep, names, self.probe(sp, "channels"), p["duration"], p["interval"])
        return await self.finish(sp, out, idle)

    async def run_login_storm(self, mix: Mix) -> dict[str, Any]:
        p = self.plan["login_storm"]
        n, online = int(p["players"]), int(p["online"])
        groups = [
            {"prefix": "Keeper", "count": online, "place": "spread"},
            {"prefix": "Returner", "count": n, "place": "spread"},
        ]
        sp, ep, _db = await self.server("login_storm", groups)
        idle = sp.memory()["rss"]
        out = await login_storm(
            ep,
            [bench_name("Keeper", i) for i in range(online)],
            [bench_name("Returner", i) for i in range(n)],
            self.probe(sp, "login_storm"), mix, p["warmup"], p["tail"],
        )  # fmt: skip
        return await self.finish(sp, out, idle)

    async def run_builders(self) -> dict[str, Any]:
        missing = [c for c in BUILDING_COMMANDS if c not in self.commands]
        if missing:
            return {"skipped_all": f"skipped: command not available ({', '.join(missing)})"}
        p = self.plan["builders"]
        n = int(p["players"])
        groups = [{"prefix": "Mason", "count": n, "place": "nexus", "role": "builder"}]
        sp, ep, db = await self.server("builders", groups, UNTHROTTLED)
        idle = sp.memory()["rss"]
        names = [bench_name("Mason", i) for i in range(n)]
        out = await builders(ep, names, self.probe(sp, "builders"), p["duration"], p["warmup"], db)
        out["limits"] = "commands_per_second and command_burst = 1,000,000"
        return await self.finish(sp, out, idle)

    async def run_recovery(self, name: str) -> dict[str, Any]:
        """reload: SIGHUP to the server (the supervisor); crash: SIGKILL to the engine."""
        if not self.variant.split:
            return {"skipped_all": "skipped: the single-process server has no engine to replace"}
        p = self.plan[name]
        n, active = int(p["players"]), int(p["active"])
        groups = [{"prefix": "Dozer", "count": n, "place": "spread"}]
        sp, ep, db = await self.server(name, groups)
        up_at = time.perf_counter()
        idle = sp.memory()["rss"]
        first = sp.engine_pids()
        if name == "reload":
            how, not_before = RELOAD, 0.0

            def trigger() -> None:
                assert sp.proc is not None
                sp.proc.send_signal(signal.SIGHUP)
        else:
            how, not_before = CRASH, up_at + ENGINE_AGE_S

            def trigger() -> None:
                os.kill(sp.engine_pids()[-1], signal.SIGKILL)

        names = [bench_name("Dozer", i) for i in range(n)]
        out = await outage(
            ep, names, active, self.probe(sp, name), how, trigger, p["before"], p["after"],
            not_before,
        )  # fmt: skip
        ledger = out.pop("_ledger")
        deadline = time.perf_counter() + 30
        while len(sp.engine_pids()) < 2 and time.perf_counter() < deadline:
            await asyncio.sleep(0.1)
        engines = sp.engine_pids()
        out["engine_replaced"] = len(engines) == 2 and engines[:1] == first[:1]
        if not out["engine_replaced"]:
            out["errors"] = int(out.get("errors", 0)) + 1
            out.setdefault("error_samples", []).append(f"engines logged: {engines}")
        out = await self.finish(sp, out, idle, EXPECTED_ERRORS.get(name, ()))
        lost, samples = verify_titles(db, ledger)
        out["lost_at_end"] = lost
        out["lost"] = lost + int(out.get("lost_at_recovery", 0))
        out["verified_titles"] = len(ledger)
        if lost:
            out["errors"] = int(out.get("errors", 0)) + lost
            out.setdefault("error_samples", []).extend(samples)
        return out

    async def run_crowd(self, mix: Mix) -> dict[str, Any]:
        """Many connected over a grid world, a tenth of them playing (bench/crowd.py)."""
        p = self.plan["crowd"]
        n = int(p["players"])
        groups = [
            {"prefix": "Crowd", "count": n, "place": "spread"},
            {"prefix": "Warmup", "count": 2, "place": "nexus"},
        ]
        db, _info = await self.seed("crowd", {"groups": groups, "grid": int(p["grid"])})
        sp = ServerProcess(self.argv(db), self.tmp / f"{self.named('crowd')}.log", self.env,
                           cwd=self.variant.root)  # fmt: skip
        await sp.start()
        ep = Endpoint("127.0.0.1", sp.port)
        await warm_up(ep)
        await asyncio.sleep(IDLE_SETTLE_S)
        idle = sp.memory()["rss"]
        names = [bench_name("Crowd", i) for i in range(n)]
        out = await crowd(ep, names, int(p["active"]), self.probe(sp, "crowd"), mix,
                          p["duration"], p["warmup"], idle)  # fmt: skip
        return await self.finish(sp, out, idle)

    async def run_attack(self, name: str) -> dict[str, Any]:
        """A hostile page or hostile addresses against everyone else (bench/attacks.py)."""
        p = self.plan[name]
        if name == "webflood":
            names = [bench_name("Flood", i) for i in range(int(p["players"]))]
            sp, ep, _db = await self.server(name, [{"prefix": "Flood", "count": len(names)}])
        else:
            caps = dict(DEFAULT_CAPS)
            if name == "loginpool":
                caps["max_unauthenticated"] = int(p["addresses"] * p["per_address"])
            db, _info = await self.seed(name, {"groups": []})
            log = self.tmp / f"{self.named(name)}.log"
            argv = nofile_argv(self.argv(db, caps), USUAL_NOFILE)
            sp = ServerProcess(argv, log, self.env, cwd=self.variant.root)
            await sp.start()
            await asyncio.sleep(IDLE_SETTLE_S)
            ep = Endpoint("127.0.0.1", sp.port)
        ep.web_port = sp.web_port
        idle = sp.memory()["rss"]
        if name != "loginpool" and not sp.web_port:
            await sp.stop()
            return {"skipped_all": "skipped: no web port", "errors": 0}
        if name == "webflood":
            out = await webflood(ep, names, int(p["flooders"]), p["duration"])
        elif name == "halfopen":
            out = await halfopen(ep, int(p["sockets"]), int(p["probes"]))
        else:
            out = await loginpool(ep, int(p["addresses"]), int(p["per_address"]), int(p["probes"]))
        return await self.finish(sp, out, idle)

    async def run(self, selected: list[str]) -> dict[str, Any]:
        self.commands = available_commands()
        mix = Mix.for_server(self.commands)
        echo_mix = Mix.for_server(None)
        storm_mix = Mix.for_server(self.commands, loops=False)
        results: dict[str, Any] = {}
        for name in selected:
            # every variant of a workload back to back: they see the same machine state
            variants = self.variants[:1] if name == "baseline" else self.variants
            for variant in variants:
                self.use(variant)
                key = self.named(name) if name != "baseline" else name
                waited = await wait_for_quiet(self.args.quiet_wait)
                t0 = time.perf_counter()
                label = "bare echo" if name == "baseline" else variant.label
                print(f"... {name} ({label})", file=sys.stderr, flush=True)
                results[key] = await self.run_one(name, mix, echo_mix, storm_mix)
                results[key]["variant"] = label
                results[key]["wall_s"] = round(time.perf_counter() - t0, 1)
                results[key]["waited_for_quiet_s"] = waited
        compare(results)
        return results

    async def run_one(self, name: str, mix: Mix, echo_mix: Mix, storm_mix: Mix) -> dict[str, Any]:
        if name == "startup":
            return await self.run_startup()
        if name == "baseline":
            return await self.run_baseline(echo_mix)
        if name == "paced":
            return await self.run_paced(mix)
        if name == "saturation":
            return await self.run_saturation(mix)
        if name == "festival":
            return await self.run_festival()
        if name == "channels":
            return await self.run_channels()
        if name == "login_storm":
            return await self.run_login_storm(storm_mix)
        if name == "builders":
            return await self.run_builders()
        if name in ("webflood", "halfopen", "loginpool"):
            return await self.run_attack(name)
        if name == "crowd":
            return await self.run_crowd(storm_mix)
        return await self.run_recovery(name)


async def warm_up(ep: Endpoint) -> None:
    """Two logins at once make argon2's two threads allocate their 19 MiB each: a fixed cost,
    so memory per player is counted over the idle RSS after this."""
    warm = await login_many(ep, [bench_name("Warmup", i) for i in range(2)], Counters())
    for conn in warm:
        conn.close()


def compare(results: dict[str, Any]) -> None:
    """Ratios between results: each saturation to the bare echo, and each split variant's
    saturation to the single-process server's."""
    base = results.get("baseline")
    single = results.get("saturation@single") or {}
    for key, sat in results.items():
        if key.split("@")[0] != "saturation" or "cmds_per_s" not in sat:
            continue
        if base and "saturation" in base:
            base_rate = base["saturation"]["cmds_per_s"]
            sat["baseline_cmds_per_s"] = base_rate
            sat["ratio_to_baseline"] = round(sat["cmds_per_s"] / base_rate, 3) if base_rate else 0
        if key != "saturation@single" and single.get("cmds_per_s"):
            sat["single_cmds_per_s"] = single["cmds_per_s"]
            sat["ratio_to_single"] = round(sat["cmds_per_s"] / single["cmds_per_s"], 3)


async def wait_for_quiet(limit: float) -> float:
    """Wait (up to `limit` seconds) until the rest of the machine is nearly idle, so another
    program's burst (a test run, a build) doesn't land in a measurement. Returns the wait."""
    t0 = time.perf_counter()
    calm = 0
    while time.perf_counter() - t0 < limit and calm < QUIET_SECONDS:
        busy0, _ = machine_cpu()
        own0 = cpu_seconds()
        await asyncio.sleep(1.0)
        other = (machine_cpu()[0] - busy0) - (cpu_seconds() - own0)
        calm = calm + 1 if other < QUIET_CPU_S else 0
        if calm == 0 and time.perf_counter() - t0 < 1.5:
            print(f"... waiting for a quiet machine (up to {limit:.0f}s)", file=sys.stderr)
    return round(time.perf_counter() - t0, 1)


def code_version() -> dict[str, object]:
    """The commit measured, and how many engine files differed from it (work in progress)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--", ".", ":!bench"],
            cwd=ROOT, capture_output=True, text=True,
        ).stdout  # fmt: skip
    except OSError:
        return {"commit": "?", "uncommitted_files": 0}
    return {"commit": head or "?", "uncommitted_files": len(status.splitlines())}


def client_loop(choice: str) -> tuple[str, Any]:
    """The load generator's event loop: uvloop when installed (it keeps the client lean)."""
    if choice == "auto" and loop_available():
        import uvloop  # type: ignore[import-not-found]

        return "uvloop", uvloop.new_event_loop
    return "asyncio", None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small N and short runs (~1 min)")
    parser.add_argument(
        "--workloads", default=",".join(WORKLOADS), help=f"comma list from {','.join(WORKLOADS)}"
    )
    parser.add_argument("--json", type=Path, help="also write the JSON report here")
    parser.add_argument(
        "--server-loop", choices=("auto", "asyncio"), default="auto",
        help="auto: uvloop when installed (as server.py does); asyncio: hide uvloop",
    )  # fmt: skip
    parser.add_argument(
        "--profile", type=Path, metavar="DIR",
        help="record each server (supervisor, engine, gateways) with py-spy during the window "
        "into DIR/<workload>.raw",
    )  # fmt: skip
    parser.add_argument(
        "--gateways", default=None, metavar="N,M",
        help="run each workload on the split server with each of these gateway counts "
        "(default 1,2; 1 with --quick)",
    )  # fmt: skip
    parser.add_argument(
        "--baseline-rev", default=None, metavar="REV",
        help=f"also run each workload on the single-process server of commit REV (default "
        f"{BASELINE_REV}, the commit before the split; none with --quick); 'none' skips it",
    )  # fmt: skip
    parser.add_argument(
        "--quiet-wait", type=float, default=None, metavar="S",
        help="before each workload wait up to S seconds for other processes to go quiet "
        "(default 120, 0 with --quick)",
    )  # fmt: skip
    parser.add_argument("--client-loop", choices=("auto", "asyncio"), default="auto")
    parser.add_argument(
        "--set", action="append", default=[], metavar="WORKLOAD.KEY=VALUE",
        help="override a plan value, e.g. paced.players=500",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.quiet_wait is None:
        args.quiet_wait = 0.0 if args.quick else 120.0
    if args.gateways is None:
        args.gateways = "1" if args.quick else "1,2"
    try:
        args.gateway_counts = [int(g) for g in args.gateways.split(",") if g.strip()]
    except ValueError:
        parser.error(f"--gateways {args.gateways}: a comma list of numbers, e.g. 1,2")
    if any(g < 1 for g in args.gateway_counts):
        parser.error("--gateways: each count is at least 1")
    if args.baseline_rev is None:
        args.baseline_rev = "none" if args.quick else BASELINE_REV
    if args.baseline_rev.lower() in ("", "none"):
        args.baseline_rev = None
    args.selected = [w.strip() for w in args.workloads.split(",") if w.strip()]
    unknown = [w for w in args.selected if w not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workload(s): {', '.join(unknown)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    plan = QUICK if args.quick else FULL
    for item in args.set:
        key, _, value = item.partition("=")
        workload, _, field = key.partition(".")
        if workload not in plan or field not in plan[workload]:
            raise SystemExit(f"--set {item}: no such plan value")
        plan[workload][field] = float(value)
    loop_name, loop_factory = client_loop(args.client_loop)
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    with tempfile.TemporaryDirectory(prefix="dreamwave-bench-") as tmp:
        variants = [split_variant(g) for g in args.gateway_counts]
        if args.baseline_rev:
            variants.append(export_tree(args.baseline_rev, Path(tmp) / "baseline-tree"))
        bench = Bench(args, Path(tmp), variants)
        try:
            with asyncio.Runner(loop_factory=loop_factory) as runner:
                results = runner.run(bench.run(args.selected))
        except BaseException:
            for log in sorted(Path(tmp).glob("*.log")):
                print(f"--- {log.name} (tail)", file=sys.stderr)
                print(
                    "\n".join(log.read_text(errors="replace").splitlines()[-15:]), file=sys.stderr
                )
            raise
    out = {
        "mode": "quick" if args.quick else "full",
        "started": started,
        "machine": machine(),
        "code": code_version(),
        "server_loop": bench.server_loop,
        "variants": [{"key": v.key, "label": v.label, "gateways": v.gateways} for v in variants],
        "client_loop": loop_name,
        "plan": {w: plan[w] for w in args.selected},
        "workloads": results,
        "targets": report.judge_all(results),
        "client_rss_peak_kib": memory_kib()["hwm"],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)  # the numbers first: a report that fails to
    stamp = time.strftime("%Y%m%d-%H%M%S")  # render must not lose a run's measurements
    (RESULTS / f"{stamp}-{out['mode']}.json").write_text(json.dumps(out, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    text = report.render(out)
    print(text)
    (RESULTS / f"{stamp}-{out['mode']}.txt").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
