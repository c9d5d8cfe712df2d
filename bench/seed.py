"""Prepare a benchmark database through the project's own World/Store API.

    python -m bench.seed DB SPEC_JSON

Creating thousands of accounts by logging in would cost ~15 ms of argon2 each, so accounts
are written straight into the database before the server starts: the default world is
seeded as on a first start (`open_world`), ONE password is hashed and its hash reused for
every bench account, and players are placed where the workload wants them. SPEC_JSON:

    {"groups": [{"prefix": "Walker", "count": 2000, "place": "spread", "role": "player"}],
     "grid": 0}

place is "spread" (round-robin over every room), "nexus", or a room key such as
"festival_grounds". grid N adds an N x N block of rooms linked north/south/east/west
(the start-up workload's 10,000-room world). Runs in its own process so the load
generator never carries the engine's objects.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-password-1"  # every bench account's password
LETTERS = "abcdefghijklmnopqrstuvwxyz"
NAME_DIGITS = 4  # 26**4 = 456,976 names per prefix


def bench_name(prefix: str, i: int) -> str:
    """Names are letters only (the login rules): Walker + base-26 index, e.g. Walkeraaab."""
    digits = []
    for _ in range(NAME_DIGITS):
        i, r = divmod(i, 26)
        digits.append(LETTERS[r])
    return prefix + "".join(reversed(digits))


def build_grid(world: object, size: int) -> int:
    """An N x N block of rooms, each linked to its neighbours both ways. Returns rooms made."""
    grid = [
        [
            world.create_room(  # type: ignore[attr-defined]
                f"Dreamfield {x}-{y}",
                "A field of slow grey grass under a sky that keeps changing its mind.",
                zone="dreamfields",
            )
            for x in range(size)
        ]
        for y in range(size)
    ]
    for y in range(size):
        for x in range(size):
            room = grid[y][x]
            if x + 1 < size:
                world.create_exit(room, "east", grid[y][x + 1])  # type: ignore[attr-defined]
                world.create_exit(grid[y][x + 1], "west", room)  # type: ignore[attr-defined]
            if y + 1 < size:
                world.create_exit(room, "south", grid[y + 1][x])  # type: ignore[attr-defined]
                world.create_exit(grid[y + 1][x], "north", room)  # type: ignore[attr-defined]
    if size:
        world.create_exit(world.nexus, "dreamfields", grid[0][0])  # type: ignore[attr-defined]
        world.create_exit(grid[0][0], "nexus", world.nexus)  # type: ignore[attr-defined]
    return size * size


def seed(db: Path, spec: dict[str, object]) -> dict[str, object]:
    sys.path.insert(0, str(ROOT))
    from mud.core import auth
    from mud.core.app import open_world

    t0 = time.perf_counter()
    store, world = open_world(str(db))
    grid = int(spec.get("grid", 0))  # type: ignore[call-overload]
    if grid:
        world.create_zone("dreamfields", "The Dreamfields")
    made_rooms = build_grid(world, grid)
    hashed = auth.hash_password_sync(PASSWORD)
    rooms = sorted(world.rooms.values(), key=lambda r: r.id)
    accounts = 0
    for group in spec.get("groups", []):  # type: ignore[attr-defined]
        place = group.get("place", "nexus")
        fixed = None if place == "spread" else world.rooms_by_key[place]
        for i in range(int(group["count"])):
            p = world.create_player(
                bench_name(group["prefix"], i), hashed, group.get("role", "player")
            )
            p.room = fixed or rooms[i % len(rooms)]
            world.save(p)  # the staged row is replaced, so one row per account
            accounts += 1
    store.write_now()
    store.engine.dispose()
    return {
        "rooms": len(world.rooms),
        "grid_rooms": made_rooms,
        "exits": len(world.exits),
        "accounts": accounts,
        "seconds": round(time.perf_counter() - t0, 2),
    }


def main() -> int:
    db, spec = Path(sys.argv[1]), json.loads(sys.argv[2])
    print(json.dumps(seed(db, spec)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
