"""The gateway's edge under attack: caps counted from a socket's first byte, open files, the
login-screen pool, a page's byte budget, resume tokens across engines and bans, Origin/Host.

Real servers on port 0, real sockets; different client addresses are loopback's 127.0.0.x.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.client import Client, login, said
from tests.conftest import ROOT, make_admin, server_env, spawn_argv

PROTO = ["gmcp.mudstandards.org"]
HALF_OPEN = b"GET /ws HTTP/1.1\r\nHost: x\r\n"  # ... and never the blank line that ends it


def ws_url(port: int) -> str:
    return f"ws://127.0.0.1:{port}/ws"


async def raw(port: int, source: str = "127.0.0.1", data: bytes = b"") -> Any:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    if data:
        writer.write(data)
    return reader, writer


async def hung_up(reader: asyncio.StreamReader) -> bool:
    """True once the server closes this socket (False: still open after 2 s)."""
    try:
        return await asyncio.wait_for(reader.read(1000), 2) == b""
    except TimeoutError:
        return False
    except ConnectionError:
        return True


async def telnet_from(port: int, source: str) -> Client:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    return Client(reader, writer)


async def page(port: int, source: str = "127.0.0.1", **hello: Any) -> Any:
    ws = await connect(ws_url(port), subprotocols=PROTO, local_addr=(source, 0))  # type: ignore[arg-type]
    await ws.send("Dreamwave.Client " + json.dumps({"cols": 80, **hello}))
    return ws


async def page_sees(ws: Any, what: bytes) -> str | None:
    """Read frames until `what` is in the text; the last resume token seen, if any."""
    seen, token = b"", None
    while what not in seen:
        m = await asyncio.wait_for(ws.recv(), 10)
        if isinstance(m, bytes):
            seen += m
        elif m.startswith("Dreamwave.Resume "):
            token = json.loads(m.split(" ", 1)[1])["token"]
    return token


async def token_of(ws: Any) -> str:
    while True:
        m = await asyncio.wait_for(ws.recv(), 10)
        if isinstance(m, str) and m.startswith("Dreamwave.Resume "):
            return str(json.loads(m.split(" ", 1)[1])["token"])


# -- 5. half-open handshakes and open files ------------------------------------------------------


async def test_half_open_web_handshakes_count_against_the_address_cap(server: Any, caplog) -> None:
    caplog.set_level(logging.WARNING, "dreamwave.gateway")
    web = server.gateway.web.port
    cap = server.settings.limits.max_connections_per_address
    held = [await raw(web, "127.0.0.2", HALF_OPEN) for _ in range(cap)]
    extra = await raw(web, "127.0.0.2", HALF_OPEN)
    assert await hung_up(extra[0])  # counted from its first byte: over the cap, closed
    assert not await hung_up(held[0][0])
    assert "refused a connection from 127.0.0.2" in caplog.text
    ada = await login(server.gateway.port, "Ada")  # another address plays on
    await said(ada, "look")
    for _, w in held:
        w.close()


async def test_a_flood_of_handshakes_keeps_a_reserve_of_open_files(tmp_path: Path) -> None:
    db = tmp_path / "files.db"
    make_admin(db)
    argv = ["prlimit", "--nofile=160:260", "--", sys.executable, str(ROOT / "server.py"),
            "run", "--port", "0", "--db", str(db)]  # fmt: skip
    sp = await spawn_argv(argv, tmp_path, server_env())
    try:
        web = await web_port_of(sp)
        flood = []  # 25 addresses x 8 half-open handshakes: more than the soft limit
        for n in range(2, 27):
            flood += [await raw(web, f"127.0.0.{n}", HALF_OPEN) for _ in range(8)]
        ada = await login(sp.port, "Ada")  # a new player still gets in, at once ...
        await said(ada, "look")
        reader, writer = await raw(web, data=b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        head = await asyncio.wait_for(reader.readline(), 5)
        assert head.startswith(b"HTTP/1.1 200")  # ... and so does the page
        writer.close()
        assert "took the place of a silent connection" in sp.log  # and the log says why
        for _, w in flood:
            w.close()
        await ada.close()
    finally:
        sp.proc.send_signal(signal.SIGTERM)
        await asyncio.get_running_loop().run_in_executor(None, sp.proc.wait, 60)
    assert "Traceback" not in sp.log and " ERROR " not in sp.log, sp.log


async def web_port_of(sp: Any) -> int:
    for _ in range(200):
        m = re.search(r"web client at \w+://[^:]+:(\d+)/", sp.log)
        if m:
            return int(m.group(1))
        await asyncio.sleep(0.05)
    raise AssertionError("no web port in the log:\n" + sp.log)


# -- 6. one budget for every byte a page sends ---------------------------------------------------


async def test_a_flooding_page_is_read_no_faster_than_its_byte_budget(make_server: Any) -> None:
    server = await make_server(bytes_per_second=500, commands_per_second=1e6, command_burst=10**6)
    ws = await page(server.gateway.web.port)
    await page_sees(ws, b"Name:")
    conn = next(iter(server.gateway.conns.values()))
    for _ in range(40):  # 4,000 empty lines in 40 frames: eight seconds of this budget
        await ws.send(b"\n" * 100)
    await until(lambda: conn.got >= 500, poll=0.01)  # past the burst ...
    assert conn.got < 4000  # ... the rest waits unread in the socket, not in our memory
    await until(lambda: conn.got >= 1000)  # and is read as the budget refills
    await ws.close()


async def test_the_pages_hello_counts_against_the_gmcp_budget(make_server: Any) -> None:
    server = await make_server(subnegotiation_burst=2000, subnegotiation_bytes_per_second=10)
    ws = await page(server.gateway.web.port)
    with pytest.raises(ConnectionClosed):
        for _ in range(10):
            await ws.send('Dreamwave.Client {"cols": 80, "pad": "' + "y" * 900 + '"}')
        while True:
            await asyncio.wait_for(ws.recv(), 5)
    assert not server.gateway.conns


# -- 8. a resume token outlives the engine ---------------------------------------------------------


async def test_a_dropped_page_resumes_after_an_engine_crash_and_a_reload(split: Any) -> None:
    web = await web_port_of(split)
    ws = await page(web)
    await ws.send(b"connect Root secretpass\n")
    token = await page_sees(ws, b"Exits:")
    assert token
    await dropped(split, ws)  # (the dreamer waits, detached)
    back = split.log.count("re-attached")
    os.kill(engine_pids(split)[0], signal.SIGKILL)
    await until(lambda: len(engine_pids(split)) == 2 and split.log.count("re-attached") > back)
    ws = await page(web, resume=token)
    token = await token_of(ws)  # resumed: no login screen
    await ws.send(b"look\n")
    await page_sees(ws, b"Exits:")
    await dropped(split, ws)  # dropped again, and then the engine reloads
    back = split.log.count("re-attached")
    split.proc.send_signal(signal.SIGHUP)
    await until(lambda: len(engine_pids(split)) == 3 and split.log.count("re-attached") > back)
    ws = await page(web, resume=token)
    await token_of(ws)
    await ws.send(b"look\n")
    await page_sees(ws, b"Exits:")
    await ws.close()


async def dropped(sp: Any, ws: Any) -> None:
    """The page's socket drops; back once the gateway has seen it go (the dreamer waits,
    detached): what the dreamer is shown from then on is kept for the resume. What the gateway
    wrote before it knew went into the dropped socket and is gone, as with a browser whose
    network fails, so a test that wants it kept waits for this."""
    before = sp.log.count("> detached; resumable")
    ws.transport.abort()
    await until(lambda: sp.log.count("> detached; resumable") > before)


def engine_pids(sp: Any) -> list[int]:
    return [int(p) for p in re.findall(r"listening on .*engine pid (\d+)", sp.log)]


@contextlib.asynccontextmanager
async def no_engine(split: Any, root: Client) -> AsyncIterator[None]:
    """The engine killed, and no new one until the block ends (the supervisor is stopped)."""
    os.kill(split.proc.pid, signal.SIGSTOP)
    try:
        os.kill(engine_pids(split)[0], signal.SIGKILL)
        await root.expect("The dream flickers")
        yield
    finally:
        os.kill(split.proc.pid, signal.SIGCONT)


async def until(check: Any, timeout: float = 20.0, poll: float = 0.05) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(poll)


# -- 9. a resume goes through the address bans ---------------------------------------------------


async def wren_away(server: Any) -> tuple[Client, str]:
    """Ash, an admin, is in the Nexus; Wren played from a page at 127.0.0.2 whose socket just
    dropped. Returns Ash and Wren's resume token."""
    ash = await login(server.gateway.port, "Ash")
    server.world.set_role(server.world.players_by_key["ash"], "admin")
    ws = await page(server.gateway.web.port, "127.0.0.2")
    await ws.send(b"create Wren secretpass\n")
    token = await page_sees(ws, b"Exits:")
    assert token is not None
    ws.transport.abort()
    return ash, token


