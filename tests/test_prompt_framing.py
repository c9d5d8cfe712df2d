"""Where the prompt sits: after a command's reply, and again after other people's lines.

A telnet client (TinTin++, Mudlet, plain telnet) draws what it is typing after the last
prompt it saw; output that interrupts a prompt ends with a fresh one, and nothing comes
after a prompt the client has just been given.
"""

from __future__ import annotations

import asyncio
import re

from tests.client import ANSI_RE, EOR_CMD, IAC, login, said

MARKER = bytes([IAC, EOR_CMD])  # the test client agrees to EOR


async def test_nothing_follows_the_prompt_after_something_the_room_saw(server):
    ada = await login(server.port, "Ada")
    bob = await login(server.port, "Bob")
    await ada.expect("Bob")
    for line, reply in [
        ("say hi", b'You say, "hi"'),
        ("emote waves", b"Ada waves"),
        ("smile", b"You smile"),
        ("get pillowstone", b"pillowstone"),
        ("drop pillowstone", b"pillowstone"),
    ]:
        await said(ada, line)
        mark = len(ada.raw)
        await said(ada, "look")
        # the prompt, then straight away the next command's reply (its CR, then the room)
        assert reply in ada.raw[:mark]
        assert ada.raw[:mark].endswith(b"\r\n> " + MARKER), line
        assert bytes(ada.raw[mark : mark + len(b"\rDreamwave Nexus")]) == b"\rDreamwave Nexus"
    await bob.expect(r'Ada says, "hi"')
    await ada.close()
    await bob.close()


async def test_other_peoples_lines_end_with_a_fresh_prompt(server):
    ada = await login(server.port, "Ada")
    bob = await login(server.port, "Bob")
    cy = await login(server.port, "Cyra")
    await ada.expect("Cyra")
    await cy.cmd("config prompt %n>", "Cyra> ")
    await said(ada, "say the bell rings at dusk")
    # a crowd at the default prompt, and someone with their own: each gets theirs back
    await bob.expect(r'\r\nAda says, "the bell rings at dusk"\r\n> ')
    await cy.expect(r'\r\nAda says, "the bell rings at dusk"\r\nCyra> ')
    assert bytes(bob.raw).endswith(b"\r\n> " + MARKER)
    await said(ada, "tell bob psst")
    await bob.expect(r"\r\nAda tells you, \"psst\"\r\n> ")
    await said(ada, "public hello, dreamers")
    await bob.expect(r"\r\n\[public\] Ada: hello, dreamers\r\n> ")
    await cy.expect(r"\r\n\[public\] Ada: hello, dreamers\r\nCyra> ")
    # Bob typing after the redrawn prompt gets his reply as usual, one prompt after it
    out = await said(bob, "say hello")
    assert re.fullmatch(r'\rYou say, "hello"\r\n> ', out), repr(out)
    for c in (ada, bob, cy):
        await c.close()


async def test_a_farewell_is_the_last_thing_shown(server):
    ada = await login(server.port, "Ada")
    bob = await login(server.port, "Bob")
    server.world.set_role(server.world.players_by_key["ada"], "admin")
    await said(ada, "@boot bob enough for today")
    await bob.wait_closed()
    assert bytes(bob.raw).endswith(b"enough for today.\r\n")  # no prompt after goodbye
    await ada.close()


async def test_the_browser_page_gets_no_prompt_shown_again(server):
    """The page keeps its own input line: a prompt after every line would be a line each."""
    from websockets.asyncio.client import connect

    url = f"ws://127.0.0.1:{server.gateway.web.port}/ws"
    async with connect(url, subprotocols=["gmcp.mudstandards.org"]) as ws:  # type: ignore[list-item]
        await ws.send('Dreamwave.Client {"cols": 80}')
        await ws.send(b"create Wren secretpass\n")
        seen = b""
        while b"Exits:" not in seen or not seen.endswith(b"> "):
            m = await asyncio.wait_for(ws.recv(), 5)
            seen += m if isinstance(m, bytes) else b""
        ada = await login(server.port, "Ada")
        await said(ada, "say hello wren")
        await said(ada, "say the bell rings")
        seen = b""
        while b"the bell rings" not in seen:
            m = await asyncio.wait_for(ws.recv(), 5)
            seen += m if isinstance(m, bytes) else b""
        text = ANSI_RE.sub("", seen.decode())
        assert 'Ada says, "hello wren"\r\nAda says, "the bell rings"\r\n' in text, text
        assert "> " not in text.split("dreamscape.", 1)[-1], text
        await ada.close()
