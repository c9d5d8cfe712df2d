"""Logging in: banner, one-line and interactive forms, ECHO, failures, takeover."""

from __future__ import annotations

import asyncio
import time

from tests.client import DO, ECHO, IAC, WILL, WONT, Client, login


async def test_banner_reaches_a_raw_socket_within_a_second(server):
    t0 = time.monotonic()
    c = await Client.connect(server.port, answer=False)
    await c.expect("D R E A M W A V E", timeout=1.0)
    await c.expect("connect <name> <password>", timeout=1.0)
    await c.expect("Name: ", timeout=1.0)
    assert time.monotonic() - t0 < 1.0
    await c.close()


async def test_create_then_connect_one_line(server):
    c = await login(server.port, "Ada")
    assert "Welcome, Ada" in c.text
    assert "Dreamwave Nexus" in c.text
    await c.cmd("quit", "May your dreams be gentle")
    await c.wait_closed()
    c2 = await login(server.port, "ada", create=False)
    assert "You drift into the Dreamwave, Ada" in c2.text
    await c2.close()


async def test_interactive_create_and_login_hide_the_password(server):
    c = await Client.connect(server.port)
    await c.expect("Name: ")
    c.send("Bea")
    await c.expect(r"Create a new dreamer named Bea\? \(yes/no\)")
    mark = len(c.raw)
    c.send("yes")
    await c.expect("Choose a password")
    assert bytes([IAC, WILL, ECHO]) in c.raw[mark:]
    c.send("short")
    await c.expect("at least 8 characters")
    c.send("dreamily")
    await c.expect("Type the password again")
    c.send("dreamily")
    await c.expect("Your dreamer has been created")
    await c.expect("Exits:")
    # WILL ECHO went out before each password prompt and WONT ECHO after the answer
    assert c.raw.count(bytes([IAC, WILL, ECHO])) >= 1
    assert c.raw.count(bytes([IAC, WONT, ECHO])) >= 1
    assert c.raw.rfind(bytes([IAC, WONT, ECHO])) > c.raw.rfind(bytes([IAC, WILL, ECHO]))
    await c.close()

    c = await Client.connect(server.port)
    await c.expect("Name: ")
    c.send("bea")
    await c.expect("Password: ")
    idx = c.raw.find(bytes([IAC, WILL, ECHO]))
    assert idx != -1 and idx < c.raw.find(b"Password: ")
    c.send("dreamily")
    await c.expect("You drift into the Dreamwave, Bea")
    assert c.raw.rfind(bytes([IAC, WONT, ECHO])) > c.raw.find(b"Password: ")
    assert (DO, ECHO) not in c.commands  # the server never asks the client to echo
    await c.close()


async def test_echo_restored_when_login_times_out(make_server):
    app = await make_server(login_idle_timeout=1.0)
    await (await login(app.port, "Cleo")).close()
    c = await Client.connect(app.port)  # the login screen's time counts from here
    await c.expect("Name: ")
    c.send("cleo")
    await c.expect("Password: ")
    await c.expect("lingered too long", timeout=5)
    await c.wait_closed()
    assert c.raw.rfind(bytes([IAC, WONT, ECHO])) > c.raw.rfind(bytes([IAC, WILL, ECHO]))


async def test_wrong_password_same_message_and_lockout(server):
    await (await login(server.port, "Dana")).close()
    c = await Client.connect(server.port)
    await c.expect("Name: ")
    c.send("connect dana wrongpassword")
    m1 = await c.expect(r"That name and password don't match[^\r\n]*")
    c.send("connect nosuchone wrongpassword")
    m2 = await c.expect(r"That name and password don't match[^\r\n]*")
    assert m1.group(0) == m2.group(0)
    for _ in range(3):
        c.send("connect dana wrongpassword")
        await c.expect("don't match")
    await c.expect("Too many failed logins")
    # even the right password is refused now, and told plainly
    c.send("connect dana secretpass")
    await c.expect("Too many failed logins from your address. Please wait")
    assert "You drift into" not in c.text
    await c.close()


