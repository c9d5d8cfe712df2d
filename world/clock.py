"""The world clock: Dreamwave time runs faster than waking time and has four phases.

Game time is `start + real seconds elapsed × GAME_SECONDS_PER_REAL_SECOND × time_scale`.
At the default time_scale of 1 one game hour passes every five real minutes, so a whole
dream-day (dusk, deep night, dawn, day) takes two real hours. The default start is derived
from the wall clock, so the clock carries on across restarts without being saved.
The clock is pure: pass `now` to drive it from a test or a simulation.
"""

from __future__ import annotations

import time
from collections.abc import Callable

GAME_SECONDS_PER_REAL_SECOND = 12.0  # at time_scale 1: one game hour per five real minutes
SECONDS_PER_HOUR = 3600
HOURS_PER_DAY = 24
# Wall-clock moment that counts as midnight of day 1 (2026-01-01 00:00 UTC).
DREAMWAVE_EPOCH = 1_767_225_600.0

# Phase keys (used in locks as phase:<key>) with the hour each one begins, in day order.
PHASE_STARTS = (("night", 0), ("dawn", 5), ("day", 8), ("dusk", 18), ("night", 21))
PHASES = ("dusk", "night", "dawn", "day")
PHASE_NAMES = {"dusk": "dusk", "night": "deep night", "dawn": "dawn", "day": "day"}
# Other spellings builders may use for a phase.
PHASE_ALIASES = {"deep_night": "night", "deepnight": "night", "deep night": "night"}


def phase_at(hour: float) -> str:
    """The phase key for an hour of the dream-day (0 <= hour < 24)."""
    current = PHASE_STARTS[0][0]
    for key, first in PHASE_STARTS:
        if hour >= first:
            current = key
    return current


def phase_start_hour(phase: str) -> int:
    """The hour a phase begins (night: 21, when deep night falls)."""
    return max(first for key, first in PHASE_STARTS if key == phase)


def next_daily(after: float, hour: float) -> float:
    """The first game time strictly after `after` when the dream-day reaches `hour`."""
    day = SECONDS_PER_HOUR * HOURS_PER_DAY
    t = (after // day) * day + hour * SECONDS_PER_HOUR
    while t <= after:
        t += day
    return t


def next_multiple(after: float, period: float) -> float:
    """The first game time strictly after `after` that is a whole number of `period`s."""
    return (after // period + 1) * period


def phase_key(word: str) -> str | None:
    """The canonical phase key for a builder's word, or None if it names no phase."""
    low = word.strip().lower()
    low = PHASE_ALIASES.get(low, low)
    return low if low in PHASES else None


class WorldClock:
    def __init__(
        self,
        time_scale: float = 1.0,
        now: Callable[[], float] = time.time,
        start: float | None = None,
    ) -> None:
        self._now = now
        self._t0 = now()
        self.time_scale = time_scale
        if start is None:
            start = (self._t0 - DREAMWAVE_EPOCH) * GAME_SECONDS_PER_REAL_SECOND * time_scale
        self._start = start

    def game_seconds(self) -> float:
        """Game seconds since midnight of day 1."""
        elapsed = self._now() - self._t0
        return self._start + elapsed * GAME_SECONDS_PER_REAL_SECOND * self.time_scale

    def set_time_scale(self, time_scale: float) -> None:
        """Change the speed from now on without jumping the game time."""
        self._start = self.game_seconds()
        self._t0 = self._now()
        self.time_scale = time_scale

    def real_delay(self, game_seconds: float) -> float:
        """Real seconds until `game_seconds` of game time have passed at the current speed."""
        return max(0.0, game_seconds) / (GAME_SECONDS_PER_REAL_SECOND * self.time_scale)

    def game_delay(self, real_seconds: float) -> float:
        """Game seconds that pass in `real_seconds` of real time at the current speed."""
        return max(0.0, real_seconds) * GAME_SECONDS_PER_REAL_SECOND * self.time_scale

    @property
    def hour(self) -> float:
        """The hour of the dream-day, 0 <= hour < 24, with a fraction."""
        return (self.game_seconds() / SECONDS_PER_HOUR) % HOURS_PER_DAY

    @property
    def day(self) -> int:
        """The day number, counting from 1."""
        return int(self.game_seconds() // (SECONDS_PER_HOUR * HOURS_PER_DAY)) + 1

    @property
    def phase(self) -> str:
        return phase_at(self.hour)

    def clock_text(self) -> str:
        """The time as HH:MM."""
        minutes = int(self.hour * 60)
        return f"{minutes // 60:02d}:{minutes % 60:02d}"