async def test_a_resume_checks_the_ban_and_records_the_new_address(server: Any) -> None:
    web = server.gateway.web.port
    ash, token = await wren_away(server)
    await said(ash, "@ban 127.0.0.3")
    ws = await page(web, "127.0.0.3", resume=token)  # from a banned address: refused
    await page_sees(ws, b"not accepted here")
    await until(lambda: "Wren" not in [p.name for p in server.world.online.values()])
    ws = await page(web, "127.0.0.2")
    await ws.send(b"connect Wren secretpass\n")
    token = await page_sees(ws, b"Exits:")
    ws.transport.abort()
    await said(ash, "@ban 127.0.0.2")  # the dreamer's own address, banned after login
    ws = await page(web, "127.0.0.2", resume=token)
    await page_sees(ws, b"not accepted here")
    await until(lambda: "Wren" not in [p.name for p in server.world.online.values()])
    await said(ash, "@unban 127.0.0.2")
    ws = await page(web, "127.0.0.2")
    await ws.send(b"connect Wren secretpass\n")
    token = await page_sees(ws, b"Exits:")
    ws.transport.abort()
    ws = await page(web, "127.0.0.4", resume=token)  # elsewhere, not banned: plays on
    await token_of(ws)
    await until(lambda: "127.0.0.4" in _who_line(server, "Wren"))
    assert re.search(r"Wren .*127\.0\.0\.4", await said(ash, "@who"))
    await ws.close()


