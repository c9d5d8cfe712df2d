"""MUD client protocols at the byte level: what the server sends and how it answers."""

from __future__ import annotations

import asyncio
import time
import zlib

from tests.client import (
    BINARY,
    CHARSET,
    DO,
    DONT,
    EOR,
    EOR_CMD,
    GA,
    GMCP,
    IAC,
    MCCP2,
    MCCP3,
    MSSP,
    NAWS,
    SB,
    SE,
    SGA,
    TTYPE,
    WILL,
    WONT,
    Client,
    login,
)

MSSP_KEYS = [
    "NAME", "PLAYERS", "UPTIME", "CODEBASE", "CONTACT", "CRAWL DELAY", "PORT",
    "CREATED", "LANGUAGE", "FAMILY", "GENRE", "GAMEPLAY", "STATUS",
    "GAMESYSTEM", "SUBGENRE", "AREAS", "ROOMS", "OBJECTS", "MOBILES", "ANSI",
    "UTF-8", "MCCP", "GMCP", "MSDP", "MXP", "VT100", "XTERM 256 COLORS", "XTERM TRUE COLORS",
    "SSL",
]  # fmt: skip


def parse_mssp(payload: bytes) -> dict[str, list[str]]:
    assert payload[0] == MSSP
    table: dict[str, list[str]] = {}
    key = None
    for part in payload[1:].split(b"\x01")[1:]:
        name, *values = part.split(b"\x02")
        key = name.decode()
        table[key] = [v.decode() for v in values]
    return table


async def test_server_offers_its_options_after_ttype(server):
    c = await Client.connect(server.port, ttype="xterm")
    await c.expect("Name: ")
    await c.expect_command(DO, TTYPE)
    for cmd, opt in [(WILL, EOR), (WILL, GMCP), (WILL, MSSP), (WILL, MCCP2), (DO, NAWS),
                     (DO, CHARSET), (WILL, BINARY)]:  # fmt: skip
        await c.expect_command(cmd, opt)
    assert (WILL, MCCP3) not in c.commands  # never offered
    assert (WILL, 1) not in c.commands  # no WILL ECHO outside password prompts
    await c.close()


async def test_prompts_end_with_eor_when_agreed_else_ga(server):
    eor = await login(server.port, "Eora", ttype="xterm", agree={BINARY, EOR})
    await eor.cmd("look", r"(?s)Exits:.*?> ")
    await asyncio.sleep(0.05)
    assert eor.prompt_marks and eor.prompt_marks[-1] == EOR_CMD
    ga = await login(server.port, "Gaia", ttype="xterm", agree={BINARY})
    await ga.cmd("look", r"(?s)Exits:.*?> ")
    await asyncio.sleep(0.05)
    assert ga.prompt_marks and set(ga.prompt_marks) == {GA}
    # a client that asks us to suppress go-ahead gets no GA at all
    quiet = await Client.connect(server.port, ttype="xterm", agree={BINARY, SGA})
    quiet.send_bytes(bytes([IAC, DO, SGA]))
    await quiet.expect("Name: ")
    await quiet.expect_command(WILL, SGA)
    before = quiet.prompts
    quiet.send("create Sagan secretpass")
    await quiet.expect(r"(?s)Exits:.*?> ")
    await asyncio.sleep(0.05)
    assert quiet.prompts == before
    for c in (eor, ga, quiet):
        await c.close()


async def test_mtts_three_rounds_and_client_command(server):
    answers = iter(["TINTIN++", "XTERM-256COLOR", "MTTS 141"])
    c = await Client.connect(server.port, answer=True)
    c.ttype = "unused"

    def reply(payload: bytes) -> None:  # answer each SEND with the next name, repeating the last
        if payload[:1] == bytes([TTYPE]):
            name = next(answers, "MTTS 141")
            c._send_raw(bytes([IAC, SB, TTYPE, 0]) + name.encode() + bytes([IAC, SE]))

    c._subneg = reply  # type: ignore[method-assign]
    await c.expect("Name: ")
    c.send("create Mtts secretpass")
    await c.expect(r"(?s)Exits:.*?> ")
    sends = sum(1 for p in c.subnegotiations if p[:2] == bytes([TTYPE, 1]))
    assert 1 <= sends <= 3
    out = await c.cmd("client", r"GMCP packages:.*")
    assert "TINTIN++" in out
    assert "MTTS 141" in out
    assert "256" in out  # 141 = ANSI + UTF-8 + 256 colours + proxy
    assert "utf-8" in out
    assert "\x1b[" in out  # colour is on
    await c.close()


