"""The supervisor: `python server.py` starts it; it starts the engine and the gateways.

    supervisor ── engine      (the world, one process; restarted after a reload or a crash)
              └─ gateway × N  (every socket; they keep their connections while it restarts)

The engine and the gateways talk over the local link, a Unix socket in a folder only this
user may enter (a run folder of its own, `dreamwave-*` in the temporary folder, marked with
the supervisor's pid; ones a killed supervisor left are removed at the next start). Settings
that may hold a secret (the database URL, the NATS URL) reach the children through their
environment, never their command lines, which every local user can read.

The supervisor owns no connection and no world: it picks the port (so a port that is taken
stops the start before any database is opened), starts the children, watches the engine's
heartbeat (a pipe it writes to every second: silence for `link.engine_timeout` seconds is a
hung engine, killed and replaced) and each gateway's (silence for `link.gateway_timeout`
seconds: a hung gateway is killed and started again, as if it had died), restarts an engine
that exits for a reload (status 75) or dies, restarts a gateway that dies, and passes SIGHUP
on as a reload. SIGINT and SIGTERM stop
the engine first (it saves and says goodbye through the gateways), then the gateways, then
itself; the exit status is the engine's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from pathlib import Path

from mud.config import Settings
from mud.supervisor.procs import GO_ENV, HEARTBEAT_ENV, RELOAD_EXIT, ListenError

log = logging.getLogger("dreamwave.supervisor")

SERVER = str(Path(__file__).resolve().parents[2] / "server.py")
RESTART_BACKOFF_MAX = 10.0  # seconds between restarts of an engine that keeps dying at once
QUICK_DEATH = 10.0  # an engine that dies within this many seconds of starting backs off
STOP_GRACE = 10.0  # seconds past shutdown_timeout an engine gets to stop before SIGKILL
STARTUP_GRACE = 30.0  # seconds a new child may take (imports, loading) before its first beat
WATCH_EVERY = 0.5  # seconds between the supervisor's looks at its children
OWN_STALL = 2.0  # a look this late means the supervisor itself was stopped: hear them afresh
RUN_PREFIX = "dreamwave-"  # our run folders in the temporary folder
OWNER_FILE = "supervisor"  # in a run folder: "<pid> <start time>" of the supervisor that made it
LEGACY_STALE_AGE = 60.0  # seconds an older run folder's socket must have been dead


def process_start(pid: int) -> str:
    """When process `pid` started (in clock ticks since boot; "" if it is gone): with the pid,
    it names one process, even after the pid is reused."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rpartition(")")[2].split()[19]


def clean_stale_run_folders(tmp: str | None = None) -> int:
    """Remove the run folders of supervisors that are gone (kill -9 left them): only ours
    (our user's), only when the process that made them is not running."""
    removed = 0
    for folder in Path(tmp or tempfile.gettempdir()).glob(f"{RUN_PREFIX}*"):
        try:
            if folder.is_symlink() or folder.stat().st_uid != os.getuid():
                continue
            gone = _owner_gone(folder)
        except OSError:
            continue
        if gone:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def _owner_gone(folder: Path) -> bool:
    owner = folder / OWNER_FILE
    if owner.exists():
        pid, _, started = owner.read_text().partition(" ")
        return pid.isdigit() and process_start(int(pid)) != started.strip()
    # Made before run folders had an owner file: gone if nothing has listened on its socket
    # for LEGACY_STALE_AGE (a supervisor that is still there restarts its engine sooner).
    sock = folder / "engine.sock"
    if not sock.is_socket() or time.time() - folder.stat().st_mtime < LEGACY_STALE_AGE:
        return False
    with socket.socket(socket.AF_UNIX) as probe:
        try:
            probe.connect(str(sock))
        except ConnectionRefusedError:
            return True
        except OSError:
            return False
    return False


def pick_port(settings: Settings) -> int:
    """The port every gateway listens on: settings.port, or (0) a free one. Raises
    ListenError if it is taken, before anything else starts."""
    port = settings.port
    for host in settings.hosts:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        probe = socket.socket(family, socket.SOCK_STREAM)
        try:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            probe.bind((host, port))
            port = probe.getsockname()[1]
        except OSError as err:
            raise ListenError(host, port, err) from err
        finally:
            probe.close()
    return port


