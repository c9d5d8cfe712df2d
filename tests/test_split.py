"""Connections outlive the engine: `python server.py` is a supervisor, a gateway and the
engine, as separate processes. A reload and a kill -9 of the engine drop nobody; a gateway's
death drops only its own connections. Real processes, real sockets, real signals."""

from __future__ import annotations

import asyncio
import os
import re
import signal
from pathlib import Path

import pytest

from tests.client import Client, login, said
from tests.conftest import ServerProcess, make_admin, server_env, spawn_server

PASSWORD = "secretpass"


def engine_pids(sp: ServerProcess) -> list[int]:
    return [int(p) for p in re.findall(r"listening on .*engine pid (\d+)", sp.log)]


def gateway_pids(sp: ServerProcess) -> dict[str, int]:
    return {n: int(p) for n, p in re.findall(r"gateway (\w+) accepting on .*\(pid (\d+)\)", sp.log)}


async def wait_for(check, timeout: float = 15.0, what: str = "") -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def stop(sp: ServerProcess) -> int:
    sp.proc.send_signal(signal.SIGTERM)
    return await asyncio.get_running_loop().run_in_executor(None, sp.proc.wait, 60)


async def test_reload_keeps_everyone_where_they_were(split):
    root = await login(split.port, "Root", create=False)
    ada = await login(split.port, "Ada")
    await said(ada, "north")
    room = (await said(ada, "look")).strip().splitlines()[0]
    door = await Client.connect(split.port)  # someone at the login screen
    await door.expect("Name: ")
    first_engine = engine_pids(split)

    root.send("@reload")
    for c in (root, ada):
        await c.expect("The dreamscape shimmers")
    ada.send("say typed while it was rewoven")  # input during the gap runs after, in order
    ada.send("look")
    await door.expect("rewoven while you stood at the threshold", timeout=10)
    await door.expect("Name: ")
    for c in (root, ada):
        await c.expect("The dreamscape settles around you again", timeout=10)
    await ada.expect('You say, "typed while it was rewoven"')
    after = await ada.expect(re.escape(room))
    assert after
    await wait_for(lambda: len(engine_pids(split)) == 2, what="the new engine")
    assert engine_pids(split)[1] != first_engine[0]
    # nobody was dropped, and the world answers as before
    await said(root, "who")
    assert "Ada" in root.text.split("who")[-1]
    since = root.text.split("The dreamscape shimmers")[-1] + ada.text.split("shimmers")[-1]
    assert "fades from the dreamscape" not in since
    assert "shimmers into the dreamscape" not in since
    await door.cmd("create Bea secretpass", r"Exits:")
    for c in (root, ada, door):
        assert not c.closed
    # the new engine reads what is on disk; nobody saw anyone leave or arrive
    for c in (root, ada, door):
        await c.close()


async def test_reload_refuses_broken_scripts_and_changes_nothing(tmp_path):
    db = tmp_path / "broken.db"
    make_admin(db)
    sp = await spawn_server(db)
    try:
        root = await login(sp.port, "Root", create=False)
        # A script the new engine would refuse to load (a copy of the shipped folder, broken).
        import world.npc_scripts as ns

        folder = Path(ns.__file__).parent / "npcs"
        broken = folder / "zz_broken_for_test.yaml"
        broken.write_text("name: [unclosed\n")
        try:
            out = await said(root, "@reload", prompt=r"(?s)Not reloading.*\n> ")
        finally:
            broken.unlink()
        assert "shimmers" not in out
        assert len(engine_pids(sp)) == 1
        await said(root, "look")
        await root.close()
    finally:
        await stop(sp)


async def test_sighup_reloads_too(split):
    ada = await login(split.port, "Ada")
    split.proc.send_signal(signal.SIGHUP)
    await ada.expect("The dreamscape shimmers", timeout=10)
    await ada.expect("The dreamscape settles around you again", timeout=10)
    await said(ada, "look")
    assert not ada.closed
    await ada.close()


