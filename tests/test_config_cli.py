"""The configuration as an admin meets it: `server.py config`, a sample file, a broken file
stopping start-up with the key and line, a log file, and listening on IPv4 and IPv6."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.client import Client, login
from tests.conftest import ROOT, server_env, spawn_server


def server_py(*args: str, cwd: Path, env: dict[str, str] | None = None):
    return subprocess.run(
        [sys.executable, str(ROOT / "server.py"), *args],
        cwd=str(cwd), capture_output=True, text=True, env=env or server_env(), timeout=60,
    )  # fmt: skip


def test_config_prints_values_and_where_they_came_from(tmp_path):
    (tmp_path / "dreamwave.toml").write_text(
        "# our little dreamscape\nport = 4100\n\n[limits]\ncommand_burst = 12\n"
        '[mssp]\nname = "Nightfall"\n'
    )
    env = {**server_env(), "DREAMWAVE_LIMITS__LOGIN_LOCKOUT": "600"}
    out = server_py("config", "--port", "4200", cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stderr
    assert "port = 4200  # flag" in out.stdout
    assert "command_burst = 12  # dreamwave.toml:5" in out.stdout
    assert 'name = "Nightfall"  # dreamwave.toml:7' in out.stdout
    assert "login_lockout = 600.0  # environment DREAMWAVE_LIMITS__LOGIN_LOCKOUT" in out.stdout
    assert 'db = "sqlite:///dreamwave.db"  # default' in out.stdout


def test_the_sample_is_a_working_config_file(tmp_path):
    sample = server_py("config", "--sample", cwd=tmp_path)
    assert sample.returncode == 0 and "[limits]" in sample.stdout
    (tmp_path / "custom.toml").write_text(sample.stdout)
    out = server_py("config", "--config", "custom.toml", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "port = 4000  # custom.toml:" in out.stdout


def test_a_wrong_key_or_value_stops_start_up_naming_it(tmp_path):
    (tmp_path / "dreamwave.toml").write_text('port = "four thousand"\n[limits]\nburst = 3\n')
    out = server_py("run", cwd=tmp_path)
    assert out.returncode == 2
    assert "dreamwave.toml:1: port: Input should be a valid integer" in out.stderr
    assert "dreamwave.toml:3: limits.burst: there is no such setting" in out.stderr
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "dreamwave.db").exists()  # nothing was touched
    missing = server_py("run", "--config", "nope.toml", cwd=tmp_path)
    assert missing.returncode == 2 and "nope.toml: no such configuration file." in missing.stderr


async def test_the_server_runs_on_its_config_file_and_logs_to_a_file(tmp_path):
    (tmp_path / "dreamwave.toml").write_text(
        f'log_file = "{tmp_path / "dream.log"}"\n[limits]\ncommand_burst = 2\n'
        "commands_per_second = 0.5\n"
    )
    sp = await spawn_server(tmp_path / "cfg.db")
    try:
        c = await login(sp.port, "Ada")
        c.send("look")
        c.send("look")
        c.send("look")
        await c.expect("faster than the dream can follow")  # the file's throttle is in force
        await c.close()
    finally:
        sp.proc.terminate()
        sp.proc.wait(30)
    assert "listening on" in (tmp_path / "dream.log").read_text()


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _has_ipv6_loopback(), reason="this machine has no IPv6 loopback")
async def test_listening_on_ipv4_and_ipv6(tmp_path):
    sp = await spawn_server(tmp_path / "v6.db", "--host", "127.0.0.1", "--host", "::1")
    try:
        assert f"listening on 127.0.0.1:{sp.port}, [::1]:{sp.port}" in sp.log
        v4 = await login(sp.port, "Ada")
        v6 = await login(sp.port, "Bob", host="::1")
        await v6.cmd("say hello from six", "You say")
        await v4.expect('Bob says, "hello from six"')
        for c in (v4, v6):
            await c.close()
    finally:
        sp.proc.terminate()
        sp.proc.wait(30)


@pytest.mark.skipif(not _has_ipv6_loopback(), reason="this machine has no IPv6 loopback")
async def test_an_ipv6_prefix_ban_refuses_at_connect(make_server):
    server = await make_server(host=["127.0.0.1", "::1"])
    if True:
        ash = await login(server.port, "Ash")
        server.world.set_role(server.world.players_by_key["ash"], "admin")
        await ash.cmd("@ban ::1/128 10m", r"Connections from ::1/128 are refused for 10 minutes")
        banned = await Client.connect(server.port, host="::1")
        await banned.expect("Connections from your address are not accepted here.")
        await banned.wait_closed()
        await ash.close()
