"""The Store's batch writer on a real SQLite file: multi-row upserts, chunking, deletes."""

from __future__ import annotations

import json
import re
import sqlite3

import pytest

import mud.store.writer
from mud.store import Store


def player_row(n: int, room: int = 1, name: str | None = None) -> dict[str, object]:
    name = name or f"Dreamer{n}"
    return {
        "id": n, "name": name, "name_key": name.lower(), "password_hash": "x", "role": "player",
        "room_id": room, "settings": json.dumps({"n": n}), "created_at": 1.0, "last_login": 2.0,
        "description": "",
    }  # fmt: skip


@pytest.fixture
def store(tmp_path):
    s = Store(f"sqlite:///{tmp_path / 'w.db'}")
    s.migrate()
    yield s
    s.engine.dispose()


def _rows(store: Store, sql: str) -> list[tuple[object, ...]]:
    db = sqlite3.connect(store.engine.url.database)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


@pytest.mark.parametrize("max_params", [30_000, 25], ids=["one-statement", "chunked"])
def test_a_batch_inserts_updates_and_deletes(store, monkeypatch, max_params):
    # 25 parameters fit two 10-column rows: 120 rows become 60 statements
    monkeypatch.setattr(mud.store.writer, "MAX_PARAMS", max_params)
    for n in range(1, 121):
        store.stage("account", n, player_row(n))
    store.write_now()
    assert _rows(store, "SELECT count(*), min(id), max(id) FROM account") == [(120, 1, 120)]

    # one batch: rows change (conflict -> update), rows go, new rows come
    for n in range(1, 121, 2):
        store.stage("account", n, player_row(n, room=7, name=f"Renamed{n}"))
    for n in range(2, 41, 2):
        store.stage("account", n, None)
    store.stage("account", 500, player_row(500))
    store.write_now()

    rows = {r[0]: r[1:] for r in _rows(store, "SELECT id, name, room_id, settings FROM account")}
    assert len(rows) == 120 - 20 + 1
    assert rows[1] == ("Renamed1", 7, '{"n": 1}')
    assert rows[119] == ("Renamed119", 7, '{"n": 119}')
    assert rows[42] == ("Dreamer42", 1, '{"n": 42}')
    assert 2 not in rows and 40 not in rows
    assert rows[500][0] == "Dreamer500"


def test_text_with_quotes_and_unicode_is_stored_as_is(store):
    tricky = 'O\'Brien said "hi" -- ; DROP TABLE account; ☾ ✨ \x00end'
    row = player_row(1)
    row["description"] = tricky
    store.stage("account", 1, row)
    store.stage("meta", "motd", {"key": "motd", "value": tricky})
    store.write_now()
    assert _rows(store, "SELECT description FROM account") == [(tricky,)]
    assert _rows(store, "SELECT value FROM meta WHERE key = 'motd'") == [(tricky,)]


async def test_staged_changes_in_a_burst_all_become_durable(store):
    # Batches start at most every COMMIT_GAP: a burst is grouped, and every change staged
    # during the gap still reaches the database and its callback.
    import asyncio

    store.start(asyncio.get_running_loop())
    seqs = [store.stage("account", n, player_row(n)) for n in range(1, 51)]
    await store.durable(seqs[-1])
    later = store.stage("account", 99, player_row(99))
    await asyncio.wait_for(store.durable(later), 5)
    await store.close()
    assert _rows(store, "SELECT count(*) FROM account") == [(51,)]


async def test_an_outage_logs_one_line_then_how_it_recovered(store, caplog):
    # A full disk makes every retry fail: one ERROR for the outage (with the error, no
    # traceback), then one line with how long it lasted and how many retries it took.
    import asyncio
    import logging

    from tests.faults import inject

    full = {"on": True}
    inject(store.engine, lambda: full["on"])
    store.start(asyncio.get_running_loop())
    with caplog.at_level(logging.INFO, logger="dreamwave.store"):
        seq = store.stage("account", 1, player_row(1))
        for _ in range(200):  # a few retries
            await asyncio.sleep(0.01)
        assert store.committed_seq < seq
        assert store.failing == "database or disk is full"
        full["on"] = False
        await asyncio.wait_for(store.durable(seq), 10)
    failing = [r for r in caplog.records if "failing" in r.getMessage()]
    assert len(failing) == 1 and failing[0].exc_info is None
    assert "database or disk is full" in failing[0].getMessage()
    recovered = [r for r in caplog.records if "recovered" in r.getMessage()]
    assert len(recovered) == 1
    assert re.search(r"recovered after \d+\.\d s, [1-9]\d* retries", recovered[0].getMessage())
    assert store.failing is None
    await store.close()
    assert _rows(store, "SELECT count(*) FROM account") == [(1,)]


async def test_close_with_a_timeout_gives_up_on_a_failing_database(store):
    import asyncio

    from tests.faults import inject

    inject(store.engine, lambda: True)
    store.start(asyncio.get_running_loop())
    store.stage("account", 1, player_row(1))
    assert await asyncio.wait_for(store.close(timeout=0.3), 10) is False
    assert store.unsaved == 1
    assert _rows(store, "SELECT count(*) FROM account") == [(0,)]
