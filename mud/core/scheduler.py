"""One scheduler for everything timed: idle sweeps, NPC behaviour, the world clock, events.

Jobs are timed in real seconds (`after`, `every`) or in game time on the world clock
(`at_game`): a game-time job is re-armed whenever the clock's speed changes, so script waits
and schedules follow `--time-scale` without anyone converting units by hand.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from world.clock import WorldClock

log = logging.getLogger("dreamwave.scheduler")

GAME_TIME_SLACK = 0.5  # game seconds: a job firing this early counts as on time


class GameJob:
    """A job due when the world clock reaches `when` (game seconds)."""

    __slots__ = ("cancelled", "fn", "handle", "when")

    def __init__(self, when: float, fn: Callable[[], None]) -> None:
        self.when = when
        self.fn = fn
        self.handle: asyncio.TimerHandle | None = None
        self.cancelled = False


class Scheduler:
    def __init__(
        self, loop: asyncio.AbstractEventLoop, clock: Callable[[], WorldClock] | None = None
    ) -> None:
        self.loop = loop
        self._handles: set[asyncio.TimerHandle] = set()
        self._clock = clock  # the world clock, looked up on use (tests may swap it)
        self._game_jobs: set[GameJob] = set()

    def after(self, delay: float, fn: Callable[[], None]) -> asyncio.TimerHandle:
        """Run `fn` once after `delay` seconds. Errors are logged, never propagated."""

        def run() -> None:
            self._handles.discard(handle)
            try:
                fn()
            except Exception:
                log.exception("scheduled job %r failed", fn)

        handle = self.loop.call_later(delay, run)
        self._handles.add(handle)
        return handle

    def every(self, interval: float, fn: Callable[[], None]) -> None:
        """Run `fn` every `interval` seconds until cancel_all()."""

        def tick() -> None:
            try:
                fn()
            finally:
                self.after(interval, tick)

        self.after(interval, tick)

    def cancel(self, handle: asyncio.TimerHandle) -> None:
        handle.cancel()
        self._handles.discard(handle)

    def cancel_all(self) -> None:
        for handle in self._handles:
            handle.cancel()
        self._handles.clear()
        for job in self._game_jobs:
            job.cancelled = True
        self._game_jobs.clear()

    # -- game time ------------------------------------------------------------------------
    @property
    def clock(self) -> WorldClock:
        if self._clock is None:
            raise RuntimeError("this scheduler has no world clock")
        return self._clock()

    def at_game(self, when: float, fn: Callable[[], None]) -> GameJob:
        """Run `fn` once the world clock reaches `when` (game seconds since day 1)."""
        job = GameJob(when, fn)
        self._game_jobs.add(job)
        self._arm(job)
        return job

    def cancel_game(self, job: GameJob | None) -> None:
        if job is None:
            return
        job.cancelled = True
        self._game_jobs.discard(job)
        if job.handle is not None:
            self.cancel(job.handle)

    def set_time_scale(self, time_scale: float) -> None:
        """Change how fast game time runs, and re-arm every game-time job to match."""
        self.clock.set_time_scale(time_scale)
        for job in list(self._game_jobs):
            if job.handle is not None:
                self.cancel(job.handle)
            self._arm(job)

    def _arm(self, job: GameJob) -> None:
        delay = self.clock.real_delay(job.when - self.clock.game_seconds())
        job.handle = self.after(delay, lambda: self._fire(job))

    def _fire(self, job: GameJob) -> None:
        if job.cancelled:
            return
        if self.clock.game_seconds() + GAME_TIME_SLACK < job.when:
            self._arm(job)  # timers and the clock drifted apart a little: not yet
            return
        self._game_jobs.discard(job)
        job.fn()
