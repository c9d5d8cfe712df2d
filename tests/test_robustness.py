"""Misbehaving clients: huge lines, floods, slow readers, idlers, garbage, a broken command."""

from __future__ import annotations

import asyncio
import random
import socket

from commands.api import NOTHING, Command
from tests.client import IAC, SB, SE, Client, login
from tests.conftest import conn_of


async def two_players(port, first="Ada", second="Bob"):
    a = await login(port, first)
    b = await login(port, second)
    await a.expect(f"{second} shimmers into the dreamscape")
    return a, b


def session_of(server, client):
    """The server's Session for a test client (matched by the client's local port)."""
    port = client.writer.get_extra_info("sockname")[1]
    return next(s for s in server.sessions if s.port == port)


# -- input limits ---------------------------------------------------------------------------


async def test_overlong_line_is_refused_and_nothing_happens(server):
    a, b = await two_players(server.port)

    a.send("say " + "x" * 4996)
    await a.expect(r"That line was too long \(5000 bytes\); the most is 4096\. Nothing was done\.")
    await a.expect("> ")
    assert "says" not in await b.quiet(0.2)

    # the session carries on, and a line right at the limit is fine
    await a.cmd("say short again", r'You say, "short again"')
    await b.expect(r'Ada says, "short again"')
    a.send("say " + "y" * 4092)
    await b.expect(r'Ada says,\s+"y{4092}"')
    await a.close()
    await b.close()


async def test_endless_line_disconnects_and_is_not_kept(server):
    a, b = await two_players(server.port)
    session = session_of(server, a)
    conn = conn_of(server, session)

    a.send_bytes(b"say " + b"z" * (1 << 20))  # 1 MiB, no Enter
    await a.expect("You sent too much text without pressing Enter; disconnecting.")
    await a.wait_closed()
    await b.expect(r"Ada fades from the dreamscape\.")

    assert session.closed and session not in server.sessions
    assert len(conn.telnet.reader._buf) == 0  # what it sent is not held anywhere
    assert "Ada" not in {p.name for p in server.world.online.values()}
    await b.cmd("say still here", r'You say, "still here"')
    await b.close()


async def test_endless_subnegotiation_disconnects(make_server):
    server = await make_server(bytes_per_second=16 << 20)
    c = await Client.connect(server.port)
    await c.expect("Name: ")
    c.send_bytes(bytes([IAC, SB, 200]) + b"z" * (256 << 10))  # 4x max_pending_bytes, no SE
    await c.wait_closed(timeout=2)


async def test_flooding_is_throttled_and_throttled_lines_are_dropped(make_server):
    server = await make_server(commands_per_second=5, command_burst=5)
    a, b = await two_players(server.port)
    await asyncio.sleep(0.5)  # let Ada's burst allowance refill after logging in

    a.send_bytes(b"".join(b"say flood %d\r\n" % i for i in range(30)))
    await a.expect("You're sending commands faster than the dream can follow; slow down.")
    heard = await b.quiet(0.5)
    said = [n for n in range(30) if f'"flood {n}"' in heard]
    assert said[:5] == [0, 1, 2, 3, 4]
    assert 5 <= len(said) <= 6  # the burst, plus at most one refilled token
    assert '"flood 29"' not in heard

    await asyncio.sleep(1.0)
    await a.cmd("say calm now", r'You say, "calm now"')
    await b.expect(r'Ada says, "calm now"')
    assert "flood 29" not in b.text  # dropped, not merely delayed
    await b.cmd("say I was never slowed", r'You say, "I was never slowed"')
    await a.close()
    await b.close()


async def test_a_burst_after_a_saving_command_is_throttled_not_disconnected(server):
    a = await login(server.port, "Ada")
    await asyncio.sleep(0.5)
    # (the same 71 lines starting with "say one" get 40 answers and a "slow down")
    a.send_bytes(b"get map\r\n" + b"say again\r\n" * 70)
    await a.expect(r"You pick up a folded map of the sanctuaries\.")
    await a.expect("slow down")
    assert not a.closed
    await a.close()


# -- a client that never reads ----------------------------------------------------------------


async def test_slow_reader_is_dropped_while_others_play_on(make_server):
    server = await make_server(max_output_bytes=20000, commands_per_second=1000, command_burst=1000)
    loop = asyncio.get_running_loop()

    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await loop.sock_connect(sock, ("127.0.0.1", server.port))
    seen = b""
    while b"Name: " not in seen:
        seen += await asyncio.wait_for(loop.sock_recv(sock, 4096), 5)
    await loop.sock_sendall(sock, b"create Sloth secretpass\r\n")
    while b"Exits:" not in seen:
        seen += await asyncio.wait_for(loop.sock_recv(sock, 4096), 10)
    # From here on Sloth never reads. Shrink the server's kernel send buffer for that
    # socket so the backlog builds in the server (where the limit applies) within a few
    # hundred lines, rather than after megabytes of kernel buffering on loopback.
    slow = server.world.players_by_key["sloth"].session
    conn_of(server, slow).transport.get_extra_info("socket").setsockopt(
        socket.SOL_SOCKET, socket.SO_SNDBUF, 4096
    )

    b = await login(server.port, "Bob")
    n = 0
    while not slow.closed and n < 3000:
        for _ in range(50):
            b.send(f"say chatter number {n} goes on and on and on")
            n += 1
        await b.expect(f'You say, "chatter number {n - 1} ', timeout=10)
    assert slow.closed, "the slow reader was never dropped"
    assert slow not in server.sessions
    assert "Sloth" not in {p.name for p in server.world.online.values()}

    # Bob is told once, in order with the chatter: the drop may happen during one of Bob's
    # own says (then the line comes with that reply, before the last "You say").
    for _ in range(100):
        if "Sloth fades from the dreamscape." in b.text:
            break
        await asyncio.sleep(0.05)
    assert b.text.count("Sloth fades from the dreamscape.") == 1
    await b.cmd("look", r"(?s)Dreamwave Nexus.*Exits:.*?> ")
    await b.cmd("say all clear", r'You say, "all clear"')
    sock.close()
    await b.close()