async def test_mtts_screen_reader_and_no_colour(server):
    c = await Client.connect(server.port, ttype="MTTS 64")
    await c.expect("Name: ")
    c.send("create Reader secretpass")
    await c.expect(r"(?s)Exits:.*?> ")
    out = await c.cmd("client", r"GMCP packages:.*")
    assert "screen reader: yes" in out
    assert "\x1b[" not in c.text
    await c.close()


async def test_charset_accepted_rejected_and_override(server):
    # accepted: the server asks for UTF-8 only
    ok = await Client.connect(server.port, ttype="xterm")
    ok.send_bytes(bytes([IAC, WILL, CHARSET]))
    await ok.expect("Name: ")
    deadline = asyncio.get_running_loop().time() + 3
    while not any(p[:2] == bytes([CHARSET, 1]) for p in ok.subnegotiations):
        assert asyncio.get_running_loop().time() < deadline, ok.subnegotiations
        await asyncio.sleep(0.01)
    request = next(p for p in ok.subnegotiations if p[:2] == bytes([CHARSET, 1]))
    assert request[3:] == b"UTF-8"
    ok.send_bytes(bytes([IAC, SB, CHARSET, 2]) + b"UTF-8" + bytes([IAC, SE]))
    ok.send("create Utfa secretpass")
    await ok.expect(r"(?s)Exits:.*?> ")
    out = await ok.cmd("client", r"GMCP packages:.*")
    assert "charset:       utf-8" in out
    ok.send("say caf\u00e9 \u2014 na\u00efve")
    await ok.expect("You say")
    await asyncio.sleep(0.05)
    assert "caf\u00e9 \u2014 na\u00efve".encode() in ok.raw

    # rejected, and MTTS says nothing about UTF-8 -> ASCII with transliteration
    no = await Client.connect(server.port, ttype="MTTS 1")
    no.send_bytes(bytes([IAC, WILL, CHARSET]))
    await no.expect("Name: ")
    while not any(p[:2] == bytes([CHARSET, 1]) for p in no.subnegotiations):
        await asyncio.sleep(0.01)
    no.send_bytes(bytes([IAC, SB, CHARSET, 3, IAC, SE]))
    no.send("create Asci secretpass")
    await no.expect(r"(?s)Exits:.*?> ")
    out = await no.cmd("client", r"GMCP packages:.*")
    assert "charset:       ascii" in out
    ok.send("say caf\u00e9 \u2014 na\u00efve")
    await ok.expect("You say")
    ok.send("north")  # get out of the way; Asci hears the say in the nexus
    await no.expect(r'Utfa\S* says, "cafe -- naive')
    assert no.text.isascii()

    # a player's override wins and is remembered
    await no.cmd("client charset latin-1", "Charset set to iso8859-1")
    no.send_bytes(b"say \xe9t\xe9\r\n")  # a Latin-1 client types Latin-1
    await no.expect("You say")
    await asyncio.sleep(0.05)
    assert "\u00e9t\u00e9".encode("latin-1") in no.raw
    await no.cmd("client charset klingon", "can't use 'klingon' as a charset")
    for c in (ok, no):
        await c.close()


async def test_mssp_table_and_plain_text_request(server):
    await (await login(server.port, "Crawly")).close()
    c = await Client.connect(server.port, ttype="xterm", agree={BINARY, MSSP})
    await c.expect("Name: ")
    deadline = asyncio.get_running_loop().time() + 3
    while not any(p[:1] == bytes([MSSP]) for p in c.subnegotiations):
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.01)
    table = parse_mssp(next(p for p in c.subnegotiations if p[:1] == bytes([MSSP])))
    for key in MSSP_KEYS:
        assert key in table, key
    assert table["NAME"] == ["Dreamwave"]
    assert table["PORT"] == [str(server.port)]
    assert int(table["ROOMS"][0]) == len(server.world.rooms)
    assert table["GMCP"] == ["1"]
    c.send("MSSP-REQUEST")
    reply = await c.expect(r"(?s)MSSP-REPLY-START.*?MSSP-REPLY-END")
    assert "\nNAME\tDreamwave" in reply.group(0).replace("\r", "")
    assert "ROOMS\t" in reply.group(0)
    await c.close()


