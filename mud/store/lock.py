"""One writer per database: a lock held by whoever writes to it (the server, or a CLI tool).

The server keeps the world in memory and allocates ids itself, so a second writer (another
server, or `create-admin` while the server runs) could hand out the same ids and overwrite
rows. SQLite files get an exclusive `flock` on `<file>.lock` (released by the kernel even on
kill -9); PostgreSQL gets a session advisory lock. Other databases are not guarded.
"""

from __future__ import annotations

import fcntl
import logging
import os
from typing import IO

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger("dreamwave.store")

ADVISORY_KEY = 0x44574D55  # "DWMU": Dreamwave's advisory lock id in PostgreSQL


class DatabaseInUse(Exception):
    """Another Dreamwave process is writing to this database."""


class WriterLock:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._file: IO[str] | None = None
        self._conn: Connection | None = None  # (PostgreSQL: holds the advisory lock)

    def acquire(self) -> None:
        dialect = self.engine.dialect.name
        if dialect == "sqlite":
            path = self.engine.url.database
            if path and path.startswith("file:"):  # a URI filename (?mode=ro&uri=true)
                path = path[5:].split("?", 1)[0]
            if not path or path == ":memory:":
                return
            lock_path = f"{path}.lock"
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)  # (owner only)
            f = os.fdopen(fd, "a+")  # (held open for the process's life)
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                f.seek(0)
                holder = f.read().strip() or "another process"
                f.close()
                raise DatabaseInUse(f"Dreamwave ({holder}) is already using {path}.") from None
            f.seek(0)
            f.truncate()
            f.write(f"pid {os.getpid()}")
            f.flush()
            self._file = f
        elif dialect == "postgresql":
            conn = self.engine.connect()
            query = text("SELECT pg_try_advisory_lock(:k)")
            got = conn.execute(query, {"k": ADVISORY_KEY}).scalar()
            if not got:
                conn.close()
                raise DatabaseInUse("Dreamwave is already using this database.")
            self._conn = conn
        else:
            log.warning("no writer lock for %s databases: run one Dreamwave per database", dialect)

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None
