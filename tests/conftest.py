"""Fixtures: a real Dreamwave server on port 0 with a temporary SQLite file.

The in-process fixture runs the engine (App) and a gateway on the test's own event loop,
linked by the real local link (a Unix socket), so every test goes through the gateway as a
player's connection does; it fails the test if the server logged an error it didn't expect.
`spawn_server` runs `python server.py` (supervisor, engine and gateway processes) for the
tests that need signals, reloads or kill -9.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mud.config import ENV_NESTED, ENV_PREFIX, Settings, env_name
from mud.core.app import App
from mud.edge.gateway import Gateway

ROOT = Path(__file__).resolve().parent.parent
INVOKED_FROM = Path.cwd()  # where pytest was started: maybe an admin's own folder
# Every test player comes from 127.0.0.1, and a test makes accounts, letters and loops faster
# than any person: the quotas are lifted unless a test sets its own (tests/test_rate_limits.py).
LIFTED_QUOTAS = {
    "accounts_per_address_per_hour": 100_000, "accounts_per_hour": 100_000,
    "letters_per_hour": 100_000, "loops_per_hour": 100_000, "weaves_per_minute": 100_000,
}  # fmt: skip


class ErrorCollector(logging.Handler):
    """Every ERROR logged anywhere: our loggers, telnetlib3's, and asyncio's (its loop
    exception handler's "Exception in callback ..." and "Task exception was never
    retrieved", which is logged only when the task is garbage collected: see `settle`)."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    @staticmethod
    async def settle() -> None:
        """Let pending callbacks run and collect dropped tasks, so their errors are logged."""
        await asyncio.sleep(0)
        gc.collect()


async def start_in_process(settings: Settings) -> tuple[App, Gateway]:
    """The engine and one gateway on this event loop, over the real local link."""
    app = App(settings)
    await app.start()
    gateway = Gateway(settings, "gw1", link_path=settings.link.socket)
    await gateway.start()
    await asyncio.wait_for(app.ready.wait(), 10)
    app.gateway = gateway  # type: ignore[attr-defined]
    return app, gateway


def conn_of(app: App, session: Any) -> Any:
    """The gateway's side (mud.edge.gateway.Conn: the socket, the telnet layer) of a session."""
    return app.gateway.conns[session.link.sid]  # type: ignore[attr-defined]


def is_server_setting(var: str) -> bool:
    """DREAMWAVE_PORT or DREAMWAVE_LIMITS__COMMAND_BURST, but not a knob of the tests such as
    DREAMWAVE_SCREENSHOTS or DREAMWAVE_CRASH_POINTS."""
    field = var.removeprefix(ENV_PREFIX).split(ENV_NESTED)[0].lower()
    return var.startswith(ENV_PREFIX) and field in Settings.model_fields


@pytest.fixture(scope="session", autouse=True)
def away_from_the_admins_files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Run every test from an empty folder, without the DREAMWAVE_ variables of the shell that
    started pytest: an admin's `./dreamwave.toml` (with its log file and database) and their
    environment are theirs, and a test server must neither read nor append to them."""
    saved = {k: os.environ.pop(k) for k in list(os.environ) if is_server_setting(k)}
    os.chdir(tmp_path_factory.mktemp("cwd"))
    yield
    os.chdir(INVOKED_FROM)
    os.environ.update(saved)


@pytest.fixture
async def make_server(tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[App]]]:
    apps: list[tuple[App, Gateway]] = []
    collector = ErrorCollector()
    logging.getLogger().addHandler(collector)

    async def factory(
        db: str | None = None, host: str | list[str] = "127.0.0.1", **limits: Any
    ) -> App:
        settings = Settings(host=host, port=0, db=db or f"sqlite:///{tmp_path / 'test.db'}")
        settings.link.socket = str(tmp_path / f"link{len(apps)}" / "engine.sock")
        for key, value in {**LIFTED_QUOTAS, **limits}.items():
            setattr(settings.limits, key, value)
        app, gateway = await start_in_process(settings)
        app.errors = collector.records  # type: ignore[attr-defined]
        apps.append((app, gateway))
        return app

    yield factory
    for app, gateway in apps:
        if not app.stopping:
            await app.stop()
        try:
            await asyncio.wait_for(gateway.stopped.wait(), 5)
        except TimeoutError:
            await gateway.stop()
    await collector.settle()
    logging.getLogger().removeHandler(collector)
    unexpected = [r for r in collector.records if not getattr(r, "expected", False)]
    assert not unexpected, "server logged errors:\n" + "\n".join(
        collector.format(r) for r in unexpected
    )


@pytest.fixture
async def server(make_server: Callable[..., Awaitable[App]]) -> App:
    return await make_server()


def server_env() -> dict[str, str]:
    """The environment for a spawned server or tool: ours, without any server setting but
    the lifted quotas (a test adds the ones it means)."""
    env = {k: v for k, v in os.environ.items() if not is_server_setting(k)}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update({env_name(f"limits.{k}"): str(v) for k, v in LIFTED_QUOTAS.items()})
    return env


class ServerProcess:
    def __init__(self, proc: subprocess.Popen[str], port: int, lines: list[str]) -> None:
        self.proc = proc
        self.port = port
        self.lines = lines

    @property
    def log(self) -> str:
        return "".join(self.lines)

    def pids(self) -> list[int]:
        """The engine's and the gateways' process ids (from their log lines)."""
        log = self.log
        found = re.findall(r"engine pid (\d+)\)", log) + re.findall(
            r"gateway \w+ accepting on .*\(pid (\d+)\)", log
        )
        return [int(p) for p in found]

    def kill_hard(self) -> None:
        """kill -9 the whole server at once, supervisor, engine and gateways (the machine
        lost power, or an admin killed them all): the supervisor is frozen first so it
        can't start anything new in between."""
        if self.proc.poll() is not None:
            return
        os.kill(self.proc.pid, signal.SIGSTOP)
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.proc.kill()
        self.proc.wait(10)


async def spawn_server(
    db_path: Path | str,
    *extra: str,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> ServerProcess:
    """Start `python server.py run --port 0 --db FILE` and wait until it listens. `db_path`
    may be a database URL (then give `cwd`)."""
    argv = [sys.executable, str(ROOT / "server.py"), "run", "--port", "0", "--db", str(db_path)]
    return await spawn_argv([*argv, *extra], cwd or Path(db_path).parent, env or server_env())


async def spawn_argv(argv: list[str], cwd: Path, env: dict[str, str]) -> ServerProcess:
    """Start a server process from `argv` and wait until it logs that it listens."""
    proc = subprocess.Popen(
        argv, cwd=str(cwd), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env
    )
    lines: list[str] = []
    loop = asyncio.get_running_loop()
    assert proc.stderr is not None
    while True:
        line = await asyncio.wait_for(loop.run_in_executor(None, proc.stderr.readline), 30)
        if not line:
            raise AssertionError("server exited before listening:\n" + "".join(lines))
        lines.append(line)
        m = re.search(r"listening on [\d.]+:(\d+)", line)
        if m:
            break
    sp = ServerProcess(proc, int(m.group(1)), lines)

    def drain() -> None:
        for rest in proc.stderr:  # type: ignore[union-attr]
            lines.append(rest)

    loop.run_in_executor(None, drain)
    return sp


@pytest.fixture
async def split(tmp_path):  # type: ignore[no-untyped-def]
    """`python server.py` with an admin, Root; the test fails if the server logged an error
    other than the one a test causes on purpose (the supervisor's "the engine died")."""
    db = tmp_path / "split.db"
    make_admin(db)
    sp = await spawn_server(db)
    yield sp
    if sp.proc.poll() is None:
        sp.proc.send_signal(signal.SIGTERM)
        await asyncio.get_running_loop().run_in_executor(None, sp.proc.wait, 60)
    print(sp.log)  # shown when the test fails
    errors = [ln for ln in sp.log.splitlines() if "ERROR" in ln and "the engine died" not in ln]
    assert "Traceback" not in sp.log and not errors, sp.log


def make_admin(db: Path, name: str = "Root", password: str = "secretpass") -> None:
    """`server.py create-admin NAME --password-stdin` on `db`."""
    res = subprocess.run(
        [sys.executable, str(ROOT / "server.py"), "create-admin", name, "--password-stdin",
         "--db", str(db)],
        input=password + "\n", capture_output=True, text=True, env=server_env(), timeout=60,
        start_new_session=True,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr


# -- the crash harness's length (tests/test_crash_harness.py) -----------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--crash-points",
        type=int,
        default=None,
        help="run the long crash harness with this many kill -9 points (env "
        "DREAMWAVE_CRASH_POINTS); CI runs only the short one",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "crash_long: the long crash harness (--crash-points N)")


@pytest.fixture
def crash_points(request: pytest.FixtureRequest) -> int | None:
    """Kill points asked for the long crash harness, or None (then it is skipped)."""
    given = request.config.getoption("--crash-points")
    if given is None and os.environ.get("DREAMWAVE_CRASH_POINTS"):
        given = int(os.environ["DREAMWAVE_CRASH_POINTS"])
    return given
