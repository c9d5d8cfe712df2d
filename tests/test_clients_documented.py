"""Real clients, as the README says: what its Connecting table tells a player to type works,
and GMCP names read like the rest of the world."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.client import BINARY, EOR, GMCP, WILL, Client

README = Path(__file__).resolve().parent.parent / "README.md"
MUDLET_DEFAULT = ["Char 1", "Char.Skills 1", "Char.Items 1", "Room 1", "IRE.Composer 1"]


def readme_row(client: str) -> str:
    lines = README.read_text().splitlines()
    return next(line for line in lines if line.startswith(f"| {client} |"))


def test_the_tinyfugue_line_is_one_tf5_takes():
    row = readme_row("TinyFugue")
    assert "/addworld -Tprompt dw 127.0.0.1 4000" in row and "/world dw`" in row
    assert "/world dw 127.0.0.1 4000" not in row  # tf5: "unknown service (port) name"


async def test_mudlet_gets_dreamwave_status_after_the_documented_subscription(server):
    c = await Client.connect(server.port, ttype="Mudlet", agree={BINARY, EOR, GMCP})
    await c.expect("Name: ")
    await c.expect_command(WILL, GMCP)
    c.send_gmcp("Core.Hello", {"client": "Mudlet", "version": "4.17"})
    c.send_gmcp("Core.Supports.Set", MUDLET_DEFAULT)  # what Mudlet asks for by itself
    c.send("create Mapper secretpass")
    await c.expect(r"(?s)Exits:.*?> ")
    await c.expect_gmcp("Room.Info")
    assert not any(pkg == "Dreamwave.Status" for pkg, _ in c.gmcp)
    # the README's one line, sent as Mudlet's sendGMCP sends it
    line = re.search(r"sendGMCP\(\[\[(Core\.Supports\.Add) (\[.*?\]) \]\]\)", readme_row("Mudlet"))
    assert line is not None
    c.send_gmcp(line.group(1), json.loads(line.group(2)))
    status = await c.expect_gmcp("Dreamwave.Status")
    assert status["state"] == "awake"
    await c.close()


async def test_a_dream_is_an_area_named_like_the_others(server):
    c = await Client.connect(server.port, ttype="Mudlet", agree={BINARY, EOR, GMCP})
    await c.expect("Name: ")
    await c.expect_command(WILL, GMCP)
    c.send_gmcp("Core.Supports.Set", ["Room 1"])
    c.send("create Mapper secretpass")
    await c.expect(r"(?s)Exits:.*?> ")
    assert (await c.expect_gmcp("Room.Info"))["area"] == "The Dreamwave Nexus"
    await c.cmd("dream", r"(?s)Exits:.*?> ")
    info = await c.expect_gmcp("Room.Info")
    assert info["name"] == "Mapper's Dream"
    assert info["area"] == "The Dreams"
    await c.close()
