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
    Target("reload", "all_answered_s", "<", 3, 2000, "reload N=2,000: all answer again < 3 s"),
    Target("reload", "disconnects", "==", 0, 2000, "reload: no disconnects"),
    Target("reload", "lost", "==", 0, 2000, "reload: no confirmed change lost"),
    Target("crash", "all_answered_s", "<", 5, 2000, "crash N=2,000: all answer again < 5 s"),
    Target("crash", "disconnects", "==", 0, 2000, "crash: no disconnects"),
    Target("crash", "lost", "==", 0, 2000, "crash: no confirmed change lost"),
    Target("crowd", "p99_ms", "<", 50, 10000, "crowd 10,000 connected, 1,000 active: p99 < 50 ms"),
    Target("crowd", "kib_per_connection", "<", 40, 10000, "crowd: < 40 KiB per connection"),
    Target("webflood", "slowdown_p50", "<", 3, 200, "webflood: 10 flooding pages < 3 x p50"),
    Target("halfopen", "probes_in", "==", 5, 1100, "1,100 half-open: every newcomer gets in"),
    Target("loginpool", "probes_in", "==", 5, 500, "login pool held: every newcomer gets in"),
    Target(
        "saturation@2gw",
        "ratio_to_single",
        ">=",
        1.3,
        200,
        "saturation, 2 gateways: >= 1.3 x single process",
    ),
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
    ("max ms", 9), ("msgs/s", 9), ("errors", 7), ("srv CPU%", 9), ("engine%", 8), ("gw%", 6),
    ("cli CPU%", 9), ("other%", 7), ("steal%", 7),
)  # fmt: skip
# how a variant's results are keyed (bench/run.py) and shown
VARIANT_NAMES = {"": "", "@single": " (single)"}


def split_key(key: str) -> tuple[str, str]:
    """("paced", "@2gw") for "paced@2gw"; ("paced", "") for "paced"."""
    name, at, variant = key.partition("@")
    return name, at + variant


def variant_name(variant: str) -> str:
    if variant in VARIANT_NAMES:
        return VARIANT_NAMES[variant]
    return f" ({variant[1:].replace('gw', ' gw')})"


