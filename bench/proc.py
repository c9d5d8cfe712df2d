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


def cpu_seconds(pid: int | str = "self") -> float:
    """User + system CPU time of a process (all its threads), from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        stat = f.read()
    fields = stat[stat.rindex(b")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def memory_kib(pid: int | str = "self") -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) in KiB, from /proc/<pid>/status."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":", 1)
                out[key] = int(value.split()[0])
    return {"rss": out.get("VmRSS", 0), "hwm": out.get("VmHWM", 0)}


def server_env(no_uvloop: bool = False) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DREAMWAVE_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    if no_uvloop:
        env["BENCH_NO_UVLOOP"] = "1"
    return env


class ServerProcess:
    """A server started as a child process; its log goes to a file we poll."""

    def __init__(self, argv: list[str], log_path: Path, env: dict[str, str]) -> None:
        self.argv = argv
        self.log_path = log_path
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
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
            self.argv, cwd=str(ROOT), env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        while True:
            text = self.log_path.read_bytes()
            m = LISTENING.search(text)
            if m:
                self.started_in = time.perf_counter() - t0
                self.port = int(m.group(1))
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
        return cpu_seconds(self.pid)

    def memory(self) -> dict[str, int]:
        return memory_kib(self.pid)

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


def dreamwave_argv(db: Path, *, limits: dict[str, float] | None = None) -> list[str]:
    """`python server.py run`, through bench.serve so limits can be overridden."""
    argv = [sys.executable, "-m", "bench.serve"]
    for key, value in (limits or {}).items():
        argv += ["--limit", f"{key}={value}"]
    return [*argv, "--", "run", "--host", "127.0.0.1", "--port", "0", "--db", str(db)]


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
