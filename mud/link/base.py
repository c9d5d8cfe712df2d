"""What every link transport shares: batching, heartbeats and bounds.

`post()` queues a message; everything posted in one event-loop iteration leaves as one batch
(payloads cut to the transport's size), so a pump that writes to 2,000 sessions sends one
frame, not 2,000. Each side sends a heartbeat when it has been quiet for `heartbeat` seconds;
a peer silent for `timeout` seconds is treated as gone (a hung engine is a dead engine). A peer
that stops reading is dropped once `max_pending` bytes wait for it: nothing is buffered
without limit.

A Link with a `guard` (mud.link.auth) first proves the link secret: until then what is posted
waits and nothing received is handed on; `on_ready` is told once the first proof is done.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TypedDict

from mud.link.auth import SEALED, Guard, control, read_control
from mud.link.frames import DEFAULT_MAX_PAYLOAD, Codec, LinkProtocolError, Unpacker, pack
from mud.protocol.codec import Refused, TypedCodec
from mud.protocol.messages import Message

log = logging.getLogger("dreamwave.link")

HEARTBEAT = 1.0  # seconds of quiet before a heartbeat goes out
TIMEOUT = 5.0  # seconds of silence after which the peer is gone
MAX_PENDING = 32 * 1024 * 1024  # bytes waiting for a peer before it is dropped

FrameHandler = Callable[[list[Message]], None]
CloseHandler = Callable[[str], None]


class LinkTuning(TypedDict, total=False):
    """A Link's optional settings, passed through by the transports' listeners and
    connectors (mud/link/local.py, mud/link/nats.py): see Link."""

    max_payload: int
    heartbeat: float
    timeout: float
    max_pending: int
    codec: Codec[Message]


class LinkOptions(LinkTuning, total=False):
    guard: Guard | None


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
        guard: Guard | None = None,
        codec: Codec[Message] | None = None,
    ) -> None:
        self.name = name
        # the messages' encoding: the typed link vocabulary (mud.protocol) unless told
        self.codec: Codec[Message] = codec if codec is not None else TypedCodec()
        self.guard = guard
        self.on_ready: Callable[[], None] = lambda: None
        self._asked_knock = 0.0  # when we last said "knock?" (once a heartbeat at most)
        self._refusal_logged = False
        self.max_payload = max_payload
        self.heartbeat = heartbeat
        self.timeout = timeout
        self.max_pending = max_pending
        self.on_frame: FrameHandler = lambda _messages: None
        self.on_close: CloseHandler = lambda _reason: None
        self.closed = False
        self.close_reason = ""
        self._outbox: list[Message] = []
        self._flush_scheduled = False
        self.batches = 0  # batches sent so far (a message posted since belongs to the next)
        self._unpacker = Unpacker(codec=self.codec)
        self._heard = self._said = time.monotonic()
        self._loop = asyncio.get_running_loop()
        self._beat = self._loop.call_later(heartbeat, self._tick)

    @property
    def proven(self) -> bool:
        """The peer proved the link secret (or this link has no guard)."""
        return self.guard is None or self.guard.ready

    # -- sending --------------------------------------------------------------------------
    def post(self, message: Message) -> None:
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
        guard = self.guard
        if guard is not None and not guard.ready:
            return  # (sent once the secret is proven)
        messages, self._outbox = self._outbox, []
        self.batches += 1
        seal = guard.seal if guard is not None and guard.sealed else None  # (NATS only)
        for payload in pack(messages, self.max_payload, self.codec):
            self._send(seal(payload) if seal is not None else payload)
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
        if self.guard is not None:
            opened = self._guarded(self.guard, payload)
            if opened is None:
                return
            payload = opened
        try:
            messages = self._unpacker.feed(payload)
        except LinkProtocolError as err:
            self.close(f"protocol error: {err}")
            return
        except Refused as err:  # (nothing of it is applied: see mud.protocol.codec)
            log.warning("link %s: refused a frame: %s", self.name, err)
            return
        if messages is None:
            return
        beat = self.codec.beat
        if beat in messages:  # (alone when quiet; with others when it met a post)
            messages = [m for m in messages if m != beat]
            if not messages:
                return
        self._deliver(messages)

    def _deliver(self, messages: list[Message]) -> None:
        try:
            self.on_frame(messages)
        except Exception:
            log.exception("link %s: handling a frame failed", self.name)

    # -- the handshake (mud.link.auth) ---------------------------------------------------------
    def knock(self) -> None:
        """A gateway's end: start proving the secret (said again each heartbeat until done)."""
        if self.guard is not None and not self.closed:
            self._send(control(self.guard.knock()))

    def _guarded(self, guard: Guard, payload: bytes) -> bytes | None:
        """A payload in, through the guard: what to hand on, or None (handled or dropped)."""
        if guard.ready and not guard.sealed:
            return payload  # the local socket: proven once, for the whole connection
        if payload[:1] == SEALED and guard.sealed:
            if not guard.ready:
                if guard.side == "engine":
                    self._ask_knock()  # a gateway proven to an engine before us
                return None
            return guard.open(payload)  # (None: forged, replayed or from another handshake)
        message = read_control(payload)
        if message is None:
            if guard.side == "engine":
                self._refuse("the gateway could not prove the link secret (it sent "
                             "something else first)")  # fmt: skip
            return None
        answer, what = guard.handle(message)
        if answer is not None:
            self._send(control(answer))
        if what == "ready":
            self._proven(guard)
        elif what:
            self._refuse(what)
        return None

    def _proven(self, guard: Guard) -> None:
        if guard.rekeyed:
            log.info("link %s: the link secret was proven again", self.name)
            if guard.side == "gateway":
                self._deliver([self.codec.who])
        else:
            self.on_ready()
        self.flush()

    def _ask_knock(self) -> None:
        now = time.monotonic()
        if now - self._asked_knock >= self.heartbeat:
            self._asked_knock = now
            self._send(control(["knock?"]))

    def _refuse(self, why: str) -> None:
        """Log once per link; the engine closes one that was never proven (a proven one stays:
        a forged message must not cut a real gateway off; a gateway just waits, not spinning)."""
        if not self._refusal_logged:
            self._refusal_logged = True
            log.warning("link %s: refused: %s", self.name, why)
        guard = self.guard
        if guard is not None and not guard.ready and guard.side == "engine":
            self.close(f"refused: {why}")

    # -- liveness -------------------------------------------------------------------------
    def _tick(self) -> None:
        if self.closed:
            return
        now = time.monotonic()
        if now - self._heard > self.timeout:
            self.close(f"peer silent for {now - self._heard:.1f}s")
            return
        guard = self.guard
        if guard is not None and not guard.ready and guard.side == "gateway":
            self.knock()  # (over NATS the engine may not have been there to hear it)
        elif now - self._said >= self.heartbeat:
            self.post(self.codec.beat)
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
