"""What an attacker's bytes can do to the others: nothing. Each case runs on a real
connection to a running server while a control player in the same room keeps talking."""

from __future__ import annotations

import asyncio

import pytest

from tests.client import CHARSET, IAC, SB, SE, WILL, Client, login

BAD_CHARSETS = ["base64", "rot13", "idna", "hex", "utf-16", "zlib", "unicode_escape"]


async def hears(listener: Client, speaker: Client, words: str) -> None:
    """`speaker` says `words` and `listener`, in the same room, hears them."""
    speaker.send(f"say {words}")
    await speaker.expect(f'You say, "{words}')
    await listener.expect(f'says, "{words}')


@pytest.mark.parametrize("charset", BAD_CHARSETS)
async def test_client_charset_takes_only_text_encodings(server, charset):
    mallory = await login(server.port, "Mallory", ttype="xterm")
    alice = await login(server.port, "Alice", ttype="xterm")
    out = await mallory.cmd(f"client charset {charset}", r"(?s)can't use .*?> ")
    assert "as a charset" in out
    out = await mallory.cmd("client", r"GMCP packages:.*")
    assert "charset:       utf-8" in out
    await hears(mallory, alice, "still here")
    await hears(alice, mallory, "and me")
    assert "charset" not in server.world.find_online("Mallory").settings
    for c in (mallory, alice):
        await c.close()


async def test_charset_accepted_for_a_charset_never_offered_is_ignored(server):
    mallory = await Client.connect(server.port, ttype="xterm")
    mallory.send_bytes(bytes([IAC, WILL, CHARSET]))
    await mallory.expect("Name: ")
    mallory.send_bytes(bytes([IAC, SB, CHARSET, 2]) + b"base64" + bytes([IAC, SE]))
    mallory.send("create Mallory secretpass")
    await mallory.expect(r"(?s)Exits:.*?> ")
    out = await mallory.cmd("client", r"GMCP packages:.*")
    assert "charset:       utf-8" in out
    alice = await login(server.port, "Alice", ttype="xterm")
    await hears(alice, mallory, "hello")
    await hears(mallory, alice, "hi")
    for c in (mallory, alice):
        await c.close()


async def test_a_stored_bad_charset_is_ignored_at_login(server):
    mallory = await login(server.port, "Mallory", ttype="xterm")
    await mallory.cmd("quit", "")
    await mallory.wait_closed()
    # saved by an older server that didn't check
    player = next(p for p in server.world.players.values() if p.name == "Mallory")
    server.world.set_setting(player, "charset", "base64")
    alice = await login(server.port, "Alice", ttype="xterm")
    mallory = await login(server.port, "Mallory", create=False, ttype="xterm")
    out = await mallory.cmd("client", r"GMCP packages:.*")
    assert "charset:       utf-8" in out
    await hears(alice, mallory, "back again")
    await hears(mallory, alice, "welcome")
    for c in (mallory, alice):
        await c.close()


async def test_one_connections_output_failure_stays_its_own(server):
    """A connection whose output can't be encoded (a codec that got past the checks) goes
    back to UTF-8, logged once; the room's speech reaches everyone else as before."""
    alice = await login(server.port, "Alice", ttype="xterm")
    bob = await login(server.port, "Bob", ttype="xterm")
    mallory = await login(server.port, "Mallory", ttype="xterm")
    session = server.world.find_online("Mallory").session
    session.encoding = "base64"  # what `client charset base64` used to store
    session._update_render_key()
    await hears(bob, alice, "one")
    await hears(alice, bob, "two")
    await mallory.expect(r'Bob\S* says, "two')
    assert [r.levelname for r in server.errors] == ["ERROR"]
    for r in server.errors:
        r.expected = True
    for c in (alice, bob, mallory):
        await c.close()


async def test_invisible_and_layout_characters_never_reach_others(server):
    alice = await login(server.port, "Alice", ttype="xterm")
    mallory = await login(server.port, "Mallory", ttype="xterm")
    hidden = (
        "\u200b\u200c\u200d\u2060\ufeff\u061c\u2028\u2029\U000e0041\U000e007f\ufff9\u3164"
        "\u115f\u1160\uffa0\u00ad"
    )
    mallory.send(f"say pl{hidden}ain and a" + "\u0301" * 1800 + " stack")
    await mallory.expect("You say")
    line = (await alice.expect(r'says, "pl.*')).group(0)
    assert "plain and a\u0301\u0301\u0301 stack" in line
    assert not set(hidden) & set(alice.text)
    assert alice.text.count("\u0301") == 3
    for c in (alice, mallory):
        await c.close()


def _negotiation_flood(n: int) -> bytes:
    import random

    rng = random.Random(n)
    return b"".join(bytes([IAC, rng.choice((251, 252, 253, 254)), rng.randrange(256)])
                    for _ in range(n // 3))  # fmt: skip


FLOODS = {
    "negotiation": _negotiation_flood(64 * 1024),
    "iac-iac": bytes([IAC]) * (64 * 1024),
    "subnegotiation": (bytes([IAC, SB, 201]) + b"x" * 8000 + bytes([IAC, SE])) * 8,
}


@pytest.mark.parametrize("kind", FLOODS)
async def test_negotiation_floods_are_cut_off_and_others_answered(server, kind):
    control = await login(server.port, "Control", ttype="xterm")
    floods = [await Client.connect(server.port, answer=False) for _ in range(4)]
    for f in floods:
        f.send_bytes(FLOODS[kind])
    await control.cmd("look", r"(?s)Exits:.*?> ")
    for f in floods:
        await f.wait_closed()
        assert "more telnet negotiation than the server takes" in f.text
    await control.cmd("look", r"(?s)Exits:.*?> ")
    await control.close()


async def test_option_commands_have_a_lifetime_budget(make_server):
    server = await make_server(telnet_commands_per_second=1e9, telnet_command_burst=10**9)
    control = await login(server.port, "Control", ttype="xterm")
    slow = await Client.connect(server.port, answer=False)
    limit = server.settings.limits.max_option_commands
    for _ in range(limit // 100 + 1):
        slow.send_bytes(bytes([IAC, 252, 31]) * 101)  # IAC WONT NAWS, again and again
        await asyncio.sleep(0)
    await slow.wait_closed()
    await control.cmd("look", r"(?s)Exits:.*?> ")
    await control.close()


def test_the_budget_counts_commands_and_subnegotiation_bytes_across_chunks():
    from mud.telnet.budget import NegotiationBudget

    b = NegotiationBudget(10, 20, 100, 1000, now=0.0)
    assert b.charge(b"plain text costs nothing\r\n" * 100, 0.0)
    assert b.charge(bytes([IAC, SB, 201]) + b"y" * 500, 0.0)  # 1 IAC, 501 bytes so far
    assert b.charge(b"z" * 400 + bytes([IAC]), 0.0)  # still inside: 901 ... and an IAC
    assert b.charge(bytes([SE]) + b"after", 0.0)  # ... that ends it
    assert (b.commands, b.sb_bytes) == (18, 1000 - 902)  # (the split IAC counted inside)
    assert not b.charge(b"w" * 10 + bytes([IAC, SB, 24]) + b"v" * 200, 0.0)
    b = NegotiationBudget(10, 20, 100, 1000, now=0.0)
    assert not b.charge(bytes([IAC, IAC]) * 11, 0.0)
    b = NegotiationBudget(10, 20, 100, 1000, now=0.0)
    assert b.charge(bytes([IAC, IAC]) * 10, 0.0)
    assert b.charge(bytes([IAC, IAC]) * 5, 1.0)  # refilled 10 a second
