"""The test suite leaves an admin's own files alone: a `dreamwave.toml` (and the log file and
database it names) in the folder pytest was started from is never read or written by the
fixtures' servers, in process or spawned, nor by the tools they run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.client import login
from tests.conftest import INVOKED_FROM, ROOT, make_admin, server_env, spawn_argv, spawn_server


def hostile_config(folder: Path, tmp_path: Path) -> Path:
    """A settings file that would be noticed if read: a log file, a database and a port of
    its own, and a limit no server accepts."""
    path = folder / "dreamwave.toml"
    if path.exists():
        pytest.skip(f"{path} is someone's own configuration; not touching it")
    path.write_text(
        f'log_file = "{tmp_path / "admins.log"}"\nport = 1\n'
        f'db = "sqlite:///{tmp_path / "admins.db"}"\n[limits]\ncommand_burst = 0\n'
    )
    return path


async def test_a_dreamwave_toml_where_pytest_started_is_ignored(tmp_path, make_server):
    hostile = hostile_config(INVOKED_FROM, tmp_path)
    try:
        db = tmp_path / "own.db"
        make_admin(db)  # a tool run the way the fixtures run it
        sp = await spawn_server(db)
        root = await login(sp.port, "Root", password="secretpass", create=False)
        await root.cmd("look", "Dreamwave Nexus")
        await root.close()
        sp.proc.terminate()
        sp.proc.wait(60)
        server = await make_server()
        assert server.settings.limits.command_burst > 0
        shown = subprocess.run(
            [sys.executable, str(ROOT / "server.py"), "config"],
            capture_output=True, text=True, env=server_env(), timeout=60,
        )  # fmt: skip
        assert shown.returncode == 0, shown.stderr
        assert "port = 4000" in shown.stdout
    finally:
        hostile.unlink()
    assert not (tmp_path / "admins.log").exists()
    assert not (tmp_path / "admins.db").exists()


async def test_the_benchmark_server_ignores_the_dreamwave_toml_where_it_was_started(tmp_path):
    started_in = tmp_path / "admins-folder"
    started_in.mkdir()
    hostile_config(started_in, tmp_path)
    argv = [sys.executable, "-m", "bench.serve", "--", "run", "--port", "0", "--db",
            str(tmp_path / "bench.db")]  # fmt: skip
    sp = await spawn_argv(argv, started_in, server_env())
    try:
        c = await login(sp.port, "Ada")
        await c.close()
    finally:
        sp.proc.terminate()
        sp.proc.wait(60)
    assert not (tmp_path / "admins.log").exists()


def test_the_shells_dreamwave_settings_stay_out_of_spawned_servers(tmp_path, monkeypatch):
    monkeypatch.setenv("DREAMWAVE_LOG_FILE", str(tmp_path / "admins.log"))  # as if exported
    monkeypatch.setenv("DREAMWAVE_SCREENSHOTS", "1")  # a knob of the tests: kept
    make_admin(tmp_path / "own.db")
    assert not (tmp_path / "admins.log").exists()
    assert server_env()["DREAMWAVE_SCREENSHOTS"] == "1"
