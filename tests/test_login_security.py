"""The login lockout and the connection caps hold against the ways around them.

Other addresses are 127.0.0.x: Linux routes the whole 127/8 to loopback, so a client bound to
127.0.0.7 reaches the server on 127.0.0.1 and the server sees it come from 127.0.0.7.
"""

from __future__ import annotations

import asyncio
import logging

from mud.core import auth
from mud.core.auth import FailureThrottle
from tests.client import Client, login

WRONG = "That name and password don't match"
LOCKED_NAME = "Too many failed logins for that name"
LOCKED_ADDRESS = "Too many failed logins from your address"


async def connect_from(port: int, source: str) -> Client:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    return Client(reader, writer)


async def attempt(port: int, source: str, line: str) -> str:
    """One login line from `source` on a fresh connection; the server's answer."""
    c = await connect_from(port, source)
    await c.expect("Name: ")
    c.send(line)
    m = await c.expect(rf"(?:{WRONG}|Too many [^\r\n]*|You drift into)")
    await c.close()
    return m.group(0)


def count_hashes(monkeypatch) -> list[int]:
    """How many password checks reached argon2."""
    calls = [0]
    real = auth.verify_password

    async def counted(stored, password):
        calls[0] += 1
        return await real(stored, password)

    monkeypatch.setattr(auth, "verify_password", counted)
    return calls


# -- the lockout ------------------------------------------------------------------------------


async def test_parallel_guesses_from_one_address_are_refused_before_hashing(
    make_server, monkeypatch
):
    app = await make_server(max_connections_per_address=40)
    await (await login(app.port, "Victim")).close()
    hashes = count_hashes(monkeypatch)
    clients = await asyncio.gather(*(Client.connect(app.port) for _ in range(30)))
    for c in clients:
        await c.expect("Name: ")
    for c in clients:  # all at once: each is still in flight when the next arrives
        c.send("connect Victim wrongpassword")
    answers = [(await c.expect(rf"{WRONG}|Too many [^\r\n]*")).group(0) for c in clients]
    for c in clients:
        await c.close()
    assert answers.count(WRONG) <= 5  # the login_failures limit
    assert hashes[0] == answers.count(WRONG)
    assert all(a == WRONG or a.startswith("Too many") for a in answers)
    # and the address is locked now: even the right password is refused
    assert (await attempt(app.port, "127.0.0.1", "connect Victim secretpass")).startswith(
        LOCKED_ADDRESS
    )


async def test_guesses_spread_over_many_addresses_lock_the_name(make_server):
    app = await make_server()
    await (await login(app.port, "Victim")).close()
    answers = []
    for host in range(20):  # 20 addresses x 4 guesses: under each address's limit of 5
        for _ in range(4):
            answers.append(
                await attempt(app.port, f"127.0.1.{host + 1}", "connect victim guessing")
            )
    assert answers.count(WRONG) == app.settings.limits.login_account_failures
    assert answers[-1].startswith(LOCKED_NAME)
    # the name is locked from everywhere, for the right password too (no oracle)
    assert (await attempt(app.port, "127.0.2.1", "connect Victim secretpass")).startswith(
        LOCKED_NAME
    )


async def test_a_name_that_does_not_exist_gets_the_same_answers(make_server):
    app = await make_server(login_account_failures=3)
    await (await login(app.port, "Victim")).close()

    async def transcript(name: str, first: int) -> list[str]:
        return [
            await attempt(app.port, f"127.0.3.{first + i}", f"connect {name} guessing")
            for i in range(5)
        ]

    real, missing = await transcript("Victim", 1), await transcript("Nosuchone", 10)
    assert real == missing
    assert real[:3] == [WRONG] * 3 and real[3].startswith(LOCKED_NAME)


async def test_logging_in_to_your_own_account_does_not_forgive_guesses_at_another(server):
    await (await login(server.port, "Victim")).close()
    await (await login(server.port, "Mallory", "mallorypass")).close()
    for _ in range(4):
        assert await attempt(server.port, "127.0.4.1", "connect victim guessing") == WRONG
    ok = await attempt(server.port, "127.0.4.1", "connect mallory mallorypass")
    assert ok == "You drift into"
    # the fifth failure from that address still locks it
    c = await connect_from(server.port, "127.0.4.1")
    await c.expect("Name: ")
    c.send("connect victim guessing")
    await c.expect(WRONG)
    await c.expect(LOCKED_ADDRESS)
    await c.close()


def test_a_success_clears_only_that_accounts_failures():
    t = FailureThrottle(limit=5, window=60, lockout=300, account_limit=10, account_window=600)
    for name in ("victim", "victim", "mallory", "mallory"):
        assert t.begin("1.2.3.4", name, now=0) is None
        t.end("1.2.3.4", name, ok=False, now=0)
    assert t.begin("1.2.3.4", "mallory", now=1) is None
    t.end("1.2.3.4", "mallory", ok=True, now=1)
    by_key = {e.key: e.failures for e in t.entries(now=1)}
    assert by_key == {"1.2.3.4": 2, "victim": 2}
    # in flight counts until it ends: three more checks may start, the fourth waits
    for _ in range(3):
        assert t.begin("1.2.3.4", "victim", now=2) is None
    refusal = t.begin("1.2.3.4", "victim", now=2)
    assert refusal is not None and refusal.busy and refusal.who == "address"