# -- idleness ---------------------------------------------------------------------------------


async def test_idle_login_connection_is_closed(make_server):
    server = await make_server(login_idle_timeout=0.3)
    c = await Client.connect(server.port)
    await c.expect("Name: ")
    await c.expect("You lingered too long at the threshold; goodbye.")
    await c.wait_closed()
    assert not server.sessions


async def test_idle_player_is_closed_but_a_busy_one_is_not(make_server):
    server = await make_server(player_idle_timeout=0.5)
    idle, busy = await two_players(server.port, "Ida", "Bea")

    for _ in range(15):  # about 1.5 s of activity, well past the idle limit
        await busy.cmd("look", "Exits:")
        await asyncio.sleep(0.1)
    await idle.expect("You have drifted idle too long and slip out of the dream.")
    await idle.wait_closed()
    assert "Ida fades from the dreamscape." in busy.text
    assert not busy.closed and "drifted idle" not in busy.text
    await busy.cmd("who", r"Dreamers in the Dreamwave \(1\)")
    await busy.close()


# -- a command that breaks ------------------------------------------------------------------


async def test_an_error_in_one_command_harms_nobody_else(server):
    def boom(ctx):
        raise RuntimeError("the dream collapses")

    server.registry.add(
        Command("boom", boom, help_text="Break something on purpose.", publishes=NOTHING)
    )
    try:
        a, b = await two_players(server.port)
        await a.cmd("boom", r"Something went wrong with that command; it has been logged\.")
        await a.expect("> ")
        assert [r.exc_info[0] for r in server.errors] == [RuntimeError]
        for r in server.errors:
            r.expected = True

        await b.cmd("say are you all right?", r'You say, "are you all right\?"')
        await a.expect(r'Bob says, "are you all right\?"')
        await a.cmd("say fine", r'You say, "fine"')
        await b.expect(r'Ada says, "fine"')
        await b.cmd("look", r"Ada is here\.")
        await a.cmd("n", "Sanctuary of Returning Tides")
        await a.close()
        await b.close()
    finally:
        server.registry.commands.pop("boom", None)
        server.registry._exact.pop("boom", None)
        server.registry._prefix_cache.clear()


# -- telnet garbage -------------------------------------------------------------------------


def garbage(seed, size):
    rnd = random.Random(seed)
    out = bytearray()
    while len(out) < size:
        roll = rnd.random()
        if roll < 0.2:
            out += bytes([IAC, rnd.choice([251, 252, 253, 254]), rnd.randrange(256)])
        elif roll < 0.3:
            out += bytes([IAC, SB, rnd.randrange(256)]) + rnd.randbytes(rnd.randrange(40))
            if rnd.random() < 0.5:
                out += bytes([IAC, SE])
        elif roll < 0.35:
            out += bytes([IAC, rnd.randrange(236, 256)])
        else:
            out += rnd.randbytes(rnd.randrange(1, 60))
    return bytes(out)


async def test_telnet_garbage_does_not_hurt_the_server(server):
    a, b = await two_players(server.port)

    # before login, after login, and from a client that never negotiated
    pre = await Client.connect(server.port)
    await pre.expect("Name: ")
    silent = await Client.connect(server.port, answer=False)
    victim = await login(server.port, "Vic")
    for i, c in enumerate((pre, silent, victim)):
        c.send_bytes(garbage(i, 32 << 10))
    # hand-picked nasties: an unknown option's subnegotiation, an SB left open, a lone IAC
    victim.send_bytes(bytes([IAC, 253, 200, IAC, 251, 201, IAC, SB, 201, 97, IAC, SE]))
    pre.send_bytes(bytes([IAC, SB, 24]) + b"never ends" + bytes([IAC]))

    for n in range(3):
        await a.cmd(f"say still dreaming {n}", rf'You say, "still dreaming {n}"')
        await b.expect(rf'Ada says, "still dreaming {n}"')
    fresh = await login(server.port, "Newt")
    await fresh.cmd("who", r"Dreamers in the Dreamwave")
    await b.cmd("look", r"(?s)Dreamwave Nexus.*Exits:")
    for c in (a, b, pre, silent, victim, fresh):
        await c.close()
