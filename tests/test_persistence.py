"""The dream outlives the server: clean restarts, kill -9, SIGTERM, and the command line."""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import subprocess
import sys

from tests.client import Client, login
from tests.conftest import ROOT, server_env, spawn_server


async def play_a_little(port):
    """Ada creates her dreamer, takes the map, walks north, takes the shell, drops the map.

    Each step waits for its confirmation, which the server sends only once it is durable.
    """
    a = await login(port, "Ada")
    await a.cmd("get map", r"You pick up a folded map of the sanctuaries\.")
    await a.cmd("north", r"Sanctuary of Returning Tides")
    await a.cmd("get shell", r"You pick up a pearl-grey echo shell\.")
    await a.cmd("drop map", r"You drop a folded map of the sanctuaries\.")
    return a


async def check_the_world_remembers(port):
    a = await login(port, "Ada", create=False)
    room = a.text.split("You drift into")[-1]
    assert "Sanctuary of Returning Tides" in room
    assert "You see a folded map of the sanctuaries." in room
    await a.cmd("inventory", r"You are carrying:\r\n  a pearl-grey echo shell\r\n> ")
    await a.cmd("south", r"(?s)Dreamwave Nexus.*?> ")
    out = a.text[a.text.rfind("Dreamwave Nexus") :]
    assert "You see a smooth pillowstone." in out  # the map is gone from here for good
    return a


def stop_process(proc):
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)


# -- in-process restart -----------------------------------------------------------------------


async def test_restart_keeps_accounts_places_and_things(make_server, tmp_path):
    db = f"sqlite:///{tmp_path / 'dream.db'}"
    app = await make_server(db=db)
    a = await play_a_little(app.port)
    b = await login(app.port, "Bob")
    await b.cmd("colour on", "Colour is on")
    await b.cmd("up", "Festival Grounds")
    await b.cmd("get pass", r"You pick up a ribbon festival pass\.")
    await app.stop()
    await a.expect("The dreamscape is fading: the server is shutting down")
    await a.wait_closed()
    await b.wait_closed()

    app = await make_server(db=db)
    assert sorted(p.name for p in app.world.players.values()) == ["Ada", "Bob"]
    a = await check_the_world_remembers(app.port)
    b = await login(app.port, "Bob", create=False)
    room = b.text.split("You drift into")[-1]
    assert "\x1b[1m\x1b[36mFestival Grounds" in room  # his colour choice survived too
    assert "festival pass" not in room
    await b.cmd("inventory", r"You are carrying:\r\n  a ribbon festival pass")
    c = await Client.connect(app.port)
    await c.expect("Name: ")
    await c.cmd("connect ada wrongpassword", "don't match")  # the password hash survived too
    for cl in (a, b, c):
        await cl.close()


# -- separate server processes ----------------------------------------------------------------


async def test_kill_9_loses_nothing_that_was_confirmed(tmp_path):
    db = tmp_path / "x.db"
    sp = await spawn_server(db)
    try:
        a = await play_a_little(sp.port)
        sp.kill_hard()  # SIGKILL right after the last confirmation
        assert sp.proc.wait(timeout=10) == -signal.SIGKILL
        await a.wait_closed()
    finally:
        stop_process(sp.proc)

    sp = await spawn_server(db)
    try:
        a = await check_the_world_remembers(sp.port)
        await a.close()
    finally:
        stop_process(sp.proc)


async def test_sigterm_says_goodbye_saves_and_exits_cleanly(tmp_path):
    db = tmp_path / "term.db"
    sp = await spawn_server(db)
    try:
        a = await play_a_little(sp.port)
        sp.proc.send_signal(signal.SIGTERM)
        await a.expect(r"The dreamscape is fading: the server is shutting down\. Your dream is")
        await a.wait_closed()
        code = await asyncio.get_running_loop().run_in_executor(None, sp.proc.wait, 10)
        assert code == 0
    finally:
        stop_process(sp.proc)
    for _ in range(100):  # the log is read by a background thread
        if "shutdown complete" in sp.log:
            break
        await asyncio.sleep(0.05)
    assert "shutdown complete" in sp.log

    sp = await spawn_server(db)
    try:
        a = await check_the_world_remembers(sp.port)
        await a.close()
    finally:
        stop_process(sp.proc)


