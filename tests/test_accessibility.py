"""Screen readers: the same transcript with and without MTTS bit 64 (screen reader), compared.

A screen reader reads every character aloud, so the reader's transcript has no decoration
(letter-spaced titles, "~ ~ ~" flourishes) and the map is sentences, while the story text
is the same for both.
"""

from __future__ import annotations

from tests.client import ANSI_RE, Client

SIGHTED = "MTTS 5"  # ANSI + UTF-8
READER = "MTTS 69"  # ANSI + UTF-8 + screen reader
MAP = r"(?s)(You are in|\[\*).*?> "  # the map, drawn or told, up to the prompt


async def transcript(port: int, ttype: str, name: str) -> dict[str, str]:
    c = await Client.connect(port, ttype=ttype)
    out = {"banner": (await c.expect(r"(?s).*?Name: ")).group(0)}
    c.send(f"create {name} secretpass")
    await c.expect(r"(?s)Exits:.*?> ")
    out["look"] = await c.cmd("look", r"(?s)Exits:.*?> ")
    out["map"] = await c.cmd("map", MAP)
    out["client"] = await c.cmd("client", r"GMCP packages:.*")
    await c.close()
    return {k: ANSI_RE.sub("", v) for k, v in out.items()}


async def test_screen_reader_transcript_is_plain_and_says_the_same(server):
    sighted = await transcript(server.port, SIGHTED, "Seer")
    reader = await transcript(server.port, READER, "Hearer")

    assert "D R E A M W A V E" in sighted["banner"] and "~ ~ ~" in sighted["banner"]
    assert "D R E A M" not in reader["banner"] and "~" not in reader["banner"]
    assert "Welcome to Dreamwave." in reader["banner"]
    assert "2147" in reader["banner"] and "connect" in reader["banner"]

    # the story itself is the same (a reader's prompt ends its own line: the CR LF after it)
    assert sighted["look"].lstrip("\r\n") == reader["look"].lstrip("\r\n")

    assert "[*" in sighted["map"] and "(you are here)" in sighted["map"]
    assert "You are in Dreamwave Nexus." in reader["map"]
    assert "North: " in reader["map"] and "; east: " in reader["map"]
    assert "Beyond " in reader["map"]
    for art in ("[*", "-[", "]-", "^ exit up"):
        assert art not in reader["map"], art
    assert "screen reader: yes" in reader["client"]
    assert "screen reader: no" in sighted["client"]


async def test_room_lines_with_decoration_are_plain_for_screen_readers_only(server):
    seer = await Client.connect(server.port, ttype=SIGHTED)
    hearer = await Client.connect(server.port, ttype=READER)
    for c, name in ((seer, "Seer"), (hearer, "Hearer")):
        await c.expect("Name: ")
        c.send(f"create {name} secretpass")
        await c.expect(r"(?s)Exits:.*?> ")
    room = server.world.find_online("Seer").room
    server.world.broadcast(room, "|m|[~ |]Echo weaves:|n a line of the story")
    await seer.expect("~ Echo weaves:")
    await hearer.expect("Echo weaves:")
    assert "\nEcho weaves: a line of the story" in ANSI_RE.sub("", hearer.text)
    assert "~" not in ANSI_RE.sub("", hearer.text)
    for c in (seer, hearer):
        await c.close()


async def test_screen_reader_mode_by_command(server):
    c = await Client.connect(server.port, ttype=SIGHTED)
    await c.expect("Name: ")
    c.send("create Switch secretpass")
    await c.expect(r"(?s)Exits:.*?> ")
    await c.cmd("client screenreader on", r"(?s)Screen-reader mode is on.*?> ")
    out = await c.cmd("map", MAP)
    assert "You are in Dreamwave Nexus." in out and "[*" not in out
    out = await c.cmd("client", r"GMCP packages:.*")
    assert "screen reader: no (plain output on)" in out
    await c.cmd("client screenreader auto", r"(?s)Screen-reader mode is off.*?> ")
    out = await c.cmd("map", MAP)
    assert "[*" in out
    await c.cmd("client screenreader maybe", "Usage: client screenreader on")
    await c.close()