def _who_line(server: Any, name: str) -> str:
    return " ".join(s.address for s in server.sessions if s.player and s.player.name == name)


# -- 12. Origin and Host ---------------------------------------------------------------------------


async def handshake(port: int, host: str, origin: str | None) -> int:
    """The status a websocket handshake with these headers gets."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = [
        "GET /ws HTTP/1.1", f"Host: {host}", "Upgrade: websocket", "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13",
        "Sec-WebSocket-Protocol: gmcp.mudstandards.org",
    ]  # fmt: skip
    if origin is not None:
        lines.append(f"Origin: {origin}")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    status = await asyncio.wait_for(reader.readline(), 5)
    writer.close()
    return int(status.split()[1])


async def test_only_our_origins_and_hosts_may_open_a_websocket(server: Any) -> None:
    web = server.gateway.web.port
    assert await handshake(web, f"evil.example:{web}", f"http://evil.example:{web}") == 403
    assert await handshake(web, f"evil.example:{web}", None) == 403  # DNS rebinding
    assert await handshake(web, f"127.0.0.1:{web}", f"http://evil.example:{web}") == 403
    assert await handshake(web, f"localhost:{web}", f"http://localhost:{web}") == 101
    assert await handshake(web, f"127.0.0.1:{web}", f"http://127.0.0.1:{web}") == 101
    assert await handshake(web, f"127.0.0.1:{web}", None) == 101  # a MUD client
    server.gateway.web.settings.origins = ["https://mud.example"]  # behind a proxy
    assert await handshake(web, "mud.example", "https://mud.example") == 101
    assert await handshake(web, "mud.example", f"http://127.0.0.1:{web}") == 403
    assert await handshake(web, f"evil.example:{web}", "https://mud.example") == 403


# -- 14. the login-screen pool -------------------------------------------------------------------


async def test_silent_sockets_give_their_place_to_a_new_player(make_server: Any) -> None:
    server = await make_server(max_unauthenticated=20)
    port = server.gateway.port
    silent = [await telnet_from(port, f"127.0.0.{2 + n // 2}") for n in range(20)]
    for c in silent:
        await c.expect("Name: ")
    ws = await page(server.gateway.web.port)  # the pool is full of silence: a page gets in
    await page_sees(ws, b"Name:")
    await silent[0].expect("The login screen is full")
    await silent[0].wait_closed()
    ada = await login(port, "Ada")  # and so does a telnet player
    await said(ada, "look")
    await silent[1].expect("The login screen is full")
    await ws.close()
    for c in silent[2:]:
        assert not c.closed
        await c.close()


async def test_a_player_who_typed_keeps_their_place(make_server: Any) -> None:
    server = await make_server(max_unauthenticated=2)
    port = server.gateway.port
    typing = await telnet_from(port, "127.0.0.2")
    await typing.expect("Name: ")
    await typing.cmd("Pellam", "Password:|new|create")
    other = await telnet_from(port, "127.0.0.3")
    await other.expect("Name: ")
    await other.cmd("Orrin", "Password:|new|create")
    late = await telnet_from(port, "127.0.0.4")  # nobody silent to give way: refused
    await late.expect("Too many people are at the login screen")
    assert not typing.closed and not other.closed
    for c in (typing, other, late):
        await c.close()


async def test_a_busy_pool_gives_each_address_a_share(make_server: Any) -> None:
    server = await make_server(max_unauthenticated=10, unauthenticated_share_when_busy=4)
    port = server.gateway.port
    mine = [await telnet_from(port, "127.0.0.2") for _ in range(8)]  # the pool is now busy
    for c in mine:
        await c.expect("Name: ")
    ninth = await telnet_from(port, "127.0.0.2")
    await ninth.expect("at most 4 connections from one address")
    await ninth.wait_closed()
    newcomer = await telnet_from(port, "127.0.0.3")  # another address still gets in
    await newcomer.expect("Name: ")
    for c in (*mine, newcomer):
        await c.close()


async def test_a_busy_pool_closes_silent_sockets_sooner(make_server: Any) -> None:
    server = await make_server(max_unauthenticated=10, login_silence_busy_timeout=0.2)
    port = server.gateway.port
    silent = [await telnet_from(port, f"127.0.0.{2 + n // 4}") for n in range(8)]
    for c in silent:
        await c.expect("Name: ")
    await asyncio.sleep(0.3)
    newcomer = await telnet_from(port, "127.0.0.9")
    await newcomer.expect("Name: ")
    for c in silent:
        await c.wait_closed()
    await newcomer.close()


async def test_a_page_that_gave_way_takes_no_other_place(make_server: Any) -> None:
    server = await make_server(max_unauthenticated=4)
    web = server.gateway.web.port
    pages = [  # handshakes done, hellos not sent yet: each holds a place
        await connect(ws_url(web), subprotocols=PROTO, local_addr=(f"127.0.0.{n}", 0))  # type: ignore[arg-type]
        for n in range(2, 6)
    ]
    newcomer = await Client.connect(server.gateway.port)
    await newcomer.expect("Name: ")
    with pytest.raises(ConnectionClosed):  # the oldest gave way ...
        await asyncio.wait_for(pages[0].recv(), 5)
    for ws in pages[1:]:  # ... and only it
        await ws.send('Dreamwave.Client {"cols": 80}')
        await page_sees(ws, b"Name:")
        await ws.close()
    await newcomer.close()


async def wren_away_from(split: Any) -> tuple[Client, int, str]:
    """Root in the Nexus; Wren played from a page at 127.0.0.2 whose socket just dropped.
    Returns Root, the web port and Wren's resume token."""
    root = await login(split.port, "Root", create=False)
    web = await web_port_of(split)
    ws = await page(web, "127.0.0.2")
    await ws.send(b"create Wren secretpass\n")
    token = await page_sees(ws, b"Exits:")
    assert token is not None
    await dropped(split, ws)
    return root, web, token


