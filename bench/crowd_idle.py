"""The crowd's idle dreamers, held by a process of their own.

    python -m bench.crowd_idle HOST PORT < names   (one name a line, then the input stays open)

Nine in ten of the crowd only read: the room lines of everyone around them. Read in the same
process as the active players, those reads delayed the active players' replies inside the
load generator (its one event loop fell behind), which the round trips then counted as the
server's. Here they log in, print `ready N` once all are in, read until the input closes,
then print their totals as JSON (`bytes`, `lines`, `tokens`, `moves`, `connected`).
"""

from __future__ import annotations

import asyncio
import json
import sys

from bench.client import Counters
from bench.players import Endpoint, login_many


async def hold(host: str, port: int, names: list[str]) -> None:
    counters = Counters(count_speech=True)
    conns = await login_many(Endpoint(host, port), names, counters)
    print(f"ready {len(conns)}", flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes our input
    b, lines, tokens, moves = counters.snapshot()
    connected = sum(1 for c in conns if not c.closed)
    for c in conns:
        c.close()
    print(json.dumps({"bytes": b, "lines": lines, "tokens": tokens, "moves": moves,
                      "connected": connected}), flush=True)  # fmt: skip


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    names = []
    for line in sys.stdin:
        if not line.strip():
            break
        names.append(line.strip())
    try:
        import uvloop  # type: ignore[import-not-found]

        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    runner(hold(host, port, names))


if __name__ == "__main__":
    main()
