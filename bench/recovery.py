"""The reload and crash workloads: the engine goes away under load and comes back.

N players are connected; A of them play (the paced mix at one command a second, plus
`title v<k>`: a durable change whose reply only comes once it is committed), the rest are
idle. Then the engine is replaced: `reload` sends SIGHUP to the server (the supervisor asks
the engine to save and hand over; players see "The dreamscape shimmers ..." and then
"The dreamscape settles around you again ..."), `crash` kills the engine with SIGKILL
("The dream flickers ..." / "The dream steadies around you again ..."; a command the dead
engine never confirmed gets "Your last command may not have happened").

Every player, once its "back" line has arrived (and any command it had in flight is done),
sends `title` with no argument, which shows its title: the time from the trigger to that
answer is its "answered again" time, and the answer must show the last title that player
was told it had (a later one it was never told about is fine: it may have happened). After
the run the server is stopped and the database is read (`account.settings`): each active
player's title must be the last confirmed one. Connections closed by the server count as
disconnects.

The "back" line is followed by a prompt that ends no command (the new engine prompts every
dreamer it puts back); `Watch` drops that marker so the one-command-in-flight bookkeeping of
bench/client.py stays right, and it ends a command with `Unconfirmed` when the gateway says
it may not have happened (no reply will ever come for it).
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.client import EOR_MARK, GA_MARK, CommandFailed, Conn, Counters, watchdog
from bench.players import WAKING_MIX, Dreamer, Endpoint, Mix, login_many
from bench.stats import Recorder, summarise
from bench.workloads import COMMAND_TIMEOUT, Probe

TITLE_WEIGHT = 20  # `title v<k>` among the paced mix's 100
TAIL = 64  # bytes of the last chunk kept, for a line split across reads
MAYBE = b"may not have happened"
LOGIN_AGAIN = b"begin again"  # a dreamer sent back to the login screen instead of put back
TITLE_RE = re.compile(rb"Your title: \w+ v(\d+)\.")
NO_TITLE = b"You have no title yet."


@dataclass(frozen=True)
class Outage:
    """How one kind of engine replacement looks to a player."""

    name: str
    before: bytes  # the line that says the engine is going (or gone)
    back: bytes  # the line that says it is back (followed by a prompt)


RELOAD = Outage("reload", b"The dreamscape shimmers", b"settles around you again")
CRASH = Outage("crash", b"The dream flickers", b"steadies around you again")


class Unconfirmed(CommandFailed):
    """The gateway said this command may not have happened: no reply will come."""


def title_mix() -> Mix:
    kinds = [k for k, _ in WAKING_MIX] + ["title"]
    weights = [w for _, w in WAKING_MIX] + [TITLE_WEIGHT]
    return Mix((kinds, weights), None)


def positions(data: bytes, needle: bytes, start: int = 0) -> list[int]:
    out, i = [], data.find(needle, start)
    while i >= 0:
        out.append(i)
        i = data.find(needle, i + 1)
    return out


class Keeper(Dreamer):
    """A dreamer that also sets its title, and remembers what it was told."""

    def __init__(self, conn: Conn, endpoint: Endpoint, rec: Recorder, names: list[str]) -> None:
        super().__init__(conn, endpoint, rec, names)
        self.lock = asyncio.Lock()  # one command in flight: the probe waits for the mix
        self.seq = 0  # the last title value sent
        self.confirmed = 0  # the last one whose confirmation arrived (0: none)
        self.maybe: set[int] = set()  # values sent but never confirmed
        self.answered_at = 0.0  # when the probe after the outage was answered
        self.probed: int | None = None  # the title the probe showed (0: none)
        self.lost = False

    def next_command(self, mix: Mix) -> tuple[str, str, bytes | None]:
        kind, line, expect = super().next_command(mix)
        if kind != "title":
            return kind, line, expect
        self.seq += 1
        return kind, f"title v{self.seq}", f"You are now {self.conn.name} v{self.seq}.".encode()


class Watch:
    """One connection's view of the outage (see the module docstring): a Conn watcher."""

    def __init__(self, outage: Outage, on_back: Callable[[], None]) -> None:
        self.outage = outage
        self.on_back = on_back
        self.before_at = 0.0
        self.back_at = 0.0
        self.backs = 0  # "back" lines seen (must be exactly one)
        self.maybe = 0
        self.login_again = 0
        self._swallow = False  # the next prompt marker follows a "back" line
        self._tail = b""

    def __call__(self, conn: Conn, data: bytes, marks: int, now: float) -> int:
        text = self._tail + data
        off = len(self._tail)
        self._tail = text[-TAIL:]

        def ends(needle: bytes) -> list[int]:  # where each new occurrence ends, in `data`
            return [i + len(needle) - off for i in positions(text, needle)
                    if i + len(needle) > off]  # fmt: skip

        if not self.before_at and ends(self.outage.before):
            self.before_at = now
        self.login_again += len(ends(LOGIN_AGAIN))
        backs, maybes = ends(self.outage.back), ends(MAYBE)
        if not (backs or maybes or self._swallow):
            return marks
        events = sorted(
            [(p, 0) for p in positions(data, GA_MARK) + positions(data, EOR_MARK)]
            + [(p, 1) for p in backs] + [(p, 2) for p in maybes]
        )  # fmt: skip
        counted = 0
        for _pos, kind in events:
            if kind == 1:
                self._swallow = True
                self.backs += 1
                if not self.back_at:
                    self.back_at = now
                    self.on_back()
            elif kind == 2:
                self.maybe += 1
                if counted == 0:
                    conn.fail(Unconfirmed("may not have happened"))
            elif self._swallow:
                self._swallow = False
            else:
                counted += 1
        return counted