class Pulse:
    """A child's heartbeat as the supervisor hears it. Silent for `timeout` seconds after a
    beat, or for STARTUP_GRACE before its first (a loaded machine imports slowly), it is hung."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.at = time.monotonic()
        self.beaten = False

    def beat(self) -> None:
        self.at = time.monotonic()
        self.beaten = True

    def rearm(self) -> None:
        """The supervisor itself was stopped (SIGSTOP, a paused machine): what it could not
        hear meanwhile is no child's silence."""
        self.at = time.monotonic()

    def silent_for(self) -> float:
        return time.monotonic() - self.at

    def hung(self) -> bool:
        return self.silent_for() > (self.timeout if self.beaten else STARTUP_GRACE)


class Supervisor:
    def __init__(
        self, settings: Settings, passed: list[str], env: dict[str, str] | None = None
    ) -> None:
        """`passed`: the flags every child gets (config file, log level...); `env`: the
        settings it gets in its environment instead (those that may hold a secret)."""
        self.settings = settings
        self.passed = passed
        self.env = env or {}
        self.gateways = settings.link.gateways
        self.engine: asyncio.subprocess.Process | None = None
        self.gateway_procs: dict[str, asyncio.subprocess.Process] = {}
        self.stopping = False
        self.port = 0
        self.engine_stopping = False  # the engine said it is stopping on purpose ("S")
        # the next engine, started when a reload began ("L"): (process, heartbeat, go pipe)
        self.standby: tuple[asyncio.subprocess.Process, int, int] | None = None
        self._gateway_started: dict[str, float] = {}
        self.ever_ready = False  # an engine said it was ready ("R")
        self.engine_pulse = Pulse(settings.link.engine_timeout)
        # each gateway's heartbeat: (the read end of its pipe, what was heard on it)
        self.gateway_pulses: dict[str, tuple[int, Pulse]] = {}
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.link_path = settings.link.socket

    async def run(self) -> int:
        self.port = pick_port(self.settings)
        if self.settings.web.enabled and "--web-port" not in self.passed:
            # every gateway shares the browser client's port too (mud/web)
            web = self.settings.model_copy(update={"port": self.settings.web_port})
            self.passed = [*self.passed, "--web-port", str(pick_port(web))]
        if not self.link_path:
            removed = clean_stale_run_folders()
            if removed:
                log.info("removed %d run folder(s) left by servers that were killed", removed)
            self._tmp = tempfile.TemporaryDirectory(prefix=RUN_PREFIX)  # 0700
            me = os.getpid()
            Path(self._tmp.name, OWNER_FILE).write_text(f"{me} {process_start(me)}")
            self.link_path = os.path.join(self._tmp.name, "engine.sock")
        else:
            from mud.link.local import private_directory

            private_directory(Path(self.link_path).parent)  # (refused before anything starts)
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        loop.add_signal_handler(signal.SIGHUP, self._reload)
        try:
            code = await self._supervise(stop)
        finally:
            if self._tmp is not None:
                self._tmp.cleanup()
        return code

    def _child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.env)
        env["PYTHONPATH"] = str(Path(SERVER).parent) + os.pathsep + env.get("PYTHONPATH", "")
        return env

    async def _start_engine(
        self, standby: bool = False
    ) -> tuple[asyncio.subprocess.Process, int, int]:
        """A new engine: (process, the read end of its heartbeat pipe, and for a `standby`
        the write end of its go pipe: it loads its code, then waits for a byte there)."""
        read_fd, write_fd = os.pipe()
        env = self._child_env()
        env[HEARTBEAT_ENV] = str(write_fd)
        fds = [write_fd]
        go_read = go_write = -1
        if standby:
            go_read, go_write = os.pipe()
            env[GO_ENV] = str(go_read)
            fds.append(go_read)
        argv = [sys.executable, SERVER, "engine", "--link-socket", self.link_path,
                "--gateways", str(self.gateways), "--port", str(self.port),
                *self.passed]  # fmt: skip
        proc = await asyncio.create_subprocess_exec(
            *argv, env=env, pass_fds=fds, start_new_session=True,
            stdin=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        for fd in fds:
            os.close(fd)
        return proc, read_fd, go_write

    async def _prepare_next(self) -> None:
        """A reload began: start the next engine now, so its code is loaded while the old
        one finishes and saves (it waits on its go pipe until the old one has exited)."""
        if self.standby is None and not self.stopping:
            self.standby = await self._start_engine(standby=True)
            log.info("reload: the next engine is loading its code (pid %d)", self.standby[0].pid)

    async def _start_gateway(self, name: str) -> asyncio.subprocess.Process:
        """A gateway, with a heartbeat pipe of its own (a hung gateway is replaced)."""
        self._gateway_started[name] = time.monotonic()
        argv = [sys.executable, SERVER, "gateway", "--link-socket", self.link_path,
                "--name", name, "--port", str(self.port), "--supervised", *self.passed]  # fmt: skip
        if self.gateways > 1:
            argv.append("--reuse-port")
        self._forget_pulse(name)
        read_fd, write_fd = os.pipe()
        env = self._child_env()
        env[HEARTBEAT_ENV] = str(write_fd)
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv, env=env, pass_fds=[write_fd], start_new_session=True,
                stdin=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
        except BaseException:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
        pulse = Pulse(self.settings.link.gateway_timeout)
        self.gateway_pulses[name] = (read_fd, pulse)
        os.set_blocking(read_fd, False)
        asyncio.get_running_loop().add_reader(read_fd, self._gateway_beat, read_fd, pulse)
        return proc

    def _gateway_beat(self, fd: int, pulse: Pulse) -> None:
        with contextlib.suppress(BlockingIOError, OSError):
            if os.read(fd, 4096):
                pulse.beat()
                return
        asyncio.get_running_loop().remove_reader(fd)  # (end of file: it exited)

    def _forget_pulse(self, name: str) -> None:
        fd, _ = self.gateway_pulses.pop(name, (-1, None))
        if fd >= 0:
            asyncio.get_running_loop().remove_reader(fd)
            os.close(fd)

    def _kill_hung_gateways(self) -> None:
        """A gateway whose loop stopped (its players frozen) is killed; its death is then
        handled as any other's: its players are disconnected and it starts again."""
        if self.stopping or self.engine_stopping:
            return
        for name, (_, pulse) in self.gateway_pulses.items():
            proc = self.gateway_procs.get(name)
            if proc is None or proc.returncode is not None or not pulse.hung():
                continue
            log.error("gateway %s has not answered for %.0fs: it is hung; killing it",
                      name, pulse.silent_for())  # fmt: skip
            pulse.beat()  # (once: its death comes next)
            with contextlib.suppress(ProcessLookupError):
                proc.kill()

    def _reload(self) -> None:
        if self.engine is not None and self.engine.returncode is None:
            log.info("SIGHUP: asking the engine to reload")
            self.engine.send_signal(signal.SIGHUP)

    async def _supervise(self, stop: asyncio.Event) -> int:
        loop = asyncio.get_running_loop()
        names = [f"gw{i + 1}" for i in range(self.gateways)]
        for name in names:
            self.gateway_procs[name] = await self._start_gateway(name)
        backoff = 0.0
        quick_deaths = 0  # engines in a row that died within QUICK_DEATH of starting
        code = 0
        while True:
            if self.standby is not None:  # ready and waiting: let it go
                self.engine, beat_fd, go = self.standby
                self.standby = None
                with contextlib.suppress(OSError):
                    os.write(go, b"g")
                os.close(go)
            else:
                self.engine, beat_fd, _ = await self._start_engine()
            self.engine_pulse = Pulse(self.settings.link.engine_timeout)
            self.engine_stopping = False
            started = time.monotonic()
            os.set_blocking(beat_fd, False)
            loop.add_reader(beat_fd, self._beat, beat_fd)
            stop_wait = loop.create_task(stop.wait())
            exited = loop.create_task(self.engine.wait())
            gateway_deaths = {loop.create_task(p.wait()): n for n, p in self.gateway_procs.items()}
            try:
                code = await self._watch(stop_wait, exited, gateway_deaths)
            finally:
                loop.remove_reader(beat_fd)
                os.close(beat_fd)
                stop_wait.cancel()
                for t in gateway_deaths:
                    t.cancel()
            if self.stopping:
                break
            if code == RELOAD_EXIT:
                log.info("the engine handed over for a reload; the next one takes over")
                self.ever_ready = True
                backoff = 0.0
                quick_deaths = 0
                continue
            if self.engine_stopping:
                break  # it stopped by itself (@shutdown): everything stops
            if not self.ever_ready and time.monotonic() - started < QUICK_DEATH:
                # the first engine could not start (database in use, broken content): that
                # is the server failing to start, said on stderr by the engine itself
                break
            quick = time.monotonic() - started < QUICK_DEATH
            if quick and quick_deaths:  # it keeps dying at once: don't spin
                backoff = min(RESTART_BACKOFF_MAX, max(0.5, backoff * 2))
                log.error("the engine died again at once (status %s); next try in %.1fs",
                          code, backoff)  # fmt: skip
                await asyncio.sleep(backoff)
            else:
                backoff = 0.0
                log.error("the engine died (status %s); starting a new one", code)
            quick_deaths = quick_deaths + 1 if quick else 0
        await self._stop_standby()
        await self._stop_gateways()
        for name in list(self.gateway_pulses):
            self._forget_pulse(name)
        return 0 if code == RELOAD_EXIT else (code if code is not None and code >= 0 else 1)

    async def _watch(
        self,
        stop_wait: asyncio.Task[bool],
        exited: asyncio.Task[int],
        gateway_deaths: dict[asyncio.Task[int], str],
    ) -> int:
        assert self.engine is not None
        looked = time.monotonic()
        while True:
            waiting = {stop_wait, exited, *gateway_deaths}
            done, _ = await asyncio.wait(
                waiting, timeout=WATCH_EVERY, return_when=asyncio.FIRST_COMPLETED
            )
            looked, late = time.monotonic(), time.monotonic() - looked
            if late > OWN_STALL:
                log.warning("the supervisor was stopped for %.0fs; listening to its children "
                            "afresh", late)  # fmt: skip
                self.engine_pulse.rearm()
                for _fd, pulse in self.gateway_pulses.values():
                    pulse.rearm()
            if exited in done:
                return exited.result()
            if stop_wait in done and not self.stopping:
                self.stopping = True
                log.info("stopping: the engine first, then the gateways")
                self.engine.send_signal(signal.SIGTERM)
                try:
                    return await asyncio.wait_for(
                        asyncio.shield(exited), self.settings.shutdown_timeout + STOP_GRACE
                    )
                except TimeoutError:
                    log.error("the engine did not stop in time; killing it")
                    self.engine.kill()
                    await exited
                    return 1
            for task in done & set(gateway_deaths):
                name = gateway_deaths.pop(task)
                if self.stopping or self.engine_stopping or task.result() == 0:
                    continue  # it stopped because the server is stopping (the engine's "stop")
                log.error("gateway %s died (status %s): its connections are gone; "
                          "starting it again", name, task.result())  # fmt: skip
                if time.monotonic() - self._gateway_started.get(name, 0.0) < QUICK_DEATH:
                    await asyncio.sleep(1.0)  # it dies as it starts: don't spin
                proc = await self._start_gateway(name)
                self.gateway_procs[name] = proc
                gateway_deaths[asyncio.get_running_loop().create_task(proc.wait())] = name
            if self.engine_pulse.hung() and self.engine.returncode is None:
                log.error("the engine has not answered for %.0fs: it is hung; killing it",
                          self.engine_pulse.silent_for())  # fmt: skip
                self.engine.kill()
            self._kill_hung_gateways()

    def _beat(self, fd: int) -> None:
        with contextlib.suppress(BlockingIOError, OSError):
            got = os.read(fd, 4096)
            if got:
                self.engine_pulse.beat()
                if b"R" in got:
                    self.ever_ready = True
                if b"S" in got:
                    self.engine_stopping = True
                if b"L" in got:  # a reload is going ahead
                    asyncio.get_running_loop().create_task(self._prepare_next())

    async def _stop_standby(self) -> None:
        if self.standby is not None:
            proc, beat, go = self.standby
            self.standby = None
            os.close(go)  # (it reads nothing and exits)
            os.close(beat)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), 10)
            if proc.returncode is None:
                proc.kill()
                await proc.wait()

    async def _stop_gateways(self) -> None:
        for proc in self.gateway_procs.values():
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)
        for proc in self.gateway_procs.values():
            try:
                await asyncio.wait_for(proc.wait(), 5.0)
            except TimeoutError:
                proc.kill()
                await proc.wait()
