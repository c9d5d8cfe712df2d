"""How a gateway reaches its engine: one link at a time, over the local Unix socket or NATS,
proven with the link secret (mud/link/auth.py); a hello on each, and when it is lost the next
try. Whatever goes wrong in one try is logged and the next try comes: a gateway that stopped
trying would leave its players frozen, with nothing said anywhere. What the link carries is
the Gateway's (mud/edge/gateway.py: `use`, `hello`, `engine_lost`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from mud.link.auth import LinkRefused
from mud.link.base import Link

if TYPE_CHECKING:
    from nats.aio.client import Client as NatsClient

    from mud.edge.gateway import Gateway

log = logging.getLogger("dreamwave.gateway")

RECONNECT_EVERY = 0.05  # seconds between tries to reach a restarting engine (local link)
REFUSED_WAIT = 2.0  # seconds before trying again after the engine refused our link secret
PROOF_WAIT = 3.0  # seconds an engine that took our connection has to finish the proof
HELLO_EVERY = 1.0  # seconds between hellos over NATS until the engine answers


class Uplink:
    """The gateway's way to the engine: the local socket at `link_path`, or NATS at
    `nats_url` (with `nats_options`)."""

    def __init__(
        self, gw: Gateway, link_path: str | None, nats_url: str | None, nats_options: dict[str, Any]
    ) -> None:
        self.gw = gw
        self.link_path = link_path
        self.nats_url = nats_url
        self.nats_options = nats_options
        self._nc: NatsClient | None = None  # the NATS client, when over NATS
        self._secret: bytes | None = None  # the link secret (mud.link.auth), set by open
        self._unproven = 0  # links in a row lost before they were proven

    @property
    def nats(self) -> bool:
        return bool(self.nats_url)

    async def open(self) -> None:
        """The link secret; over NATS, the credentials checked and the client connected."""
        from mud.link.auth import configured_secret

        settings = self.gw.settings.link
        self._secret = configured_secret(settings)  # (None: the socket folder's key)
        if self.nats_url:
            from mud.link.nats import check_nats, nats_connect

            check_nats(settings.model_copy(update={"nats": self.nats_url}), self._secret)
            self._nc = await nats_connect(self.nats_url, f"dreamwave-{self.gw.name}",
                                          **self.nats_options)  # fmt: skip

    async def close(self) -> None:
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.close()

    async def run(self) -> None:
        """Reach the engine, say hello, and do it again whenever the link drops. Whatever
        goes wrong in one try is logged and the next try comes: a gateway that stopped
        trying would leave its players frozen, with nothing said anywhere."""
        while not self.gw.stopping:
            try:
                await self._connect_once()
            except Exception as err:  # (said, not raised: the next try may well succeed)
                log.warning("gateway %s: reaching the engine failed (%r); trying again",
                            self.gw.name, err)  # fmt: skip
                await asyncio.sleep(REFUSED_WAIT)

    async def _connect_once(self) -> None:
        """One link to the engine, from connecting until it is lost."""
        try:
            link = await self._connect()
        except (TimeoutError, OSError):
            await asyncio.sleep(RECONNECT_EVERY)
            return
        except LinkRefused as err:  # the socket folder's key is not private
            log.error("gateway %s: %s", self.gw.name, err)
            await asyncio.sleep(REFUSED_WAIT)
            return
        self.gw.use(link)
        lost = asyncio.get_running_loop().create_future()

        def on_close(reason: str, f: asyncio.Future[str] = lost) -> None:
            if not f.done():
                f.set_result(reason)

        link.on_close = on_close
        if link.closed:  # closed before we listened: an engine dying as it took us (the
            on_close(link.close_reason)  # kernel resets what was in its backlog)
        self.gw.hello(link)
        if self.nats:
            # NATS keeps nothing for an engine that isn't there: say it again until heard
            while not self.gw.attached and not lost.done():
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(asyncio.shield(lost), HELLO_EVERY)
                if not self.gw.attached and not lost.done() and link.proven:
                    self.gw.hello(link)  # (an unproven link holds the first one still)
        reason = await self._until_lost(link, lost)
        self.gw.engine_lost(reason)
        if link.proven:
            self._unproven = 0
            return
        # Lost before it was proven: an engine dying as it took us (its socket's backlog is
        # reset: the next try, at once, finds the next engine) or one that refused us
        # (another link secret?): don't knock at full speed.
        self._unproven += 1
        await asyncio.sleep(RECONNECT_EVERY if self._unproven == 1 else REFUSED_WAIT)

    async def _until_lost(self, link: Link, lost: asyncio.Future[str]) -> str:
        """Why the link closed. One the engine took but never finished proving within
        PROOF_WAIT (an engine killed as it accepted us, a lost handshake message) is closed
        here, so the next try reaches the engine that replaces it. (Over NATS the gateway
        knocks again each heartbeat until an engine is there to answer.)"""
        if self.nats:
            return await lost
        try:
            return await asyncio.wait_for(asyncio.shield(lost), PROOF_WAIT)
        except TimeoutError:
            if not link.proven and not link.closed:
                link.close("the engine took our connection but never answered its proof")
            return await lost

    async def _connect(self) -> Link:
        if self.nats:
            from mud.link.nats import connect_nats_gateway

            assert self._nc is not None  # (opened first: open)
            prefix = self.gw.settings.link.nats_prefix
            return await connect_nats_gateway(self._nc, self.gw.name, prefix, secret=self._secret)
        from mud.link.local import connect_local

        assert self.link_path is not None
        connecting = connect_local(self.link_path, self.gw.name, self._secret)
        return await asyncio.wait_for(connecting, 2.0)
