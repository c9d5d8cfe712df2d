"""A gateway: owns the sockets, so connections outlive the engine.

The gateway accepts telnet connections and runs everything about them (telnetlib3 and our
option policy, MTTS/NAWS/CHARSET, GMCP framing, the MCCP2 stream, line splitting, the byte
and negotiation budgets, connection caps, the bounded output buffer) and holds no world
state. Each connection is a `Conn` (mud/edge/conn.py; a browser page's is a `WebConn`,
mud/edge/web/conn.py); the engine sees it as a Session (mud/core/peer.py) over the Link
(messages: mud/protocol), which the `Uplink` (mud/edge/uplink.py) keeps reaching. Lines,
GMCP and what the client can do (ClientCaps) go up; output items (text, prompts, echo,
out-of-band data: framed here, mud/edge/telnet/render.py) and close come down.

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
from typing import TYPE_CHECKING, Any

from mud.config import Settings
from mud.edge.conn import (
    EVICTED,
    FLICKER,
    MAYBE_NOT_DONE,
    NOT_KEPT,
    THROTTLED,
    Conn,
    Rendered,
    Transport,
)
from mud.edge.gate import ConnectionGate
from mud.edge.listeners import listen, listening_on, open_file_budget
from mud.edge.mssp_cache import MsspCache
from mud.edge.notices import plain
from mud.edge.telnet import MudTelnet
from mud.edge.uplink import HELLO_EVERY, Uplink
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

if TYPE_CHECKING:
    from mud.edge.web.server import WebListener

__all__ = [  # (the notices are Conn's; named here too, for whoever reads them as the gateway's)
    "EVICTED", "FLICKER", "MAYBE_NOT_DONE", "NOT_KEPT", "STOPPING", "THROTTLED",
    "Conn", "Gateway", "ListenError",
]  # fmt: skip

log = logging.getLogger("dreamwave.gateway")

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
        self.engine_id: str | None = None  # the engine that welcomed us last (its "engine" id)
        self._outage = False  # lost an engine we were attached to, since its welcome
        self.mssp = MsspCache(self.conns)  # what crawlers get while the engine can't answer
        self.port = settings.port
        self.stopped = asyncio.Event()
        self.exit_code = 0
        self._servers: list[asyncio.Server] = []
        self.uplink = Uplink(self, link_path, nats_url, nats_options or {})  # to the engine
        self._connector: asyncio.Task[None] | None = None
        self.stopping = False
        self.web: WebListener | None = None  # the browser client's listener (mud/web), when on

    # -- what the telnet layer asks of its "app" ------------------------------------------
    def new_session(self, telnet: MudTelnet, transport: asyncio.Transport) -> Conn:
        return self.add_conn(Conn(self, telnet, transport), transport)

    def add_conn(self, conn: Conn, transport: Transport) -> Conn:
        """Admit a new connection (telnet's, or the browser's: mud/web) and announce it."""
        refusal = self.gate.admit(conn)  # (the gate logs refusals, a flood once)
        if refusal is not None:
            conn.write(plain(refusal))
            conn.closed = True
            transport.close()
            return conn
        if self.stopping:
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
        await self.uplink.open()  # (first: wrong NATS credentials stop the start before any port)
        self._servers, self.port = await listen(
            self.settings.hosts, self.settings.port, lambda: MudTelnet(self), self.reuse_port
        )
        log.info("gateway %s accepting on %s (pid %d)", self.name, self.listening_on(), os.getpid())
        if self.settings.web.enabled:  # the browser client, on its own port
            from mud.edge.web import WebListener

            self.web = WebListener(self)
            await self.web.start()
        self._connector = asyncio.get_running_loop().create_task(self.uplink.run())

    def listening_on(self) -> str:
        return listening_on(self._servers)

    # -- the link to the engine (reached by mud/edge/uplink.py) -------------------------------
    def use(self, link: Link) -> None:
        """The link now in use: what comes on it is handled here."""
        self.link = link
        link.on_frame = self._on_frame

    def hello(self, link: Link) -> None:
        """Every connection we hold, what it can do and whom it plays, to a new engine."""
        reason = "reload" if self.reloading else ("crash" if self.ever_attached else "start")
        attached = [c.attached() for c in self.conns.values() if not c.closed]
        self._hello_said = {a.sid: (a.state.started, (a.caps, a.address)) for a in attached}
        info = GatewayInfo(self.port, self.listening_on(), reason, os.getpid())
        link.post(Hello(VERSION, self.name, info, attached))

    async def _greet_next(self, link: Link) -> None:
        """Over NATS a reload closes nothing: after "reloading", say hello until a new
        engine answers (the old one ignores it)."""
        self._lost(True)
        while self.link is link and not link.closed and not self.attached and not self.stopping:
            await asyncio.sleep(HELLO_EVERY / 2)
            if self.link is link and not self.attached:
                self.hello(link)

    def engine_lost(self, reason: str) -> None:
        """The link in use closed (`reason`): connections stay, players are told."""
        was = self.attached
        self.link = None
        if self.stopping:
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
        cache = Rendered()  # each distinct output rendered once per kind of connection
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
                    if self.uplink.nats:  # no connection to lose: greet the next engine
                        asyncio.get_running_loop().create_task(self._greet_next(self.link))
            case Who():  # a new engine heard us before our hello (NATS)
                if self.link is not None:
                    self._outage = self._outage or self.attached  # (the last one is gone)
                    self.attached = False
                    self.hello(self.link)
            case Stop():
                asyncio.get_running_loop().create_task(self.stop())
            case _:
                log.warning("gateway %s: the engine sent a message a gateway doesn't take: %s",
                            self.name, type(m).__name__)  # fmt: skip

    async def stop(self, farewell: str | None = None) -> None:
        """Close every connection (after its output) and stop listening."""
        if self.stopping:
            return
        self.stopping = True
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
        await self.uplink.close()
        self.stopped.set()

    def _transports(self) -> list[Transport]:
        return [c.transport for c in self.conns.values()]
