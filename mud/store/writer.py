"""The Store: one writer thread, group commit, and confirmation callbacks.

The event loop never waits on the database. Mutations are *staged* as full rows keyed by
(table, id); repeated changes to one row before it is written collapse into one. A single
thread takes everything staged so far, writes it in one transaction, and then tells the loop
which staging sequence number is now durable. Sessions hold a player's confirmation until the
sequence their command staged is committed, so nothing a player was told is ever lost to a
crash, while hundreds of commands share one commit.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, delete, event, insert, select, update
from sqlalchemy.engine import URL, Connection, Engine

from mud.store.lock import WriterLock
from mud.store.models import LOAD_RECENT, TABLES

log = logging.getLogger("dreamwave.store")


class DatabaseUnavailable(Exception):
    """The database can't be opened or written at start-up (read-only, missing, full...)."""


def describe_error(err: BaseException) -> str:
    """The driver's own words for a database error, on one line."""
    orig = getattr(err, "orig", None) or err
    return " ".join(str(orig).split()) or type(orig).__name__


def _where(url: URL) -> str:
    return str(url.database) if url.get_backend_name() == "sqlite" else url.render_as_string()


Row = dict[str, Any]  # a table's columns by name (plain values; JSON columns as text)
RowKey = int | str  # a row's primary key (an id, or a name)
RETRY_DELAY_MAX = 2.0  # seconds between attempts when the database refuses a batch
SQLITE_BUSY_TIMEOUT_MS = 5000
COMMIT_GAP = 0.005  # seconds between the starts of two batches, at least


SQLITE_FILES = ("", "-wal", "-shm", "-journal", ".lock")  # a database file and its companions
OWNER_ONLY = 0o600


def owner_only_sqlite(path: str) -> None:
    """Make an SQLite file (before SQLite does) readable by its owner only, and take group
    and other access away from one that has it (its -wal and -shm too): it holds password
    hashes and private letters. SQLite gives the -wal and -shm the database file's mode."""
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, OWNER_ONLY))
    except OSError:
        return  # (opening it will say what is wrong)
    for name in (f"{path}{suffix}" for suffix in SQLITE_FILES):
        try:
            st = os.stat(name)
            if st.st_mode & 0o077 and st.st_uid == os.getuid():
                os.chmod(name, OWNER_ONLY)
                log.warning("%s could be read by other users; it is now its owner's only", name)
        except OSError:
            continue


def make_engine(url: str) -> Engine:
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"check_same_thread": False}
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        owner_only_sqlite(engine.url.database or "")

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            # WAL + NORMAL: a commit is in the OS before we confirm it, so it survives
            # kill -9 of the server (only a power cut can lose the last few batches).
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cur.close()

    return engine


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (runs at every start)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


# Upserts are written as multi-row `INSERT ... VALUES (...), (...) ON CONFLICT DO UPDATE`
# in the driver's own SQL, not as an executemany: the sqlite3 module lets go of the GIL for
# every row it steps, and while the event loop is busy, getting the GIL back takes up to a
# switch interval each time, so a 500-row batch took hundreds of milliseconds (and every
# player waiting on that commit with it). One statement per chunk takes it back once.
# Parameters per statement, under SQLite's limit (32,766 since 3.32) and PostgreSQL's.
MAX_PARAMS = 30_000
_PLACEHOLDER = {"qmark": "?", "format": "%s", "pyformat": "%s"}
_UPSERT_SQL: dict[tuple[str, str, tuple[str, ...], int], str] = {}


def _upsert_sql(conn: Connection, table_name: str, cols: tuple[str, ...], nrows: int) -> str:
    key = (conn.dialect.name, table_name, cols, nrows)
    sql = _UPSERT_SQL.get(key)
    if sql is None:
        q = conn.dialect.identifier_preparer.quote
        table = TABLES[table_name]
        pk = next(iter(table.primary_key.columns)).name
        mark = _PLACEHOLDER[conn.dialect.paramstyle]
        one = "(" + ", ".join([mark] * len(cols)) + ")"
        updates = ", ".join(f"{q(c)} = excluded.{q(c)}" for c in cols if c != pk)
        sql = (
            f"INSERT INTO {q(table_name)} ({', '.join(q(c) for c in cols)}) "
            f"VALUES {', '.join([one] * nrows)} ON CONFLICT ({q(pk)}) "
            + (f"DO UPDATE SET {updates}" if updates else "DO NOTHING")
        )
        if nrows <= 64:  # the common small batches; kept bounded (tables x 64 sizes)
            _UPSERT_SQL[key] = sql
    return sql