async def test_a_resume_while_the_engine_is_away_still_meets_the_ban(split: Any) -> None:
    root, web, token = await wren_away_from(split)
    await said(root, "@ban 127.0.0.2")
    async with no_engine(split, root):
        ws = await page(web, "127.0.0.2", resume=token)  # only the gateway hears it
        await token_of(ws)
    await page_sees(ws, b"not accepted here")  # the new engine's hello says it resumed
    await root.expect("The dream steadies", timeout=15)
    assert "Wren" not in await said(root, "who")
    await root.close()


async def test_a_dreamer_the_new_engine_cannot_put_back_empties_the_page(
    split: Any, tmp_path: Path
) -> None:
    """After a crash the new engine puts every dreamer back; one it can't (here: their account
    is gone from the database) is at the login screen, and the page is told to start afresh
    (Dreamwave.Session without "resumed": its panels empty) and holds no resume token."""
    root = await login(split.port, "Root", create=False)
    web = await web_port_of(split)
    ws = await page(web)
    await ws.send(b"create Wren secretpass\n")
    await page_sees(ws, b"Exits:")
    async with no_engine(split, root):  # the account goes before the next engine loads
        db = sqlite3.connect(tmp_path / "split.db")
        with db:
            db.execute("DELETE FROM account WHERE name = 'Wren'")
        db.close()
    session = []
    while b"Name:" not in b"".join(m for m in session if isinstance(m, bytes)):
        session.append(await asyncio.wait_for(ws.recv(), 15))
    assert 'Dreamwave.Session {"resumed": false}' in session, session
    await ws.close()
    await root.close()


