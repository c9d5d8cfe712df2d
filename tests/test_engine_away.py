"""While the engine is away (hung, killed, starting, reloading) the gateways hold the fort:
what players type is kept until an engine confirms it got it and replayed to the next one in
order; a line an engine got is never sent twice; players are told once that the dream
flickered; crawlers still get the whole MSSP table; and a hung gateway is replaced as a hung
engine is. Real processes, real sockets, real signals."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys

import pytest

from tests.client import BINARY, MSSP, Client, login, said
from tests.conftest import ROOT, ServerProcess, server_env, spawn_argv, spawn_server
from tests.faults import FullDisk
from tests.test_protocols import parse_mssp
from tests.test_split import engine_pids, gateway_pids, stop, wait_for

FLICKER = "The dream flickers"
BACK = "The dream steadies around you again"
MAYBE = "may not have happened"


def env_with(**settings: str) -> dict[str, str]:
    env = server_env()
    for key, value in settings.items():
        env[f"DREAMWAVE_LINK__{key.upper()}"] = value
    return env


async def mssp_table(port: int, timeout: float = 15.0) -> dict[str, list[str]]:
    """What a crawler that agrees to MSSP is sent (waiting for it, however long)."""
    c = await Client.connect(port, ttype="xterm", agree={BINARY, MSSP})
    try:
        await wait_for(lambda: any(p[:1] == bytes([MSSP]) for p in c.subnegotiations),
                       timeout, "the MSSP table")  # fmt: skip
    finally:
        await c.close()
    return parse_mssp(next(p for p in c.subnegotiations if p[:1] == bytes([MSSP])))


async def test_lines_typed_while_the_engine_hangs_run_after_in_order(tmp_path):
    sp = await spawn_server(tmp_path / "hang.db", env=env_with(engine_timeout="3"))
    try:
        ada = await login(sp.port, "Ada")
        os.kill(engine_pids(sp)[0], signal.SIGSTOP)  # hung: the lines go up, nothing answers
        for i in range(1, 7):
            ada.send(f"say line {i}")
        await ada.expect(FLICKER, timeout=15)
        await ada.expect(BACK, timeout=15)
        for i in range(1, 7):  # every one, once, in order
            await ada.expect(f'You say, "line {i}"', timeout=10)
        await said(ada, "look")
        assert MAYBE not in ada.text
        assert ada.text.count('"line 1"') == 1
        await ada.close()
    finally:
        await stop(sp)


async def test_what_a_gateway_keeps_for_a_hung_engine_is_bounded(tmp_path):
    env = env_with(engine_timeout="3")
    env["DREAMWAVE_LIMITS__MAX_KEPT_LINES"] = "3"
    sp = await spawn_server(tmp_path / "bound.db", env=env)
    try:
        ada = await login(sp.port, "Ada")
        os.kill(engine_pids(sp)[0], signal.SIGSTOP)
        for i in range(1, 6):
            ada.send(f"say line {i}")
        await ada.expect("that line was not kept", timeout=10)
        await ada.expect(BACK, timeout=15)
        for i in range(1, 4):
            await ada.expect(f'You say, "line {i}"', timeout=10)
        await said(ada, "look")
        assert ada.text.count("not kept") == 1
        assert '"line 4"' not in ada.text and '"line 5"' not in ada.text
        await ada.close()
    finally:
        await stop(sp)


async def test_a_hang_the_gateway_notices_first_flickers_once(tmp_path):
    """The gateway's link gives up on the silent engine, reconnects to it (still hung: the
    kernel takes the connection) and loses that link too when the engine is killed: one
    outage, one notice."""
    sp = await spawn_server(tmp_path / "once.db", env=env_with(engine_timeout="60"))
    try:
        ada = await login(sp.port, "Ada")
        engine = engine_pids(sp)[0]
        os.kill(engine, signal.SIGSTOP)
        ada.send("say while it hung")
        await ada.expect(FLICKER, timeout=15)
        ada.send("say in the dark")
        await asyncio.sleep(1.0)  # the gateway says hello to the hung engine meanwhile
        os.kill(engine, signal.SIGKILL)
        await ada.expect(BACK, timeout=15)
        await ada.expect('You say, "while it hung"', timeout=10)
        await ada.expect('You say, "in the dark"', timeout=10)
        await said(ada, "look")
        assert ada.text.count(FLICKER) == 1, ada.text
        assert MAYBE not in ada.text
        await ada.close()
    finally:
        await stop(sp)


async def test_a_line_the_dead_engine_got_is_reported_and_never_run_again(tmp_path):
    disk = FullDisk(tmp_path)
    if not disk.mounted:  # (the fault hook would reach the supervisor only, not the engine)
        disk.close()
        pytest.skip("needs a tmpfs to fill (mount -t tmpfs)")
    argv = disk.argv("run", "--port", "0", "--db", str(disk.dir / "dream.db"))
    sp = await spawn_argv(argv, ROOT, server_env())
    try:
        ada = await login(sp.port, "Ada")
        disk.fill()
        ada.send("title the lantern-bearer")  # taken, waiting for a commit that can't happen
        await wait_for(lambda: "database writes are failing" in sp.log, 15, "the outage")
        ada.send("say after the title")  # taken too, queued behind it
        await asyncio.sleep(0.3)
        os.kill(engine_pids(sp)[0], signal.SIGKILL)
        disk.free()
        await ada.expect(FLICKER, timeout=10)
        await ada.expect(MAYBE)
        await ada.expect(BACK, timeout=15)
        out = await said(ada, "title")
        assert "You have no title yet." in out  # it did not happen, and was not sent again
        assert ada.text.count(MAYBE) == 1
        assert "after the title" not in ada.text.split(BACK)[-1]
        await ada.close()
    finally:
        await stop(sp)
        disk.close()


async def test_a_hung_gateway_is_killed_and_replaced(tmp_path):
    sp = await spawn_server(tmp_path / "gwhang.db", env=env_with(gateway_timeout="3"))
    try:
        ada = await login(sp.port, "Ada")
        os.kill(gateway_pids(sp)["gw1"], signal.SIGSTOP)
        await wait_for(lambda: "gateway gw1 has not answered" in sp.log, 15, "the hang noticed")
        await ada.wait_closed(timeout=10)  # its connections go with it
        await wait_for(lambda: len(re.findall(r"gateway gw1 accepting", sp.log)) == 2,
                       what="gw1 started again")  # fmt: skip
        bea = await login(sp.port, "Bea")
        await said(bea, "who")
        await bea.close()
    finally:
        await stop(sp)


async def test_a_supervisor_that_was_stopped_kills_nobody(tmp_path):
    """The supervisor itself stopped (SIGSTOP, a paused machine) heard no heartbeats
    meanwhile: that is its own silence, not its children's."""
    sp = await spawn_server(tmp_path / "supstop.db", env=env_with(gateway_timeout="2",
                                                                  engine_timeout="2"))  # fmt: skip
    try:
        ada = await login(sp.port, "Ada")
        os.kill(sp.proc.pid, signal.SIGSTOP)
        await asyncio.sleep(4)
        os.kill(sp.proc.pid, signal.SIGCONT)
        await wait_for(lambda: "the supervisor was stopped" in sp.log, 10, "its stall noticed")
        await asyncio.sleep(3)  # two heartbeat timeouts: a wrongly killed child would show
        assert "hung" not in sp.log, sp.log
        await said(ada, "say still here")
        await ada.close()
    finally:
        await stop(sp)


