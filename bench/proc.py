"""Server processes under test, what /proc says about them, and the machine we run on."""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LISTENING = re.compile(rb"listening on [\w.:\[\]-]*?:(\d+)")
LOOP_LINE = re.compile(rb"bench\.serve: event loop (\w+)")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
START_TIMEOUT = 120.0  # seconds for a server to start listening
STOP_TIMEOUT = 30.0  # seconds for a graceful stop before SIGKILL


def cpu_seconds(pid: int | str = "self", reaped: bool = False) -> float:
    """User + system CPU time of a process (all its threads), from /proc/<pid>/stat;
    `reaped`: plus that of its children that have ended and been waited for."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        stat = f.read()
    fields = stat[stat.rindex(b")") + 2 :].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if reaped:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / CLOCK_TICKS


def children(pid: int) -> list[int]:
    """The live child processes of `pid` (of every thread of it)."""
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for task in tasks:
        with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{task}/children") as f:
            out += [int(x) for x in f.read().split()]
    return out


def process_tree(root: int) -> dict[int, str]:
    """`root` and its descendants, each with its role: "engine", "gateway <name>" and
    "supervisor" for the split server (`python server.py` starts a supervisor, which starts
    the engine and the gateways), "server" for a single-process one."""
    pids, i = [root], 0
    while i < len(pids):
        pids += [c for c in children(pids[i]) if c not in pids]
        i += 1
    roles = {pid: process_role(pid) for pid in pids}
    roles[root] = "supervisor" if len(pids) > 1 else "server"
    return roles


def process_role(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = [a.decode(errors="replace") for a in f.read().split(b"\0")]
    except OSError:
        return "gone"
    return role_of(argv) or "other"


def role_of(argv: list[str]) -> str | None:
    """engine or gateway <name> from a server process's command line; None for others."""
    for i, arg in enumerate(argv[:-1]):
        if arg.endswith("server.py"):
            if argv[i + 1] == "engine":
                return "engine"
            if argv[i + 1] == "gateway":
                name = argv[argv.index("--name") + 1] if "--name" in argv[:-1] else "?"
                return f"gateway {name}"
    return None


def role_group(role: str) -> str:
    """What the report adds up: engine, gateways, supervisor (or the single server)."""
    return "gateways" if role.startswith("gateway") else role


def tree_cpu(root: int) -> dict[int, tuple[str, float]]:
    """pid -> (role, CPU seconds) over the tree; a process's children that have ended count
    in it (the engine killed by the crash workload ends up in the supervisor's)."""
    out = {}
    for pid, role in process_tree(root).items():
        with contextlib.suppress(OSError, ValueError, IndexError):
            out[pid] = (role, cpu_seconds(pid, reaped=True))
    return out


def tree_memory(root: int) -> dict[str, int]:
    """VmRSS and VmHWM summed over the tree (peak: the sum of each process's peak), and the
    RSS by role group (rss_engine, rss_gateways, rss_supervisor or rss_server)."""
    out = {"rss": 0, "hwm": 0}
    for pid, role in process_tree(root).items():
        with contextlib.suppress(OSError):
            m = memory_kib(pid)
            out["rss"] += m["rss"]
            out["hwm"] += m["hwm"]
            key = f"rss_{role_group(role)}"
            out[key] = out.get(key, 0) + m["rss"]
    return out


def memory_kib(pid: int | str = "self") -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) in KiB, from /proc/<pid>/status."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":", 1)
                out[key] = int(value.split()[0])
    return {"rss": out.get("VmRSS", 0), "hwm": out.get("VmHWM", 0)}