async def test_kill_9_of_the_engine_drops_nobody(split):
    ada = await login(split.port, "Ada")
    bob = await login(split.port, "Bob")
    await said(ada, "north")
    await said(bob, "north")
    room = (await said(ada, "look")).strip().splitlines()[0]
    await said(bob, "say before the crash")

    os.kill(engine_pids(split)[0], signal.SIGKILL)
    for c in (ada, bob):
        await c.expect("The dream flickers", timeout=10)
    bob.send("say during the dark")  # kept by the gateway, run by the new engine
    for c in (ada, bob):
        await c.expect("The dream steadies around you again", timeout=10)
    await bob.expect('You say, "during the dark"')
    out = await said(ada, "look")
    assert room in out
    await wait_for(lambda: len(engine_pids(split)) == 2, what="the new engine")
    await said(bob, "say after")
    await ada.expect('Bob says, "after"')
    for c in (ada, bob):
        assert not c.closed
        await c.close()


async def test_a_line_the_hung_engine_never_read_runs_on_the_next(split):
    """(One it read and didn't finish is reported instead: tests/test_engine_away.py.)"""
    ada = await login(split.port, "Ada")
    engine = engine_pids(split)[0]
    os.kill(engine, signal.SIGSTOP)  # hung: the line goes up and nothing comes back
    try:
        ada.send("say are you there")
        await asyncio.sleep(0.3)
    finally:
        os.kill(engine, signal.SIGKILL)
    await ada.expect("The dream flickers", timeout=10)
    await ada.expect("The dream steadies around you again", timeout=10)
    await ada.expect('You say, "are you there"', timeout=10)
    await said(ada, "look")
    assert "may not have happened" not in ada.text
    await ada.close()


async def test_a_hung_engine_is_replaced(tmp_path):
    db = tmp_path / "hung.db"
    env = server_env()
    env["DREAMWAVE_LINK__ENGINE_TIMEOUT"] = "2"
    sp = await spawn_server(db, env=env)
    try:
        ada = await login(sp.port, "Ada")
        os.kill(engine_pids(sp)[0], signal.SIGSTOP)
        await ada.expect("The dream flickers", timeout=15)
        await ada.expect("The dream steadies around you again", timeout=15)
        await said(ada, "look")
        assert "it is hung; killing it" in sp.log
        await ada.close()
    finally:
        await stop(sp)


async def test_ctrl_c_stops_everything_in_order(split):
    ada = await login(split.port, "Ada")
    split.proc.send_signal(signal.SIGINT)
    await ada.expect("shutting down", timeout=15)
    await ada.wait_closed(timeout=15)
    code = await asyncio.get_running_loop().run_in_executor(None, split.proc.wait, 60)
    assert code == 0
    log = split.log
    assert log.index("shutting down") < log.index("shutdown complete")
    # no process is left behind
    for pid in [*engine_pids(split), *gateway_pids(split).values()]:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


async def test_a_gateway_death_drops_only_its_own_connections(tmp_path):
    db = tmp_path / "gws.db"
    sp = await spawn_server(db, "--gateways", "2")
    try:
        await wait_for(lambda: len(gateway_pids(sp)) == 2, what="two gateways")
        clients = [await login(sp.port, f"Dreamer{chr(97 + i)}") for i in range(8)]
        victim = gateway_pids(sp)["gw1"]
        os.kill(victim, signal.SIGKILL)
        await asyncio.sleep(1.0)
        gone = [c for c in clients if c.closed]
        alive = [c for c in clients if not c.closed]
        assert alive, "every connection was on one gateway"
        for c in alive:  # the others play on, and saw the lost ones leave
            await said(c, "look")
        if gone:
            await wait_for(lambda: "fades from the dreamscape" in alive[0].text, 5, "fades")
        # the supervisor starts the gateway again; new connections are taken
        await wait_for(lambda: len(re.findall(r"gateway gw1 accepting", sp.log)) == 2,
                       what="gw1 restarted")  # fmt: skip
        later = [await login(sp.port, f"Later{chr(97 + i)}") for i in range(4)]
        for c in [*alive, *later]:
            await c.close()
        assert sp.log.count("gateway gw1 lost") == 1
    finally:
        await stop(sp)


