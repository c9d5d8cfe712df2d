"""What every link transport shares: batching, heartbeats and bounds.

`post()` queues a message; everything posted in one event-loop iteration leaves as one batch
(payloads cut to the transport's size), so a pump that writes to 2,000 sessions sends one
frame, not 2,000. Each side sends a heartbeat when it has been quiet for `heartbeat` seconds;
a peer silent for `timeout` seconds is treated as gone (a hung engine is a dead engine). A peer
that stops reading is dropped once `max_pending` bytes wait for it: nothing is buffered
without limit.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from mud.link.frames import DEFAULT_MAX_PAYLOAD, LinkProtocolError, Unpacker, pack

log = logging.getLogger("dreamwave.link")

HEARTBEAT = 1.0  # seconds of quiet before a heartbeat goes out
TIMEOUT = 5.0  # seconds of silence after which the peer is gone
MAX_PENDING = 32 * 1024 * 1024  # bytes waiting for a peer before it is dropped
BEAT = ["beat"]  # the heartbeat message; never handed to the owner

FrameHandler = Callable[[list[Any]], None]
CloseHandler = Callable[[str], None]


class Link:
    """One side of a connection between a gateway and the engine."""

    def __init__(
        self,
        name: str,
        *,
        max_payload: int = DEFAULT_MAX_PAYLOAD,
        heartbeat: float = HEARTBEAT,
        timeout: float = TIMEOUT,
        max_pending: int = MAX_PENDING,
    ) -> None:
        self.name = name
        self.max_payload = max_payload
        self.heartbeat = heartbeat
        self.timeout = timeout
        self.max_pending = max_pending
        self.on_frame: FrameHandler = lambda _messages: None
        self.on_close: CloseHandler = lambda _reason: None
        self.closed = False
        self.close_reason = ""
        self._outbox: list[Any] = []
        self._flush_scheduled = False
        self.batches = 0  # batches sent so far (a message posted since belongs to the next)
        self._unpacker = Unpacker()
        self._heard = self._said = time.monotonic()
        self._loop = asyncio.get_running_loop()
        self._beat = self._loop.call_later(heartbeat, self._tick)

    # -- sending --------------------------------------------------------------------------
    def post(self, message: Any) -> None:
        """Queue `message`; it leaves with everything else posted this loop iteration."""
        if self.closed:
            return
        self._outbox.append(message)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self._loop.call_soon(self.flush)

    def flush(self) -> None:
        self._flush_scheduled = False
        if self.closed or not self._outbox:
            return
        messages, self._outbox = self._outbox, []
        self.batches += 1
        for payload in pack(messages, self.max_payload):
            self._send(payload)
            if self.closed:
                return
        self._said = time.monotonic()
        if self.pending_bytes() > self.max_pending:
            self.close(f"peer not reading ({self.pending_bytes()} bytes waiting)")

    def _send(self, payload: bytes) -> None:
        raise NotImplementedError

    def pending_bytes(self) -> int:
        """Bytes written but not yet taken by the peer."""
        return 0

    # -- receiving ------------------------------------------------------------------------
    def _received(self, payload: bytes) -> None:
        self._heard = time.monotonic()
        try:
            messages = self._unpacker.feed(payload)
        except LinkProtocolError as err:
            self.close(f"protocol error: {err}")
            return
        if messages is None:
            return
        if len(messages) == 1 and messages[0] == BEAT:
            return
        try:
            self.on_frame(messages)
        except Exception:
            log.exception("link %s: handling a frame failed", self.name)

    # -- liveness -------------------------------------------------------------------------
    def _tick(self) -> None:
        if self.closed:
            return
        now = time.monotonic()
        if now - self._heard > self.timeout:
            self.close(f"peer silent for {now - self._heard:.1f}s")
            return
        if now - self._said >= self.heartbeat and not self._outbox:
            self.post(BEAT)
            self.flush()  # alone in its batch: only a batch of just BEAT is kept from the owner
        self._beat = self._loop.call_later(self.heartbeat, self._tick)

    def close(self, reason: str = "closed") -> None:
        """Stop now (what is still queued is dropped) and tell the owner once."""
        if self.closed:
            return
        self.closed = True
        self.close_reason = reason
        self._beat.cancel()
        self._outbox.clear()
        self._shutdown()
        log.info("link %s closed: %s", self.name, reason)
        try:
            self.on_close(reason)
        except Exception:
            log.exception("link %s: close handler failed", self.name)

    def discard(self) -> None:
        """Drop a link that never connected, silently."""
        self.closed = True
        self._beat.cancel()
        self._outbox.clear()

    def _shutdown(self) -> None:
        """Release the transport (subclasses)."""
