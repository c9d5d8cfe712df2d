"""When the disk is full or the database read-only: nobody is told of a change that didn't
happen, the log says it once, and a shutdown ends in bounded time with a plain message."""

from __future__ import annotations

import asyncio
import logging
import signal
import subprocess
import sys

import pytest

from tests.client import login
from tests.conftest import ROOT, server_env
from tests.faults import FullDisk, inject, spawn

PICKED = r"You pick up a smooth pillowstone\."


@pytest.fixture
def disk(tmp_path):
    d = FullDisk(tmp_path)
    yield d
    d.close()


def stop_process(proc):
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)


async def wait_for_log(sp, text, tries=200):
    for _ in range(tries):  # the log is read by a background thread
        if text in sp.log:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{text!r} not in the server log:\n{sp.log}")


async def start(disk, env=None):
    env = env or server_env()
    argv = disk.argv("run", "--port", "0", "--db", str(disk.dir / "dream.db"))
    return await spawn(argv, ROOT, env)


async def not_told(client, pattern, seconds=1.0):
    """Nothing matching `pattern` arrives for a while (the change is not confirmed)."""
    with pytest.raises(AssertionError, match="timed out"):
        await client.expect(pattern, timeout=seconds)


async def test_a_change_during_an_outage_is_confirmed_only_after_it(disk):
    sp = await start(disk)
    try:
        ada = await login(sp.port, "Ada")
        bob = await login(sp.port, "Bob")
        disk.fill()
        ada.send("get pillowstone")
        await not_told(ada, PICKED)
        await not_told(bob, r"Ada picks up", 0.2)  # nor anyone who could see it
        await wait_for_log(sp, "database writes are failing")
        disk.free()
        await ada.expect(PICKED, timeout=10)
        await bob.expect(r"Ada picks up a smooth pillowstone\.", timeout=10)
        await wait_for_log(sp, "database writes recovered after")
        # one line when it started, one when it ended: no traceback per retry
        assert sp.log.count("database writes are failing") == 1, sp.log
        assert "Traceback" not in sp.log
        assert "retries" in sp.log.split("database writes recovered after")[1].splitlines()[0]
        await ada.cmd("inventory", "a smooth pillowstone")
        sp.proc.send_signal(signal.SIGTERM)
        await ada.expect("Your dream is saved")
        code = await asyncio.get_running_loop().run_in_executor(None, sp.proc.wait, 30)
        assert code == 0
    finally:
        stop_process(sp.proc)


async def test_sigterm_during_an_outage_says_what_was_lost_and_exits(disk):
    env = server_env()
    env["DREAMWAVE_SHUTDOWN_TIMEOUT"] = "2"
    sp = await start(disk, env)
    try:
        ada = await login(sp.port, "Ada")
        bob = await login(sp.port, "Bob")
        disk.fill()
        ada.send("get pillowstone")
        await not_told(ada, PICKED, 0.5)
        sp.proc.send_signal(signal.SIGTERM)
        await ada.expect(r"Your last action could not be saved and did not happen\.", timeout=10)
        await ada.expect("shutting down")
        await bob.expect("shutting down")
        await ada.wait_closed()
        await bob.wait_closed()
        # within the bound (2 s, plus the writer's busy timeout at most)
        code = await asyncio.get_running_loop().run_in_executor(None, sp.proc.wait, 20)
        assert code == 1
        assert "You pick up" not in ada.plain()
        assert "Ada picks up" not in bob.plain()
        assert "Your dream is saved" not in ada.plain() + bob.plain()
        assert "last action" not in bob.plain()  # Bob had nothing waiting
        await wait_for_log(sp, "shutdown gave up")
        assert sp.log.count("shutdown gave up") == 1
        assert "Traceback" not in sp.log
    finally:
        stop_process(sp.proc)

    disk.free()
    sp = await start(disk)
    try:
        ada = await login(sp.port, "Ada", create=False)
        assert "a smooth pillowstone." in ada.text.split("Exits:")[-1]  # still in the Nexus
        await ada.cmd("inventory", "You are carrying nothing")
        await ada.close()
    finally:
        stop_process(sp.proc)


def run_server(*args, cwd=None):  # None: the empty folder the tests run from
    return subprocess.run(
        [sys.executable, str(ROOT / "server.py"), "run", "--port", "0", *args],
        capture_output=True, text=True, env=server_env(), timeout=60, cwd=cwd,
    )  # fmt: skip