def run_cli(*args, stdin="", env=None):
    return subprocess.run(
        [sys.executable, str(ROOT / "server.py"), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env or server_env(),
        timeout=60,
    )


async def test_create_admin_creates_then_promotes(tmp_path):
    db = tmp_path / "admin.db"
    res = run_cli("create-admin", "Root", "--password-stdin", "--db", str(db), stdin="adminpass\n")
    assert res.returncode == 0, res.stderr
    assert "Created admin Root." in res.stdout

    sp = await spawn_server(db)
    try:
        root = await login(sp.port, "Root", "adminpass", create=False)
        b = await login(sp.port, "Bob")
        b.send("who")
        m = await b.expect(r"(?s)Dreamers in the Dreamwave \(2\):(.*?)> ")
        assert re.search(r"Bob +awake +idle +\S+\r\n", m.group(1))  # a plain player: no tag
        assert re.search(r"Root +awake +idle +\S+ \(admin\)", m.group(1))
        await b.cmd("quit", "May your dreams be gentle")
        await root.close()
        sp.proc.send_signal(signal.SIGTERM)
        await asyncio.get_running_loop().run_in_executor(None, sp.proc.wait, 10)
    finally:
        stop_process(sp.proc)

    res = run_cli("create-admin", "bob", "--password-stdin", "--db", str(db), stdin="\n")
    assert res.returncode == 0, res.stderr
    assert "Promoted admin Bob." in res.stdout

    res = run_cli("create-admin", "R2D2", "--password-stdin", "--db", str(db), stdin="adminpass\n")
    assert res.returncode != 0
    assert "3 to 20 letters" in res.stderr
    res = run_cli("create-admin", "Neo", "--password-stdin", "--db", str(db), stdin="short\n")
    assert res.returncode != 0
    assert "at least 8 characters" in res.stderr

    sp = await spawn_server(db)
    try:
        b = await login(sp.port, "Bob", create=False)  # same password as before
        await b.cmd("who", r"Bob +awake +idle +\S+ \(admin\)")
        await b.close()
    finally:
        stop_process(sp.proc)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def wait_listening(proc):
    """Read the server's log until it says where it listens; returns (port, log so far)."""
    loop = asyncio.get_running_loop()
    lines = []
    while True:
        line = await asyncio.wait_for(loop.run_in_executor(None, proc.stderr.readline), 30)
        if not line:
            raise AssertionError("server exited before listening:\n" + "".join(lines))
        lines.append(line)
        m = re.search(r"listening on [\d.]+:(\d+)", line)
        if m:
            return int(m.group(1)), "".join(lines)


async def test_environment_variables_are_honoured(tmp_path):
    env = server_env()
    port = free_port()
    env["DREAMWAVE_PORT"] = str(port)
    env["DREAMWAVE_DB"] = str(tmp_path / "from_env.db")
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "server.py")],
        cwd=str(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        listening, _ = await wait_listening(proc)
        assert listening == port
        c = await login(port, "Ada")
        await c.close()
        assert (tmp_path / "from_env.db").exists()
        assert not (tmp_path / "dreamwave.db").exists()
    finally:
        stop_process(proc)

    # create-admin reads DREAMWAVE_DB too
    res = run_cli("create-admin", "Ada", "--password-stdin", stdin="\n", env=env)
    assert res.returncode == 0, res.stderr
    assert "Promoted admin Ada." in res.stdout


async def test_flags_win_over_environment_variables(tmp_path):
    env = server_env()
    taken = free_port()
    env["DREAMWAVE_PORT"] = str(taken)
    env["DREAMWAVE_DB"] = str(tmp_path / "from_env.db")
    sp = await spawn_server(tmp_path / "from_flag.db", env=env)  # --port 0 --db from_flag.db
    try:
        assert sp.port != taken
        c = await login(sp.port, "Ada")
        await c.close()
        assert (tmp_path / "from_flag.db").exists()
        assert not (tmp_path / "from_env.db").exists()
    finally:
        stop_process(sp.proc)

    res = run_cli(
        "create-admin", "Ada", "--password-stdin", "--db", str(tmp_path / "from_flag.db"),
        stdin="\n", env=env,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "Promoted admin Ada." in res.stdout
    assert not (tmp_path / "from_env.db").exists()


async def test_one_writer_per_database(tmp_path):
    """A second server, or create-admin, on a database a server is using is refused."""
    db = tmp_path / "busy.db"
    sp = await spawn_server(db)
    try:
        second = subprocess.run(
            [sys.executable, str(ROOT / "server.py"), "run", "--port", "0", "--db", str(db)],
            capture_output=True, text=True, env=server_env(), timeout=60,
        )  # fmt: skip
        assert second.returncode == 1
        assert "already using" in second.stderr and "stop the server first" in second.stderr
        admin = subprocess.run(
            [sys.executable, str(ROOT / "server.py"), "create-admin", "Root",
             "--password-stdin", "--db", str(db)],
            input="longenoughpass\n", capture_output=True, text=True, env=server_env(), timeout=60,
        )  # fmt: skip
        assert admin.returncode == 1 and "already using" in admin.stderr
    finally:
        sp.kill_hard()
    # kill -9 released the lock: the tool works now
    admin = subprocess.run(
        [sys.executable, str(ROOT / "server.py"), "create-admin", "Root",
         "--password-stdin", "--db", str(db)],
        input="longenoughpass\n", capture_output=True, text=True, env=server_env(), timeout=60,
    )  # fmt: skip
    assert admin.returncode == 0, admin.stderr
