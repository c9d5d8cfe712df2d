"""What reaches the screen: colour by terminal type, escape stripping, wrapping, UTF-8."""

from __future__ import annotations

import asyncio
import re

import pytest

from tests.client import ANSI_RE, login

ESC = "\x1b"
TITLE_IN_COLOUR = "\x1b[1m\x1b[36mDreamwave Nexus\x1b[0m"
# Everything a terminal could act on, except the CR LF that ends our own lines.
CONTROL_RE = re.compile(
    r"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def visible_lines(text):
    return [ANSI_RE.sub("", line) for line in text.split("\r\n")]


# -- colour ---------------------------------------------------------------------------------


async def test_colour_terminal_gets_ansi_room_titles(server):
    c = await login(server.port, "Ada", ttype="xterm-256color")
    assert TITLE_IN_COLOUR in c.text
    await c.cmd("look", re.escape(TITLE_IN_COLOUR))
    await c.cmd("colour", "Colour is on")
    await c.close()


@pytest.mark.parametrize(
    "kind",
    [{"answer": False}, {"ttype": None}, {"ttype": "dumb"}],
    ids=["silent", "no-ttype", "dumb"],
)
async def test_plain_clients_get_no_escapes(server, kind):
    c = await login(server.port, "Ada", **kind)
    await c.cmd("look", r"(?s)Dreamwave Nexus.*Exits:.*> ")
    await c.cmd("help", r"(?s)Commands.*quit.*> ")
    await c.cmd("colour", "Colour is off")
    assert ESC not in c.text
    assert b"\x1b" not in c.raw
    await c.close()


async def test_colour_on_and_off_is_remembered_across_reconnects(server):
    c = await login(server.port, "Ada", answer=False)
    assert ESC not in c.text

    await c.cmd("colour on", "Colour is on")
    await c.cmd("look", re.escape(TITLE_IN_COLOUR))
    await c.cmd("quit", "May your dreams be gentle")
    await c.wait_closed()

    c = await login(server.port, "Ada", create=False, answer=False)
    after_login = c.text.split("You drift into")[-1]
    assert TITLE_IN_COLOUR in after_login  # the dreamer's choice beats the silent terminal

    await c.cmd("colour off", "Colour is off")
    mark = len(c.text)
    await c.cmd("look", r"(?s)Dreamwave Nexus.*Exits:.*> ")
    assert ESC not in c.text[mark:]
    await c.cmd("quit", "May your dreams be gentle")
    await c.wait_closed()

    c = await login(server.port, "Ada", create=False, ttype="xterm-256color")
    after_login = c.text.split("You drift into")[-1]
    assert ESC not in after_login  # ... and beats a colour terminal too
    await c.cmd("colour", "Colour is off")
    await c.cmd("colour purple", r"Usage: colour on\|off")
    await c.close()


# -- what players may not send to each other's terminals ------------------------------------


async def test_control_and_escape_bytes_never_reach_other_players(server):
    a = await login(server.port, "Ada")
    b = await login(server.port, "Bob")  # plain
    c = await login(server.port, "Cleo", ttype="xterm-256color")  # colour
    await a.expect("Cleo shimmers")
    await b.expect("Cleo shimmers")
    b.pos, c.pos = len(b.text), len(c.text)

    a.send_bytes(
        b"say a\x1b[31mred\x07bell\x00nul\x08bs\x0bvt\x0cff\x7fdel\x1b]0;owned\x07"
        b"\xc2\x9bcsi\xe2\x80\xaeevil\tend\r\n"
    )
    mb = await b.expect(r'Ada says, "([^\r\n]*)"')
    mc = await c.expect(r'says, "([^\r\n]*)"')
    assert mb.group(1) == "a[31mredbellnulbsvtffdel]0;ownedcsievil end"
    assert not CONTROL_RE.search(b.text)
    assert ESC not in b.text
    # the colour client gets the server's own colours, never the player's escape
    assert "\x1b[31m" not in c.text and "\x1b]" not in c.text
    assert ANSI_RE.sub("", mc.group(1)) == mb.group(1)
    assert not CONTROL_RE.search(ANSI_RE.sub("", c.text))

    # the same holds for emotes and tells
    a.send_bytes(b"emote blinks\x1b[2J\x07\r\n")
    a.send_bytes(b"tell bob psst\x1b[5m\x00\r\n")
    await b.expect(r"Ada blinks\[2J\r\n")
    await b.expect(r'Ada tells you, "psst\[5m"')
    assert not CONTROL_RE.search(b.text)
    await a.cmd("look", "Dreamwave Nexus")  # and the sender carries on
    for cl in (a, b, c):
        await cl.close()


async def test_a_trailing_pipe_is_shown_as_typed(server):
    a = await login(server.port, "Ada")
    b = await login(server.port, "Bob")
    await a.cmd("say pipes like this |", r"You say")
    m = await b.expect(r'Ada says, "([^\r\n]*)')
    assert m.group(1) == 'pipes like this |"'
    await a.close()
    await b.close()


# -- wrapping to the window size (NAWS) -----------------------------------------------------


async def test_naws_width_wraps_and_rewraps(server):
    c = await login(server.port, "Ada", ttype="dumb", naws=(40, 24))
    room = c.text.split("You drift into")[-1]
    lines = visible_lines(room)
    assert max(len(ln) for ln in lines) <= 40
    assert sum(1 for ln in lines if ln) > 10  # the description really was wrapped

    c.send_naws(100, 24)
    out = await c.cmd("look", r"(?s)Dreamwave Nexus.*Exits:.*> ")
    lines = visible_lines(out)
    assert max(len(ln) for ln in lines) <= 100
    assert any(len(ln) > 40 for ln in lines)
    assert any(len(ln) > 80 for ln in lines)  # wider than the default too

    c.send_naws(30, 24)
    await c.cmd("config pager off", r"(?s)pager is now off.*?> ")  # the whole list at once
    out = await c.cmd("help", r"(?s)Commands.*quit.*> ")
    assert max(len(ln) for ln in visible_lines(out)) <= 30
    await c.close()


async def test_naws_honoured_for_a_client_without_ttype(server):
    c = await login(server.port, "Ada", naws=(40, 24))
    room = c.text.split("You drift into")[-1]
    assert max(len(ln) for ln in visible_lines(room)) <= 40
    await c.close()


# -- encodings ------------------------------------------------------------------------------


async def test_invalid_utf8_is_replaced_not_fatal(server):
    a = await login(server.port, "Ada")
    b = await login(server.port, "Bob")

    a.send_bytes(b"say caf\xc3(\xe9\r\n")
    await a.expect('You say, "caf\ufffd\\(\ufffd"')
    await b.expect('Ada says, "caf\ufffd\\(\ufffd"')
    a.send_bytes(b"\xc3\xc3\xc3\r\n")  # a line of nothing but broken bytes
    await a.expect(r"Unknown command|> ")
    await a.cmd("say still fine", r'You say, "still fine"')
    await b.expect(r'Ada says, "still fine"')
    await a.close()
    await b.close()


async def test_utf8_round_trips_between_players(server):
    a = await login(server.port, "Ada")
    b = await login(server.port, "Bob")

    await a.cmd("say café, naïve, 漢字 and ✨", 'You say, "café, naïve, 漢字 and ✨"')
    await b.expect('Ada says, "café, naïve, 漢字 and ✨"')
    await b.cmd("tell ada Grüße 🌙", 'You tell Ada, "Grüße 🌙"')
    await a.expect('Bob tells you, "Grüße 🌙"')

    # a character split across two packets still arrives whole
    a.send_bytes("say split é".encode()[:-1])
    await asyncio.sleep(0.05)
    a.send_bytes("é".encode()[-1:] + b" here\r\n")
    await b.expect('Ada says, "split é here"')
    assert "\ufffd" not in b.text
    await a.close()
    await b.close()
