"""The NATS transport (the `nats` extra): gateways on other machines, or an existing cluster.

Subjects, under a prefix (default `dreamwave`):
  <prefix>.up.<gateway>     a gateway's batches to the engine
  <prefix>.down.<gateway>   the engine's batches to that gateway
Core NATS delivers at most once and keeps nothing for a subscriber that isn't there, so
liveness is the links' heartbeat, not the bus: a gateway learns the engine is back when its
heartbeat arrives again, and the engine learns of a gateway from its first batch. Credentials
and TLS are NATS's own (user/password, token, a .creds file, an ssl context), passed through.
"""

from __future__ import annotations

import asyncio
import re
from collections import deque
from collections.abc import Callable
from typing import Any

from mud.link.base import Link

DEFAULT_PREFIX = "dreamwave"
GATEWAY_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _nats() -> Any:
    try:
        import nats
    except ImportError:  # pragma: no cover - depends on the extra being installed
        raise RuntimeError("the NATS transport needs nats-py: pip install -e '.[nats]'") from None
    return nats


def connect_options(link: Any) -> dict[str, Any]:
    """nats-py's connect options from the [link] settings (credentials and TLS)."""
    opts: dict[str, Any] = {}
    if link.nats_user:
        opts["user"], opts["password"] = link.nats_user, link.nats_password
    if link.nats_token:
        opts["token"] = link.nats_token
    if link.nats_creds:
        opts["user_credentials"] = link.nats_creds
    if link.nats_tls_ca:
        import ssl

        opts["tls"] = ssl.create_default_context(cafile=link.nats_tls_ca)
    return opts


class NatsUnavailable(Exception):
    """NATS could not be reached, or refused our credentials: one sentence for the admin."""


async def nats_connect(url: str, name: str, **options: Any) -> Any:
    """A NATS connection; `options` (user, password, token, user_credentials, tls...) are
    nats-py's own. Once connected it reconnects by itself, forever; the first connection
    failing (wrong address, wrong credentials) raises NatsUnavailable."""
    nats = _nats()

    async def quiet(_err: Exception) -> None:  # nats-py logs; reconnects are the links' concern
        return None

    try:
        # nats-py retries a first connection forever when it may reconnect: ask once first,
        # so a wrong address or credentials is one clear error
        probe = await nats.connect(
            url, name=name, allow_reconnect=False, connect_timeout=5, error_cb=quiet, **options
        )
        await probe.close()
        nc = await nats.connect(
            url, name=name, allow_reconnect=True, max_reconnect_attempts=-1,
            connect_timeout=5, error_cb=quiet, **options,
        )  # fmt: skip
    except Exception as err:
        reason = str(err).removeprefix("nats: ").strip("'") or type(err).__name__
        raise NatsUnavailable(f"Can't use NATS at {url}: {reason}.") from None
    return nc


class NatsLink(Link):
    """One gateway's conversation with the engine, over subjects of a shared connection."""

    def __init__(self, nc: Any, name: str, publish_to: str, **kw: Any) -> None:
        kw.setdefault("max_payload", min(nc.max_payload, 1024 * 1024) - 1024)
        super().__init__(name, **kw)
        self.nc = nc
        self.subject = publish_to
        self.subscription: Any = None  # what the gateway's end listens on, dropped at close
        self._queue: deque[bytes] = deque()
        self._queued = 0
        self._wake = asyncio.Event()
        self._sender = asyncio.get_running_loop().create_task(self._send_forever())

    def _send(self, payload: bytes) -> None:
        self._queue.append(payload)
        self._queued += len(payload)
        self._wake.set()

    def pending_bytes(self) -> int:
        return self._queued + self.nc.pending_data_size

    async def _send_forever(self) -> None:
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                while self._queue:
                    payload = self._queue.popleft()
                    self._queued -= len(payload)
                    await self.nc.publish(self.subject, payload)
        except asyncio.CancelledError:
            raise
        except Exception as err:
            self.close(f"publishing failed: {err}")

    def _shutdown(self) -> None:
        self._queue.clear()
        self._sender.cancel()
        if self.subscription is not None:
            asyncio.get_running_loop().create_task(self.subscription.unsubscribe())


class NatsHub:
    """The engine's end: one NatsLink per gateway, made when that gateway is first heard."""

    def __init__(
        self, nc: Any, on_link: Callable[[NatsLink], None], prefix: str = DEFAULT_PREFIX, **kw: Any
    ) -> None:
        self.nc = nc
        self.on_link = on_link
        self.prefix = prefix
        self.kw = kw
        self.links: dict[str, NatsLink] = {}
        self._sub: Any = None

    async def start(self) -> None:
        self._sub = await self.nc.subscribe(f"{self.prefix}.up.*", cb=self._message)

    async def _message(self, msg: Any) -> None:
        gateway = msg.subject.rsplit(".", 1)[-1]
        if not GATEWAY_NAME.match(gateway):
            return
        link = self.links.get(gateway)
        if link is None or link.closed:
            link = NatsLink(self.nc, gateway, f"{self.prefix}.down.{gateway}", **self.kw)
            self.links[gateway] = link
            link.on_close = lambda _reason, g=gateway, lk=link: self._forget(g, lk)
            self.on_link(link)
        link._received(msg.data)

    def _forget(self, gateway: str, link: NatsLink) -> None:
        if self.links.get(gateway) is link:
            del self.links[gateway]

    async def close(self) -> None:
        if self._sub is not None:
            await self._sub.unsubscribe()
        for link in list(self.links.values()):
            link.close("engine stopping")


async def connect_nats_gateway(
    nc: Any, gateway: str, prefix: str = DEFAULT_PREFIX, **kw: Any
) -> NatsLink:
    """A gateway's end: publish up, listen down. Alive once the engine's heartbeat arrives."""
    if not GATEWAY_NAME.match(gateway):
        raise ValueError("a gateway name is 1-64 letters, digits, '-' or '_'")
    link = NatsLink(nc, "engine", f"{prefix}.up.{gateway}", **kw)

    async def down(msg: Any) -> None:
        link._received(msg.data)

    link.subscription = await nc.subscribe(f"{prefix}.down.{gateway}", cb=down)
    await nc.flush()
    return link