async def mssp_of(port: int) -> dict[str, list[str]]:
    c = await Client.connect(port, ttype="xterm", agree={BINARY, MSSP})
    await c.expect("Name: ")
    deadline = asyncio.get_running_loop().time() + 3
    while not any(p[:1] == bytes([MSSP]) for p in c.subnegotiations):
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.01)
    await c.close()
    return parse_mssp(next(p for p in c.subnegotiations if p[:1] == bytes([MSSP])))


async def test_mssp_tells_the_truth_about_every_field(server):
    """Each field against what the server does: no empty or guessed values, colour depth
    as mud.core.text renders it (16-colour SGR, also for a client that could show truecolor)."""
    import re

    rich = await login(server.port, "Rich", ttype="MTTS 269")  # ANSI, UTF-8, 256, truecolor
    rich.send("say caf\u00e9")
    await rich.expect("You say")
    await rich.cmd("look", r"(?s)Exits:.*?> ")
    table = await mssp_of(server.port)
    assert all(v and all(x for x in v) for v in table.values()), table
    assert "HOSTNAME" not in table  # not configured; the address we listen on is no hostname
    assert "INTERMUD" not in table and "WEBSITE" not in table and "LOCATION" not in table
    assert table["PLAYERS"] == ["1"]
    sgr = set(re.findall(r"\x1b\[([0-9;]*)m", rich.text))
    assert sgr and all(int(p) in ANSI_16 for code in sgr for p in code.split(";") if p), sgr
    assert table["ANSI"] == ["1"]
    assert table["XTERM 256 COLORS"] == ["0"] and table["XTERM TRUE COLORS"] == ["0"]
    assert table["UTF-8"] == ["1"] and "caf\u00e9".encode() in rich.raw
    assert table["VT100"] == ["0"] and table["SSL"] == ["0"]
    assert table["MCCP"] == ["1"] and (WILL, MCCP2) in rich.commands
    assert table["GMCP"] == ["1"] and (WILL, GMCP) in rich.commands
    assert table["MSDP"] == table["MXP"] == table["MSP"] == table["PUEBLO"] == ["0"]
    assert int(table["UPTIME"][0]) <= time.time()
    server.settings.compression = False
    server.settings.mssp.hostname = "dreamwave.example"
    table = await mssp_of(server.port)
    assert table["MCCP"] == ["0"] and table["HOSTNAME"] == ["dreamwave.example"]
    await rich.close()


ANSI_16 = {0, 1, 4, *range(30, 38), *range(90, 98)}


