"""The NATS transport (the `nats` extra): gateways on other machines, or an existing cluster.

Subjects, under a prefix (default `dreamwave`):
  <prefix>.up.<gateway>     a gateway's batches to the engine
  <prefix>.down.<gateway>   the engine's batches to that gateway
Core NATS delivers at most once and keeps nothing for a subscriber that isn't there, so
liveness is the links' heartbeat, not the bus: a gateway learns the engine is back when its
heartbeat arrives again, and the engine learns of a gateway from its first batch. Credentials
and TLS are NATS's own (user/password, token, a .creds file, an ssl context), passed through;
a bus without any is refused unless `nats_insecure` says so (`check_nats`). Whoever else may
use the bus, every link proves the link secret and is sealed (mud.link.auth): they can neither
read what crosses it nor speak on it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import types
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Unpack

from mud.link.auth import Guard, LinkRefused
from mud.link.base import Link, LinkOptions, LinkTuning

if TYPE_CHECKING:  # (nats-py is an extra: imported at run time only when used)
    from nats.aio.client import Client as NatsClient
    from nats.aio.msg import Msg
    from nats.aio.subscription import Subscription

    from mud.config import LinkSettings

log = logging.getLogger("dreamwave.link")

DEFAULT_PREFIX = "dreamwave"
GATEWAY_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _nats() -> types.ModuleType:
    try:
        import nats
    except ImportError:  # pragma: no cover - depends on the extra being installed
        raise RuntimeError("the NATS transport needs nats-py: pip install -e '.[nats]'") from None
    return nats


def authenticated(link: LinkSettings) -> bool:
    """Whether the [link] settings (or the URL) give NATS any credentials."""
    userinfo = link.nats.partition("://")[2].partition("/")[0]
    return bool(
        link.nats_user or link.nats_token or link.nats_creds or link.nats_tls_cert
        or "@" in userinfo
    )  # fmt: skip


def check_nats(link: LinkSettings, secret: bytes | None) -> None:
    """Refuse NATS settings that would let others in (one sentence each); say it loudly when
    the operator chose an unauthenticated bus on purpose."""
    if not link.nats:
        return
    if secret is None:
        raise LinkRefused(
            "Gateways over NATS need a link secret, the same on the engine and every gateway: "
            "set [link] secret_file (a file only you can read) or DREAMWAVE_LINK__SECRET."
        )
    if authenticated(link):
        return
    if not link.nats_insecure:
        raise LinkRefused(
            f"Refusing to use NATS at {link.nats} without authentication: anyone who can "
            "reach it could listen. Set nats_user and nats_password, nats_token, nats_creds "
            "or nats_tls_cert in [link], or nats_insecure = true if nobody else can reach it."
        )
    log.warning("NATS at %s has no authentication (nats_insecure = true): only the link "
                "secret keeps others out; use it only where nobody else can reach the bus",
                link.nats)  # fmt: skip


def connect_options(link: LinkSettings) -> dict[str, Any]:
    """nats-py's connect options from the [link] settings (credentials and TLS)."""
    opts: dict[str, Any] = {}
    if link.nats_user:
        opts["user"], opts["password"] = link.nats_user, link.nats_password
    if link.nats_token:
        opts["token"] = link.nats_token
    if link.nats_creds:
        opts["user_credentials"] = link.nats_creds
    if link.nats_tls_ca or link.nats_tls_cert:
        import ssl

        context = ssl.create_default_context(cafile=link.nats_tls_ca or None)
        if link.nats_tls_cert:  # a client certificate: NATS's TLS authentication
            context.load_cert_chain(link.nats_tls_cert, link.nats_tls_key or None)
        opts["tls"] = context
    return opts


class NatsUnavailable(Exception):
    """NATS could not be reached, or refused our credentials: one sentence for the admin."""


