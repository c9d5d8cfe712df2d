"""What an attacker's bytes can do to the others: nothing. Each case runs on a real
connection to a running server while a control player in the same room keeps talking."""

from __future__ import annotations

import asyncio
import os
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.client import ANSI_RE, CHARSET, IAC, SB, SE, WILL, Client, login


@pytest.fixture
async def server(make_server):
    """The usual server, without the command throttle: the property tests below have the
    same players type many lines quickly (the throttle has its own tests)."""
    return await make_server(commands_per_second=1000.0, command_burst=1000)


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
    session.out.encoding = "base64"  # what `client charset base64` used to store
    session.out._update_render_key()
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
    from mud.edge.telnet.budget import NegotiationBudget

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


# -- property tests: each example on a real connection, one server for all of a test's ----
# examples (hence the function-scoped fixture check is off), a control player who must
# answer after every one of them, and the fixture failing the test on any logged ERROR.
# DREAMWAVE_FUZZ_EXAMPLES=500 runs the long version; CI runs 25 examples per property.
FUZZ_EXAMPLES = int(os.environ.get("DREAMWAVE_FUZZ_EXAMPLES", "25"))
FUZZ = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
OPTIONS = st.sampled_from([0, 1, 3, 24, 31, 39, 42, 69, 70, 86, 87, 91, 201, 255]) | st.integers(
    0, 255
)
VERBS = st.sampled_from([251, 252, 253, 254])
PIECES = st.one_of(
    st.builds(lambda v, o: bytes([IAC, v, o]), VERBS, OPTIONS),  # IAC DO/DONT/WILL/WONT
    st.builds(  # a subnegotiation, ended or not, its payload raw
        lambda o, body, end: bytes([IAC, SB, o]) + body + (bytes([IAC, SE]) if end else b""),
        OPTIONS,
        st.binary(max_size=300),
        st.booleans(),
    ),
    st.just(bytes([IAC, IAC])),
    st.builds(lambda b: bytes([IAC, b]), st.integers(0, 255)),  # IAC and anything
    st.sampled_from([b"\r\n", b"\r", b"\n", b"\r\x00", b"look\r\n", b"say hi\r\n"]),
    st.binary(max_size=64),
)
KNOWN_CHARSETS = [
    "base64", "rot13", "idna", "hex", "utf-16", "utf-7", "punycode", "cp037", "zlib", "bz2",
    "uu", "quopri", "unicode_escape", "undefined", "mbcs", "latin-1", "cp437", "ascii",
    "utf-8", "koi8-r", "x" * 300, "",
]  # fmt: skip
CHARSET_NAMES = st.sampled_from(KNOWN_CHARSETS) | st.text(max_size=40)


@pytest.fixture
async def control(server):
    c = await login(server.port, "Control", ttype="xterm")
    yield c
    await c.close()


@pytest.fixture
async def mallory_account(server):
    await (await login(server.port, "Mallory", ttype="xterm")).close()
    return "Mallory"


@pytest.fixture
async def talker(server):
    c = await login(server.port, "Talker", ttype="xterm")
    yield c
    await c.close()


async def still_answers(c: Client) -> None:
    await c.cmd("look", r"(?s)Exits:.*?> ", timeout=10)


async def attack(port: int, data: bytes, as_player: str | None = None) -> None:
    """Connect (and log in as `as_player`), send `data` in two packets split anywhere,
    then hang up."""
    if as_player:
        c = await login(port, as_player, create=False, answer=False)
    else:
        c = await Client.connect(port, answer=False)
    cut = len(data) // 2
    c.send_bytes(data[:cut])
    await asyncio.sleep(0)
    c.send_bytes(data[cut:])
    await asyncio.sleep(0.01)
    await c.close()


@FUZZ
@given(data=st.binary(max_size=4096))
async def test_fuzz_arbitrary_bytes(server, control, data):
    await attack(server.port, data)
    await still_answers(control)


@FUZZ
@given(pieces=st.lists(PIECES, max_size=30), logged_in=st.booleans())
async def test_fuzz_telnet_commands_and_subnegotiations(
    server, control, mallory_account, pieces, logged_in
):
    await attack(server.port, b"".join(pieces), mallory_account if logged_in else None)
    await still_answers(control)


@FUZZ
@given(name=CHARSET_NAMES, raw=st.binary(max_size=40))
async def test_fuzz_charsets_by_command_and_by_charset_accepted(server, control, talker, name, raw):
    """Whatever charset a player names or their client "accepts", speech still flows both
    ways. (One connection for all examples: logging in costs a password hash. A stored
    value at login has its own test above.)"""
    payload = raw.replace(bytes([IAC]), bytes([IAC, IAC]))
    talker.send_bytes(bytes([IAC, SB, CHARSET, 2]) + payload + bytes([IAC, SE]))
    talker.send(f"client charset {name}".strip())
    await talker.expect(r"(?s)(Charset set to|can't use|Usage: client|Charset is back).*?> ")
    talker.send("say still talking")
    await control.expect('says, "still talking')
    control.send("say heard you")
    await talker.expect("heard you")
    talker.send("client charset auto")
    await talker.expect(r"(?s)Charset is back.*?> ")
    await still_answers(control)


INVISIBLE_OR_MARKS = st.characters(categories=["Cf", "Zl", "Zp", "Mn", "Me", "Mc", "Zs", "Co"])
SPOKEN = st.text(st.characters(codec="utf-8") | INVISIBLE_OR_MARKS, min_size=1, max_size=200)


@FUZZ
@given(text=SPOKEN, n=st.integers(0, 10**9))
async def test_fuzz_unicode_reaches_others_clean(server, control, talker, text, n):
    marker = f"m{n}k"
    talker.send(f"say {marker} {text}")
    await control.expect(f'says, "{marker}')
    line = (await control.expect(r"[^\n]*\n")).group(0)
    seen = ANSI_RE.sub("", line)
    assert not any(unicodedata.category(ch) in ("Cf", "Zl", "Zp") for ch in seen), ascii(seen)
    run = 0
    for ch in seen:
        run = run + 1 if unicodedata.category(ch)[0] == "M" else 0
        assert run <= 3, ascii(seen)
    await still_answers(control)
