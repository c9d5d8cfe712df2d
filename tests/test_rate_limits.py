"""Quotas on what one address or dreamer can add to the database (issue 20.13: a script made
1,131 accounts, 1.17 M characters of mail and 30 loops in 30 s). Each is a named setting with a
safe default; past it, one sentence says when to try again and nothing is stored."""

from __future__ import annotations

from bench.serve import LOOPBACK_LIMITS
from mud.config import Limits
from tests.client import Client, login
from tests.conftest import LIFTED_QUOTAS
from tests.test_dreams import dreaming, merged
from tests.test_mail import write

QUOTAS = (
    "accounts_per_address_per_hour", "accounts_per_hour", "letters_per_hour", "loops_per_hour",
    "weaves_per_minute",
)  # fmt: skip


def test_every_quota_has_a_safe_default_and_is_lifted_for_load_runs():
    defaults = Limits()
    for name in QUOTAS:
        assert 0 < getattr(defaults, name) <= 100, name
        assert LOOPBACK_LIMITS[name] >= 100_000 and LIFTED_QUOTAS[name] >= 100_000, name


async def test_new_accounts_from_one_address_are_limited(make_server):
    server = await make_server(accounts_per_address_per_hour=2)
    for name in ("Ada", "Bob"):
        await (await login(server.port, name)).close()
    c = await Client.connect(server.port)
    await c.expect("Name: ")
    await c.cmd("create Cyd secretpass", r"Too many new dreamers have come from your address")
    await c.expect(r"try again\s+in\s+1\s+hour,\s+or\s+connect\s+with\s+a\s+dreamer")
    await c.cmd("Dee", r"Too many new dreamers have come from your address")  # before passwords
    assert "password" not in c.text[c.pos :].lower()
    assert set(server.world.players_by_key) == {"ada", "bob"}
    await c.cmd("connect ada secretpass", "Exits:")  # those made still come in
    await c.close()


async def test_new_accounts_from_everywhere_are_limited(make_server):
    server = await make_server(accounts_per_hour=1)
    await (await login(server.port, "Ada")).close()
    c = await Client.connect(server.port)
    await c.expect("Name: ")
    await c.cmd("create Bob secretpass", r"Too many new dreamers are arriving just now; try again")
    assert set(server.world.players_by_key) == {"ada"}
    await c.close()


async def test_letters_per_sender_per_hour(make_server):
    server = await make_server(letters_per_hour=2)
    bob = await login(server.port, "Bob")
    ada = await login(server.port, "Ada")
    await write(ada, "bob", ["one"])
    await write(ada, "bob", ["two"])
    out = await ada.cmd("mail send bob", r"You have sent 2 letters this hour; nothing was sent\.")
    assert "edit>" not in out  # refused before a word is written
    await ada.expect(r"You\s+may\s+write\s+again\s+in\s+1\s+hour\.")
    assert len(server.world.mail.box(server.world.players_by_key["bob"])) == 2
    await bob.cmd("mail send ada", "edit> ")  # another sender has their own quota
    await bob.close()
    await ada.close()


async def test_loops_started_per_dreamer_per_hour(make_server):
    server = await make_server(loops_per_hour=1)
    ada, bob = await dreaming(server, "Ada", "Bob")
    await merged(server, ada, bob, "Ada", "Bob")
    await ada.cmd("unmerge", "> ")
    await bob.cmd("unmerge", "> ")
    loops = len(server.world.dreams.loops)
    await ada.cmd("dream", r"(?s)Exits:.*?> ")
    await bob.cmd("dream", r"(?s)Exits:.*?> ")
    await ada.cmd("merge bob", r"You have started enough loops for now; try again in")
    assert len(server.world.dreams.loops) == loops
    await ada.close()
    await bob.close()


async def test_woven_lines_per_dreamer_per_minute(make_server):
    server = await make_server(weaves_per_minute=3)
    ada, bob = await dreaming(server, "Ada", "Bob")
    await merged(server, ada, bob, "Ada", "Bob")
    for n in range(3):
        await ada.cmd(f"weave line {n}", f"Ada weaves:.*line {n}")
    await ada.cmd("weave one too many", r"The story can't keep up with you; weave again in")
    loop = server.world.dreams.loop_of(server.world.players_by_key["ada"])
    assert [line.text for line in loop.narrative] == ["line 0", "line 1", "line 2"]
    await bob.cmd("weave Bob's turn", "Bob weaves")  # Bob has his own
    await ada.close()
    await bob.close()