async def nats_connect(url: str, name: str, **options: Any) -> NatsClient:
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
        nc: NatsClient = await nats.connect(
            url, name=name, allow_reconnect=True, max_reconnect_attempts=-1,
            connect_timeout=5, error_cb=quiet, **options,
        )  # fmt: skip
    except Exception as err:
        reason = str(err).removeprefix("nats: ").strip("'") or type(err).__name__
        shown = re.sub(r"(://)[^/@]+@", r"\1***@", url)  # (never a password in a log)
        raise NatsUnavailable(f"Can't use NATS at {shown}: {reason}.") from None
    return nc


class NatsLink(Link):
    """One gateway's conversation with the engine, over subjects of a shared connection."""

    def __init__(
        self, nc: NatsClient, name: str, publish_to: str, **kw: Unpack[LinkOptions]
    ) -> None:
        kw.setdefault("max_payload", min(nc.max_payload, 1024 * 1024) - 1024)
        super().__init__(name, **kw)
        self.nc = nc
        self.subject = publish_to
        self.subscription: Subscription | None = (
            None  # what the gateway's end listens on, dropped at close
        )
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
        self,
        nc: NatsClient,
        on_link: Callable[[NatsLink], None],
        prefix: str = DEFAULT_PREFIX,
        *,
        secret: bytes | None,
        **kw: Unpack[LinkTuning],
    ) -> None:
        """`on_link` gets each gateway once it has proven `secret` (None: at its first
        batch, unproven: only for testing the transport itself)."""
        self.nc = nc
        self.on_link = on_link
        self.secret = secret
        self.prefix = prefix
        self.kw = kw
        self.links: dict[str, NatsLink] = {}
        self._sub: Subscription | None = None

    async def start(self) -> None:
        self._sub = await self.nc.subscribe(f"{self.prefix}.up.*", cb=self._message)

    async def _message(self, msg: Msg) -> None:
        gateway = msg.subject.rsplit(".", 1)[-1]
        if not GATEWAY_NAME.match(gateway):
            return
        link = self.links.get(gateway)
        if link is None or link.closed:
            link = self._new_link(gateway)
        link._received(msg.data)

    def _new_link(self, gateway: str) -> NatsLink:
        """A gateway first heard: handed to `on_link` once it has proven the secret."""
        guard = None if self.secret is None else Guard(self.secret, "engine", gateway, True)
        link = NatsLink(self.nc, gateway, f"{self.prefix}.down.{gateway}", guard=guard, **self.kw)
        self.links[gateway] = link

        def forget(_reason: str) -> None:
            self._forget(gateway, link)

        link.on_close = forget
        if guard is None:
            self.on_link(link)
        else:
            link.on_ready = functools.partial(self.on_link, link)
        return link

    def _forget(self, gateway: str, link: NatsLink) -> None:
        if self.links.get(gateway) is link:
            del self.links[gateway]

    async def close(self) -> None:
        if self._sub is not None:
            await self._sub.unsubscribe()
        for link in list(self.links.values()):
            link.close("engine stopping")


async def connect_nats_gateway(
    nc: NatsClient,
    gateway: str,
    prefix: str = DEFAULT_PREFIX,
    *,
    secret: bytes | None,
    **kw: Unpack[LinkTuning],
) -> NatsLink:
    """A gateway's end: publish up, listen down, prove `secret` (knocking each heartbeat
    until an engine answers); what is posted waits until then."""
    if not GATEWAY_NAME.match(gateway):
        raise ValueError("a gateway name is 1-64 letters, digits, '-' or '_'")
    guard = None if secret is None else Guard(secret, "gateway", gateway, sealed=True)
    link = NatsLink(nc, "engine", f"{prefix}.up.{gateway}", guard=guard, **kw)

    async def down(msg: Msg) -> None:
        link._received(msg.data)

    link.subscription = await nc.subscribe(f"{prefix}.down.{gateway}", cb=down)
    await nc.flush()
    link.knock()
    return link