def server_env(no_uvloop: bool = False, root: Path = ROOT) -> dict[str, str]:
    """The environment of a server (and its seeding) from the tree at `root`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DREAMWAVE_")}
    inherited = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and p != str(ROOT)]
    env["PYTHONPATH"] = os.pathsep.join([str(root), *inherited])
    if no_uvloop:
        env["BENCH_NO_UVLOOP"] = "1"
    return env


ENGINE_PID = re.compile(rb"listening on .*engine pid (\d+)")
WEB_PORT = re.compile(rb"web client at https?://[\w.:\[\]-]*?:(\d+)/")


class ServerProcess:
    """A server started as a child process; its log goes to a file we poll. For the split
    server the process is the supervisor: CPU and memory are read over its whole tree."""

    def __init__(
        self, argv: list[str], log_path: Path, env: dict[str, str], cwd: Path = ROOT
    ) -> None:
        self.argv = argv
        self.log_path = log_path
        self.env = env
        self.cwd = cwd
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.web_port = 0  # the browser client's port (0: none: the single-process server)
        self.loop_name = "?"
        self.started_in = 0.0  # seconds from spawn to "listening"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def start(self) -> float:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "wb")  # noqa: SIM115 (the child owns it from here)
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            self.argv, cwd=str(self.cwd), env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        while True:
            text = self.log_path.read_bytes()
            m = LISTENING.search(text)
            if m:
                self.started_in = time.perf_counter() - t0
                self.port = int(m.group(1))
                web = WEB_PORT.search(text)  # (the split's gateways log it before "listening")
                self.web_port = int(web.group(1)) if web else 0
                loop = LOOP_LINE.search(text)
                self.loop_name = loop.group(1).decode() if loop else "?"
                return self.started_in
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited before listening:\n{self.log_tail()}")
            if time.perf_counter() - t0 > START_TIMEOUT:
                self.kill()
                raise RuntimeError(f"server not listening after {START_TIMEOUT:.0f}s")
            await asyncio.sleep(0.002)

    def cpu(self) -> float:
        return sum(cpu for _role, cpu in tree_cpu(self.pid).values())

    def memory(self) -> dict[str, int]:
        return tree_memory(self.pid)

    def engine_pids(self) -> list[int]:
        """Every engine that said it was listening, oldest first (the split server's log)."""
        try:
            text = self.log_path.read_bytes()
        except OSError:
            return []
        return [int(p) for p in ENGINE_PID.findall(text)]

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def error_lines(self) -> list[str]:
        """Lines the server logged at ERROR or above (tracebacks follow them)."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return []
        return [ln for ln in text.splitlines() if " ERROR " in ln or " CRITICAL " in ln]

    async def stop(self) -> int | None:
        """SIGTERM (the server saves and closes), then SIGKILL if it takes too long."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        deadline = time.perf_counter() + STOP_TIMEOUT
        while self.proc.poll() is None and time.perf_counter() < deadline:
            await asyncio.sleep(0.02)
        if self.proc.poll() is None:
            self.kill()
        return self.proc.returncode

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(5)


def dreamwave_argv(
    db: Path, *, limits: dict[str, float] | None = None, gateways: int | None = None
) -> list[str]:
    """`python server.py run`, through bench.serve so limits can be overridden; `gateways`
    (the split server only) passes --gateways N."""
    argv = [sys.executable, "-m", "bench.serve"]
    for key, value in (limits or {}).items():
        argv += ["--limit", f"{key}={value}"]
    argv += ["--", "run", "--host", "127.0.0.1", "--port", "0", "--db", str(db)]
    if gateways is not None:
        argv += ["--gateways", str(gateways)]
    return argv


def echo_argv() -> list[str]:
    return [sys.executable, "-m", "bench.echo_server", "--host", "127.0.0.1", "--port", "0"]


def machine_cpu() -> tuple[float, float]:
    """(busy, steal) CPU seconds of the whole machine so far, from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq) / CLOCK_TICKS, steal / CLOCK_TICKS


@dataclass
class Window:
    """CPU and memory of one process over a measurement window."""

    cpu0: float
    t0: float

    @classmethod
    def open(cls, pid: int | str) -> Window:
        return cls(cpu_seconds(pid), time.perf_counter())

    def close(self, pid: int | str) -> dict[str, float]:
        wall = time.perf_counter() - self.t0
        cpu = cpu_seconds(pid) - self.cpu0
        return {"cpu_s": round(cpu, 2), "cpu_pct": round(100 * cpu / wall, 1) if wall else 0.0}


@dataclass
class TreeWindow:
    """CPU of a server's process tree over a window, in all and by role group."""

    root: int
    t0: float
    cpu0: dict[int, tuple[str, float]]

    @classmethod
    def open(cls, root: int) -> TreeWindow:
        return cls(root, time.perf_counter(), tree_cpu(root))

    def close(self) -> dict[str, float]:
        wall = time.perf_counter() - self.t0
        now = tree_cpu(self.root)
        # The sum over the tree counts an ended (and waited-for) child in its parent, so the
        # total is right across an engine's crash; the groups give each live process its
        # own share (an ended one's falls to the supervisor).
        total = sum(c for _, c in now.values()) - sum(c for _, c in self.cpu0.values())
        groups: dict[str, float] = {}
        for pid, (role, cpu) in now.items():
            before = self.cpu0.get(pid, (role, 0.0))[1]
            groups[role_group(role)] = groups.get(role_group(role), 0.0) + cpu - before
        root = role_group(now[self.root][0]) if self.root in now else "server"
        for pid, (_role, before) in self.cpu0.items():
            if pid not in now:  # ended: its CPU is in its parent's now, all of it
                groups[root] = groups.get(root, 0.0) - before

        def pct(cpu: float) -> float:
            return round(100 * cpu / wall, 1) if wall else 0.0

        out = {"cpu_s": round(total, 2), "cpu_pct": pct(total)}
        for group, cpu in groups.items():
            out[f"{group}_cpu_pct"] = pct(cpu)
        return out


def loop_available() -> bool:
    try:
        import uvloop  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        return False
    return True


def machine() -> dict[str, object]:
    model = "unknown"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kib = 0
    with contextlib.suppress(OSError), open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
                break
    try:
        from importlib.metadata import version

        telnetlib3 = version("telnetlib3")
    except Exception:
        telnetlib3 = "?"
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "ram_gib": round(mem_kib / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "telnetlib3": telnetlib3,
        "uvloop_installed": loop_available(),
    }