def _row(name: str, d: dict[str, Any]) -> list[str]:
    return [
        name, _fmt(d.get("players")), _fmt(d.get("cmds_per_s")), _fmt(d.get("p50_ms"), 2),
        _fmt(d.get("p95_ms"), 2), _fmt(d.get("p99_ms"), 2), _fmt(d.get("max_ms"), 2),
        _fmt(d.get("messages_per_s")), _fmt(d.get("errors")), _fmt(d.get("server_cpu_pct")),
        _fmt(d.get("engine_cpu_pct")), _fmt(d.get("gateways_cpu_pct")),
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
    for key, data in results.items():
        name, variant = split_key(key)
        if not isinstance(data, dict) or name in ("startup", "halfopen", "loginpool"):
            continue  # (the attacks have a table of their own)
        suffix = variant_name(variant)
        if data.get("skipped_all"):
            rows.append([name + suffix, *["-"] * (len(ROW_COLUMNS) - 1)])
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
            rows.append(_row(f"login storm (online{suffix.replace(' (', ', ')[:-1]})", d))
            continue
        rows.append(_row(name + suffix, data))
    return rows


RECOVERY_COLUMNS = (
    ("workload", 18), ("N", 6), ("active", 6), ("all back s", 10), ("all answered s", 14),
    ("answered p50 s", 14), ("active p99 ms", 13), ("active max ms", 13), ("gap cmds", 8),
    ("unconfirmed", 11), ("disconnects", 11), ("lost", 4), ("errors", 6),
)  # fmt: skip


def recovery_rows(results: dict[str, Any]) -> list[list[str]]:
    rows = []
    for key, d in results.items():
        name, variant = split_key(key)
        if name not in ("reload", "crash") or d.get("skipped_all") or "players" not in d:
            continue
        rows.append([
            name + variant_name(variant), _fmt(d.get("players")), _fmt(d.get("active")),
            _fmt(d.get("all_back_s"), 2), _fmt(d.get("all_answered_s"), 2),
            _fmt(d.get("answered_p50_s"), 2), _fmt(d.get("p99_ms"), 1), _fmt(d.get("max_ms"), 1),
            _fmt(d.get("gap_cmds")), _fmt(d.get("unconfirmed")), _fmt(d.get("disconnects")),
            _fmt(d.get("lost")), _fmt(d.get("errors")),
        ])  # fmt: skip
    return rows


ATTACK_COLUMNS = (
    ("attack", 22), ("attackers", 10), ("held", 6), ("quiet p50", 10), ("p50 ms", 8),
    ("p99 ms", 8), ("slowdown", 9), ("newcomers in", 13), ("pages ok", 9), ("errors", 6),
)  # fmt: skip


def attack_rows(results: dict[str, Any]) -> list[list[str]]:
    """webflood, halfopen, loginpool (bench/attacks.py): what the others still get."""
    rows = []
    for key, d in results.items():
        name, variant = split_key(key)
        if name not in ("webflood", "halfopen", "loginpool") or d.get("skipped_all"):
            continue
        newcomers = f"{d['probes_in']} of {d['probes']}" if "probes" in d else "-"
        pages = f"{d['pages_ok']} of {d['probes']}" if "pages_ok" in d else "-"
        rows.append([
            name + variant_name(variant), _fmt(d.get("flooders", d.get("players"))),
            _fmt(d.get("attack_held")), _fmt(d.get("quiet_p50_ms"), 2), _fmt(d.get("p50_ms"), 2),
            _fmt(d.get("p99_ms"), 2), _fmt(d.get("slowdown_p50"), 2), newcomers, pages,
            _fmt(d.get("errors")),
        ])  # fmt: skip
    return rows


# (label, workload, metric, digits): what the split/single-process comparison shows
COMPARED = (
    ("start-up: listening s", "startup", "listening_s", 2),
    ("paced: p99 ms", "paced", "p99_ms", 1),
    ("paced: srv CPU%", "paced", "server_cpu_pct", 1),
    ("paced: RSS KiB/player", "paced", "rss_kib_per_player", 1),
    ("saturation: cmd/s", "saturation", "cmds_per_s", 0),
    ("saturation: p99 ms", "saturation", "p99_ms", 1),
    ("saturation: srv CPU%", "saturation", "server_cpu_pct", 1),
    ("festival: delivery p99 ms", "festival", "delivery_p99_ms", 1),
    ("channels: delivery p99 ms", "channels", "delivery_p99_ms", 1),
    ("login storm: all in s", "login_storm", "all_in_s", 2),
    ("login storm: online p99 ms", "login_storm", "online_p99_ms", 1),
    ("builders: changes/s", "builders", "changes_per_s", 0),
)


def variants_of(results: dict[str, Any]) -> list[str]:
    """The variant keys present, single process first, then the split by gateway count."""
    found = {split_key(k)[1] for k in results if split_key(k)[0] != "baseline"}
    if not found - {""}:
        return []

    def order(v: str) -> tuple[int, int]:
        """The older code first (the single process, or a commit of the split: `@<rev>`)."""
        if v == "@single" or (v and not v.endswith("gw")):
            return (0, 0)
        return (1, int(v[1:].removesuffix("gw")) if v else 1)

    return sorted(found, key=order)


def comparison(results: dict[str, Any]) -> tuple[tuple[tuple[str, int], ...], list[list[str]]]:
    """The same workloads on each variant, side by side, with split / single-process."""
    variants = variants_of(results)
    if not variants:
        return (), []
    names = [variant_name(v).strip(" ()") or "1 gw" for v in variants]
    columns = (("metric", 28), *((n, 9) for n in names))
    older = variants[0] if variants[0] and not variants[0].endswith("gw") else None
    ratios = [v for v in variants if v != older] if older else []
    columns += tuple(
        (f"{n} / {names[0]}", 17) for v, n in zip(variants, names, strict=True) if v in ratios
    )
    rows = []
    for label, workload, metric, digits in COMPARED:
        values = [(results.get(workload + v) or {}).get(metric) for v in variants]
        if all(x is None for x in values):
            continue
        row = [label, *(_fmt(x, digits) for x in values)]
        single = values[0] if older else None
        for v in ratios:
            x = (results.get(workload + v) or {}).get(metric)
            row.append(f"{x / single:.2f}" if x is not None and single else "-")
        rows.append(row)
    return columns, rows


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
    for variant, res in results.items():
        by = (res or {}).get("by_transport") if variant.startswith("paced") else None
        if by:
            parts = [f"{t} ({v['players']:,}): p50 {v.get('p50_ms', '-')} ms, p99 "
                     f"{v.get('p99_ms', '-')} ms" for t, v in by.items()]  # fmt: skip
            out.append(f"{variant}: by transport: " + "; ".join(parts))
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
    for key, d in results.items():
        name, variant = split_key(key)
        if name not in ("reload", "crash") or "all_answered_s" not in d:
            continue
        how = "SIGHUP to the server" if name == "reload" else "kill -9 of the engine"
        out.append(
            f"{name}{variant_name(variant)}: {how} with {d['players']:,} players connected, "
            f"{d['active']:,} playing; the 'back' line reached the first after "
            f"{d['first_back_s']} s, the last after {d['all_back_s']} s; every player answered "
            f"a command sent after it within {d['all_answered_s']} s (p50 {d['answered_p50_s']} "
            f"s); {d['gap_cmds']} commands were typed in the gap (slowest {d['gap_max_ms']} ms); "
            f"{d['unconfirmed']} told 'may not have happened' ({d['maybe_happened']} of those "
            f"titles had happened); {d['confirmed_titles']} confirmed titles checked after "
            f"recovery and {d.get('verified_titles', 0)} in the database: "
            f"{d.get('lost', '?')} lost; {d['disconnects']} disconnects; engine replaced: "
            f"{d.get('engine_replaced')}"
        )
    for key, sat in results.items():
        if split_key(key)[0] == "saturation" and "ratio_to_single" in sat:
            out.append(
                f"saturation{variant_name(split_key(key)[1]) or ' (1 gw)'}: {sat['cmds_per_s']:,} "
                f"cmd/s = {sat['ratio_to_single']:.2f} x the single-process server's "
                f"{sat['single_cmds_per_s']:,}"
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
    ]
    rec_rows = recovery_rows(report["workloads"])
    if rec_rows:
        lines += [table(rec_rows, RECOVERY_COLUMNS), ""]
    atk_rows = attack_rows(report["workloads"])
    if atk_rows:
        lines += [table(atk_rows, ATTACK_COLUMNS), ""]
    columns, rows = comparison(report["workloads"])
    if rows:
        lines += [table(rows, columns), ""]
    lines += [*notes(report["workloads"]), ""]
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
    rec_rows = recovery_rows(report["workloads"])
    if rec_rows:
        names = [name for name, _ in RECOVERY_COLUMNS]
        lines += ["", "| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
        lines += ["| " + " | ".join(row) + " |" for row in rec_rows]
    atk_rows = attack_rows(report["workloads"])
    if atk_rows:
        names = [name for name, _ in ATTACK_COLUMNS]
        lines += ["", "| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
        lines += ["| " + " | ".join(row) + " |" for row in atk_rows]
    columns, rows = comparison(report["workloads"])
    if rows:
        names = [name for name, _ in columns]
        lines += ["", "| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
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