async def test_gmcp_core_room_char_and_channels(server):
    c = await Client.connect(server.port, ttype="Mudlet", agree={BINARY, EOR, GMCP})
    await c.expect("Name: ")
    await c.expect_command(WILL, GMCP)
    c.send_gmcp("Core.Hello", {"client": "Mudlet", "version": "4.17"})
    c.send_gmcp("Core.Supports.Set", ["Char 1", "Room 1", "Comm.Channel 1", "Dreamwave 1"])
    c.send("create Mapper secretpass")
    await c.expect(r"(?s)Exits:.*?> ")
    name = await c.expect_gmcp("Char.Name")
    assert name["name"] == "Mapper"
    status = await c.expect_gmcp("Char.Status")
    assert status["state"] == "awake" and status["role"] == "player"
    info = await c.expect_gmcp("Room.Info")
    nexus = server.world.nexus
    assert info["num"] == nexus.id and info["name"] == "Dreamwave Nexus"
    assert info["area"] == "The Dreamwave Nexus"
    assert "environment" in info
    north = next(e for e in nexus.exits if e.name == "north")
    assert info["exits"]["north"] == north.dest_id
    dw = await c.expect_gmcp("Dreamwave.Status")
    assert dw["state"] == "awake"

    await c.cmd("north", r"(?s)Exits:.*?> ")
    moved = await c.expect_gmcp("Room.Info")
    assert moved["num"] == north.dest_id
    assert moved["exits"]["south"] == nexus.id

    other = await login(server.port, "Talker")
    await other.cmd("north", "Tides")
    other.send("say hello mapper")
    text = await c.expect_gmcp("Comm.Channel.Text")
    assert text == {"channel": "say", "talker": "Talker", "text": 'Talker says, "hello mapper"'}
    other.send("tell mapper psst")
    text = await c.expect_gmcp("Comm.Channel.Text")
    assert text["channel"] == "tell" and "psst" in text["text"]

    c.send_gmcp("Core.Ping")
    assert await c.expect_gmcp("Core.Ping") is None

    # Remove Room: moving no longer sends Room.Info
    c.send_gmcp("Core.Supports.Remove", ["Room"])
    await asyncio.sleep(0.1)
    c.gmcp.clear()
    await c.cmd("south", r"(?s)Exits:.*?> ")
    await asyncio.sleep(0.1)
    assert not any(pkg == "Room.Info" for pkg, _ in c.gmcp)
    assert any(pkg == "Char.Status" for pkg, _ in c.gmcp)
    await c.close()
    await other.close()


async def test_gmcp_garbage_is_ignored(server):
    c = await Client.connect(server.port, ttype="Mudlet", agree={BINARY, EOR, GMCP})
    await c.expect("Name: ")
    c.send_bytes(bytes([IAC, SB, GMCP]) + b"Core.Supports.Set [not json" + bytes([IAC, SE]))
    c.send_bytes(
        bytes([IAC, SB, GMCP]) + b"Core.Hello " + b'"' + b"x" * 20000 + b'"' + bytes([IAC, SE])
    )
    c.send_bytes(bytes([IAC, SB, GMCP]) + b"\xc3\x28 {}" + bytes([IAC, SE]))
    c.send_bytes(bytes([IAC, SB, GMCP, IAC, SE]))
    c.send("create Garbo secretpass")
    await c.expect(r"(?s)Exits:.*?> ")
    await c.cmd("say still here", "You say")
    await c.close()


async def test_mccp2_stream_decompresses_and_ends_cleanly(server):
    c = await Client.connect(server.port, ttype="xterm", agree={BINARY, EOR, MCCP2})
    await c.expect("Name: ")
    assert c.compressed  # banner arrived, compression on
    c.send("create Zippy secretpass")
    await c.expect(r"(?s)Exits:.*?> ")
    marks = len(c.prompt_marks)
    await c.cmd("look", r"(?s)Exits:.*?> ")
    await asyncio.sleep(0.05)
    assert len(c.prompt_marks) > marks  # prompts still marked inside the stream
    assert c.compressed_bytes > 0
    # every compressed write was flushed: one command's reply arrives whole
    await c.cmd("say one line at a time", 'You say, "one line at a time')
    # the client turns it off: the stream finishes and text continues plain
    c.send_bytes(bytes([IAC, DONT, MCCP2]))
    await asyncio.sleep(0.1)
    assert not c.compressed
    await c.cmd("inventory", "You are carrying")
    await c.close()


def test_zlib_roundtrip_sanity():
    comp = zlib.compressobj()
    data = comp.compress(b"abc") + comp.flush(zlib.Z_SYNC_FLUSH)
    assert zlib.decompressobj().decompress(data) == b"abc"