async def outage(
    endpoint: Endpoint,
    names: list[str],
    active: int,
    probe: Probe,
    how: Outage,
    trigger: Callable[[], None],
    before: float,
    after: float,
    not_before: float = 0.0,
    period: float = 1.0,
) -> dict[str, object]:
    """Log everyone in; `active` of them play; at `before` s (and not before `not_before`)
    call `trigger`; play on for `after` s; every player probes once it is back."""
    counters = Counters()
    rec = Recorder()
    mix = title_mix()
    t_login = time.perf_counter()
    conns = await login_many(endpoint, names, counters)
    login_s = time.perf_counter() - t_login
    keepers = [Keeper(c, endpoint, rec, names) for c in conns]
    watches: list[Watch] = []
    probes: set[asyncio.Task[None]] = set()
    loop = asyncio.get_running_loop()
    trigger_at = [0.0]

    async def probe_title(k: Keeper) -> None:
        async with k.lock:
            try:
                _sent, done, resp = await k.conn.command("title")
            except CommandFailed as err:
                rec.error("probe", f"{k.conn.name}: {err}")
                return
        k.answered_at = done
        m = TITLE_RE.search(resp)
        if m is None and NO_TITLE not in resp:
            rec.error("probe", f"{k.conn.name}: 'title' -> {resp[:100]!r}")
            return
        k.probed = int(m.group(1)) if m else 0
        if k.probed < k.confirmed:
            k.lost = True
            rec.error("lost", f"{k.conn.name}: title v{k.probed or '-'}, was told v{k.confirmed}")
        elif k.probed > k.confirmed and k.probed not in k.maybe:
            rec.error("phantom", f"{k.conn.name}: title v{k.probed}, never sent")

    for k in keepers:

        def back(k: Keeper = k) -> None:
            task = loop.create_task(probe_title(k))
            probes.add(task)
            task.add_done_callback(probes.discard)

        watch = Watch(how, back)
        k.conn.watcher = watch
        watches.append(watch)
    dog = asyncio.create_task(watchdog(conns, COMMAND_TIMEOUT))
    start = time.perf_counter()
    trigger_at[0] = max(start + before, not_before)
    end = trigger_at[0] + after

    async def play(k: Keeper) -> None:
        t = start + k.rng.random() * period
        while t < end and not k.conn.closed:
            now = time.perf_counter()
            if t > now:
                await asyncio.sleep(t - now)
            async with k.lock:
                kind, line, expect = k.next_command(mix)
                try:
                    sent, done, resp = await k.conn.command(line)
                except Unconfirmed:
                    if kind == "title":
                        k.maybe.add(k.seq)
                    rec.note("unconfirmed")
                    t += period
                    continue
                except CommandFailed as err:
                    rec.error("lost", f"{line!r}: {err}")
                    t += period
                    continue
                if k.check(kind, line, expect, resp) and kind == "title":
                    k.confirmed = k.seq
            rec.add(kind, sent, done - sent)
            t += period

    async def fire() -> None:
        await asyncio.sleep(max(0.0, trigger_at[0] - time.perf_counter()))
        trigger_at[0] = time.perf_counter()
        trigger()

    windows = probe.open()
    players = [asyncio.create_task(play(k)) for k in keepers[:active]]
    await fire()
    await asyncio.gather(*players)
    # Everyone is back and has answered (bounded), then judge.
    settle = time.perf_counter() + COMMAND_TIMEOUT
    while time.perf_counter() < settle and (
        probes or any(not k.answered_at and not k.conn.closed for k in keepers)
    ):
        await asyncio.sleep(0.05)
    usage = probe.close(windows)
    dog.cancel()
    t0 = trigger_at[0]
    disconnects = sum(1 for c in conns if c.closed)
    for c in conns:
        c.close()
    answered = [k.answered_at - t0 for k in keepers if k.answered_at]
    backs = [w.back_at - t0 for w in watches if w.back_at]
    notices = [w.before_at - t0 for w in watches if w.before_at]
    not_back = sum(1 for w in watches if not w.back_at)
    if disconnects:
        rec.error("disconnect", f"{disconnects} connection(s) closed by the server")
    if len(answered) < len(keepers):
        rec.error("not answered", f"{len(keepers) - len(answered)} player(s) never answered")
    twice = sum(1 for w in watches if w.backs > 1)
    if twice:
        rec.error("back twice", f"{twice} player(s) saw the 'back' line more than once")
    again = sum(1 for w in watches if w.login_again)
    if again:
        rec.error("login again", f"{again} player(s) were sent back to the login screen")
    out: dict[str, object] = {"players": len(conns), "active": active, "outage": how.name}
    out.update(rec.summary())  # the active players' commands, over the whole window
    out["window_s"] = round(end - start, 1)
    out["cmds_per_s"] = round(rec.count() / (end - start), 1)
    gap_end = t0 + max(backs or [0.0])
    gap = [s for rows in rec.samples.values() for at, s in rows if t0 <= at < gap_end]
    out["gap_cmds"] = len(gap)
    out["gap_max_ms"] = round(1000 * max(gap), 2) if gap else 0.0
    ans = summarise(answered)
    out["all_answered_s"] = round(max(answered), 3) if answered else None
    out["answered_p50_s"] = round(ans["p50_ms"] / 1000, 3)
    out["answered_p99_s"] = round(ans["p99_ms"] / 1000, 3)
    out["first_back_s"] = round(min(backs), 3) if backs else None
    out["all_back_s"] = round(max(backs), 3) if backs else None
    out["notice_last_s"] = round(max(notices), 3) if notices else None
    out["not_back"] = not_back
    out["notices_missing"] = sum(1 for w in watches if not w.before_at)
    out["disconnects"] = disconnects
    out["unconfirmed"] = rec.notes["unconfirmed"]
    out["maybe_lines"] = sum(w.maybe for w in watches)
    out["confirmed_titles"] = sum(1 for k in keepers if k.confirmed)
    out["lost_at_recovery"] = sum(1 for k in keepers if k.lost)
    out["maybe_happened"] = sum(1 for k in keepers if k.probed and k.probed in k.maybe)
    out["login_all_s"] = round(login_s, 2)
    out.update(usage)
    out["_ledger"] = {k.conn.name: (k.confirmed, sorted(k.maybe)) for k in keepers[:active]}
    return out


def verify_titles(db: Path, ledger: dict[str, tuple[int, list[int]]]) -> tuple[int, list[str]]:
    """(lost, samples): each active player's title in the stopped server's database must be
    the last one it was told it had."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = dict(conn.execute("SELECT name, settings FROM account").fetchall())
    finally:
        conn.close()
    lost, samples = 0, []
    for name, (confirmed, _maybe) in ledger.items():
        title = json.loads(rows.get(name) or "{}").get("title", "")
        have = int(title[1:]) if re.fullmatch(r"v\d+", title) else 0
        if have < confirmed:
            lost += 1
            if len(samples) < 4:
                samples.append(f"{name}: database has {title or 'no title'!r}, told v{confirmed}")
    return lost, samples
