"""Real clients against a real server: TinTin++ and netkit telnet, driven through tmux."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time

import pytest

from tests.client import login

TINTIN = shutil.which("tt++") or ("/usr/games/tt++" if os.path.exists("/usr/games/tt++") else None)
TMUX = shutil.which("tmux")
TELNET = shutil.which("telnet")


class Tmux:
    """One tmux pane running a program; type into it and read the screen."""

    def __init__(self, name: str, command: str) -> None:
        self.socket = f"dw-{os.getpid()}-{name}"
        self.name = name
        # keep the pane (and what the program printed last) after the program exits
        wrapped = f"{command}; sleep 60"
        self._tmux("new-session", "-d", "-s", name, "-x", "110", "-y", "45", wrapped)

    def _tmux(self, *args: str) -> str:
        out = subprocess.run(
            [TMUX, "-L", self.socket, *args], capture_output=True, text=True, timeout=10
        )
        return out.stdout

    def type(self, text: str) -> None:
        self._tmux("send-keys", "-t", self.name, "-l", text)
        self._tmux("send-keys", "-t", self.name, "Enter")

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", self.name, "-S", "-200")

    async def wait_for(self, text: str, timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = await asyncio.to_thread(self.screen)
            if text in screen:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not on screen:\n{screen}")
            await asyncio.sleep(0.1)

    def close(self) -> None:
        subprocess.run([TMUX, "-L", self.socket, "kill-server"], capture_output=True, timeout=10)


@pytest.mark.skipif(not (TINTIN and TMUX), reason="needs tintin++ and tmux (.ci/run installs them)")
async def test_tintin_logs_in_moves_and_talks(server):
    tt = Tmux("tintin", f"{TINTIN} -G")
    try:
        await tt.wait_for("")  # started
        await asyncio.sleep(0.3)
        tt.type(f"#session dw 127.0.0.1 {server.port}")
        await tt.wait_for("Name:")
        tt.type("create Tinny secretpass")
        await tt.wait_for("Dreamwave Nexus")
        await tt.wait_for("Exits:")

        friend = await login(server.port, "Friend")
        await tt.wait_for("Friend shimmers into the dreamscape")
        tt.type("say hello from tintin")
        await friend.expect(r'Tinny\S* says, "hello from tintin')
        await tt.wait_for('You say, "hello from tintin"')
        friend.send("say welcome, Tinny")
        await tt.wait_for('Friend says, "welcome, Tinny"')

        tt.type("north")
        await tt.wait_for("Sanctuary of Returning Tides")
        await friend.expect("Tinny.* leaves north")
        tt.type("client")
        screen = await tt.wait_for("options on:")
        assert "TINTIN++" in screen
        for option in ("EOR", "NAWS", "TTYPE", "MCCP2"):
            assert option in screen.split("options on:")[-1].splitlines()[0], screen
        assert "colours:       truecolor (shown)" in screen or "(shown)" in screen
        # UTF-8 goes both ways
        tt.type("south")
        await tt.wait_for("Dreamwave Nexus")
        tt.type("say café ✨")
        await friend.expect("café ✨")
        tt.type("quit")
        await tt.wait_for("May your dreams be gentle")
        await friend.close()
    finally:
        tt.close()
    player = server.world.players_by_key["tinny"]
    assert player.room is server.world.nexus


@pytest.mark.skipif(not (TELNET and TMUX), reason="needs telnet and tmux (.ci/run installs them)")
async def test_plain_telnet_interactive_login_hides_password(server):
    tn = Tmux("telnet", f"{TELNET} 127.0.0.1 {server.port}")
    try:
        await tn.wait_for("Name:")
        tn.type("Telly")
        await tn.wait_for("Create a new dreamer named Telly? (yes/no)")
        tn.type("yes")
        await tn.wait_for("Choose a password")
        tn.type("hiddenpass")
        await tn.wait_for("Type the password again")
        tn.type("hiddenpass")
        screen = await tn.wait_for("Exits:")
        assert "hiddenpass" not in screen  # the client did not echo it
        tn.type("north")
        screen = await tn.wait_for("Sanctuary of Returning Tides")
        # output starts at column 0 after each command (no staircase)
        line = next(ln for ln in screen.splitlines() if "Sanctuary of Returning Tides" in ln)
        assert line.startswith("Sanctuary")
        # ... also when the line was typed after another player's line, not at a prompt
        friend = await login(server.port, "Friend")
        await friend.cmd("north", "Tides")
        await tn.wait_for("Friend arrives")
        await friend.cmd("say are you there", "You say")
        await tn.wait_for('Friend says, "are you there"')
        tn.type("tell friend yes I am")
        screen = await tn.wait_for('You tell Friend, "yes I am"')
        line = next(ln for ln in screen.splitlines() if "You tell Friend" in ln)
        assert line.startswith("You tell"), screen
        await friend.close()
        tn.type("quit")
        await tn.wait_for("May your dreams be gentle")
    finally:
        tn.close()


@pytest.mark.skipif(not (TINTIN and TMUX), reason="needs tintin++ and tmux (.ci/run installs them)")
async def test_tintin_against_the_server_process(tmp_path):
    """`python server.py` as shipped (uvloop when installed): MCCP2 and all, with TinTin++."""
    from tests.conftest import spawn_server

    sp = await spawn_server(tmp_path / "proc.db")
    tt = Tmux("tintinproc", f"{TINTIN} -G")
    try:
        await asyncio.sleep(0.5)
        tt.type(f"#session dw 127.0.0.1 {sp.port}")
        await tt.wait_for("Name:")
        tt.type("create Tessa secretpass")
        await tt.wait_for("Exits:")
        tt.type("client")
        screen = await tt.wait_for("options on:")
        assert "MCCP2" in screen.split("options on:")[-1].splitlines()[0], screen
        tt.type("say compressed and well")
        await tt.wait_for('You say, "compressed and well"')
        tt.type("quit")
        await tt.wait_for("May your dreams be gentle")
    finally:
        tt.close()
        sp.proc.terminate()
        sp.proc.wait(timeout=30)
    assert "Traceback" not in sp.log and "ERROR" not in sp.log, sp.log