async def test_refusals_and_negotiation_garbage(server):
    c = await Client.connect(server.port, ttype="xterm")
    await c.expect("Name: ")
    c.send_bytes(bytes([IAC, DO, MCCP3, IAC, WILL, MCCP3, IAC, DO, 99, IAC, WILL, 99]))
    for cmd, opt in [(WONT, MCCP3), (DONT, MCCP3), (WONT, 99), (DONT, 99)]:
        await c.expect_command(cmd, opt)
    garbage = [
        bytes([IAC, SB, 99]) + b"never ends" * 100,  # SB without SE ...
        bytes([IAC, SE]),  # ... finally closed
        bytes([IAC, SB, IAC, SE]),  # empty SB
        bytes([IAC, SB, TTYPE, IAC, SE]),  # truncated
        bytes([IAC, SB, NAWS, 1, IAC, SE]),  # short NAWS
        bytes([IAC, SB, CHARSET, 9, IAC, SE]),  # unknown CHARSET command
        bytes([IAC, 200]),  # not a command
        bytes([IAC, WILL, 1]),  # WILL ECHO from a client
        bytes([IAC, DO, 1]),  # DO ECHO without our offer
    ]
    for g in garbage:
        c.send_bytes(g)
    c.send_bytes(b"\r\n")  # IAC 200 is data by RFC 854: it ends up on a line of its own
    await c.expect("Name: ")
    c.send_bytes(b"create Sturdy secret" + bytes([IAC, IAC]) + b"pass\r\n")
    await c.expect("Welcome, Sturdy")
    await c.cmd("say survived", "You say")
    await c.close()


LONE_COMMANDS = [
    (WONT, NAWS), (DO, MCCP3), (WONT, TTYPE), (DO, SGA), (WILL, NAWS), (DONT, SGA), (DO, 1),
    (WILL, TTYPE), (DO, BINARY), (WONT, BINARY), (DO, MCCP2), (DO, GMCP), (DO, MSSP),
    (WILL, CHARSET),
]  # fmt: skip


async def test_a_lone_command_waiting_at_accept_logs_no_error(tmp_path):
    """Bytes already waiting when the server accepts (here: the server is stopped while the
    clients connect and send) reach telnetlib3 before its negotiation has begun; under uvloop
    that used to log InvalidStateError from _check_negotiation_timer for most commands."""
    import os
    import signal
    import socket

    from tests.conftest import server_env, spawn_server

    # 14 connections from one address: over the default cap of 10, lifted as an admin would
    env = {**server_env(), "DREAMWAVE_LIMITS__MAX_CONNECTIONS_PER_ADDRESS": "50"}
    sp = await spawn_server(tmp_path / "lone.db", env=env)
    socks = []
    try:
        gateway = sp.pids()[-1]  # the process that accepts the connections
        os.kill(gateway, signal.SIGSTOP)
        try:
            for verb, opt in LONE_COMMANDS:
                s = socket.create_connection(("127.0.0.1", sp.port))
                s.sendall(bytes([IAC, verb, opt]))
                socks.append(s)
        finally:
            os.kill(gateway, signal.SIGCONT)
        for s in socks:  # every one of them is greeted
            s.setblocking(False)
        loop = asyncio.get_running_loop()
        for s in socks:
            got = b""
            while b"Name: " not in got:
                got += await asyncio.wait_for(loop.sock_recv(s, 65536), 10)
        control = await login(sp.port, "Control", ttype="xterm")
        await control.cmd("look", r"(?s)Exits:.*?> ")
        await control.close()
        assert "ERROR" not in sp.log and "Traceback" not in sp.log, sp.log
    finally:
        for s in socks:
            s.close()
        sp.proc.send_signal(signal.SIGTERM)
        sp.proc.wait(timeout=15)


async def test_the_error_fixture_sees_asyncio_callback_and_lost_task_errors(server):
    """What telnetlib3 callbacks and shells raise reaches the log only through asyncio's
    exception handler: the `server` fixture's collector must see it."""
    from tests.conftest import ErrorCollector

    def broken_callback() -> None:
        raise RuntimeError("from a callback")

    async def broken_task() -> None:
        raise RuntimeError("from a task")

    loop = asyncio.get_running_loop()
    loop.call_soon(broken_callback)
    loop.create_task(broken_task())  # noqa: RUF006  (nobody keeps it, nobody awaits it)
    await asyncio.sleep(0.01)
    await ErrorCollector.settle()
    messages = [r.getMessage() for r in server.errors]
    assert any(m.startswith("Exception in callback") for m in messages), messages
    assert any(m.startswith("Task exception was never retrieved") for m in messages), messages
    for r in server.errors:
        r.expected = True
