"""Targets, verdicts and the printed table."""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
}


@dataclass(frozen=True)
class Target:
    workload: str
    metric: str
    op: str
    value: float
    at: int  # the player count (or world size) the target is stated for
    text: str

    def judge(self, results: dict[str, Any]) -> dict[str, Any]:
        data = results.get(self.workload) or {}
        measured = data.get(self.metric)
        row: dict[str, Any] = {
            "target": self.text,
            "workload": self.workload,
            "metric": self.metric,
            "measured": measured,
        }
        if data.get("skipped_all"):
            row["verdict"] = "skipped"
        elif measured is None:
            row["verdict"] = "not run"
        elif data.get("players") != self.at:
            row["verdict"] = f"n/a (N={data.get('players')}, target at {self.at})"
        else:
            row["verdict"] = "PASS" if OPS[self.op](float(measured), self.value) else "FAIL"
        return row


# The targets on a 2-core machine.
TARGETS = (
    Target("paced", "p99_ms", "<", 50, 2000, "paced N=2,000: p99 < 50 ms"),
    Target("paced", "errors", "==", 0, 2000, "paced N=2,000: no errors"),
    Target("paced", "rss_kib_per_player", "<", 50, 2000, "paced: RSS < 50 KiB/player over idle"),
    Target("saturation", "cmds_per_s", ">=", 5000, 200, "saturation: >= 5,000 commands/s"),
    Target("saturation", "ratio_to_baseline", ">=", 1 / 3, 200, "saturation: >= 1/3 of bare echo"),
    Target("festival", "delivery_p99_ms", "<", 100, 500, "festival N=500: delivery p99 < 100 ms"),
    Target("login_storm", "all_in_s", "<", 60, 1000, "login storm N=1,000: all in < 60 s"),
    Target("login_storm", "online_p99_ms", "<", 150, 1000, "login storm: online p99 < 150 ms"),
    Target("builders", "changes_per_s", ">=", 1000, 20, "builders: >= 1,000 changes/s"),
    Target("builders", "lost", "==", 0, 20, "builders: none lost"),
    Target("startup", "listening_s", "<", 3, 10000, "start-up 10k rooms/10k accounts: < 3 s"),
)


def judge_all(results: dict[str, Any]) -> list[dict[str, Any]]:
    return [t.judge(results) for t in TARGETS]


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


ROW_COLUMNS = (
    ("workload", 22), ("N", 6), ("cmd/s", 9), ("p50 ms", 8), ("p95 ms", 8), ("p99 ms", 8),
    ("max ms", 9), ("msgs/s", 9), ("errors", 7), ("srv CPU%", 9), ("cli CPU%", 9),
    ("other%", 7), ("steal%", 7),
)  # fmt: skip


def _row(name: str, d: dict[str, Any]) -> list[str]:
    return [
        name, _fmt(d.get("players")), _fmt(d.get("cmds_per_s")), _fmt(d.get("p50_ms"), 2),
        _fmt(d.get("p95_ms"), 2), _fmt(d.get("p99_ms"), 2), _fmt(d.get("max_ms"), 2),
        _fmt(d.get("messages_per_s")), _fmt(d.get("errors")), _fmt(d.get("server_cpu_pct")),
        _fmt(d.get("client_cpu_pct")), _fmt(d.get("other_cpu_pct")), _fmt(d.get("steal_pct")),
    ]  # fmt: skip