async def test_mssp_while_the_engine_is_starting_waits_for_the_whole_table(tmp_path):
    argv = [sys.executable, str(ROOT / "server.py"), "run", "--port", "0",
            "--db", str(tmp_path / "start.db")]  # fmt: skip
    proc = subprocess.Popen(argv, cwd=str(tmp_path), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, env=server_env())  # fmt: skip
    lines: list[str] = []
    sp = ServerProcess(proc, 0, lines)
    loop = asyncio.get_running_loop()
    try:
        assert proc.stderr is not None
        while not (m := re.search(r"gateway gw1 accepting on [\d.]+:(\d+)", "".join(lines))):
            line = await asyncio.wait_for(loop.run_in_executor(None, proc.stderr.readline), 30)
            assert line, "".join(lines)
            lines.append(line)
        loop.run_in_executor(None, lambda: lines.extend(proc.stderr))  # type: ignore[arg-type]
        table = await mssp_table(int(m.group(1)))  # (the engine is still loading)
        assert "CODEBASE" in table and "UPTIME" in table, table
        assert table["PLAYERS"] == ["0"]
    finally:
        await stop(sp)


async def test_mssp_while_the_engine_is_hung_or_dead_is_the_whole_table(tmp_path):
    sp = await spawn_server(tmp_path / "mssp.db", env=env_with(engine_timeout="3"))
    try:
        ada = await login(sp.port, "Ada")
        os.kill(engine_pids(sp)[0], signal.SIGSTOP)  # asked of an engine that never answers
        table = await mssp_table(sp.port)
        assert "CODEBASE" in table and table["PLAYERS"] == ["1"], table
        await ada.expect(BACK, timeout=15)
        await wait_for(lambda: len(engine_pids(sp)) == 2, what="the next engine")
        os.kill(engine_pids(sp)[-1], signal.SIGKILL)
        await ada.expect(FLICKER, timeout=10)
        table = await mssp_table(sp.port)  # (most likely before the next engine is up)
        assert "CODEBASE" in table and table["PLAYERS"] == ["1"], table
        await ada.close()
    finally:
        await stop(sp)