async def test_an_editor_open_over_a_reload_is_kept_as_a_draft(split):
    root = await login(split.port, "Root", create=False)
    await said(root, "@desc here", prompt=r"edit> ")
    await said(root, "A hall of slow mirrors.", prompt=r"edit> ")
    await said(root, "Every reflection is a little late.", prompt=r"edit> ")
    split.proc.send_signal(signal.SIGHUP)
    await root.expect("The dreamscape settles around you again", timeout=15)
    await root.expect(r"kept as a draft\. Open the editor again and type \.r")
    out = await said(root, "draft")
    assert "A hall of slow mirrors." in out and "Every reflection is a little late." in out
    await said(root, "@desc here", prompt=r"edit> ")
    await said(root, ".r", prompt=r"edit> ")
    await said(root, ".")
    look = await said(root, "look")
    assert "A hall of slow mirrors. Every reflection is a little late." in " ".join(look.split())
    await root.cmd("draft", "You have no draft kept.")  # used up
    await root.close()


async def test_a_festival_runs_on_through_a_reload_and_a_crash(split):
    root = await login(split.port, "Root", create=False)
    await said(root, "@event start dream_festival")
    before = await said(root, "@event status dream_festival")
    assert "dream_festival" in before and "act" in before.lower(), before
    split.proc.send_signal(signal.SIGHUP)
    await root.expect("The dreamscape settles around you again", timeout=15)
    after = await said(root, "@event status dream_festival")
    assert "not running" not in after.lower() and "act" in after.lower(), after
    os.kill(engine_pids(split)[-1], signal.SIGKILL)
    await root.expect("The dream steadies around you again", timeout=15)
    again = await said(root, "@event status dream_festival")
    assert "not running" not in again.lower() and "act" in again.lower(), again
    await root.close()


async def test_after_a_crash_input_kept_by_one_gateway_finds_the_dreamers_of_another(tmp_path):
    sp = await spawn_server(tmp_path / "two.db", "--gateways", "2")
    try:
        names = [f"Dreamer{chr(97 + i)}" for i in range(6)]
        clients = [await login(sp.port, n) for n in names]
        os.kill(engine_pids(sp)[0], signal.SIGKILL)
        for c in clients:
            await c.expect("The dream flickers", timeout=10)
        for i, c in enumerate(clients):  # kept by whichever gateway each is on
            c.send(f"tell {names[(i + 1) % len(names)]} are you back")
        for i, c in enumerate(clients):
            await c.expect(f"You tell {names[(i + 1) % len(names)]}", timeout=15)
        for c in clients:
            assert "No dreamer called" not in c.text
            await c.close()
    finally:
        await stop(sp)


async def test_a_link_lost_before_the_gateway_listened_is_tried_again(tmp_path: Path) -> None:
    """An engine dying (kill -9, the end of a reload) as it takes the gateway's connection:
    the kernel resets the connection in its backlog, which the link may report before the
    gateway has put its close handler on it. The gateway still sees the link as lost and
    tries again at once (the next engine is coming); it used to wait forever for a close
    already past, reaching no engine, with nothing logged. Only links lost unproven in a row
    (a refusal: another link secret?) are tried again slowly."""
    from mud.config import Settings
    from mud.edge import uplink
    from mud.edge.gateway import Gateway
    from mud.link.auth import Guard
    from mud.link.local import StreamLink

    gw = Gateway(Settings(port=0, db=f"sqlite:///{tmp_path / 'x.db'}"), link_path="unused")

    async def reset_at_once() -> StreamLink:
        link = StreamLink("gw1", guard=Guard(b"k" * 32, "gateway"))  # (not proven yet)
        link.close("connection lost: [Errno 104] Connection reset by peer")
        return link

    gw.uplink._connect = reset_at_once  # type: ignore[method-assign]
    await asyncio.wait_for(gw.uplink._connect_once(), uplink.REFUSED_WAIT / 2)
    assert gw.link is None and not gw.attached
    started = asyncio.get_running_loop().time()
    await asyncio.wait_for(gw.uplink._connect_once(), 5)  # the second in a row: slowly
    assert asyncio.get_running_loop().time() - started >= uplink.REFUSED_WAIT
