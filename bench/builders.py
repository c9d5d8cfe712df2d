"""The builders workload: dig, describe, walk, open and link as fast as confirmations come.

A building command's reply is only sent once its change is committed (the Session holds
output until the Store reports the staged sequence durable), so a received reply is a
confirmed change. Each builder extends its own corridor, one cycle at a time:

    @dig Bench hall <b>-<k> = onward<b>, back  a room, an exit to it and one back
    @desc room#<new> = ...                     its description
    onward<b>                                  walk in (a move, not counted as a change)
    @open shortcut = room#<first>              an exit from the new room to the first one
    @link shortcut = room#<previous>           ...re-pointed at the previous room

Afterwards the database is read directly (sqlite3, while the server still runs) and every
confirmed change must be there: each room with its name and description, each shortcut
exit in its room pointing where the last confirmed @open/@link said.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.client import CommandFailed, Conn, Counters, watchdog
from bench.players import GENERIC_FAILURES, Endpoint, first_line, login_many
from bench.stats import Recorder
from bench.workloads import COMMAND_TIMEOUT, Probe

BUILDING_COMMANDS = ("@dig", "@desc", "@open", "@link")
ROOM_REF = re.compile(rb"\(room#(\d+)\)")
EXIT_REF = re.compile(rb"\(exit#(\d+)\)")


@dataclass
class Ledger:
    """What one builder was told: the state the database must now hold."""

    rooms: dict[int, tuple[str, str]] = field(default_factory=dict)  # id -> (name, desc)
    exits: dict[int, tuple[int, int]] = field(default_factory=dict)  # id -> (room, dest)


class Builder:
    def __init__(self, conn: Conn, index: int, rec: Recorder) -> None:
        self.conn = conn
        self.index = index
        self.rec = rec
        self.ledger = Ledger()
        self.changes = 0
        self.first_room = 0
        self.here = 0  # the room we stand in, once we have dug one

    async def do(self, kind: str, line: str, count: bool, w0: float, w1: float) -> bytes | None:
        sent, done, resp = await self.conn.command(line)
        for failure in GENERIC_FAILURES:
            if failure in resp:
                self.rec.error(kind, f"{line!r} -> {first_line(resp, failure)}")
                return None
        if w0 <= sent and done < w1:
            self.rec.add(kind, sent, done - sent)
            if count:
                self.changes += 1
        return resp

    async def cycle(self, k: int, w0: float, w1: float) -> None:
        name = f"Bench hall {self.index}-{k}"
        onward = f"onward{self.index}"  # builders all start in the Nexus: one name each
        resp = await self.do("@dig", f"@dig {name} = {onward}, back", True, w0, w1)
        m = ROOM_REF.search(resp or b"")
        if m is None:
            self.rec.error("@dig", f"no room#id in {(resp or b'')[:80]!r}")
            return
        new = int(m.group(1))
        self.ledger.rooms[new] = (name, "")
        desc = f"Built by bench builder {self.index}, step {k}."
        if await self.do("@desc", f"@desc room#{new} = {desc}", True, w0, w1) is not None:
            self.ledger.rooms[new] = (name, desc)
        if await self.do("move", onward, False, w0, w1) is None:
            return
        previous, self.here = self.here or new, new
        self.first_room = self.first_room or new
        resp = await self.do("@open", f"@open shortcut = room#{self.first_room}", True, w0, w1)
        m = EXIT_REF.search(resp or b"")
        if m is None:
            self.rec.error("@open", f"no exit#id in {(resp or b'')[:80]!r}")
            return
        ex = int(m.group(1))
        self.ledger.exits[ex] = (new, self.first_room)
        if await self.do("@link", f"@link shortcut = room#{previous}", True, w0, w1) is not None:
            self.ledger.exits[ex] = (new, previous)


async def builders(
    endpoint: Endpoint, names: list[str], probe: Probe, duration: float, warmup: float, db: Path
) -> dict[str, object]:
    counters = Counters(count_speech=False)
    rec = Recorder()
    conns = await login_many(endpoint, names, counters)
    crew = [Builder(c, i, rec) for i, c in enumerate(conns)]
    dog = asyncio.create_task(watchdog(conns, COMMAND_TIMEOUT))
    start = time.perf_counter()
    w0, w1 = start + warmup, start + warmup + duration
    windows: tuple = ()

    async def work(b: Builder) -> None:
        k = 0
        while time.perf_counter() < w1 and not b.conn.closed:
            k += 1
            try:
                await b.cycle(k, w0, w1)
            except CommandFailed as err:
                rec.error("lost", str(err))
                return

    async def window() -> None:
        nonlocal windows
        await asyncio.sleep(w0 - time.perf_counter())
        windows = probe.open()

    await asyncio.gather(window(), *(work(b) for b in crew))
    usage = probe.close(windows)
    dog.cancel()
    changes = sum(b.changes for b in crew)
    lost, checked = verify(db, [b.ledger for b in crew])
    for c in conns:
        c.close()
    out: dict[str, object] = {"players": len(conns), "duration_s": duration}
    out.update(rec.summary(w0, w1))
    out["changes"] = changes
    out["changes_per_s"] = round(changes / duration, 1)
    out["cmds_per_s"] = round(rec.count(w0, w1) / duration, 1)
    out["verified_objects"] = checked
    out["lost"] = lost
    if lost:
        out["errors"] = int(out["errors"]) + lost  # type: ignore[call-overload]
    out.update(usage)
    return out


def verify(db: Path, ledgers: list[Ledger]) -> tuple[int, int]:
    """(missing or wrong, checked): every confirmed room and exit, read from the database."""
    rooms = {rid: v for ledger in ledgers for rid, v in ledger.rooms.items()}
    exits = {eid: v for ledger in ledgers for eid, v in ledger.exits.items()}
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        found_rooms = {
            r[0]: (r[1], r[2]) for r in conn.execute("SELECT id, name, description FROM room")
        }
        found_exits = {
            r[0]: (r[1], r[2]) for r in conn.execute("SELECT id, room_id, dest_id FROM exit")
        }
    finally:
        conn.close()
    lost = sum(1 for rid, v in rooms.items() if found_rooms.get(rid) != v)
    lost += sum(1 for eid, v in exits.items() if found_exits.get(eid) != v)
    return lost, len(rooms) + len(exits)