def _upsert(conn: Connection, table_name: str, rows: list[Row]) -> None:
    dialect = conn.dialect.name
    if dialect in ("sqlite", "postgresql") and conn.dialect.paramstyle in _PLACEHOLDER:
        by_cols: dict[tuple[str, ...], list[Row]] = {}
        for row in rows:
            by_cols.setdefault(tuple(row), []).append(row)
        for cols, group in by_cols.items():
            per = max(1, MAX_PARAMS // len(cols))
            for i in range(0, len(group), per):
                chunk = group[i : i + per]
                params = tuple(v for row in chunk for v in row.values())
                conn.exec_driver_sql(_upsert_sql(conn, table_name, cols, len(chunk)), params)
        return
    table = TABLES[table_name]
    pk = next(iter(table.primary_key.columns)).name
    for row in rows:  # portable fallback for other databases
        res = conn.execute(update(table).where(table.c[pk] == row[pk]).values(**row))
        if not res.rowcount:
            conn.execute(insert(table).values(**row))


class Store:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.writer_lock = WriterLock(self.engine)
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._pending: dict[tuple[str, RowKey], Row | None] = {}
        self.staged_seq = 0  # bumped on every stage() (loop thread)
        self.committed_seq = 0  # highest seq known durable (loop thread)
        self._waiters: deque[tuple[int, Callable[[], None]]] = deque()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self.batches = 0
        self.rows_written = 0
        self.failing: str | None = None  # the error while database writes are failing
        self._give_up = threading.Event()  # shutdown stopped waiting: write nothing more

    # -- start-up (synchronous, before the server listens) --------------------------------
    def lock(self) -> None:
        """Become the database's one writer (raises DatabaseInUse if another process is,
        DatabaseUnavailable if the lock file can't be made)."""
        try:
            self.writer_lock.acquire()
        except OSError as err:
            raise DatabaseUnavailable(
                f"Can't create the lock file {err.filename or ''} next to the database "
                f"({err.strerror or err}): the database's folder must be writable."
            ) from None

    def dispose(self) -> None:
        """Release the writer lock and the connections (tools that never start the thread)."""
        self.writer_lock.release()
        self.engine.dispose()

    def migrate(self) -> None:
        """Bring the schema up to date and check the database takes writes (raises
        DatabaseUnavailable, one sentence, if it doesn't: read-only, missing folder, full)."""
        from sqlalchemy.exc import DBAPIError

        try:
            migrate(self.engine)
            with self.engine.connect() as conn:  # a write that is rolled back
                conn.execute(insert(TABLES["meta"]).values(key="dreamwave.write-check", value=""))
                conn.rollback()
        except (DBAPIError, OSError) as err:
            raise DatabaseUnavailable(
                f"Can't write to the database {_where(self.engine.url)} "
                f"({describe_error(err)}): check that it and its folder are writable and "
                "the disk isn't full."
            ) from None

    def load(self) -> dict[str, list[Row]]:
        out: dict[str, list[Row]] = {}
        with self.engine.connect() as conn:
            for table in TABLES.values():
                query = select(table)
                recent = LOAD_RECENT.get(table.name)
                if recent is not None:
                    pk = next(iter(table.primary_key.columns))
                    query = query.order_by(pk.desc()).limit(recent)
                rows = [dict(r._mapping) for r in conn.execute(query)]
                if recent is not None:
                    rows.reverse()
                out[table.name] = rows
        return out

    def write_now(self) -> None:
        """Write everything staged so far, synchronously (start-up and offline tools)."""
        from sqlalchemy.exc import DBAPIError

        with self._lock:
            batch, self._pending = self._pending, {}
        if batch:
            try:
                self._write(batch)
            except DBAPIError as err:
                raise DatabaseUnavailable(
                    f"Can't write to the database {_where(self.engine.url)} "
                    f"({describe_error(err)}); nothing was saved."
                ) from None
        self.committed_seq = self.staged_seq

    # -- run time ------------------------------------------------------------------------
    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._thread = threading.Thread(target=self._run, name="dreamwave-writer", daemon=True)
        self._thread.start()

    def stage(self, table: str, key: RowKey, row: Row | None) -> int:
        """Record a full row (or None to delete it). Returns the staging sequence."""
        with self._lock:
            self._pending[(table, key)] = row
            self.staged_seq += 1
            seq = self.staged_seq
            self._wake.notify()
        return seq

    def when_durable(self, seq: int, callback: Callable[[], None]) -> None:
        """Call `callback` on the loop once everything up to `seq` is committed."""
        if seq <= self.committed_seq:
            callback()
        else:
            self._waiters.append((seq, callback))

    async def durable(self, seq: int | None = None) -> None:
        seq = self.staged_seq if seq is None else seq
        if seq <= self.committed_seq:
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def release() -> None:
            if not fut.done():
                fut.set_result(None)

        self.when_durable(seq, release)
        await fut

    async def close(self, timeout: float | None = None) -> bool:
        """Write everything staged, then stop the thread. With `timeout`, wait that many
        seconds at most: then the writer stops retrying and what it couldn't write is lost
        (nobody was told of it). True if everything staged was written."""
        try:
            await asyncio.wait_for(self.durable(), timeout)
            saved = True
        except TimeoutError:
            saved = False
            self._give_up.set()
        with self._lock:
            self._stopping = True
            self._wake.notify()
        if self._thread is not None:
            # (a write in flight may take SQLite's busy timeout to fail)
            wait = None if saved else SQLITE_BUSY_TIMEOUT_MS / 1000 + 1
            await asyncio.get_running_loop().run_in_executor(None, self._thread.join, wait)
        if saved or self._thread is None or not self._thread.is_alive():
            self.dispose()
        else:
            self.writer_lock.release()  # (the thread may still hold a connection)
        return saved

    @property
    def unsaved(self) -> int:
        """Staged changes not (known to be) committed."""
        return self.staged_seq - self.committed_seq

    def _committed(self, seq: int) -> None:
        if seq > self.committed_seq:
            self.committed_seq = seq
        waiters = self._waiters
        while waiters and waiters[0][0] <= self.committed_seq:
            _, callback = waiters.popleft()
            try:
                callback()
            except Exception:
                log.exception("commit callback failed")

    def _run(self) -> None:
        delay = 0.05
        last = 0.0
        while True:
            with self._lock:
                while not self._pending and not self._stopping:
                    self._wake.wait()
                if not self._pending and self._stopping:
                    return
            # Group commit: at most one batch per COMMIT_GAP. Each batch takes the GIL from
            # the event loop several times; under load, hundreds of tiny batches a second
            # cost the loop more than the few milliseconds a change may wait here.
            gap = COMMIT_GAP - (time.monotonic() - last)
            if gap > 0 and not self._stopping:
                time.sleep(gap)
            last = time.monotonic()
            with self._lock:
                batch, self._pending = self._pending, {}
                seq = self.staged_seq
            failed_at = 0.0
            retries = 0
            while True:
                if self._give_up.is_set():
                    return  # shutdown gave up on these changes (nobody was told of them)
                try:
                    self._write(batch)
                    break
                except Exception as err:
                    # Never drop a change: keep the batch and try again, merging anything
                    # newer on top so the latest row state wins. One log line per outage.
                    if not retries:
                        failed_at = time.monotonic()
                        self.failing = describe_error(err)
                        log.error(
                            "database writes are failing (%s: %s); changes wait, unconfirmed, "
                            "and are retried until the database takes them",
                            type(err).__name__, self.failing,
                        )  # fmt: skip
                    retries += 1
                    self._give_up.wait(delay)
                    delay = min(delay * 2, RETRY_DELAY_MAX)
                    with self._lock:
                        batch.update(self._pending)
                        self._pending = {}
                        seq = self.staged_seq
            if retries:
                self.failing = None
                delay = 0.05
                log.warning(
                    "database writes recovered after %.1f s, %d retries",
                    time.monotonic() - failed_at, retries,
                )  # fmt: skip
            assert self._loop is not None
            try:
                self._loop.call_soon_threadsafe(self._committed, seq)
            except RuntimeError:  # loop closed during shutdown
                return

    def _write(self, batch: dict[tuple[str, RowKey], Row | None]) -> None:
        upserts: dict[str, list[Row]] = {}
        deletes: dict[str, list[RowKey]] = {}
        for (table_name, key), row in batch.items():
            if row is None:
                deletes.setdefault(table_name, []).append(key)
            else:
                upserts.setdefault(table_name, []).append(row)
        with self.engine.begin() as conn:
            # Deletes first, so a row may take a unique key (a zone's, say) that a row
            # deleted in the same batch had. A key is never both deleted and upserted.
            for name, table in reversed(TABLES.items()):
                if name in deletes:
                    pk = next(iter(table.primary_key.columns))
                    conn.execute(delete(table).where(pk.in_(deletes[name])))
            for name in TABLES:
                if name in upserts:
                    _upsert(conn, name, upserts[name])
        self.batches += 1
        self.rows_written += len(batch)
