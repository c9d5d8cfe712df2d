"""Room feeds (mud.core.feed) through real sockets: who hears what, in which order, rendered how.

A room's lines are written once to its feed and read by each dreamer at the output pump or
when something private is written to them. These tests run each case both quiet (the pump
runs at once) and busy (the pump waits, and writes one socket per loop iteration), so the
catching-up paths are the ones carrying the text.
"""

from __future__ import annotations

import re

import pytest

import mud.core.output
from tests.client import ANSI_RE, login


@pytest.fixture(params=["quiet", "busy"])
async def room_server(request, make_server, monkeypatch):
    if request.param == "busy":
        monkeypatch.setattr(mud.core.output, "BUSY_PUMP_SESSIONS", 0)  # every pump gathers first
        monkeypatch.setattr(mud.core.output, "PUMP_SLICE", 1)  # and writes one socket per slice
    return await make_server(commands_per_second=1000, command_burst=1000)


def _plain(text: str) -> str:
    return ANSI_RE.sub("", text)


async def test_room_and_private_lines_arrive_in_the_order_they_happened(room_server):
    ada = await login(room_server.port, "Ada")
    bob = await login(room_server.port, "Bob")
    cy = await login(room_server.port, "Cyra")

    await ada.cmd("say one", r'You say, "one"')
    await cy.cmd("tell bob two", "You tell Bob")
    await ada.cmd("emote waves three", "Ada waves three")
    await cy.cmd("say four", r'You say, "four"')
    await bob.expect(
        r'(?s)Ada says, "one".*Cyra tells you, "two".*Ada waves three.*Cyra says, "four"'
    )
    await ada.expect(r'Cyra says, "four"')
    # the speaker hears themself once, as "You say", never in the third person
    assert "Ada says" not in ada.plain()
    assert "Cyra says" not in cy.plain()
    for c in (ada, bob, cy):
        await c.close()


async def test_every_listener_gets_every_line_once(room_server):
    names = ["Ada", "Bob", "Cyra", "Dee", "Eve", "Fay"]
    clients = [await login(room_server.port, name) for name in names]
    for n, c in enumerate(clients):
        await c.cmd(f"say token{n}", f'You say, "token{n}"')
    for n, c in enumerate(clients):
        others = [m for m in range(len(clients)) if m != n]
        c.pos = 0  # (their own `say` above read past some of these)
        await c.expect("(?s)" + ".*".join(f'{names[m]} says, "token{m}"' for m in others))
        for m in others:
            assert c.plain().count(f'"token{m}"') == 1
    for c in clients:
        await c.close()


async def test_a_dreamer_hears_a_room_until_they_leave_and_the_next_after_they_arrive(
    room_server,
):
    ada = await login(room_server.port, "Ada")
    bob = await login(room_server.port, "Bob")
    dee = await login(room_server.port, "Dee")
    await dee.cmd("north", "Tides")

    await ada.cmd("say before you go", r'You say, "before you go"')
    await bob.cmd("north", "Tides")
    await ada.cmd("say after you went", r'You say, "after you went"')
    await dee.cmd("say welcome", r'You say, "welcome"')
    await bob.expect(r'Dee says, "welcome"')
    assert re.search(r'(?s)Ada says, "before you go".*Tides.*Exits:.*Dee says', bob.plain())
    assert re.search(r'(?s)Bob leaves north.*You say, "after you went"', ada.plain())
    assert "after you went" not in bob.plain()
    assert "Bob arrives" not in bob.plain()  # nobody sees their own arrival
    for c in (ada, bob, dee):
        await c.close()


async def test_each_kind_of_client_gets_the_line_rendered_for_it(room_server):
    colour = await login(room_server.port, "Hue", ttype="xterm-256color")
    plain = await login(room_server.port, "Gray", ttype="dumb")
    narrow = await login(room_server.port, "Slim", ttype="dumb", naws=(30, 24))
    talker = await login(room_server.port, "Talker")

    words = " ".join(f"word{n}" for n in range(12))
    await talker.cmd(f"say |rred|n {words}", "You say")
    await colour.expect(r"\x1b\[31mred\x1b\[0m word0")
    line = (await plain.expect(r'Talker says, "red word0[^"]*"')).group(0)
    assert "\x1b" not in plain.text
    assert line.endswith('word11"')  # one line at 80 columns
    await narrow.expect("word11")
    said = narrow.text.split("Talker says")[-1]
    rows = [_plain(r) for r in ("Talker says" + said).split("\r\n") if r.strip()]
    assert len(rows) > 2 and max(len(r) for r in rows) <= 30
    for c in (colour, plain, narrow, talker):
        await c.close()


async def test_a_connection_that_takes_over_a_dreamer_hears_their_room(room_server):
    ada = await login(room_server.port, "Ada")
    bob = await login(room_server.port, "Bob")
    again = await login(room_server.port, "Ada", create=False)
    await ada.wait_closed()
    await bob.cmd("say still here", r'You say, "still here"')
    await again.expect(r'Bob says, "still here"')
    await again.cmd("say and so am I", r'You say, "and so am I"')
    await bob.expect(r'Ada says, "and so am I"')
    for c in (again, bob):
        await c.close()


async def test_a_dropped_listener_does_not_cost_the_others_their_lines(room_server):
    ada = await login(room_server.port, "Ada")
    bob = await login(room_server.port, "Bob")
    cy = await login(room_server.port, "Cyra")
    await ada.cmd("say hello all", r'You say, "hello all"')
    cy.writer.transport.abort()  # gone without a word
    await ada.expect("Cyra fades from the dreamscape")
    await bob.expect(r'(?s)Ada says, "hello all".*Cyra fades from the dreamscape')
    await ada.cmd("say goodbye cyra", "You say")
    await bob.expect(re.escape('Ada says, "goodbye cyra"'))
    for c in (ada, bob):
        await c.close()


async def test_a_crowd_shares_one_output_across_the_link(room_server):
    """Everyone who saw the same window (and shows the same prompt again after it) gets one
    output object: it crosses the link once, and the gateway renders it once."""
    from mud.protocol import Output, Prompt

    gw = room_server.gateway
    seen: list[Output] = []
    real = gw.link.on_frame

    def spy(messages: list) -> None:
        seen.extend(m for m in messages if isinstance(m, Output))
        real(messages)

    names = ["Ada", "Bob", "Cyra", "Dee", "Eve"]
    clients = [await login(room_server.port, name) for name in names]
    gw.link.on_frame = spy
    await clients[0].cmd("say all of you at once", 'You say, "all of you at once"')
    for c in clients[1:]:
        await c.expect('Ada says, "all of you at once"')
    said = b'Ada says, "all of you at once"'
    crowd = next(o for o in seen if sum(said in o.outs[w][0].data for w in o.which) > 1)
    heard = [w for w in crowd.which if said in crowd.outs[w][0].data]
    assert len(set(heard)) < len(heard)  # (quiet: one output for the four)
    shared = crowd.outs[max(set(heard), key=heard.count)]
    assert isinstance(shared[-1], Prompt)  # with the prompt shown again after the lines
    for c in clients:
        await c.close()
