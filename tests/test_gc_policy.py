"""Garbage collection policy: full collections on a timer, not on heap growth."""

from __future__ import annotations

import gc
import logging

import server as server_cli


def test_tune_process_turns_off_growth_triggered_full_collections():
    saved = gc.get_threshold()
    try:
        server_cli.tune_process()
        young, middle, full = gc.get_threshold()
        assert (young, middle) == saved[:2]
        assert full >= server_cli.NO_AUTOMATIC_FULL_GC
    finally:
        gc.set_threshold(*saved)


async def test_the_app_runs_full_collections_itself(server, caplog):
    caplog.set_level(logging.INFO, logger="dreamwave")
    cycle: list[object] = []
    cycle.append(cycle)  # garbage only a cyclic collection can reclaim
    del cycle
    server._full_gc()
    line = next(r.getMessage() for r in caplog.records if "full garbage" in r.getMessage())
    assert "unreachable objects" in line and "sessions" in line
