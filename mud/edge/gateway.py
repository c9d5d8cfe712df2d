"""A gateway: owns the sockets, so connections outlive the engine.

The gateway accepts telnet connections and runs everything about them (telnetlib3 and our
option policy, MTTS/NAWS/CHARSET, GMCP framing, the MCCP2 stream, line splitting, the byte
and negotiation budgets, connection caps, the bounded output buffer) and holds no world
state. Each connection is a `Conn`; the engine sees it as a Session (mud/core/peer.py) over the
Link (messages: mud/protocol). Lines, GMCP and what the client can do (ClientCaps) go up;
output items (text, prompts, echo, out-of-band data: framed here) and close come down.

When the engine goes away (a reload, a crash, a hang the heartbeat catches), no connection
closes: players are told (once per outage), what they type is kept (bounded) and the gateway
reconnects. The new engine gets every connection in the gateway's hello (its ClientCaps,
whether it was greeted, the dreamer it plays) and then the lines typed meanwhile, in order. A line
sent up is kept too until the engine says it got it ("got"): one a hung or dying engine
never read is sent again to the next engine, first and in order. A line the old engine got
but never finished (its reply never came) is reported as maybe not done; it is never sent
twice. Crawlers asking for MSSP meanwhile get the last whole table, the players counted here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from typing import Any

from mud.config import Settings
from mud.edge.conn import EVICTED, FLICKER, MAYBE_NOT_DONE, NOT_KEPT, THROTTLED, Conn
from mud.edge.gate import ConnectionGate
from mud.edge.listeners import listen, listening_on, open_file_budget
from mud.edge.mssp_cache import MsspCache
from mud.edge.notices import plain
from mud.edge.telnet import MudTelnet
from mud.link.auth import LinkRefused
from mud.link.base import Link
from mud.protocol import (
    VERSION,
    Abort,
    Bind,
    Caps,
    ClientCaps,
    Close,
    Connect,
    Event,
    GatewayInfo,
    Go,
    Got,
    Hello,
    Message,
    Mssp,
    Output,
    Reload,
    Reloading,
    ResumeOk,
    Stop,
    Welcome,
    Who,
)
from mud.supervisor.procs import ListenError

__all__ = [  # (the notices are Conn's; named here too, for whoever reads them as the gateway's)
    "EVICTED", "FLICKER", "MAYBE_NOT_DONE", "NOT_KEPT", "STOPPING", "THROTTLED",
    "Conn", "Gateway", "ListenError",
]  # fmt: skip

log = logging.getLogger("dreamwave.gateway")

RECONNECT_EVERY = 0.05  # seconds between tries to reach a restarting engine (local link)
REFUSED_WAIT = 2.0  # seconds before trying again after the engine refused our link secret
PROOF_WAIT = 3.0  # seconds an engine that took our connection has to finish the proof
HELLO_EVERY = 1.0  # seconds between hellos over NATS until the engine answers
STOPPING = "The dreamscape is fading: the server is shutting down."


class Gateway:
    """One gateway process's connections, listeners and Link to the engine."""

    def __init__(
        self,
        settings: Settings,
        name: str = "gw1",
        *,
        link_path: str | None = None,
        nats_url: str | None = None,
        nats_options: dict[str, Any] | None = None,
        reuse_port: bool = False,
    ) -> None:
        self.settings = settings
        self.limits = settings.limits
        self.name = name
        self.link_path = link_path
        self.nats_url = nats_url
        self.nats_options = nats_options or {}
        self.reuse_port = reuse_port
        self.conns: dict[int, Conn] = {}
        self.gate = ConnectionGate(settings.limits)
        self.last_sid = 0
        self.link: Link | None = None
        self.attached = False  # the engine answered our hello
        self.reloading = False  # the engine said it is going away for a reload
        self.ever_attached = False
        # what the last hello said of each connection (see _catch_up)
        self._hello_said: dict[int, tuple[bool, tuple[ClientCaps, str]]] | None = None
        self.engine_id: Any = None  # the engine that welcomed us last (its "engine" id)
        self._outage = False  # lost an engine we were attached to, since its welcome
        self.mssp = MsspCache(self.conns)  # what crawlers get while the engine can't answer
        self.port = settings.port
        self.stopped = asyncio.Event()
        self.exit_code = 0
        self._servers: list[asyncio.Server] = []
        self._nc: Any = None
        self._secret: bytes | None = None  # the link secret (mud.link.auth), set at start
        self._connector: asyncio.Task[None] | None = None
        self._stopping = False
        self.web: Any = None  # the browser client's listener (mud/web), when on

    # -- what the telnet layer asks of its "app" ------------------------------------------
    def new_session(self, telnet: MudTelnet, transport: Any) -> Conn:
        return self.add_conn(Conn(self, telnet, transport), transport)

    def add_conn(self, conn: Conn, transport: Any) -> Conn:
        """Admit a new connection (telnet's, or the browser's: mud/web) and announce it."""
        refusal = self.gate.admit(conn)  # (the gate logs refusals, a flood once)
        if refusal is not None:
            conn.write(plain(refusal))
            conn.closed = True
            transport.close()
            return conn
        if self._stopping:
            conn.write(plain(STOPPING))
            conn.closed = True
            transport.close()
            return conn
        self.conns[conn.sid] = conn
        self.up(Connect(conn.sid, conn.address, conn.port, conn.caps()))
        return conn

    def conn_gone(self, conn: Conn, tell: bool = True) -> None:
        if self.conns.pop(conn.sid, None) is None:
            return
        self.mssp.owed.discard(conn.sid)
        self.gate.release(conn)
        if tell:
            self.up(Event(conn.sid, "gone"))

    def up(self, message: Message) -> bool:
        """Send to the engine if it is there (else the hello after it returns says all)."""
        if self.attached and self.link is not None:
            self.link.post(message)
            return True
        return False

    # -- start and stop -------------------------------------------------------------------
    async def start(self) -> None:
        self.gate.max_open = open_file_budget(self.limits.fd_reserve)
        from mud.link.auth import configured_secret

        self._secret = configured_secret(self.settings.link)  # (None: the socket folder's key)
        if self.nats_url:  # (first: wrong credentials stop the start before any port is taken)
            from mud.link.nats import check_nats, nats_connect

            check_nats(self.settings.link.model_copy(update={"nats": self.nats_url}), self._secret)
            self._nc = await nats_connect(self.nats_url, f"dreamwave-{self.name}",
                                          **self.nats_options)  # fmt: skip
        self._servers, self.port = await listen(
            self.settings.hosts, self.settings.port, lambda: MudTelnet(self), self.reuse_port
        )
        log.info("gateway %s accepting on %s (pid %d)", self.name, self.listening_on(), os.getpid())
        if self.settings.web.enabled:  # the browser client, on its own port
            from mud.edge.web import WebListener

            self.web = WebListener(self)
            await self.web.start()
        self._connector = asyncio.get_running_loop().create_task(self._connect_forever())

    def listening_on(self) -> str:
        return listening_on(self._servers)

    async def _connect_forever(self) -> None:
        """Reach the engine, say hello, and do it again whenever the link drops. Whatever
        goes wrong in one try is logged and the next try comes: a gateway that stopped
        trying would leave its players frozen, with nothing said anywhere."""
        while not self._stopping:
            try:
                await self._connect_once()
            except Exception as err:  # (said, not raised: the next try may well succeed)
                log.warning("gateway %s: reaching the engine failed (%r); trying again",
                            self.name, err)  # fmt: skip
                await asyncio.sleep(REFUSED_WAIT)

    async def _connect_once(self) -> None:
        """One link to the engine, from connecting until it is lost."""
        try:
            link = await self._connect()
        except (TimeoutError, OSError):
            await asyncio.sleep(RECONNECT_EVERY)
            return
        except LinkRefused as err:  # the socket folder's key is not private
            log.error("gateway %s: %s", self.name, err)
            await asyncio.sleep(REFUSED_WAIT)
            return
        self._use(link)
        lost = asyncio.get_running_loop().create_future()

        def on_close(reason: str, f: asyncio.Future[str] = lost) -> None:
            if not f.done():
                f.set_result(reason)

        link.on_close = on_close
        if link.closed:  # closed before we listened: an engine dying as it took us (the
            on_close(link.close_reason)  # kernel resets what was in its backlog)
        self._hello(link)
        if self.nats_url:
            # NATS keeps nothing for an engine that isn't there: say it again until heard
            while not self.attached and not lost.done():
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(asyncio.shield(lost), HELLO_EVERY)
                if not self.attached and not lost.done() and link.proven:
                    self._hello(link)  # (an unproven link holds the first one still)
        reason = await self._until_lost(link, lost)
        self._engine_lost(reason)
        if not link.proven:  # refused (another link secret?): don't knock at full speed
            await asyncio.sleep(REFUSED_WAIT)

    async def _until_lost(self, link: Link, lost: asyncio.Future[str]) -> str:
        """Why the link closed. One the engine took but never finished proving within
        PROOF_WAIT (an engine killed as it accepted us, a lost handshake message) is closed
        here, so the next try reaches the engine that replaces it. (Over NATS the gateway
        knocks again each heartbeat until an engine is there to answer.)"""
        if self.nats_url:
            return await lost
        try:
            return await asyncio.wait_for(asyncio.shield(lost), PROOF_WAIT)
        except TimeoutError:
            if not link.proven and not link.closed:
                link.close("the engine took our connection but never answered its proof")
            return await lost

    async def _connect(self) -> Link:
        if self.nats_url:
            from mud.link.nats import connect_nats_gateway

            prefix = self.settings.link.nats_prefix
            return await connect_nats_gateway(self._nc, self.name, prefix, secret=self._secret)
        from mud.link.local import connect_local

        assert self.link_path is not None
        connecting = connect_local(self.link_path, self.name, self._secret)
        return await asyncio.wait_for(connecting, 2.0)

    def _use(self, link: Link) -> None:
        self.link = link
        link.on_frame = self._on_frame

    def _hello(self, link: Link) -> None:
        reason = "reload" if self.reloading else ("crash" if self.ever_attached else "start")
        attached = [c.attached() for c in self.conns.values() if not c.closed]
        self._hello_said = {a.sid: (a.state.started, (a.caps, a.address)) for a in attached}
        info = GatewayInfo(self.port, self.listening_on(), reason, os.getpid())
        link.post(Hello(VERSION, self.name, info, attached))

    async def _greet_next(self, link: Link) -> None:
        """Over NATS a reload closes nothing: after "reloading", say hello until a new
        engine answers (the old one ignores it)."""
        self._lost(True)
        while self.link is link and not link.closed and not self.attached and not self._stopping:
            await asyncio.sleep(HELLO_EVERY / 2)
            if self.link is link and not self.attached:
                self._hello(link)

    def _engine_lost(self, reason: str) -> None:
        was = self.attached
        self.link = None
        if self._stopping:
            self.attached = False
            return
        if was:
            log.warning("gateway %s: the engine is gone (%s); keeping %d connection(s)",
                        self.name, reason, len(self.conns))  # fmt: skip
        self._lost(self.reloading)

    def _lost(self, planned: bool) -> None:
        """Players are told when the engine they were attached to goes, not again for each
        link that fails before the next one welcomes us (a hung engine takes a hello and
        never answers: that link is lost too when it is killed)."""
        was, self.attached = self.attached, False
        if not was:
            return
        self._outage = True
        for conn in list(self.conns.values()):
            conn.engine_lost(planned)
        self.mssp.answer_owed()  # (asked of an engine that will never answer)

    def _welcomed(self, welcome: Welcome) -> None:
        link = self.link
        assert link is not None
        if welcome.mssp:
            self.mssp.keep(welcome.mssp)
        first = not self.ever_attached
        self.attached = self.ever_attached = True
        self.reloading = False
        same, self.engine_id = welcome.engine == self.engine_id, welcome.engine
        outage, self._outage = self._outage, False
        self._catch_up(link)
        for conn in self.conns.values():
            conn.greeted = conn.greeted or conn.started
            conn._told_not_kept = False
            if outage:
                conn.engine_back(same and self.engine_id is not None)
            while conn.waiting and not conn.closed:
                conn.send_up(conn.waiting.popleft())
        self.mssp.answer_owed()
        if not first:
            log.info("gateway %s: the engine is back; %d connection(s) re-attached",
                     self.name, len(self.conns))  # fmt: skip

    def _catch_up(self, link: Link) -> None:
        """What happened between our hello and the engine's welcome (`up` dropped it, as
        we were not attached): a connection accepted meanwhile is in no hello, so say "c"
        (and "go"); one that finished negotiating, changed its facts or went away since
        the hello said so is told too. Else the engine never greets it, or keeps a ghost.
        (Once per hello: a second welcome, to a hello said again over NATS, has nothing.)"""
        said = self._hello_said
        if said is None:
            return
        self._hello_said = None
        for sid in said.keys() - self.conns.keys():
            link.post(Event(sid, "gone"))
        for conn in self.conns.values():
            if conn.closed:
                continue
            caps = conn.caps()
            if conn.sid not in said:
                link.post(Connect(conn.sid, conn.address, conn.port, caps))
                if conn.started:
                    link.post(Go(conn.sid, caps))
                continue
            started, facts = said[conn.sid]
            if conn.started and not started:
                link.post(Go(conn.sid, caps))
            elif (caps, conn.address) != facts:
                link.post(Caps(conn.sid, caps, conn.address, conn.port))

    def _on_frame(self, messages: list[Message]) -> None:
        for m in messages:
            try:
                if type(m) is Output:
                    self._output(m)
                else:
                    self._handle(m)
            except Exception:  # one connection's trouble stays its own
                log.exception("gateway %s: handling %r failed", self.name, str(m)[:120])

    def _output(self, m: Output) -> None:
        conns = self.conns
        outs, which, dones = m.outs, m.which, m.dones
        cache: dict[Any, Any] = {}  # each distinct output rendered once per kind of connection
        for i, sid in enumerate(m.sids):
            conn = conns.get(sid)
            if conn is not None:  # (write keeps a connection's trouble its own)
                conn.acked = dones[i]
                w = which[i]
                conn.output(outs[w], w, cache)

    def _handle(self, m: Message) -> None:
        conns = self.conns
        match m:
            case Got(sids, counts):
                for sid, got in zip(sids, counts, strict=False):
                    conn = conns.get(sid)
                    if conn is not None:
                        conn.confirmed(got)
            case ResumeOk(sid):
                conn = conns.get(sid)
                if conn is not None:
                    conn.resume_allowed()
            case Bind(sid, player):
                conn = conns.get(sid)
                if conn is not None:
                    conn.player = player
                    if player is not None:
                        self.gate.logged_in(conn)
            case Close(sid):
                conn = conns.get(sid)
                if conn is not None:
                    conn.close()
            case Abort(sid):
                conn = conns.get(sid)
                if conn is not None:
                    conn.abort(tell=False)
            case Welcome():
                self._welcomed(m)
            case Mssp(table, sid):
                self.mssp.from_engine(table, sid)
            case Reload():
                self.reloading = True
                if self.link is not None:
                    self.link.post(Reloading())  # (after every line sent before)
                    if self.nats_url:  # no connection to lose: greet the next engine
                        asyncio.get_running_loop().create_task(self._greet_next(self.link))
            case Who():  # a new engine heard us before our hello (NATS)
                if self.link is not None:
                    self._outage = self._outage or self.attached  # (the last one is gone)
                    self.attached = False
                    self._hello(self.link)
            case Stop():
                asyncio.get_running_loop().create_task(self.stop())
            case _:
                log.warning("gateway %s: the engine sent a message a gateway doesn't take: %s",
                            self.name, type(m).__name__)  # fmt: skip

    async def stop(self, farewell: str | None = None) -> None:
        """Close every connection (after its output) and stop listening."""
        if self._stopping:
            return
        self._stopping = True
        for server in self._servers:
            server.close()
        if self.web is not None:
            self.web.close()
        if self._connector is not None:
            self._connector.cancel()
        for conn in list(self.conns.values()):
            if farewell:
                conn.write(plain(farewell))
            conn.close()
        if self.link is not None:
            self.link.flush()
            self.link.close("gateway stopping")
        # Give the kernel a moment to send what is buffered before the process ends.
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline and any(
            not t.is_closing() for t in self._transports()
        ):  # pragma: no cover - timing
            await asyncio.sleep(0.02)
        for server in self._servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 2.0)
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.close()
        self.stopped.set()

    def _transports(self) -> list[Any]:
        return [c.transport for c in self.conns.values()]
