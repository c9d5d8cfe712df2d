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
import resource
import socket
import time
from collections import deque
from collections.abc import Sequence
from typing import Any

from mud.config import Settings
from mud.edge.addresses import peer_address
from mud.edge.bucket import TokenBucket
from mud.edge.gate import ConnectionGate
from mud.edge.notices import plain
from mud.edge.telnet import LineReader, MudTelnet, gmcp, mssp
from mud.edge.telnet.gmcp import GmcpState
from mud.edge.telnet.mtts import parse_ttypes
from mud.link.auth import LinkRefused
from mud.link.base import Link
from mud.protocol import (
    VERSION,
    Abort,
    Attached,
    Bind,
    Caps,
    ClientCaps,
    Close,
    Connect,
    ConnState,
    Echo,
    Event,
    GatewayInfo,
    Gmcp,
    Go,
    Got,
    Hello,
    Item,
    Line,
    Message,
    Mssp,
    MsspAsk,
    Oob,
    Output,
    Prompt,
    Reload,
    Reloading,
    ResumeOk,
    Stop,
    Text,
    Welcome,
    Who,
)
from mud.supervisor.procs import ListenError

log = logging.getLogger("dreamwave.gateway")

LISTEN_BACKLOG = 4096
MAX_OPEN_FILES = 1 << 20  # what we count on with no open-file limit at all
RECONNECT_EVERY = 0.05  # seconds between tries to reach a restarting engine (local link)
REFUSED_WAIT = 2.0  # seconds before trying again after the engine refused our link secret
PROOF_WAIT = 3.0  # seconds an engine that took our connection has to finish the proof
HELLO_EVERY = 1.0  # seconds between hellos over NATS until the engine answers
FLICKER = "The dream flickers and goes dark for a moment; hold still, it is reforming."
MAYBE_NOT_DONE = "Your last command may not have happened; look before you try it again."
NOT_KEPT = "The dream is still reforming; that line was not kept. Try it again in a moment."
THROTTLED = "You're sending commands faster than the dream can follow; slow down."
STOPPING = "The dreamscape is fading: the server is shutting down."
EVICTED = "The login screen is full and you had not typed anything; connect again when ready."


