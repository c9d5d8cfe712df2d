"""The benchmark works: `python -m bench.run --quick` runs every workload without errors.

This only checks that the suite runs and reports; it asserts nothing about timings (tests
never time things; the numbers belong in bench/README.md). The reload and crash workloads
replace the engine under load: nobody may be disconnected, every player must answer again,
and no confirmed change may be lost.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

WORKLOADS = (
    "startup", "baseline", "paced", "saturation", "festival", "channels", "login_storm", "builders",
    "reload", "crash", "webflood", "halfopen", "loginpool", "crowd",
)  # fmt: skip
QUICK_TIMEOUT = 600  # seconds; the quick run takes about a minute on two cores


def test_quick_benchmark_runs_every_workload_without_errors(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick", "--json", str(out)],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("DREAMWAVE_")},
        capture_output=True,
        text=True,
        timeout=QUICK_TIMEOUT,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["mode"] == "quick"
    assert report["machine"]["cores"]
    results = report["workloads"]
    for name in WORKLOADS:
        data = results[name]
        if "skipped_all" in data:
            assert data["skipped_all"].startswith("skipped: command not available")
            continue
        assert data["errors"] == 0, f"{name}: {data.get('error_samples')}"
    for name in ("paced", "saturation", "builders"):
        if "skipped_all" not in results[name]:
            assert results[name]["count"] > 0 and results[name]["p99_ms"] > 0
    assert results["paced"]["cmds_per_s"] > 0
    assert results["saturation"]["cmds_per_s"] > 0
    assert results["baseline"]["saturation"]["cmds_per_s"] > 0
    assert results["festival"]["says"] > 0 and results["festival"]["delivery_p99_ms"] > 0
    assert results["channels"]["says"] > 0 and results["channels"]["delivery_p99_ms"] > 0
    assert results["login_storm"]["logged_in"] == results["login_storm"]["players"]
    assert results["startup"]["listening_s"] > 0
    if "skipped_all" not in results["builders"]:
        assert results["builders"]["changes"] > 0 and results["builders"]["lost"] == 0
    for name in ("reload", "crash"):
        data = results[name]
        assert data["disconnects"] == 0 and data["lost"] == 0, name
        assert data["not_back"] == 0 and data["all_answered_s"] > 0, name
        assert data["engine_replaced"], name
        assert data["verified_titles"] == data["active"] > 0, name
    for name in ("halfopen", "loginpool"):  # the newcomers were tried (getting in is measured)
        if "skipped_all" not in results[name]:
            assert results[name]["probes"] > 0, name
    if "skipped_all" not in results["webflood"]:
        assert results["webflood"]["flood_kib_sent"] > 0 and results["webflood"]["lost"] == 0
    assert results["crowd"]["still_connected"] == results["crowd"]["players"]
    assert results["crowd"]["count"] > 0 and results["crowd"]["kib_per_connection"] > 0
    verdicts = {t["target"]: t["verdict"] for t in report["targets"]}
    assert len(verdicts) == 23
    assert "workload" in proc.stdout and "verdict" in proc.stdout  # the tables were printed
