"""Screen-reader mode (MTTS bit 64, or `config screenreader on`): the same transcript read in
both modes says the same things, but in one column, without padding, with the prompt on a
line of its own."""

from __future__ import annotations

import re

from tests.client import Client, login, said

TRANSCRIPT = ("help", "who", "look", "config", "exits")


async def run(c: Client, prompt: str) -> dict[str, str]:
    out = {}
    for line in TRANSCRIPT:
        out[line] = await said(c, line, rf"(?s)\r\n{prompt}")
    return out


def player_commands(server) -> list[str]:
    return [c.key for c in server.registry.commands.values() if c.role == "player" and not c.hidden]


def layout_problems(text: str) -> list[str]:
    """Lines a screen reader would stumble over: indented, padded into columns, or drawn."""
    bad = []
    for line in text.replace("\r", "").split("\n"):
        if line.startswith(" ") or "  " in line.strip() or re.search(r"([-=~*#])\1\1", line):
            bad.append(line)
    return bad


async def test_the_same_transcript_in_both_modes(server):
    plain = await login(server.port, "Ada")
    reader = await login(server.port, "Bex", ttype="MTTS 64")
    assert server.world.players_by_key["bex"].session.screen_reader
    await plain.expect("Bex shimmers into the dreamscape")
    normal = await run(plain, "> ")
    spoken = await run(reader, "> \r\n")

    # the same commands, in one column and without padding
    for key in player_commands(server):
        assert re.search(rf"\r\n  {re.escape(key)} +\w", normal["help"]), key
        assert re.search(rf"\r\n{re.escape(key)}: \w", spoken["help"]), key
    assert "General commands:" in spoken["help"]
    for name in ("Ada", "Bex"):
        assert re.search(rf"\r\n{name}, awake, idle \d+s\.", spoken["who"])
        assert re.search(rf"\r\n  {name} +awake", normal["who"])
    for name in ("colour", "brief", "pager", "screenreader", "prompt", "echo"):
        assert re.search(rf"\r\n  {name} +", normal["config"])
        assert re.search(rf"\r\n{name}: [^\r]+\. ", spoken["config"])
    assert "screenreader: auto (on). one column, no decoration." in spoken["config"]
    for line in normal["exits"].split("\r\n")[1:-1]:
        assert line.strip() in spoken["exits"]  # every way out, just not indented
    assert "Dreamwave Nexus" in spoken["look"] and "Exits:" in spoken["look"]
    for cmd, text in spoken.items():
        body = text.split("\r\n", 1)[1] if "\r\n" in text else text
        assert not layout_problems(body), (cmd, layout_problems(body))
    # every prompt is a line of its own: nothing said next is read as part of it
    prompts = re.findall(r"(?s)\r\n> (..)", reader.text.split("drift into")[-1])
    assert prompts and all(after == "\r\n" for after in prompts)
    await plain.close()
    await reader.close()


async def test_the_setting_overrides_what_the_client_says(server):
    plain = await login(server.port, "Ada")
    await plain.cmd("config screenreader on", r"screenreader is now on\.\r\n> \r\n")
    out = await plain.cmd("help", r"(?s)Commands, by category.*?> \r\n")
    assert not layout_problems(out.split("\r\n", 1)[1])
    await plain.cmd("config screenreader auto", r"screenreader is now auto \(off: .*\r\n> ")
    await plain.cmd("help", r"(?s)\r\nGeneral\r\n  ")

    reader = await login(server.port, "Bex", ttype="MTTS 64")
    await reader.cmd("config screenreader off", r"screenreader is now off\.\r\n> ")
    await reader.cmd("who", r"\r\n  Ada +awake")
    await plain.close()
    await reader.close()
