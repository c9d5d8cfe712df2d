"""The command line says exactly what it did: `create-admin` on an existing account, and
`--help` as a new admin reads it. Real `python server.py` processes."""

from __future__ import annotations

import re

from tests.client import login
from tests.conftest import make_admin, spawn_server
from tests.test_cli import run_cli


async def can_log_in(port: int, name: str, password: str) -> bool:
    try:
        c = await login(port, name, password, create=False)
    except (AssertionError, TimeoutError):
        return False
    await c.close()
    return True


async def test_create_admin_on_an_admin_with_a_password_changes_it_and_says_so(tmp_path):
    db = tmp_path / "a.db"
    make_admin(db, "Ada", "firstpassword")
    res = run_cli("create-admin", "Ada", "--password-stdin", "--db", str(db), stdin="newpassword\n")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "Ada is already an admin; their password was changed."
    sp = await spawn_server(db)
    try:
        assert await can_log_in(sp.port, "Ada", "newpassword")
    finally:
        sp.kill_hard()


async def test_promoting_a_player_says_whether_their_password_was_replaced(tmp_path):
    db = tmp_path / "p.db"
    make_admin(db, "Root")
    sp = await spawn_server(db)
    try:
        bob = await login(sp.port, "Bob", "bobspassword")
        cat = await login(sp.port, "Cat", "catspassword")
        await bob.close()
        await cat.close()
    finally:
        sp.kill_hard()
    res = run_cli("create-admin", "bob", "--password-stdin", "--db", str(db), stdin="\n")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "Promoted admin Bob. Their password is unchanged."
    res = run_cli("create-admin", "cat", "--password-stdin", "--db", str(db), stdin="newcatpass\n")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "Promoted admin Cat. Their password was changed."
    sp = await spawn_server(db)
    try:
        assert await can_log_in(sp.port, "Bob", "bobspassword")
        assert await can_log_in(sp.port, "Cat", "newcatpass")
    finally:
        sp.kill_hard()


async def test_create_admin_while_the_server_runs_names_the_supervisor(tmp_path):
    db = tmp_path / "busy.db"
    sp = await spawn_server(db)
    try:
        res = run_cli("create-admin", "Root", "--password-stdin", "--db", str(db), stdin="x\n")
        engine_pid = sp.pids()[0]
    finally:
        sp.kill_hard()
    assert res.returncode == 1
    assert f"pid {sp.proc.pid}" in res.stderr  # the process to stop: it stops the rest
    assert str(engine_pid) not in res.stderr
    assert "No admin yet? Stop the server" in res.stderr


def test_help_lists_the_commands_and_the_run_options():
    res = run_cli("--help")
    assert res.returncode == 0, res.stderr
    assert "SUPPRESS" not in res.stdout
    listed = re.findall(r"^    (\S+)", res.stdout, re.MULTILINE)
    assert "engine" not in listed and "create-admin" in listed  # the engine: the supervisor's
    assert "--port" in res.stdout and "--db" in res.stdout
    run_help = run_cli("run", "--help").stdout
    assert "(default 4001)" not in run_help
    assert "the telnet port + 1" in re.sub(r"\s+", " ", run_help)
