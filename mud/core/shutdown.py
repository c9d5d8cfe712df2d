"""A planned shutdown: a countdown with warnings to everyone, cancellable until it ends."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from functools import partial

from mud.core.scheduler import Scheduler
from world.moderation import describe_duration

WARN_AT = (300.0, 60.0, 10.0)  # seconds before the end at which everyone is warned again


class ShutdownTimer:
    def __init__(
        self, scheduler: Scheduler, announce: Callable[[str], None], stop: Callable[[], None]
    ) -> None:
        self._scheduler = scheduler
        self._announce = announce
        self._stop = stop
        self._handles: list[asyncio.TimerHandle] = []
        self.deadline: float | None = None  # time.monotonic() at which the server stops
        self.reason = ""
        self.by = ""

    @property
    def pending(self) -> bool:
        return self.deadline is not None

    def left(self) -> float:
        return 0.0 if self.deadline is None else max(0.0, self.deadline - time.monotonic())

    def start(self, seconds: float, reason: str, by: str) -> None:
        """Stop the server in `seconds` (replacing any countdown under way)."""
        self.cancel()
        self.deadline = time.monotonic() + seconds
        self.reason, self.by = reason, by
        self._announce(self._warning(seconds))
        for before in WARN_AT:
            if before < seconds:
                self._handles.append(
                    self._scheduler.after(seconds - before, partial(self._warn, before))
                )
        self._handles.append(self._scheduler.after(seconds, self._end))

    def cancel(self) -> bool:
        """Call off the countdown; False if there was none."""
        for handle in self._handles:
            self._scheduler.cancel(handle)
        self._handles.clear()
        was = self.deadline is not None
        self.deadline = None
        return was

    def _warning(self, seconds: float) -> str:
        when = describe_duration(seconds).replace("for ", "in ", 1)
        why = f" ({self.reason})" if self.reason else ""
        return f"|y[Admins] The dreamscape will shut down {when}{why}. Your dream is kept.|n"

    def _warn(self, before: float) -> None:
        if self.deadline is not None:
            self._announce(self._warning(before))

    def _end(self) -> None:
        self._handles.clear()
        self.deadline = None
        self._stop()