def made_database(path):
    res = subprocess.run(
        [sys.executable, str(ROOT / "server.py"), "create-admin", "Root", "--password-stdin",
         "--db", str(path)],
        input="longenoughpass\n", capture_output=True, text=True, env=server_env(), timeout=60,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr


def one_sentence(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.strip() and " INFO " not in ln]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_a_read_only_database_at_start_is_one_sentence(tmp_path):
    db = tmp_path / "ro.db"
    made_database(db)
    res = run_server("--db", f"sqlite:///file:{db}?mode=ro&uri=true")
    assert res.returncode == 1
    line = one_sentence(res.stderr)
    assert "Can't write to the database" in line and "readonly" in line, line


def test_a_read_only_disk_at_start_is_one_sentence(disk):
    if not disk.mounted:
        pytest.skip("can't mount a tmpfs here (the read-only database case covers the rest)")
    made_database(disk.dir / "dream.db")
    (disk.dir / "dream.db.lock").unlink()
    assert disk.read_only()
    res = run_server("--db", str(disk.dir / "dream.db"))
    assert res.returncode == 1
    line = one_sentence(res.stderr)
    assert "Can't create the lock file" in line and "Read-only file system" in line, line


# -- in process: what other dreamers see waits for the change, too ------------------------------


@pytest.fixture
async def outage(make_server):
    """A server whose database writes fail while `state["full"]`."""
    state = {"full": False}
    app = await make_server(commands_per_second=1000, command_burst=1000)
    inject(app.store.engine, lambda: state["full"])
    state["app"] = app
    yield state
    state["full"] = False
    await asyncio.wait_for(app.store.durable(), 10)
    # the outage's two log lines are expected
    app.errors[:] = [r for r in app.errors if "database writes are failing" not in r.getMessage()]


async def test_bystanders_are_told_of_a_change_only_once_it_is_durable(outage):
    app = outage["app"]
    ada = await login(app.port, "Ada")
    bob = await login(app.port, "Bob")
    cyd = await login(app.port, "Cyd")
    await ada.cmd("get pillowstone", PICKED)
    await ada.cmd("get map", "You pick up a folded map")
    outage["full"] = True
    ada.send("drop pillowstone")
    await asyncio.sleep(0.3)
    cyd.send("say after the drop")  # changes nothing, but comes after it
    await cyd.expect(r'You say, "after the drop"')
    await not_told(bob, r"Ada drops|Cyd says", 0.5)
    outage["full"] = False
    await ada.expect(r"You drop a smooth pillowstone\.", timeout=10)
    await bob.expect(r'(?s)Ada drops a smooth pillowstone\..*Cyd says, "after the drop"')

    outage["full"] = True
    ada.send("give map to bob")  # a private line to Bob and a room line to Cyd
    await not_told(bob, r"Ada gives you", 0.5)
    await not_told(cyd, r"Ada gives", 0.1)
    outage["full"] = False
    await ada.expect(r"You give a folded map of the sanctuaries to Bob\.", timeout=10)
    await bob.expect(r"Ada gives you a folded map of the sanctuaries\.", timeout=10)
    await cyd.expect(r"Ada gives a folded map of the sanctuaries to Bob\.", timeout=10)
    for c in (ada, bob, cyd):
        await c.close()


async def test_a_weave_reaches_the_loop_only_once_it_is_durable(outage):
    app = outage["app"]
    ada = await login(app.port, "Ada")
    bob = await login(app.port, "Bob")
    for c in (ada, bob):
        await c.cmd("dream", "your own dream gathers")
    await ada.cmd("merge Bob", "If they answer")
    await bob.cmd("merge Ada", "Loop of")
    await ada.expect("merges into a shared loop")
    outage["full"] = True
    ada.send("weave A lantern hums in the fog.")
    await not_told(bob, "Ada weaves", 0.8)
    await not_told(ada, "Ada weaves", 0.1)
    outage["full"] = False
    await ada.expect(r"Ada weaves:.*A lantern hums in the fog", timeout=10)
    await bob.expect(r"Ada weaves:.*A lantern hums in the fog", timeout=10)
    for c in (ada, bob):
        await c.close()


async def test_in_process_stop_during_an_outage_releases_nothing(make_server, caplog):
    app = await make_server()
    app.settings.shutdown_timeout = 0.5
    full = {"on": False}
    inject(app.store.engine, lambda: full["on"])
    ada = await login(app.port, "Ada")
    full["on"] = True
    ada.send("get pillowstone")
    await not_told(ada, PICKED, 0.3)
    with caplog.at_level(logging.INFO):
        code = await asyncio.wait_for(app.stop(), 15)
    assert code == 1
    await ada.expect(r"Your last action could not be saved and did not happen\.")
    await ada.wait_closed()
    assert "You pick up" not in ada.plain()
    gave_up = [r for r in app.errors if "shutdown gave up" in r.getMessage()]
    assert len(gave_up) == 1
    app.errors.clear()  # all of them expected here


async def test_a_takeover_during_an_outage_never_sends_the_unsaved_reply(outage):
    # Closing a connection (here: its dreamer claimed by a new login) while its reply waits
    # for a commit used to send that reply at once.
    app = outage["app"]
    old = await login(app.port, "Ada")
    outage["full"] = True
    old.send("get pillowstone")
    await not_told(old, PICKED, 0.3)
    new = await login(app.port, "Ada", create=False)
    assert "You take over your dreamer" in new.text
    await not_told(old, PICKED, 0.5)
    outage["full"] = False
    await old.expect(PICKED, timeout=10)  # durable now: then the farewell, then it closes
    await old.expect("claimed by a new connection")
    await old.wait_closed()
    await new.cmd("inventory", "a smooth pillowstone")
    await new.close()


async def test_the_actors_own_room_line_comes_before_its_prompt(outage):
    # An emote is a room line the actor sees too: it is part of the reply, before the prompt,
    # even though others' copies of room lines wait for commits.
    app = outage["app"]
    ada = await login(app.port, "Ada")
    bob = await login(app.port, "Bob")
    await ada.cmd("emote waves hello", r"Ada waves hello\r\n> ")
    await bob.expect("Ada waves hello")
    await ada.cmd("get map", "You pick up a folded map")
    await ada.cmd("emote waves the map", r"Ada waves the map\r\n> ")
    outage["full"] = True
    bob.send("get pillowstone")  # held: the room's later lines wait behind it
    await asyncio.sleep(0.2)
    await ada.cmd("emote waits", r"Ada waits\r\n> ")  # her own line doesn't wait with them
    await not_told(bob, "Ada waits", 0.3)
    outage["full"] = False
    await bob.expect(r"(?s)You pick up a smooth pillowstone\..*Ada waits", timeout=10)
    for c in (ada, bob):
        await c.close()
