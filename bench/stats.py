"""Latency samples, percentiles and error bookkeeping for one workload."""

from __future__ import annotations

from collections import Counter, defaultdict

MAX_ERROR_SAMPLES = 8  # distinct error descriptions kept for the report


def percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list (0 for an empty one)."""
    if not ordered:
        return 0.0
    rank = max(1, int(-(-q * len(ordered) // 100)))  # ceil(q/100 * n)
    return ordered[min(rank, len(ordered)) - 1]


def summarise(seconds: list[float]) -> dict[str, float]:
    """count, p50/p95/p99/max in milliseconds."""
    ordered = sorted(seconds)
    return {
        "count": len(ordered),
        "p50_ms": round(1000 * percentile(ordered, 50), 2),
        "p95_ms": round(1000 * percentile(ordered, 95), 2),
        "p99_ms": round(1000 * percentile(ordered, 99), 2),
        "max_ms": round(1000 * ordered[-1], 2) if ordered else 0.0,
    }


class Recorder:
    """Round trips by command kind, each with the time it was sent, plus errors."""

    def __init__(self) -> None:
        self.samples: dict[str, list[tuple[float, float]]] = defaultdict(list)
        self.errors: Counter[str] = Counter()
        self.error_samples: list[str] = []
        self.late = 0  # sends more than LATE_S behind their schedule (paced only)
        self.notes: Counter[str] = Counter()  # things counted that are no error

    def note(self, kind: str) -> None:
        self.notes[kind] += 1

    def add(self, kind: str, at: float, seconds: float) -> None:
        self.samples[kind].append((at, seconds))

    def error(self, kind: str, detail: str) -> None:
        self.errors[kind] += 1
        text = f"{kind}: {detail}"[:200]
        if len(self.error_samples) < MAX_ERROR_SAMPLES and text not in self.error_samples:
            self.error_samples.append(text)

    def latencies(self, start: float = 0.0, end: float = float("inf")) -> list[float]:
        return [s for rows in self.samples.values() for at, s in rows if start <= at < end]

    def count(self, start: float = 0.0, end: float = float("inf")) -> int:
        return sum(1 for rows in self.samples.values() for at, _ in rows if start <= at < end)

    def summary(self, start: float = 0.0, end: float = float("inf")) -> dict[str, object]:
        out: dict[str, object] = dict(summarise(self.latencies(start, end)))
        out["by_command"] = {
            kind: summarise([s for at, s in rows if start <= at < end])
            for kind, rows in sorted(self.samples.items())
        }
        out["errors"] = sum(self.errors.values())
        if self.errors:
            out["errors_by_kind"] = dict(self.errors)
            out["error_samples"] = list(self.error_samples)
        return out
