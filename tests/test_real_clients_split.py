"""Real clients through an engine change: `python server.py` (supervisor, gateway, engine as
separate processes), then `@reload` and a kill -9 of the engine while they play.

TinTin++ with MCCP2 on (driven in tmux) and a GMCP client keep their connection, their room,
what they typed in the gap, their compressed stream (the gateway owns the compressor: the
client never renegotiates) and their GMCP subscriptions (the gateway remembers them: the
client never sends Core.Supports again).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time

import pytest

from mud.protocol import Welcome
from tests.client import BINARY, EOR, GMCP, MCCP2, WILL, Client, login, said
from tests.test_real_clients import TINTIN, TMUX, Tmux
from tests.test_split import engine_pids, wait_for

SHIMMER = "The dreamscape shimmers"
SETTLES = "The dreamscape settles around you again"
FLICKER = "The dream flickers"
STEADIES = "The dream steadies around you again"
TIDES = "Sanctuary of Returning Tides"


async def new_engine(sp, count: int) -> int:  # type: ignore[no-untyped-def]
    """The pid of the `count`th engine, once it listens."""
    await wait_for(lambda: len(engine_pids(sp)) >= count, what=f"engine #{count}")
    return engine_pids(sp)[count - 1]


class Screen(Tmux):
    """The whole scrollback (TinTin++'s telnet debug lines make it long), and waiting for a
    text after a mark (the last time the mark shows)."""

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-J", "-t", self.name, "-S", "-")

    async def wait_after(self, mark: str, text: str, timeout: float = 10.0) -> str:
        """What the screen shows after the last `mark`, once `text` is in it."""
        deadline = time.monotonic() + timeout
        while True:
            screen = await asyncio.to_thread(self.screen)
            if mark in screen:
                tail = screen[screen.rindex(mark) :]
                if text in tail:
                    return tail
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not on screen after {mark!r}:\n{screen}")
            await asyncio.sleep(0.05)


def options_line(tail: str) -> str:
    return tail.split("options on:")[1].splitlines()[0]


def mccp_debug(screen: str) -> list[str]:
    """TinTin++'s telnet debug lines about MCCP2 (what it received, sent, set up or gave up)."""
    starts = ("RCVD", "SENT", "INFO", "CATCH", "MCCP", "#COMPRESSION")
    return [ln for ln in screen.splitlines() if ln.startswith(starts) and "MCCP2" in ln]


async def inflated(tt: Screen, mark: str) -> int:
    """How many bytes TinTin++'s MCCP2 stream has inflated so far (`#info mccp`)."""
    tt.type("#info mccp")
    tail = await tt.wait_after(mark, "#INFO MCCP2: TOTAL IN:")
    m = re.search(r"#INFO MCCP2: TOTAL IN: +(\d+) TOTAL OUT: +(\d+)", tail)
    assert m, tail
    return int(m.group(2))


@pytest.mark.skipif(not (TINTIN and TMUX), reason="needs tintin++ and tmux (.ci/run installs them)")
async def test_tintin_with_mccp2_survives_reload_and_kill_9(split):
    root = await login(split.port, "Root", create=False)
    await said(root, "north")  # to hear TinTin++ talk there
    # TinTin++'s telnet debug lines show its side of MCCP2 ("INFO MCCP2 INITIALIZED")
    tt = Screen("ttsplit", f"{TINTIN} -G")
    try:
        await tt.wait_for("")
        await asyncio.sleep(0.3)
        tt.type("#config {debug telnet} on")
        await tt.wait_for("DEBUG TELNET} HAS BEEN SET TO {ON}")
        tt.type(f"#session dw 127.0.0.1 {split.port}")
        await tt.wait_for("Name:")
        tt.type("create Tinny secretpass")
        await tt.wait_for("Exits:")
        tt.type("north")
        await tt.wait_for(TIDES)
        tt.type("client")
        tail = await tt.wait_after("client", "GMCP packages:")
        # compression is on at both ends: the server compresses, TinTin++ inflates
        assert "MCCP2" in options_line(tail), tail
        negotiated = mccp_debug(tt.screen())
        assert negotiated == [
            "RCVD IAC WILL MCCP2", "SENT IAC DO MCCP2", "RCVD IAC SB MCCP2",
            "INFO MCCP2 INITIALIZED",
        ], negotiated  # fmt: skip
        before = await inflated(tt, "GMCP packages:")
        assert before > 0

        # -- @reload: typed in the gap, run after; the stream goes on -------------------------
        root.send("@reload")
        await tt.wait_for(SHIMMER)
        tt.type("say typed while it was rewoven")
        tail = await tt.wait_after(SHIMMER, 'You say, "typed while it was rewoven"')
        assert SETTLES in tail, tail
        # typed (TinTin++ shows it as typed) before the new engine answered, and run after
        assert tail.index("say typed while") < tail.index(SETTLES), tail
        tt.type("look")
        tail = await tt.wait_after(SETTLES, "Exits: south, down")
        assert TIDES in tail, tail
        tt.type("client")
        tail = await tt.wait_after(SETTLES, "GMCP packages:")
        assert "MCCP2" in options_line(tail), tail
        after_reload = await inflated(tt, SETTLES)
        assert after_reload > before  # what the new engine said came through the same inflater

        # -- kill -9 of the engine: the same ------------------------------------------------
        os.kill(await new_engine(split, 2), signal.SIGKILL)
        await tt.wait_for(FLICKER)
        tt.type("say typed in the dark")
        tail = await tt.wait_after(FLICKER, 'You say, "typed in the dark"')
        assert STEADIES in tail, tail
        assert tail.index("say typed in the dark") < tail.index(STEADIES), tail
        tt.type("look")
        tail = await tt.wait_after(STEADIES, "Exits: south, down")
        assert TIDES in tail, tail
        tt.type("say café ✨ after it all")  # UTF-8 through the same compressed stream
        await root.expect("café ✨ after it all", timeout=10)
        await tt.wait_after(STEADIES, 'You say, "café ✨ after it all"')
        tt.type("client")
        tail = await tt.wait_after(STEADIES, "GMCP packages:")
        assert "MCCP2" in options_line(tail), tail
        assert await inflated(tt, STEADIES) > after_reload

        await new_engine(split, 3)
        screen = tt.screen()
        # one connection all along, one compressed stream: nothing about MCCP2 was said again
        assert screen.count("CONNECTED TO") == 1, screen
        assert "DIED" not in screen, screen
        assert mccp_debug(screen) == negotiated, screen
        tt.type("quit")
        await tt.wait_for("May your dreams be gentle")
    finally:
        tt.close()
        await root.close()


async def test_gmcp_subscriptions_outlive_reload_and_kill_9(split):
    root = await login(split.port, "Root", create=False)
    c = await Client.connect(split.port, ttype="Mudlet", agree={BINARY, EOR, GMCP, MCCP2})
    sent: list[str] = []  # every GMCP message the client sends

    def gmcp(package: str, data: object = None) -> None:
        sent.append(package)
        c.send_gmcp(package, data)

    async def moving_sends_room_info(way: str, expect: int) -> None:
        c.gmcp.clear()
        await said(c, way)
        info = await c.expect_gmcp("Room.Info")
        assert info["num"] == expect, info  # type: ignore[index]
        await c.expect_gmcp("Char.Status")
        # and only what it asked for: no Dreamwave.Status (sent with every move to those
        # who subscribe), no Comm.Channel.Text for a say in the room
        await said(root, "say can you hear me")
        await asyncio.sleep(0.2)
        assert {pkg.split(".")[0] for pkg, _ in c.gmcp} <= {"Char", "Room"}, c.gmcp

    try:
        await c.expect("Name: ")
        await c.expect_command(WILL, GMCP)
        gmcp("Core.Hello", {"client": "Mudlet", "version": "4.17"})
        gmcp("Core.Supports.Set", ["Char 1", "Room 1"])
        c.send("create Mapper secretpass")
        await c.expect(r"(?s)Exits:.*?> ")
        assert c.compressed  # MCCP2 on too: GMCP framing inside the zlib stream
        nexus = (await c.expect_gmcp("Room.Info"))["num"]  # type: ignore[index]
        await said(root, "north")  # Root waits in the Sanctuary, to talk
        await said(c, "north")
        tides = await c.expect_gmcp("Room.Info")
        assert tides["name"] == TIDES, tides  # type: ignore[index]
        north = tides["num"]  # type: ignore[index]
        assert tides["exits"]["south"] == nexus, tides  # type: ignore[index]
        mccp_starts = c.subnegotiations.count(bytes([MCCP2]))
        out = await said(c, "client")
        assert "GMCP packages: char, room" in out and "(GMCP: Mudlet 4.17)" in out, out

        # -- @reload ----------------------------------------------------------------------
        root.send("@reload")
        await c.expect(SHIMMER, timeout=10)
        await c.expect(SETTLES, timeout=10)
        await c.expect("> ")
        await root.expect(SETTLES, timeout=10)
        out = await said(c, "client")
        assert "GMCP packages: char, room" in out and "(GMCP: Mudlet 4.17)" in out, out
        await moving_sends_room_info("south", nexus)
        await moving_sends_room_info("north", north)

        # -- kill -9 of the engine --------------------------------------------------------
        os.kill(await new_engine(split, 2), signal.SIGKILL)
        await c.expect(FLICKER, timeout=10)
        await c.expect(STEADIES, timeout=10)
        await c.expect("> ")
        await root.expect(STEADIES, timeout=10)
        out = await said(c, "client")
        assert "GMCP packages: char, room" in out and "(GMCP: Mudlet 4.17)" in out, out
        await moving_sends_room_info("south", nexus)
        await moving_sends_room_info("north", north)

        # one connection, one compressed stream, and Core.Supports was sent once, at login
        assert not c.closed
        assert c.compressed and c.subnegotiations.count(bytes([MCCP2])) == mccp_starts
        assert sent == ["Core.Hello", "Core.Supports.Set"]
    finally:
        await c.close()
        await root.close()


# -- found while writing the tests above: the first login right after "listening" hung -------


async def test_a_connection_made_between_hello_and_welcome_is_greeted(server):
    """A connection the gateway accepts after it said hello to a (new) engine but before the
    engine's welcome came back was in no hello and its "c"/"go" were dropped: the engine
    never heard of it and it sat at a blank screen. (The engine logs "listening" as it
    sends the welcome, so a client that connects on seeing that line hits the window.)"""
    gw = server.gateway
    real = gw._on_frame
    held: list[list] = []

    def hold_welcome(messages: list) -> None:
        if not held and any(isinstance(m, Welcome) for m in messages):
            held.append(messages)
            return
        real(messages)

    ada = await login(server.port, "Ada")
    gw._on_frame = hold_welcome
    gw.link.close("test: the engine goes and comes back")  # the gateway says hello again
    await wait_for(lambda: held, 5, "the new hello's welcome")
    door = await Client.connect(server.port)  # accepted after the hello, before the welcome
    await wait_for(lambda: gw.conns and all(c.started for c in gw.conns.values()), 5, "go")
    real(held[0])
    await door.expect("Name: ")
    await door.cmd("create Bea secretpass", r"Exits:")
    await ada.close()
    await door.close()