async def test_a_refused_resume_never_sees_what_it_missed(server: Any) -> None:
    """What a page missed waits at the gateway until the engine has checked the bans on the
    address it came back from: a banned address gets the refusal and nothing else."""
    ash, token = await wren_away(server)
    await said(ash, "say the secret is under the pillowstone")
    await said(ash, "@ban 127.0.0.3")
    ws = await page(server.gateway.web.port, "127.0.0.3", resume=token)
    seen = b""
    while b"not accepted here" not in seen:
        m = await asyncio.wait_for(ws.recv(), 10)
        seen += m if isinstance(m, bytes) else m.encode()
    assert b"pillowstone" not in seen, seen
    await ash.close()


async def test_an_allowed_resume_gets_what_it_missed_in_order(server: Any) -> None:
    ash, token = await wren_away(server)
    await said(ash, "say first while you were away")
    await said(ash, "say second while you were away")
    ws = await page(server.gateway.web.port, "127.0.0.5", resume=token)
    await ws.send(b"look\n")
    seen = b""
    while b"Exits:" not in seen:
        m = await asyncio.wait_for(ws.recv(), 10)
        seen += m if isinstance(m, bytes) else b""
    assert seen.index(b"first while") < seen.index(b"second while") < seen.index(b"Exits:")
    await ws.close()
    await ash.close()


async def test_a_page_that_drops_again_before_the_engine_answers_keeps_what_it_missed(
    split: Any,
) -> None:
    """Resumed while no engine was there (its missed lines wait for the engine's word), the
    page drops again; what waited waits on, and the next resume gets it."""
    root, web, token = await wren_away_from(split)
    await said(root, "say the lanterns are lit")
    async with no_engine(split, root):
        ws = await page(web, "127.0.0.2", resume=token)  # only the gateway hears it
        token = await token_of(ws)
        await dropped(split, ws)  # ... and gone again before any engine answered
    await root.expect("The dream steadies", timeout=15)
    ws = await page(web, "127.0.0.2", resume=token)
    assert b"lanterns are lit" in (await page_text_until(ws, b"lanterns are lit"))
    await ws.close()
    await root.close()


async def page_text_until(ws: Any, what: bytes) -> bytes:
    seen = b""
    while what not in seen:
        m = await asyncio.wait_for(ws.recv(), 10)
        seen += m if isinstance(m, bytes) else b""
    return seen
