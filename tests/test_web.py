"""The browser client, in a real browser: headless Debian Chromium driven by playwright,
against the in-process server's gateway web port. Also a client speaking the raw
`telnet.mudstandards.org` subprotocol, and the page's ANSI converter run under node."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.client import login

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
STATIC = Path(__file__).resolve().parent.parent / "mud" / "edge" / "web" / "static"
# the README's screenshots are refreshed only when asked: DREAMWAVE_SCREENSHOTS=1 pytest ...
DOCS = Path(__file__).resolve().parent.parent / "docs"

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="no Chromium here")


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    playwright = pytest.importorskip("playwright.async_api")
    async with playwright.async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        await b.close()


def web_url(server: Any) -> str:
    return f"http://127.0.0.1:{server.gateway.web.port}/"


async def open_page(browser: Any, server: Any, width: int = 1280, height: int = 800) -> Any:
    page = await browser.new_page(viewport={"width": width, "height": height})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.errors = errors
    await page.goto(web_url(server))
    await page.wait_for_function(
        "() => document.querySelector('#output').innerText.includes('Name:')"
    )
    return page


async def type_line(page: Any, text: str) -> None:
    field = "#pw" if await page.is_visible("#pw") else "#cmd"
    await page.fill(field, text)
    await page.press(field, "Enter")


async def see(page: Any, text: str, timeout: float = 10_000) -> None:
    await page.wait_for_function(
        "t => document.querySelector('#output').innerText.includes(t)", arg=text, timeout=timeout
    )


async def test_play_in_a_browser(server: Any, browser: Any) -> None:
    page = await open_page(browser, server)
    # create an account the long way: the password field replaces the command line
    await type_line(page, "Wren")
    await see(page, "(yes/no)")
    await type_line(page, "yes")
    await page.wait_for_selector("#pw", state="visible")
    assert await page.is_hidden("#cmd")
    await type_line(page, "secretpass")
    await see(page, "again")
    assert await page.is_visible("#pw")  # (again, to confirm it)
    await type_line(page, "secretpass")
    await page.wait_for_selector("#cmd", state="visible")
    await see(page, "Exits:")
    assert await page.is_hidden("#pw")
    # colour arrives as styled spans, never as escape codes
    colours = await page.eval_on_selector_all(
        "#output span", "els => els.filter(e => e.style.color).length"
    )
    assert colours > 0
    assert "\x1b" not in await page.inner_text("#output")
    # the room panel, and walking by clicking an exit
    await page.wait_for_function("() => document.querySelectorAll('#exits button').length > 0")
    first_room = await page.inner_text("#room-name")
    await page.click("#exits button >> nth=0")
    await page.wait_for_function("r => document.querySelector('#room-name').innerText !== r",
                                 arg=first_room)  # fmt: skip
    # ... and by typing, back the way it came
    second_room = await page.inner_text("#room-name")
    back = await page.inner_text("#exits button >> nth=0")
    await type_line(page, back)
    await page.wait_for_function("r => document.querySelector('#room-name').innerText !== r",
                                 arg=second_room)  # fmt: skip
    assert page.errors == []
    await page.close()


async def test_say_loop_panel_and_html_as_text(server: Any, browser: Any, tmp_path: Path) -> None:
    page = await open_page(browser, server)
    await type_line(page, "create Wren secretpass")
    await see(page, "Exits:")
    tel = await login(server.gateway.port, "Tam")
    await tel.cmd("say hello <b>bold</b><script>window.pwned=1</script>", "You say")
    await see(page, "<script>window.pwned=1</script>")
    assert await page.evaluate("window.pwned === undefined")
    assert await page.eval_on_selector_all("#output b, #output script", "els => els.length") == 0
    # both dream, then merge: the loop panel shows it
    await type_line(page, "dream")
    await tel.cmd("dream", "> ")
    await tel.cmd("merge wren", "If they answer")
    await see(page, "merge Tam")
    await type_line(page, "merge tam")
    await page.wait_for_selector("#loop", state="visible")
    assert "Tam" in await page.inner_text("#loop-who")
    assert page.errors == []
    shots = DOCS if os.environ.get("DREAMWAVE_SCREENSHOTS") else tmp_path
    await page.screenshot(path=str(shots / "web-desktop.png"))
    phone = await browser.new_page(viewport={"width": 390, "height": 844})
    await phone.goto(web_url(server))
    await phone.wait_for_function(
        "() => document.querySelector('#output').innerText.includes('Name:')"
    )
    await type_line(phone, "connect Tam secretpass")
    await see(phone, "Exits:")
    await phone.screenshot(path=str(shots / "web-phone.png"))
    await tel.close()


async def test_dropped_socket_resumes_without_login(server: Any, browser: Any) -> None:
    page = await open_page(browser, server)
    await type_line(page, "create Wren secretpass")
    await see(page, "Exits:")
    await page.wait_for_function("() => sessionStorage.getItem('dw.resume')")
    tel = await login(server.gateway.port, "Tam")
    # drop every websocket of the page (as a phone suspending the tab would)
    conn = next(
        c
        for c in server.gateway.conns.values()
        if isinstance(c.player, str) and c.player.lower() == "wren"
    )
    conn.transport.ws.transport.abort()
    await asyncio.sleep(0.1)
    await tel.cmd("say while you were away", "You say")
    await see(page, "while you were away")  # missed output, replayed
    await type_line(page, "look")
    await see(page, "Exits:")
    text = await page.inner_text("#output")
    assert text.count("Name:") == 1  # no second login screen
    assert server.gateway.conns[conn.sid] is conn
    await tel.close()


async def test_telnet_subprotocol_client(server: Any) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    url = f"ws://127.0.0.1:{server.gateway.web.port}/ws"
    async with connect(url, subprotocols=["telnet.mudstandards.org"]) as ws:  # type: ignore[list-item]
        seen = b""
        while b"Name:" not in seen:
            seen += await asyncio.wait_for(ws.recv(), 5)  # type: ignore[operator]
        assert b"\xff" in seen  # telnet negotiation, as on port 4000
        await ws.send(b"create Nix secretpass\r\n")
        while b"Exits:" not in seen:
            seen += await asyncio.wait_for(ws.recv(), 5)  # type: ignore[operator]
    async with connect(url, subprotocols=["nonsense"]) as ws:  # type: ignore[list-item]
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
        assert ws.close_reason and "subprotocol" in ws.close_reason


async def test_origin_checked_and_page_headers(server: Any) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus

    url = f"ws://127.0.0.1:{server.gateway.web.port}/ws"
    with pytest.raises(InvalidStatus):
        await connect(url, subprotocols=["gmcp.mudstandards.org"],  # type: ignore[list-item]
                      origin="http://evil.example")  # type: ignore[arg-type]  # fmt: skip
    reader, writer = await asyncio.open_connection("127.0.0.1", server.gateway.web.port)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    head = (await reader.readuntil(b"\r\n\r\n")).decode()
    writer.close()
    assert "Content-Security-Policy: default-src 'none'" in head


def test_ansi_converter_under_node() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("no node")
    script = """
    import { ansiSegments, freshState, linkify, color256 } from '%s/ansi.js';
    const s = freshState();
    const out = {
      basic: ansiSegments('a\\x1b[1;31mred\\x1b[0m b', s),
      c256: ansiSegments('\\x1b[38;5;196mX', freshState()),
      rgb: ansiSegments('\\x1b[48;2;1;2;3mY', freshState()),
      ul: ansiSegments('\\x1b[4mU\\x1b[24mV', freshState()),
      links: linkify('see https://a.example/x, or javascript:alert(1) ftp://b'),
      grey: color256(232),
    };
    console.log(JSON.stringify(out));
    """ % STATIC.as_posix()  # noqa: UP031
    res = subprocess.run([node, "--input-type=module", "-e", script], capture_output=True,
                         text=True, timeout=30)  # fmt: skip
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout)
    assert [x["text"] for x in got["basic"]] == ["a", "red", " b"]
    assert got["basic"][1]["bold"] and got["basic"][1]["fg"] == "#f14c4c"
    assert got["basic"][2]["fg"] is None
    assert got["c256"][0]["fg"] == "#ff0000"
    assert got["rgb"][0]["bg"] == "#010203"
    assert got["ul"][0]["underline"] and not got["ul"][1]["underline"]
    assert got["links"] == [{"text": "see "}, {"url": "https://a.example/x"},
                            {"text": ", or javascript:alert(1) ftp://b"}]  # fmt: skip
    assert got["grey"] == "#080808"


async def test_resume_token_is_single_use_and_expires(server: Any) -> None:
    from websockets.asyncio.client import connect

    server.gateway.web.settings.resume_seconds = 0.5
    url = f"ws://127.0.0.1:{server.gateway.web.port}/ws"
    proto = ["gmcp.mudstandards.org"]

    async def token_after(ws: Any, line: bytes | None) -> str:
        if line is not None:
            await ws.send(line)
        while True:
            m = await asyncio.wait_for(ws.recv(), 5)
            if isinstance(m, str) and m.startswith("Dreamwave.Resume "):
                return str(json.loads(m.split(" ", 1)[1])["token"])

    ws = await connect(url, subprotocols=proto)  # type: ignore[arg-type]
    await ws.send('Dreamwave.Client {"cols": 80}')
    token = await token_after(ws, b"create Wren secretpass\n")
    ws.transport.abort()
    ws2 = await connect(url, subprotocols=proto)  # type: ignore[arg-type]
    await ws2.send(json.dumps({"resume": token}).join(["Dreamwave.Client ", ""]))
    token2 = await token_after(ws2, None)  # resumed: a new token, no login screen
    assert token2 != token
    ws2.transport.abort()
    ws3 = await connect(url, subprotocols=proto)  # type: ignore[arg-type]
    await ws3.send(json.dumps({"resume": token}).join(["Dreamwave.Client ", ""]))  # used
    seen = b""
    while b"Name:" not in seen:
        m = await asyncio.wait_for(ws3.recv(), 5)
        seen += m if isinstance(m, bytes) else b""
    await ws3.close()
    await asyncio.sleep(1.0)  # the resume time is over: the dreamer is gone
    assert not any(c.player for c in server.gateway.conns.values())
    assert not server.world.online


async def test_limits_on_what_a_page_sends(server: Any) -> None:
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    url = f"ws://127.0.0.1:{server.gateway.web.port}/ws"
    proto = ["gmcp.mudstandards.org"]
    async with connect(url, subprotocols=proto) as ws:  # type: ignore[arg-type]
        await ws.send("x" * (server.settings.web.max_frame_bytes + 1))  # one frame too big
        with pytest.raises(ConnectionClosed):
            while True:
                await asyncio.wait_for(ws.recv(), 5)
        assert ws.close_code == 1009
    async with connect(url, subprotocols=proto) as ws:  # type: ignore[arg-type]
        await ws.send('Dreamwave.Client {"cols": 80}')
        with pytest.raises(ConnectionClosed):  # GMCP past telnet's subnegotiation budget
            for _ in range(100):
                await ws.send('Core.Hello {"client": "' + "y" * 4000 + '"}')
            while True:
                await asyncio.wait_for(ws.recv(), 5)


async def test_forwarded_for_only_from_a_trusted_proxy(server: Any) -> None:
    from websockets.asyncio.client import connect

    url = f"ws://127.0.0.1:{server.gateway.web.port}/ws"
    proto = ["gmcp.mudstandards.org"]
    headers = {"X-Forwarded-For": "198.51.100.1, 203.0.113.9"}

    async def address() -> str:
        async with connect(url, subprotocols=proto, additional_headers=headers) as ws:  # type: ignore[arg-type]
            await ws.send('Dreamwave.Client {"cols": 80}')
            await asyncio.wait_for(ws.recv(), 5)
            return next(iter(server.gateway.conns.values())).address

    assert await address() == "127.0.0.1"  # nobody is trusted by default
    await asyncio.sleep(0.2)
    server.gateway.web.settings.trusted_proxies = ["127.0.0.1"]
    assert await address() == "203.0.113.9"  # the address our proxy saw


async def test_who_is_here_panel_follows_arrivals_and_departures(server: Any, browser: Any) -> None:
    page = await open_page(browser, server)
    await type_line(page, "create Wren secretpass")
    await see(page, "Exits:")
    here = "() => [...document.querySelectorAll('#here li')].map(li => li.innerText).join('|')"
    tam = await login(server.gateway.port, "Tam")  # arrives after Wren: added
    await page.wait_for_function(f"() => ({here})().includes('Tam')")
    await tam.cmd("north", "Exits:")  # leaves: removed
    await page.wait_for_function(f"() => !({here})().includes('Tam')")
    await tam.cmd("south", "Exits:")
    await page.wait_for_function(f"() => ({here})().includes('Tam')")
    # the channel tabs (what they show: tests/test_web_client.py)
    await page.wait_for_function("() => document.querySelectorAll('#tabs button').length > 1")
    await tam.close()
    assert page.errors == []
    await page.close()


async def test_the_screen_reader_toggle_follows_the_account(server: Any, browser: Any) -> None:
    tel = await login(server.gateway.port, "Vox")  # set by telnet, for the account
    await tel.cmd("config screenreader on", "> ")
    await tel.close()
    page = await open_page(browser, server)
    await type_line(page, "connect Vox secretpass")
    await see(page, "Vox")
    await page.wait_for_function(
        "() => document.querySelector('#t-reader').getAttribute('aria-pressed') === 'true'"
    )
    assert await page.evaluate("() => document.body.classList.contains('reader')")
    assert page.errors == []
    await page.close()
