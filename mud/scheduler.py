"""One scheduler for everything timed: idle sweeps now, the world clock and events later."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

log = logging.getLogger("dreamwave.scheduler")


class Scheduler:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._handles: set[asyncio.TimerHandle] = set()

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
