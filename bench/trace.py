"""Where one command goes, from the line arriving to the bytes leaving: a call recorder.

    python -m bench.trace "say hello"           # the path of a say, socket to socket
    python -m bench.trace "north" --show 40     # a staged move; list the first 40 hops

It starts the engine and one gateway in this process (as tests/conftest.py does), logs two
dreamers in over real sockets, then records every Python call made in the project's own
packages (`mud`, `world`, `commands`; every thread, the store's writer too) from the moment
the first dreamer's line is sent until both dreamers have received the result. It prints:

- **hops**: how many times the recorded call sequence moves from one source file to another;
- **crossings**: the hops between the top-level packages `world/`, `commands/` and `mud/`
  (and, inside `mud/`, between its sub-packages: `mud.link`, `mud.edge.telnet`, ...);
- **doubling back**: hops into a file the path had already visited and left;
- **commits waited on**: how many times the path waited for the store to commit.

The numbers describe structure, not speed (the recorder slows everything down); compare them
before and after a restructuring, on the same command.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("mud", "world", "commands")
WAITS = ("when_durable", "durable")  # the store's "tell me once this is committed"


@dataclass
class Recorder:
    """Calls into project files, in order, from every thread, while `on`."""

    on: bool = False
    # (thread, caller's file or "" from outside the project, called file, function)
    calls: list[tuple[str, str, str, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def profile(self, frame: FrameType, event: str, _arg: Any) -> None:
        if not self.on or event != "call":
            return
        rel = project_file(frame.f_code.co_filename)
        if not rel:
            return
        caller = project_file(frame.f_back.f_code.co_filename) if frame.f_back else ""
        with self._lock:
            self.calls.append((threading.current_thread().name, caller, rel, frame.f_code.co_name))


def project_file(path: str) -> str:
    """`mud/core/session.py` for a file of the project's packages; "" for anything else."""
    if not path.startswith(str(ROOT)):
        return ""
    rel = Path(path).relative_to(ROOT).as_posix()
    return rel if rel.startswith(PACKAGES) else ""


def region(rel: str) -> str:
    """The package a file counts in: `world`, `commands`, or `mud.<sub-package or module>`."""
    parts = rel.removesuffix(".py").split("/")
    if parts[0] != "mud":
        return parts[0]
    return "mud." + parts[1] if len(parts) > 1 else "mud"


def measure(calls: list[tuple[str, str, str, str]]) -> dict[str, Any]:
    """Hops, crossings and doubling back of the main thread's path; other threads apart.
    A hop is a call from one project file into another; a call from outside the project
    (the event loop running a callback, a library calling back) is an entry, not a hop."""
    main = [(c, f, fn) for t, c, f, fn in calls if t == "MainThread"]
    hops: list[tuple[str, str, str]] = []
    visited: set[str] = set()
    back = entries = 0
    crossings = Counter[tuple[str, str]]()
    for caller, cur, fn in main:
        if not caller:
            entries += 1
        if caller == cur or not caller:
            visited.add(cur)
            continue
        hops.append((caller, cur, fn))
        if cur in visited:
            back += 1
        visited.update((caller, cur))
        top_a, top_b = region(caller).split(".")[0], region(cur).split(".")[0]
        if top_a != top_b:
            crossings[(top_a, top_b)] += 1
    others = Counter(t for t, _c, _f, _fn in calls if t != "MainThread")
    waits = sum(1 for _t, _c, f, fn in calls if fn in WAITS and f.startswith("mud/store"))
    return {
        "calls": len(main),
        "entries": entries,
        "files": len({f for _c, f, _fn in main}),
        "hops": len(hops),
        "crossings": sum(crossings.values()),
        "crossings_by_pair": {f"{a}->{b}": n for (a, b), n in sorted(crossings.items())},
        "doubling_back": back,
        "commit_waits": waits,
        "other_threads": dict(others),
        "path": hops,
    }


async def trace(line: str) -> dict[str, Any]:
    from mud.config import Settings
    from tests.client import login
    from tests.conftest import start_in_process

    rec = Recorder()
    sys.setprofile(rec.profile)
    threading.setprofile(rec.profile)
    with tempfile.TemporaryDirectory(prefix="dreamwave-trace-") as tmp:
        settings = Settings(host="127.0.0.1", port=0, db=f"sqlite:///{tmp}/trace.db")
        settings.link.socket = f"{tmp}/link/engine.sock"
        app, gateway = await start_in_process(settings)
        try:
            actor = await login(app.port, "Tracer")
            witness = await login(app.port, "Witness")
            await asyncio.sleep(0.3)  # the arrivals' lines are out of the way
            mark_a, mark_w = len(actor.text), len(witness.text)
            rec.on = True
            actor.send(line)
            await actor.expect(r"\n?> ")  # the actor's result and prompt
            await _settle(witness, mark_w)
            rec.on = False
            shown = actor.text[mark_a:].strip()
            await actor.close()
            await witness.close()
        finally:
            rec.on = False
            sys.setprofile(None)
            threading.setprofile(None)  # type: ignore[arg-type]
            await app.stop()
            await asyncio.wait_for(gateway.stopped.wait(), 5)
    out = measure(rec.calls)
    out["line"] = line
    out["shown"] = shown[:200]
    return out


async def _settle(client: Any, mark: int, quiet: float = 0.2) -> None:
    """Wait until `client` has received something after `mark` and then nothing for `quiet`."""
    for _ in range(50):
        await asyncio.sleep(quiet)
        if len(client.text) > mark:
            size = len(client.text)
            await asyncio.sleep(quiet)
            if len(client.text) == size:
                return


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.trace", description=__doc__.split("\n")[0])
    parser.add_argument("line", help='the command to trace, e.g. "say hello"')
    parser.add_argument("--show", type=int, default=0, help="list the first N hops")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    out = asyncio.run(trace(args.line))
    print(f"{out['line']!r}: {out['hops']} hops between {out['files']} files "
          f"({out['calls']} calls, {out['entries']} entries from the event loop), "
          f"{out['crossings']} package crossings, "
          f"{out['doubling_back']} doubling back, {out['commit_waits']} commit waits")  # fmt: skip
    print("crossings:", ", ".join(f"{k} {v}" for k, v in out["crossings_by_pair"].items()))
    if out["other_threads"]:
        print("other threads:", ", ".join(f"{k} {v}" for k, v in out["other_threads"].items()))
    for prev, cur, fn in out["path"][: args.show]:
        print(f"  {prev} -> {cur}:{fn}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
