"""`python server.py`, exactly, with two knobs the benchmark needs.

    python -m bench.serve [--limit NAME=VALUE ...] -- run --port 0 --db FILE

`--limit` sets one of `mud.config.Limits` (e.g. the per-player command throttle, which
otherwise caps 200 players at 200 x 20 = 4,000 commands/s whatever the server could do)
through the server's own configuration mechanism: the environment variable
DREAMWAVE_LIMITS__<NAME>, exactly as an admin would. BENCH_NO_UVLOOP=1 hides uvloop so the
server falls back to asyncio's own loop. Everything else is server.py's own code path: same
CLI, same start-up, same logging. The connection caps are always lifted (LOOPBACK_LIMITS):
all clients share one address.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Every benchmark client comes from 127.0.0.1, thousands at once: the connection caps meant
# for the internet (10 per address, 500 at the login screen) are lifted unless --limit says.
# The per-address login limit goes too: it also bounds the checks in flight from one address
# (5), so a thousand returning players behind one address would queue for their turn.
LOOPBACK_LIMITS: dict[str, float] = {
    "max_connections_per_address": 100_000,
    "max_unauthenticated": 100_000,
    "login_failures": 100_000,
    # and the quotas on what one address or dreamer adds to the database: the benchmark makes
    # thousands of accounts from one address, and its dreamers weave all the time
    "accounts_per_address_per_hour": 100_000,
    "accounts_per_hour": 100_000,
    "letters_per_hour": 100_000,
    "loops_per_hour": 100_000,
    "weaves_per_minute": 100_000,
}


def limit_environment(pairs: list[str]) -> dict[str, str]:
    """NAME=VALUE pairs as the environment variables that set those limits."""
    from mud.config import Limits, env_name

    known = Limits.model_fields
    out: dict[str, str] = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        if name not in known:
            raise SystemExit(f"bench.serve: unknown limit {name!r}; known: {', '.join(known)}")
        out[env_name(f"limits.{name}")] = value
    return out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ours, rest = (
        (argv[: argv.index("--")], argv[argv.index("--") + 1 :]) if "--" in argv else ([], argv)
    )
    parser = argparse.ArgumentParser(prog="bench.serve")
    parser.add_argument(
        "--limit", action="append", default=[], help="NAME=VALUE of mud.config.Limits"
    )
    args = parser.parse_args(ours)
    sys.path.insert(0, str(ROOT))
    if os.environ.get("BENCH_NO_UVLOOP"):
        sys.modules["uvloop"] = None  # type: ignore[assignment]  (import now raises ImportError)
    limits = limit_environment([f"{k}={v}" for k, v in LOOPBACK_LIMITS.items()] + args.limit)
    os.environ.update(limits)
    try:
        import uvloop  # type: ignore[import-not-found]  # noqa: F401

        loop = "uvloop"
    except ImportError:
        loop = "asyncio"
    detail = ", ".join(f"{k}={v}" for k, v in limits.items()) or "default limits"
    print(f"bench.serve: event loop {loop}; {detail}", file=sys.stderr, flush=True)

    import server

    # The benchmark measures the defaults and its own limits, never the ./dreamwave.toml (nor
    # the log file it names) of whoever runs it: the server and its children run from an
    # empty folder (every path the benchmark gives is absolute).
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as empty:
        os.chdir(empty)
        return server.main(rest)


if __name__ == "__main__":
    sys.exit(main())
