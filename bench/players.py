"""Simulated dreamers: logging in, choosing commands from a realistic mix, checking replies.

Each command is checked against the response that ended at its prompt: `say` and `emote`
must echo their unique token, `tell` must confirm, `look` and moves must show a room
("Exits:"), `who` its header. Against the echo baseline the check is that the line came back.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import re
from dataclasses import dataclass, field

from bench.client import CommandFailed, Conn, Counters, Listener, connect, connect_ws
from bench.seed import PASSWORD
from bench.stats import Recorder

LOGIN_TIMEOUT = 120.0  # seconds for banner + login (a storm queues on argon2)
LOGIN_CONCURRENCY = 200  # logins in flight while setting a workload up (not in a storm)
LOGGED_IN = b"drift into the Dreamwave"
EXITS_RE = re.compile(rb"Exits: ([^\r\n]*)")
GENERIC_FAILURES = (
    b"Unknown command",
    b"Something went wrong",
    b"faster than the dream",
    b"You can't do that",
    b"You can't go that way",
    b"No dreamer called",
)

# The paced mix (weights out of 100). Movement and looking dominate MUD traffic, then talk.
WAKING_MIX: tuple[tuple[str, int], ...] = (
    ("look", 24), ("move", 24), ("say", 18), ("emote", 6), ("tell", 10),
    ("inventory", 8), ("who", 2),
)  # fmt: skip
# Dreamers woven into a loop stay there: they weave the shared story instead of walking.
LOOP_MIX: tuple[tuple[str, int], ...] = (
    ("look", 24), ("weave", 24), ("say", 18), ("emote", 6), ("tell", 10),
    ("inventory", 8), ("who", 2),
)  # fmt: skip
LOOP_COMMANDS = ("dream", "merge", "loop", "weave")  # what forming a loop and weaving need
LOOP_SHARE = 0.2  # of the players, this many are in loops (when the server has them)
LOOP_SIZE = 5  # dreamers per loop
EXPECT = {
    "look": b"Exits:",
    "move": b"Exits:",
    "who": b"Dreamers in the Dreamwave",
    "inventory": b"carrying",
    "tell": b"You tell ",
}
_tokens = itertools.count(1)


@dataclass
class Endpoint:
    host: str
    port: int
    echo: bool = False  # the baseline echo server: no game, replies are the line itself
    web_port: int = 0  # the browser client's port (websocket players), if the server has one


@dataclass
class Mix:
    """What players type, and whether some of them form loops first."""

    waking: tuple[list[str], list[int]]
    looping: tuple[list[str], list[int]] | None
    skipped: list[str] = field(default_factory=list)

    @classmethod
    def for_server(cls, available: set[str] | None, loops: bool = True) -> Mix:
        """The mix for a server with these command words (None: any line is fine, the echo
        baseline). Without the dream/loop commands, nobody weaves (reported as skipped)."""
        waking = ([k for k, _ in WAKING_MIX], [w for _, w in WAKING_MIX])
        if available is None or not loops:
            return cls(waking, None)
        missing = [c for c in LOOP_COMMANDS if c not in available]
        if missing:
            why = f"weave inside loops: skipped: command not available ({', '.join(missing)})"
            return cls(waking, None, [why])
        return cls(waking, ([k for k, _ in LOOP_MIX], [w for _, w in LOOP_MIX]))


def parse_exits(resp: bytes) -> list[str] | None:
    m = EXITS_RE.search(resp)
    if m is None:
        return None
    names = m.group(1).strip()
    return [] if names == b"none" else [n.decode() for n in names.split(b", ") if n]


class Dreamer:
    """One simulated player on one connection."""

    def __init__(self, conn: Conn, endpoint: Endpoint, rec: Recorder, names: list[str]) -> None:
        self.conn = conn
        self.endpoint = endpoint
        self.rec = rec
        self.names = names  # everyone's names, for `tell`
        self.rng = random.Random(conn.name)
        self.in_loop = False

    def next_command(self, mix: Mix) -> tuple[str, str, bytes | None]:
        """(kind, line, bytes the response must contain)."""
        kinds, weights = mix.looping if self.in_loop and mix.looping else mix.waking
        kind = self.rng.choices(kinds, weights)[0]
        tok = f"zq{next(_tokens)}"
        if kind == "say":
            return kind, f"say {tok} the lanterns are humming tonight", f'You say, "{tok}'.encode()
        if kind == "emote":
            return kind, f"emote {tok} stretches and yawns", tok.encode()
        if kind == "tell":
            other = self.rng.choice(self.names)
            if other == self.conn.name:
                return "look", "look", EXPECT["look"]
            return kind, f"tell {other} {tok} meet me at the festival", EXPECT["tell"]
        if kind == "weave":
            return kind, f"weave {tok} and the lanterns begin to sing", tok.encode()
        if kind == "move":
            if not self.conn.exits:
                return "look", "look", EXPECT["look"]
            return kind, self.rng.choice(self.conn.exits), EXPECT["move"]
        return kind, kind, EXPECT.get(kind)

    def check(self, kind: str, line: str, expect: bytes | None, resp: bytes) -> bool:
        """Record an error and return False if the response is not what `line` should get."""
        if self.endpoint.echo:
            if line.encode() not in resp:
                self.rec.error(kind, f"echo missing for {line!r}")
                return False
            return True
        for failure in GENERIC_FAILURES:
            if failure in resp:
                self.rec.error(kind, f"{line!r} -> {first_line(resp, failure)}")
                return False
        if expect is not None and expect not in resp:
            self.rec.error(kind, f"{line!r} -> no {expect.decode()!r} in {resp[:80]!r}")
            return False
        if kind in ("look", "move"):
            exits = parse_exits(resp)
            if exits is not None:
                self.conn.exits = exits
        return True

    async def run_one(self, mix: Mix) -> tuple[str, float, float, bool]:
        """Send one command from the mix: (kind, sent, done, ok). Raises CommandFailed."""
        kind, line, expect = self.next_command(mix)
        sent, done, resp = await self.conn.command(line)
        return kind, sent, done, self.check(kind, line, expect, resp)


def first_line(resp: bytes, needle: bytes) -> str:
    """The line of `resp` that holds `needle` (a line may start with the prompt's "\\r")."""
    at = resp.find(needle)
    start = max(resp.rfind(b"\n", 0, at), resp.rfind(b"\r", 0, at)) + 1
    end = resp.find(b"\r", start)
    return resp[start : end if end > 0 else None].decode(errors="replace")[:120]


async def login(
    endpoint: Endpoint,
    name: str,
    counters: Counters,
    listener: Listener | None = None,
    web: bool = False,
) -> Conn:
    """Connect (by telnet, or `web`: a websocket to the browser client's port), wait for the
    banner, `connect <name> <password>`, wait for the room."""
    if web:
        conn = await connect_ws(endpoint.host, endpoint.web_port, counters, listener)
    else:
        conn = await connect(endpoint.host, endpoint.port, counters, listener)
    conn.name = name
    try:
        await asyncio.wait_for(conn.expect_prompt(line_sent=False), LOGIN_TIMEOUT)
        fut = conn.expect_prompt()
        conn.send(f"connect {name} {PASSWORD}")
        await asyncio.wait_for(fut, LOGIN_TIMEOUT)
    except (TimeoutError, CommandFailed) as err:
        conn.close()
        raise CommandFailed(f"login {name}: {err or 'timed out'}") from None
    resp = conn.response()
    if not endpoint.echo:
        if LOGGED_IN not in resp:
            conn.close()
            raise CommandFailed(f"login {name} refused: {resp[:120]!r}")
        conn.exits = parse_exits(resp) or []
    return conn


async def login_many(
    endpoint: Endpoint,
    names: list[str],
    counters: Counters,
    listener: Listener | None = None,
    concurrency: int = LOGIN_CONCURRENCY,
    web: set[str] | None = None,
) -> list[Conn]:
    """Log them all in; those named in `web` by websocket (the browser client's port)."""
    gate = asyncio.Semaphore(concurrency)

    async def one(name: str) -> Conn:
        async with gate:
            return await login(endpoint, name, counters, listener, web=bool(web and name in web))

    return list(await asyncio.gather(*(one(n) for n in names)))


async def form_loops(dreamers: list[Dreamer], mix: Mix) -> int:
    """Weave LOOP_SHARE of the dreamers into loops of LOOP_SIZE; returns how many are in.

    Each falls asleep (`dream`); the second proposes to the first (`merge <first>`), the
    first accepts (`merge <second>`), then invites the rest (`loop invite`), who join with
    `merge <first>`. Every member must then see its loop (`loop`).
    """
    if mix.looping is None:
        return 0
    count = int(len(dreamers) * LOOP_SHARE) // LOOP_SIZE * LOOP_SIZE
    groups = [dreamers[i : i + LOOP_SIZE] for i in range(0, count, LOOP_SIZE)]

    async def step(d: Dreamer, line: str, expect: bytes | None = None) -> bool:
        _sent, _done, resp = await d.conn.command(line)
        return d.check("loop setup", line, expect, resp)

    async def form(group: list[Dreamer]) -> None:
        first, second, *rest = group
        if not all(await asyncio.gather(*(step(d, "dream", b"Exits:") for d in group))):
            return
        if not await step(second, f"merge {first.conn.name}", b"reach toward"):
            return
        if not await step(first, f"merge {second.conn.name}", b"Exits:"):
            return
        for d in rest:
            if not await step(first, f"loop invite {d.conn.name}", b"You invite"):
                return
            if not await step(d, f"merge {first.conn.name}", b"Exits:"):
                return
        for d in group:
            d.in_loop = await step(d, "loop", b"The loop")

    await asyncio.gather(*(form(g) for g in groups))
    return sum(d.in_loop for d in dreamers)