async def test_names_are_checked(server):
    c = await Client.connect(server.port)
    await c.expect("Name: ")
    c.send("create ab secretpass")
    await c.expect("3 to 20 letters")
    c.send("create R2D2 secretpass")
    await c.expect("3 to 20 letters")
    c.send("create Lyra secretpass")
    await c.expect("reserved")
    c.send("create look secretpass")
    await c.expect("reserved")
    c.send("create smile secretpass")  # a social
    await c.expect("reserved")
    c.send("create newbie secretpass")  # a channel
    await c.expect("reserved")
    c.send("create Emma short")
    await c.expect("at least 8 characters")
    await (await login(server.port, "Fern")).close()
    c.send("create FERN secretpass")
    await c.expect("already a dreamer named Fern")
    await c.close()


async def test_takeover_keeps_the_place(server):
    a = await login(server.port, "Gale")
    await a.cmd("north", "Sanctuary of Returning Tides")
    b = await login(server.port, "gale", create=False)
    await a.expect("claimed by a new connection")
    await a.wait_closed()
    assert "Sanctuary of Returning Tides" in b.text.split("You drift into")[-1]
    assert "You take over your dreamer" in b.text
    await b.cmd("who", "Gale")
    assert len(server.world.online) == 1
    await b.close()


async def test_login_storm_hashes_off_the_loop(make_server):
    """While 20 accounts are created at once, a logged-in player still gets answers."""
    server = await make_server(max_connections_per_address=30)  # all from 127.0.0.1
    watcher = await login(server.port, "Hana")
    clients = await asyncio.gather(*(Client.connect(server.port) for _ in range(20)))
    for i, c in enumerate(clients):
        await c.expect("Name: ")
        c.send(f"create storm{chr(97 + i)}x secretpass")
    for _ in range(5):
        await watcher.cmd("say ping", 'You say, "ping"', timeout=2)
    for c in clients:
        await c.expect("Exits:", timeout=20)
        await c.close()
    await watcher.close()


def last_echo(c: Client) -> int:
    """WILL or WONT: the server's last word on ECHO so far."""
    will, wont = c.raw.rfind(bytes([IAC, WILL, ECHO])), c.raw.rfind(bytes([IAC, WONT, ECHO]))
    return WILL if will > wont else WONT


async def test_empty_enter_at_password_asks_again_with_echo_still_hidden(server):
    await (await login(server.port, "Iris")).close()
    c = await Client.connect(server.port)
    await c.expect("Name: ")
    c.send("iris")
    await c.expect("Password: ")
    for _ in range(6):  # more than the lockout's five: none of them is a try
        mark = len(c.raw)
        c.send("")
        await c.expect("Password: ")
        assert bytes([IAC, WONT, ECHO]) not in c.raw[mark:]  # still hidden
        assert last_echo(c) == WILL
    assert "don't match" not in c.text and "Name: " not in c.text[c.text.find("Password") :]
    c.send("secretpass")  # the password typed next still goes to the password prompt
    await c.expect("You drift into the Dreamwave, Iris")
    assert last_echo(c) == WONT
    await c.close()


async def test_empty_enter_while_choosing_a_password_asks_again(server):
    c = await Client.connect(server.port)
    await c.expect("Name: ")
    c.send("Juno")
    await c.expect(r"\(yes/no\)")
    c.send("yes")
    await c.expect("Choose a password")
    c.send("")
    await c.expect("Choose a password")
    c.send("dreamily")
    await c.expect("Type the password again")
    c.send("")
    await c.expect("Type the password again")
    assert "didn't match" not in c.text and last_echo(c) == WILL
    c.send("dreamily")
    await c.expect("Your dreamer has been created")
    assert last_echo(c) == WONT
    await c.close()


async def test_echo_is_back_on_every_way_out_of_the_password_prompt(server):
    await (await login(server.port, "Kit")).close()
    c = await Client.connect(server.port)
    await c.expect("Name: ")
    for _ in range(5):  # wrong, wrong, ... locked out: each time back at Name: with echo on
        c.send("kit")
        await c.expect("Password: ")
        assert last_echo(c) == WILL
        c.send("wrongpassword")
        await c.expect("Name: ")
        assert last_echo(c) == WONT
    assert "Too many failed logins" in c.text
    c.send("kit")  # locked: refused at the name, the password prompt never opens
    await c.expect("Please wait")
    await c.expect("Name: ")
    assert last_echo(c) == WONT
    await c.close()


async def test_a_line_that_cant_be_a_name_is_never_offered_for_creation(server):
    c = await Client.connect(server.port)
    await c.expect("Name: ")
    for line in ("Hunter2pass", "p@ss-word!", "correct horse battery"):
        c.send(line)
        await c.expect("Name: ")
    assert "Create a new dreamer" not in c.text
    await c.close()