async def test_a_check_waits_for_the_ones_in_flight_then_decides():
    t = FailureThrottle(limit=5, window=60, lockout=300)
    for _ in range(5):
        assert t.begin("1.2.3.4", "victim") is None
    first, second = (asyncio.ensure_future(t.turn("1.2.3.4", "victim")) for _ in range(2))
    await asyncio.sleep(0.01)
    assert not first.done() and not second.done()
    t.end("1.2.3.4", "victim", ok=True)  # one succeeded: a slot for the first in line
    assert await first is None
    assert not second.done()
    for _ in range(5):  # the rest fail: the address locks, and the one still waiting is told
        t.end("1.2.3.4", "victim", ok=False)
    refusal = await second
    assert refusal is not None and refusal.who == "address" and refusal.wait > 0
    assert not refusal.busy


async def test_parallel_logins_from_one_address_all_get_in(make_server):
    app = await make_server(max_connections_per_address=20)
    names = [f"Crowd{chr(97 + i)}" for i in range(12)]
    for name in names:
        await (await login(app.port, name)).close()
    clients = await asyncio.gather(*(Client.connect(app.port) for _ in names))
    for c in clients:
        await c.expect("Name: ")
    for c, name in zip(clients, names, strict=True):  # more at once than the limit of five
        c.send(f"connect {name} secretpass")
    for c in clients:
        await c.expect("You drift into", timeout=20)
        await c.close()


async def test_a_failed_login_logs_the_name_only_if_it_is_an_account(server, caplog):
    await (await login(server.port, "Victim")).close()
    caplog.set_level(logging.INFO, logger="dreamwave.login")
    assert await attempt(server.port, "127.0.5.1", "connect Hunter2pass Victim") == WRONG
    assert await attempt(server.port, "127.0.5.2", "connect victim Hunter2pass") == WRONG
    logged = caplog.text
    assert "Hunter2pass" not in logged
    assert "failed login for an unknown name from 127.0.5.1" in logged
    assert "failed login for Victim from 127.0.5.2" in logged


# -- admins lift lockouts in game ---------------------------------------------------------------


async def test_admins_list_and_lift_lockouts_players_cant(server):
    await (await login(server.port, "Victim")).close()
    admin = await login(server.port, "Ada")
    server.world.set_role(server.world.players_by_key["ada"], "admin")
    player = await login(server.port, "Pell")
    for line in ("@lockouts", "@lockout clear 127.0.6.1"):
        await player.cmd(line, "You can't do that.")
    await admin.cmd("@lockouts", "Nobody is locked out")
    for _ in range(5):
        await attempt(server.port, "127.0.6.1", "connect victim guessing")
    out = await admin.cmd("@lockouts", r"account +victim[^\r\n]*")
    assert "127.0.6.1" in out and "locked" in out and "left" in out
    assert "5 recent failures" in out  # the name's count, not locked yet
    refused = await attempt(server.port, "127.0.6.1", "connect victim secretpass")
    assert refused.startswith(LOCKED_ADDRESS)
    audits = len(server.world.audit_log)
    await admin.cmd("@lockout clear 127.0.6.1", "Lifted the login lockout on 127.0.6.1.")
    assert len(server.world.audit_log) == audits + 1
    assert "cleared 127.0.6.1" in server.world.audit_log[-1].detail
    await admin.cmd("@lockout clear 127.0.6.1", "No lockout or failed logins")
    await admin.cmd("@lockout 127.0.6.1", "Usage: @lockout clear")
    assert await attempt(server.port, "127.0.6.1", "connect victim secretpass") == "You drift into"
    await admin.close()
    await player.close()


# -- connection caps and the login timeout -------------------------------------------------------


async def test_connections_per_address_are_capped(make_server):
    app = await make_server(max_connections_per_address=3)
    clients = [await connect_from(app.port, "127.0.7.1") for _ in range(3)]
    for c in clients:
        await c.expect("Name: ")
    extra = await connect_from(app.port, "127.0.7.1")
    await extra.expect("There are already 3 connections from your address; close one")
    await extra.wait_closed()
    assert "Name: " not in extra.text
    other = await connect_from(app.port, "127.0.7.2")  # another address is let in
    await other.expect("Name: ")
    await clients[0].close()
    for _ in range(100):  # the server notices the close
        if sum(s.address == "127.0.7.1" for s in app.sessions) < 3:
            break
        await asyncio.sleep(0.02)
    again = await connect_from(app.port, "127.0.7.1")
    await again.expect("Name: ")
    for c in (*clients[1:], other, again):
        await c.close()


async def test_connections_not_logged_in_are_capped_logged_in_ones_are_not(make_server):
    app = await make_server(max_unauthenticated=2)
    player = await login(app.port, "Ada")  # logged in: no longer counts
    waiting = [await connect_from(app.port, f"127.0.8.{i + 1}") for i in range(2)]
    for c, name in zip(waiting, ("Pell", "Orrin"), strict=True):
        await c.expect("Name: ")
        await c.cmd(name, "Password:|new|create")  # typing: a silent socket would give way
    extra = await connect_from(app.port, "127.0.8.9")
    await extra.expect("Too many people are at the login screen right now")
    await extra.wait_closed()
    await waiting[0].cmd("no", "Name: ")
    waiting[0].send("create Bea secretpass")  # one logs in: room for one more
    await waiting[0].expect("Exits:")
    late = await connect_from(app.port, "127.0.8.10")
    await late.expect("Name: ")
    for c in (player, *waiting, late):
        await c.close()


async def test_empty_lines_do_not_keep_a_login_screen_open(make_server):
    app = await make_server(login_idle_timeout=1.0)
    c = await Client.connect(app.port)
    await c.expect("Name: ")
    for _ in range(100):  # an empty line every 0.1 s for up to 10 timeouts' worth
        if c.closed:
            break
        c.send("")
        await asyncio.sleep(0.1)
    assert c.closed, "empty lines kept the login screen open"
    assert "You lingered too long at the threshold; goodbye." in c.text
