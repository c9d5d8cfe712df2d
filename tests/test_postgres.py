"""PostgreSQL through `--db`: a throwaway cluster, the Store's batch writer, and the real
server process (kill -9, restart, one writer per database).

Skipped when PostgreSQL's server programs or the `psycopg` driver are missing; `.ci/run`
installs the first from Debian and the test extra the second.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, server_env, spawn_server
from tests.test_persistence import check_the_world_remembers, play_a_little, stop_process
from tests.test_store import player_row

INITDB = next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))), shutil.which("initdb"))
try:
    import psycopg
except ImportError:  # pragma: no cover - the test extra installs it
    psycopg = None

pytestmark = pytest.mark.skipif(
    INITDB is None or psycopg is None, reason="needs PostgreSQL (initdb) and psycopg"
)


def _as_postgres(argv: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its programs as the `postgres` user then."""
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "postgres", "--", *argv]


@pytest.fixture(scope="module")
def pg_cluster() -> Iterator[tuple[str, int]]:
    """A PostgreSQL cluster of our own on a Unix socket: (socket dir, port)."""
    # (not under pytest's tmp_path: as root, that is closed to the postgres user)
    base = Path(tempfile.mkdtemp(prefix="dreamwave-pg-"))
    data, sock = base / "data", base / "sock"
    data.mkdir()
    sock.mkdir()
    if os.geteuid() == 0:
        os.chmod(base, 0o755)
        shutil.chown(data, "postgres")
        shutil.chown(sock, "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    bindir = Path(INITDB).parent  # type: ignore[arg-type]
    subprocess.run(
        _as_postgres([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]),
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    opts = f"-k {sock} -p {port} -c listen_addresses= -c fsync=off"
    subprocess.run(
        _as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-w", "start",
                      "-l", str(data / "log")]),
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    try:
        yield str(sock), port
    finally:
        subprocess.run(
            _as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True, timeout=60,
        )  # fmt: skip
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def pg_url(pg_cluster: tuple[str, int], request: pytest.FixtureRequest) -> str:
    """A fresh database in the cluster, as a SQLAlchemy URL."""
    sock, port = pg_cluster
    name = "dw_" + request.node.name.lower().replace("[", "_").replace("]", "")[:40]
    with psycopg.connect(host=sock, port=port, user="postgres", dbname="postgres",
                         autocommit=True) as conn:  # fmt: skip
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@/{name}?host={sock}&port={port}"


def test_batches_upsert_chunk_and_delete_on_postgresql(pg_url, monkeypatch):
    import mud.store.writer
    from mud.store import Store

    monkeypatch.setattr(mud.store.writer, "MAX_PARAMS", 25)  # 2 rows a statement
    store = Store(pg_url)
    try:
        store.migrate()
        for n in range(1, 61):
            row = player_row(n)
            row["description"] = "O'Brien's 100% \"quoted\" ☾"
            store.stage("account", n, row)
        store.write_now()
        for n in range(1, 61, 2):
            store.stage("account", n, player_row(n, room=7, name=f"Renamed{n}"))
        for n in range(2, 21, 2):
            store.stage("account", n, None)
        store.write_now()
        rows = {r["id"]: r for r in store.load()["account"]}
    finally:
        store.engine.dispose()
    assert len(rows) == 50
    assert (rows[1]["name"], rows[1]["room_id"]) == ("Renamed1", 7)
    assert (rows[22]["name"], rows[22]["room_id"]) == ("Dreamer22", 1)
    assert rows[60]["description"] == "O'Brien's 100% \"quoted\" ☾"
    assert 2 not in rows


async def test_the_server_on_postgresql_survives_kill_9_and_keeps_one_writer(pg_url, tmp_path):
    sp = await spawn_server(pg_url, cwd=tmp_path)
    try:
        a = await play_a_little(sp.port)
        second = subprocess.run(
            [sys.executable, str(ROOT / "server.py"), "run", "--port", "0", "--db", pg_url],
            capture_output=True, text=True, env=server_env(), timeout=60, cwd=tmp_path,
        )  # fmt: skip
        assert second.returncode == 1 and "already using" in second.stderr
        sp.kill_hard()  # SIGKILL right after the last confirmation
        await a.wait_closed()
    finally:
        stop_process(sp.proc)

    sp = await spawn_server(pg_url, cwd=tmp_path)  # the advisory lock died with the process
    try:
        a = await check_the_world_remembers(sp.port)
        await a.close()
    finally:
        stop_process(sp.proc)