def table(rows: list[list[str]], columns: tuple[tuple[str, int], ...]) -> str:
    widths = [max(w, *(len(r[i]) for r in rows)) if rows else w for i, (_, w) in enumerate(columns)]
    head = " | ".join(name.ljust(w) for (name, _), w in zip(columns, widths, strict=True))
    rule = "-+-".join("-" * w for w in widths)
    body = [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join([head, rule, *body])


def workload_rows(results: dict[str, Any]) -> list[list[str]]:
    rows = []
    for name, data in results.items():
        if not isinstance(data, dict) or name == "startup":
            continue
        if data.get("skipped_all"):
            rows.append([name, *["-"] * (len(ROW_COLUMNS) - 1)])
            continue
        if name == "baseline":
            for sub in ("paced", "saturation"):
                if sub in data:
                    rows.append(_row(f"baseline echo {sub}", data[sub]))
            continue
        if name == "login_storm":
            d = dict(data)
            d.update(
                p50_ms=data.get("online_p50_ms"), p99_ms=data.get("online_p99_ms"),
                max_ms=data.get("online_max_ms"), p95_ms=None,
            )  # fmt: skip
            rows.append(_row("login storm (online)", d))
            continue
        rows.append(_row(name, data))
    return rows


def notes(results: dict[str, Any]) -> list[str]:
    out = []
    p = results.get("paced") or {}
    if "rss_kib_per_player" in p:
        out.append(
            f"paced: server RSS idle {p['rss_idle_kib']:,} KiB -> {p['rss_end_kib']:,} KiB with "
            f"{p['players']:,} players = {p['rss_kib_per_player']} KiB/player "
            f"({p['rss_kib_per_player_warm']} KiB/player over the idle RSS after two warm-up "
            f"logins, {p['rss_warm_kib']:,} KiB: argon2's two hashing threads); "
            f"{p.get('in_loops', 0)} players in loops; all logged in after {p['login_all_s']} s; "
            f"late sends {p.get('late_sends', 0)}"
        )
    s = results.get("saturation") or {}
    if "ratio_to_baseline" in s:
        out.append(
            f"saturation: {s['cmds_per_s']:,} cmd/s = {s['ratio_to_baseline']:.2f} x the bare "
            f"echo's {s['baseline_cmds_per_s']:,} cmd/s (per-player throttle raised: {s['limits']})"
        )
    f = results.get("festival") or {}
    if "delivery_p99_ms" in f:
        out.append(
            f"festival: {f['says']:,} says to {f['players'] - 1:,} listeners each; delivery "
            f"(say sent -> last listener has it) p50 {f['delivery_p50_ms']} ms, p99 "
            f"{f['delivery_p99_ms']} ms, max {f['delivery_max_ms']} ms"
        )
    ch = results.get("channels") or {}
    if "delivery_p99_ms" in ch:
        out.append(
            f"channels: {ch['says']:,} lines on [public] to {ch['players']:,} listeners each "
            f"(spread over the rooms; the talker's own line counts); delivery (line sent -> "
            f"last listener has it) p50 {ch['delivery_p50_ms']} ms, p99 "
            f"{ch['delivery_p99_ms']} ms, max {ch['delivery_max_ms']} ms"
        )
    ls = results.get("login_storm") or {}
    if "all_in_s" in ls:
        out.append(
            f"login storm: {ls['logged_in']:,}/{ls['players']:,} returning players in after "
            f"{ls['all_in_s']} s (login p50 {ls['login_p50_ms']} ms, p99 {ls['login_p99_ms']} ms); "
            f"online p99 {ls['online_p99_ms']} ms during vs {ls['online_p99_before_ms']} ms before"
        )
    b = results.get("builders") or {}
    if "changes_per_s" in b:
        out.append(
            f"builders: {b['changes']:,} confirmed changes = {b['changes_per_s']:,}/s; "
            f"{b['verified_objects']:,} rooms/exits checked in the database, {b['lost']} lost"
        )
    st = results.get("startup") or {}
    if "listening_s" in st:
        out.append(
            f"start-up: {st['rooms']:,} rooms, {st['exits']:,} exits, {st['accounts']:,} accounts: "
            f"listening after {st['listening_s']} s (median of {len(st['runs_s'])}: "
            f"{st['runs_s']}); server's own 'ready in' {st['ready_in_s']} s; idle RSS "
            f"{st['rss_idle_kib']:,} KiB"
        )
    for name, data in results.items():
        if isinstance(data, dict):
            if data.get("skipped_all"):
                out.append(f"{name}: {data['skipped_all']}")
            for line in data.get("skipped", []) or []:
                out.append(f"{name}: {line}")
            for sample in data.get("error_samples", []) or []:
                out.append(f"{name} error: {sample}")
    return out


def render(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        f"Dreamwave benchmark ({report['mode']}) {report['started']}",
        f"machine: {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM, Linux "
        f"{m['kernel']}, Python {m['python']}, telnetlib3 {m['telnetlib3']}",
        f"event loop: server {report['server_loop']}, load generator {report['client_loop']}; "
        f"code {report['code']['commit']} + {report['code']['uncommitted_files']} uncommitted "
        "engine file(s)",
        "",
        table(workload_rows(report["workloads"]), ROW_COLUMNS),
        "",
        *notes(report["workloads"]),
        "",
    ]
    verdicts = [
        [r["target"], _fmt(r["measured"], 2), r["verdict"]] for r in report.get("targets", [])
    ]
    lines.append(table(verdicts, (("target", 42), ("measured", 10), ("verdict", 8))))
    return "\n".join(lines)


def markdown(report: dict[str, Any]) -> str:
    """The results as Markdown tables, for bench/README.md."""
    m = report["machine"]
    head = (
        f"{report['mode']} run {report['started']} on {m['cpu']}, {m['cores']} cores, "
        f"{m['ram_gib']} GiB RAM, Python {m['python']}, telnetlib3 {m['telnetlib3']}; event "
        f"loop: server {report['server_loop']}, load generator {report['client_loop']}; code "
        f"{report['code']['commit']} + {report['code']['uncommitted_files']} uncommitted files"
    )
    names = [name for name, _ in ROW_COLUMNS]
    lines = [head, "", "| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    lines += ["| " + " | ".join(row) + " |" for row in workload_rows(report["workloads"])]
    lines += ["", "| target | measured | verdict |", "|---|---|---|"]
    lines += [
        f"| {r['target']} | {_fmt(r['measured'], 2)} | {r['verdict']} |"
        for r in report.get("targets", [])
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    import json
    import sys
    from pathlib import Path

    print(markdown(json.loads(Path(sys.argv[1]).read_text())))