def open_file_budget(reserve: int) -> int:
    """Raise the soft open-file limit to the hard one (the usual soft 1,024 is a few hundred
    half-open sockets) and return how many client sockets may be open, `reserve` kept free
    for listeners, the link and logs: past it `accept()` would fail for everyone, unlogged."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
    if soft == resource.RLIM_INFINITY:
        soft = MAX_OPEN_FILES
    return max(1, soft - reserve)


class Conn:
    """One client connection: what the telnet layer talks to, and what the engine's Session
    stands for."""

    def __init__(self, gw: Gateway, telnet: MudTelnet, transport: Any) -> None:
        self.gw = gw
        self.telnet = telnet
        self.transport = transport
        gw.last_sid += 1
        self.sid = gw.last_sid
        peer = transport.get_extra_info("peername") or ("?", 0)
        self.address = peer_address(str(peer[0]))
        self.port = int(peer[1]) if len(peer) > 1 else 0
        self.started = False  # negotiation over
        self.greeted = False  # an engine has had our "go" (showed the banner)
        self.closed = False
        self.player: str | None = None  # the dreamer it plays, as the engine told us
        self.gmcp = GmcpState()  # kept here so a new engine knows the client's packages
        self.echo_hidden = False
        self._marker: bytes | None = None  # what ends a prompt (see _prompt_marker)
        self.got = 0  # input lines this engine said it got ...
        self.acked = 0  # ... and how many of them it said were done
        self.unconfirmed: deque[bytes] = deque()  # sent up, not yet said to be got
        self.waiting: deque[bytes] = deque()  # lines typed while the engine was away
        self._told_not_kept = False
        self._told_maybe = False  # (once per outage)
        self._caps_pending = False
        lim = gw.limits  # lines a second, in bursts of command_burst
        now = time.monotonic()
        self.command_rate = TokenBucket(lim.commands_per_second, lim.command_burst, now)
        self._last_throttle_notice = 0.0

    def __repr__(self) -> str:
        return f"<Conn {self.sid} {self.address}:{self.port} {self.player or '-'}>"

    # -- what the engine needs to know --------------------------------------------------------
    def caps(self) -> ClientCaps:
        """What the client can do, from what it told the telnet layer (MTTS parsed here)."""
        t = self.telnet
        info = parse_ttypes(t.ttypes())
        on = t.writer is not None
        return ClientCaps(
            name=info.name, terminal=info.terminal, mtts=info.mtts, colour=info.colour,
            utf8=info.utf8, screen_reader=info.screen_reader,
            charset=str(t.get_extra_info("charset") or ""), charset_state=t.charset_state,
            cols=int(t.get_extra_info("cols") or 0), rows=int(t.get_extra_info("rows") or 0),
            options=t.options_on() if on else [], gmcp=t.gmcp_enabled() if on else False,
            gmcp_client=self.gmcp.client, gmcp_version=self.gmcp.version,  # its Core.Hello
            gmcp_packages=dict(self.gmcp.supports),  # (kept here across engines)
        )  # fmt: skip

    def state(self) -> ConnState:
        return ConnState(self.started, self.greeted, self.player)

    def attached(self) -> Attached:
        return Attached(self.sid, self.address, self.port, self.caps(), self.state())

    def _caps_changed(self) -> None:
        if self.started and not self._caps_pending:
            self._caps_pending = True
            asyncio.get_running_loop().call_soon(self._send_caps)

    def _send_caps(self) -> None:
        if not self._caps_pending:
            return
        self._caps_pending = False
        if not self.closed:
            self.gw.up(Caps(self.sid, self.caps(), self.address, self.port))

    # -- from the telnet layer ----------------------------------------------------------------
    def start(self) -> None:
        if self.closed or self.started:
            return
        self.started = True
        self._marker = None
        if self.gw.up(Go(self.sid, self.caps())):
            self.greeted = True

    def client_changed(self) -> None:
        self._caps_changed()

    def on_resize(self, _cols: int, _rows: int) -> None:
        self._caps_changed()

    def options_changed(self) -> None:
        self._marker = None  # (EOR or SGA may have changed)
        self._caps_changed()

    def on_gmcp(self, package: str, data: Any) -> None:
        """Core.* is answered and kept here (a new engine is told the packages in the caps);
        the engine hears what it acts on, after the caps it changed."""
        answer = self.gmcp.handle(package, data)
        if answer:
            self.gmcp_answer(answer)
        pkg = package.lower()
        if pkg.startswith("core."):
            if pkg != "core.ping" and self.started:
                self._caps_pending = True
                self._send_caps()
            if not pkg.startswith("core.supports"):
                return
        self.gw.up(Gmcp(self.sid, package, data))

    def gmcp_answer(self, package: str) -> None:
        self.write(gmcp.encode(package))

    def on_line(self, raw: bytes) -> None:
        if self.closed:
            return
        if self._caps_pending:  # (a resize before this line applies to its output)
            self._send_caps()
        gw = self.gw
        lim = gw.limits
        if raw.strip():  # (an empty line is not a player at work)
            gw.gate.typed(self)
        if len(raw) > lim.max_line_bytes:  # refused here: it never reaches the engine
            if not gw.up(Event(self.sid, "long", len(raw))):
                self.write(plain(f"That line was too long ({len(raw)} bytes); the most is "
                                 f"{lim.max_line_bytes}. Nothing was done."))  # fmt: skip
            return
        now = time.monotonic()
        if not self.command_rate.take(1, now):  # dropped; told once per throttle_notice_interval
            if now - self._last_throttle_notice >= lim.throttle_notice_interval:
                self._last_throttle_notice = now
                if not gw.up(Event(self.sid, "throttled")):
                    self.write(plain(THROTTLED))
            return
        if len(self.waiting) + len(self.unconfirmed) >= lim.max_kept_lines:
            if not self._told_not_kept:  # (a hung engine, or away for long)
                self._told_not_kept = True
                self.write(plain(NOT_KEPT))
            return
        if gw.attached and not gw.reloading and not self.waiting:
            self.send_up(raw)
            return
        self.waiting.append(raw)

    def send_up(self, raw: bytes) -> None:
        """One line to the engine, kept until it says it got it (see `confirmed`)."""
        self.unconfirmed.append(raw)
        link = self.gw.link
        if link is not None:
            link.post(Line(self.sid, raw))

    def resume_allowed(self) -> None:
        """Only a browser page resumes (mud/edge/web/conn.py); a telnet connection never does."""

    def confirmed(self, got: int) -> None:
        """The engine has `got` of our lines (since it took this connection): those it
        may have run are never sent again; the rest stay kept for the next engine."""
        while self.got < got and self.unconfirmed:
            self.unconfirmed.popleft()
            self.got += 1
        self._told_not_kept = False

    def on_flood(self) -> None:
        if not self.gw.up(Event(self.sid, "flood")):
            self.write(plain("Your client sent more telnet negotiation than the server takes."))
            self.close()

    def on_overflow(self) -> None:
        if not self.gw.up(Event(self.sid, "overflow")):
            self.write(plain("You sent too much text without pressing Enter; disconnecting."))
            self.close()

    def on_eof(self) -> None:
        self.on_disconnect()

    def evict(self) -> None:
        """The login screen was full and this connection never typed: a new arrival gets
        its place (mud/edge/gate.py)."""
        self.write(plain(EVICTED))
        self.close(tell=True)

    def on_disconnect(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.stop_reading()
        self.gw.conn_gone(self)

    def write_raw(self, data: bytes) -> None:
        self.write(data)

    def send_mssp(self) -> None:
        """The client agreed to MSSP: the engine has the live table (players online...).
        Without one, the last whole table it sent (the players counted here); before the
        first, the answer waits for the engine (Gateway.mssp_owed)."""
        gw = self.gw
        gw.mssp_owed.add(self.sid)
        if not gw.reloading and gw.up(MsspAsk(self.sid)):
            return  # (if it never answers, the outage answers: Gateway._answer_mssp)
        gw.answer_mssp(self)

    # -- from the engine ----------------------------------------------------------------------
    def output(self, items: Sequence[Item], key: int, cache: dict[Any, Any]) -> None:
        """The engine's output items as telnet bytes: IAC doubled, the prompt marked as the
        client agreed (EOR, GA or nothing), echo and GMCP as telnet commands. `cache` holds
        the bytes of this Output message's outputs (`key`) per marker: a crowd's lines
        are turned into bytes once."""
        marker = self._marker
        if marker is None:
            marker = self._prompt_marker()
        got = cache.get((key, marker))
        if got is None:
            got, alike = self._telnet_bytes(items, marker)
            if alike:
                cache[key, marker] = got
        self.write(got)

    def _prompt_marker(self) -> bytes:
        """IAC EOR, IAC GA or nothing, as the client agreed (kept until an option changes)."""
        t = self.telnet
        if t.writer is None:
            return b""
        self._marker = t.prompt_marker()
        return self._marker

    def _telnet_bytes(self, items: Sequence[Item], marker: bytes) -> tuple[bytes, bool]:
        """The bytes, and whether they are the same for every connection with this marker."""
        out: list[bytes] = []
        alike = True
        for item in items:
            if type(item) is Text or type(item) is Prompt:
                data = item.data
                out.append(data.replace(b"\xff", b"\xff\xff") if b"\xff" in data else data)
                if type(item) is Prompt:
                    out.append(marker)
            elif type(item) is Oob:
                out.append(gmcp.frame(item.package, item.data))
            elif type(item) is Echo:
                alike = False  # (it changes this connection's telnet state)
                out.append(self.set_echo(item.off))
        return b"".join(out), alike

    def write(self, data: bytes) -> None:
        if self.closed:
            return
        try:
            self.transport.write(data)
        except Exception:  # e.g. a compression error inside MCCP2: this client only
            log.exception("writing to %r failed; dropping the connection", self)
            self.abort()
            return
        if self.transport.get_write_buffer_size() > self.gw.limits.max_output_bytes:
            log.info("dropping %r: output backlog over limit (client not reading)", self)
            self.abort()

    def set_echo(self, off: bool) -> bytes:
        """The client stops echoing (a password prompt) or starts again: the telnet layer
        records the option (so it answers DO ECHO right); the bytes to send in order."""
        self.echo_hidden = off
        return self.telnet.echo_off() if off else self.telnet.echo_on()

    def close(self, tell: bool = False) -> None:
        """Close once what is written has gone out (`tell`: the engine didn't ask)."""
        if self.closed:
            return
        self.closed = True
        self.stop_reading()
        self.transport.close()
        self.gw.conn_gone(self, tell=tell)

    def abort(self, tell: bool = True) -> None:
        """Drop at once: the client stopped reading, or (engine's "abort", `tell` False)."""
        if self.closed:
            return
        self.closed = True
        self.stop_reading()
        self.transport.abort()
        self.gw.conn_gone(self, tell=tell)

    def stop_reading(self) -> None:
        """No more input from this connection (a browser's Conn lets go of its socket)."""
        reader = self.telnet.reader
        if isinstance(reader, LineReader):  # (telnetlib3 made it with our reader_factory)
            reader.sink = None

    # -- the engine went away and came back ---------------------------------------------------
    def engine_lost(self, planned: bool) -> None:
        """Told once per outage (the gateway calls this only when it loses an engine it was
        attached to). What the engine got and didn't finish may not have happened."""
        if self.closed or not self.started:
            return
        out = b""
        if self.echo_hidden:  # a password prompt: the new engine starts the login again
            out += self.telnet.echo_on() + b"\r\n"
            self.echo_hidden = False
        if not planned:
            out += b"\r\n" + plain(FLICKER)
            if self.got > self.acked:
                out += self._maybe_not_done()
        if out:
            self.write(out)

    def _maybe_not_done(self) -> bytes:
        if self._told_maybe:
            return b""
        self._told_maybe = True
        return plain(MAYBE_NOT_DONE)

    def engine_back(self, same: bool) -> None:
        """A new engine took this connection: the lines the last one never said it got go
        to it first, in order; unless it *is* the last one (it was only hung: it may have
        read them after all), then they may not have happened and are not sent again."""
        kept, self.unconfirmed = self.unconfirmed, deque()
        if kept and same:
            if not self.closed and self.started:
                self.write(self._maybe_not_done())
        else:
            self.waiting.extendleft(reversed(kept))
        self.got = self.acked = 0
        self._told_maybe = self._told_not_kept = False


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
        self.mssp: dict[str, Any] = {}  # the last whole table the engine sent ...
        self._mssp_players = 0  # ... and how many of our connections played then
        self.mssp_owed: set[int] = set()  # sids that asked for MSSP and have no answer yet
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

    def mssp_table(self) -> dict[str, Any] | None:
        """The last whole table, its PLAYERS moved by how many of ours came and went since
        (nobody logs in while the engine is away); None before the engine sent one."""
        if not self.mssp:
            return None
        now = sum(1 for c in self.conns.values() if c.player and not c.closed)
        try:
            players = max(0, int(self.mssp.get("PLAYERS", 0)) - self._mssp_players + now)
        except ValueError:
            players = now
        return {**self.mssp, "PLAYERS": str(players)}

    def _keep_mssp(self, table: dict[str, Any]) -> None:
        self.mssp = table
        self._mssp_players = sum(1 for c in self.conns.values() if c.player and not c.closed)

    def answer_mssp(self, conn: Conn) -> None:
        """Answer from the last whole table, or (none yet) leave it owed until there is."""
        table = self.mssp_table()
        if table is not None:
            self.mssp_owed.discard(conn.sid)
            conn.write(mssp.encode(table))

    def _answer_owed_mssp(self) -> None:
        for sid in list(self.mssp_owed):
            conn = self.conns.get(sid)
            if conn is None:
                self.mssp_owed.discard(sid)
            else:
                self.answer_mssp(conn)

    def conn_gone(self, conn: Conn, tell: bool = True) -> None:
        if self.conns.pop(conn.sid, None) is None:
            return
        self.mssp_owed.discard(conn.sid)
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
        loop = asyncio.get_running_loop()
        self.gate.max_open = open_file_budget(self.limits.fd_reserve)
        port = self.settings.port
        from mud.link.auth import configured_secret

        self._secret = configured_secret(self.settings.link)  # (None: the socket folder's key)
        if self.nats_url:  # (first: wrong credentials stop the start before any port is taken)
            from mud.link.nats import check_nats, nats_connect

            check_nats(self.settings.link.model_copy(update={"nats": self.nats_url}), self._secret)
            self._nc = await nats_connect(self.nats_url, f"dreamwave-{self.name}",
                                          **self.nats_options)  # fmt: skip
        for host in self.settings.hosts:
            try:
                server = await loop.create_server(
                    lambda: MudTelnet(self), host, port, backlog=32, reuse_address=True,
                    reuse_port=self.reuse_port or None, start_serving=False,
                )  # fmt: skip
            except OSError as err:
                for s in self._servers:
                    s.close()
                raise ListenError(host, port, err) from err
            self._servers.append(server)
            port = server.sockets[0].getsockname()[1]
        self.port = port
        for server in self._servers:
            await server.start_serving()
        for server in self._servers:
            for tsock in server.sockets:
                dup = socket.fromfd(tsock.fileno(), tsock.family, tsock.type)
                try:
                    dup.listen(LISTEN_BACKLOG)
                finally:
                    dup.close()
        log.info("gateway %s accepting on %s (pid %d)", self.name, self.listening_on(), os.getpid())
        if self.settings.web.enabled:  # the browser client, on its own port
            from mud.edge.web import WebListener

            self.web = WebListener(self)
            await self.web.start()
        self._connector = loop.create_task(self._connect_forever())

    def listening_on(self) -> str:
        names = sorted(
            {s.getsockname()[:2] for srv in self._servers for s in srv.sockets},
            key=lambda a: ":" in a[0],
        )
        return ", ".join(f"[{h}]:{p}" if ":" in h else f"{h}:{p}" for h, p in names)

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
        self._answer_owed_mssp()  # (asked of an engine that will never answer)

    def _welcomed(self, welcome: Welcome) -> None:
        link = self.link
        assert link is not None
        if welcome.mssp:
            self._keep_mssp(welcome.mssp)
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
        self._answer_owed_mssp()
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
                self._keep_mssp(table)
                conn = conns.get(sid)
                if conn is not None and sid in self.mssp_owed:
                    self.mssp_owed.discard(sid)
                    conn.write(mssp.encode(table))
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
