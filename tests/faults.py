"""Storage faults for tests: a full disk, for real where we can mount one, or injected.

`FullDisk` puts a database on a small tmpfs of its own (where the tests run as root and the
sandbox allows `mount -t tmpfs`) and fills it with a filler file on demand, so SQLite's writes
fail with "database or disk is full" exactly as on a real full disk. Where mounting is
refused (or with env DREAMWAVE_TEST_NO_TMPFS=1), it falls back to a fault-injecting hook: the
server is started through this module
(`python -m tests.faults FLAG server.py args...`), and while the file FLAG exists every write
statement raises the same error SQLite gives on a full disk.

`inject(engine)` installs that hook on an in-process Store's engine.
"""

from __future__ import annotations

import contextlib
import os
import runpy
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "COMMIT")


def inject(engine: Engine, failing: Callable[[], bool]) -> None:
    """While `failing()`, every write statement on `engine` fails as on a full disk."""

    @event.listens_for(engine, "before_cursor_execute")
    def _full(_conn: Any, _cursor: Any, statement: str, params: Any, *_rest: Any) -> None:
        if failing() and statement.lstrip().upper().startswith(WRITES):
            raise OperationalError(
                statement, params, sqlite3.OperationalError("database or disk is full")
            )


class FullDisk:
    """A folder for a database whose disk the test can fill and free."""

    def __init__(self, base: Path, size_mb: int = 16) -> None:
        self.dir = base / "disk"
        self.dir.mkdir()
        self.flag = base / "disk-full.flag"
        self.filler = self.dir / "filler"
        self.mounted = False
        if not os.environ.get("DREAMWAVE_TEST_NO_TMPFS"):  # (1: try the fallback)
            res = subprocess.run(
                ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(self.dir)],
                capture_output=True,
            )
            self.mounted = res.returncode == 0

    def argv(self, *server_args: str) -> list[str]:
        """The command line that runs server.py (through the hook when not mounted)."""
        root = Path(__file__).resolve().parent.parent
        if self.mounted:
            return [sys.executable, str(root / "server.py"), *server_args]
        return [sys.executable, "-m", "tests.faults", str(self.flag), *server_args]

    def fill(self) -> None:
        if not self.mounted:
            self.flag.touch()
            return
        with open(self.filler, "ab", buffering=0) as f:  # until the disk is full
            for size in (1 << 20, 65536, 4096, 512, 1):
                with contextlib.suppress(OSError):
                    while True:
                        f.write(b"\0" * size)

    def free(self) -> None:
        self.flag.unlink(missing_ok=True)
        self.filler.unlink(missing_ok=True)

    def read_only(self) -> bool:
        """Make the disk read-only (False if it can't be: not mounted)."""
        if not self.mounted:
            return False
        cmd = ["mount", "-o", "remount,ro", str(self.dir)]
        return subprocess.run(cmd, capture_output=True).returncode == 0

    def close(self) -> None:
        with contextlib.suppress(OSError):  # (a read-only disk is unmounted as it is)
            self.free()
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.dir)], capture_output=True)


async def spawn(argv: list[str], cwd: Path, env: dict[str, str]) -> Any:
    """Start a server from `argv` and wait until it listens (like conftest.spawn_server)."""
    from tests.conftest import spawn_argv

    return await spawn_argv(argv, cwd, env)


def _main() -> None:
    """python -m tests.faults FLAG server.py-arguments...: run the server with the hook."""
    flag = Path(sys.argv[1])
    import mud.store.writer as writer

    make = writer.make_engine

    def make_engine(url: str) -> Engine:
        engine = make(url)
        inject(engine, flag.exists)
        return engine

    writer.make_engine = make_engine  # type: ignore[assignment]
    root = Path(__file__).resolve().parent.parent
    sys.argv = [str(root / "server.py"), *sys.argv[2:]]
    runpy.run_path(str(root / "server.py"), run_name="__main__")


if __name__ == "__main__":
    _main()
