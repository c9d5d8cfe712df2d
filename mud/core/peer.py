"""The engine's side of the gateways: sessions whose connection lives in another process.

A gateway (mud/edge/gateway.py) owns the socket and the telnet layer; here each of its connections
is an ordinary `Session` whose `telnet` answers from the facts the gateway reported (terminal
type, size, charset, options) and whose `transport` posts its output to the gateway's Link.
So everything above the Session (login, commands, the output pump, the commit gates) is the
same whichever side of a link the socket is on, and the engine never touches a socket.

The messages, each a msgpack list; the Link batches all posted in one loop iteration:

up (gateway -> engine)
  ["hello", name, info, attached]  first on every (re)connect; `attached` is one
                                   [sid, facts, state] per connection the gateway holds
  ["c", sid, facts]                a new connection (not yet negotiated)
  ["go", sid, facts]               negotiation over: greet it
  ["f", sid, facts]                the client told us more (TTYPE, CHARSET, NAWS, GMCP...)
  ["in", sid, line]                one input line (bytes, without its end of line)
  ["gmcp", sid, package, data]     a GMCP message
  ["ev", sid, what]                "flood", "overflow" (the telnet layer cut it off) or "gone";
                                   "throttled" (lines dropped), ["ev", sid, "long", bytes];
                                   "resumed" (a web page came back, its address in facts)
  ["mssp?", sid]                   the client asked for MSSP
  ["reloading"]                    the answer to "reload": no more input until the next hello
down (engine -> gateway)
  ["welcome", info]                the answer to hello (info: the MSSP table, this engine's
                                   id: a gateway whose engine was only hung sends nothing again)
  ["got", sids, counts]            session sids[i] has had counts[i] input lines: the gateway
                                   stops keeping them (the rest go to the next engine)
  ["O", sids, which, dones, blobs] output: session sids[i] gets blobs[which[i]] (bytes; one
                                   blob sent once however many sessions get it, e.g. a room
                                   line for a crowd) and has finished dones[i] input lines
  ["echo", sid, off]               the password prompt's echo state
  ["resume_ok", sid]               a resumed page may have what it missed (no address ban)
  ["bind", sid, player]            the dreamer this connection plays (None: login screen)
  ["close", sid] / ["abort", sid]  close after the output / drop at once
  ["mssp", table, sid]             the MSSP table, for that client
  ["who"]                          say hello first (a new engine heard us mid-conversation)
  ["reload"]                       the engine goes away for a reload: keep input until back
  ["stop"]                         the server stops: close every connection and exit

Session ids are the gateway's own small integers; no client ever sees one or can send a
link message, and the engine keys them by the link they came on.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import TYPE_CHECKING, Any

from telnetlib3.telopt import ECHO, IAC, WILL, WONT

if TYPE_CHECKING:
    from mud.core.app import App
    from mud.core.session import Session
    from mud.link.base import Link

log = logging.getLogger("dreamwave.remote")

OUTPUT_GROUP_BYTES = 256 * 1024  # output bytes in one "O" message before the next one starts


class _Reader:
    """Stands where the telnet line reader was: App.stop sets `sink` to None to stop input."""

    __slots__ = ("sink",)

    def __init__(self) -> None:
        self.sink: Any = True  # (anything but None: input is taken)


class RemoteTelnet:
    """What a Session asks of its telnet connection, answered from its gateway's facts."""

    def __init__(self, peer: GatewayPeer, sid: int, facts: dict[str, Any]) -> None:
        self.peer = peer
        self.sid = sid
        self.facts = facts
        self.reader = _Reader()

    @property
    def charset_state(self) -> str:
        return str(self.facts.get("charset_state", "unasked"))

    def ttypes(self) -> list[str]:
        return [str(t) for t in self.facts.get("ttypes", ())]

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.facts.get(name, default)

    def options_on(self) -> list[str]:
        return [str(o) for o in self.facts.get("options", ())]

    def gmcp_enabled(self) -> bool:
        return bool(self.facts.get("gmcp"))

    def prompt_marker(self) -> bytes:
        return bytes(self.facts.get("marker", b""))

    def echo_off(self) -> bytes:
        """The gateway's telnet layer records that we echo (so it answers DO ECHO right);
        the bytes go out in order with the text, as in one process."""
        self.peer.post(["echo", self.sid, True])
        return IAC + WILL + ECHO

    def echo_on(self) -> bytes:
        self.peer.post(["echo", self.sid, False])
        return IAC + WONT + ECHO


class RemoteTransport:
    """Where a Session's output goes: into its gateway's output group (GatewayPeer.output),
    once per flush."""

    def __init__(self, peer: GatewayPeer, sid: int, address: str, port: int) -> None:
        self.peer = peer
        self.sid = sid
        self.peername = (address, port)
        self.session: Session | None = None
        self._closing = False

    def write(self, data: bytes) -> None:
        if self._closing:
            return
        s = self.session
        self.peer.output(self.sid, data, s.lines_done if s is not None else 0)

    def close(self) -> None:
        if not self._closing:
            self._closing = True
            self.peer.post(["close", self.sid])

    def abort(self) -> None:
        if not self._closing:
            self._closing = True
            self.peer.post(["abort", self.sid])

    def is_closing(self) -> bool:
        return self._closing

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.peername if name == "peername" else default


class GatewayPeer:
    """One gateway, as the engine sees it: its Link and the sessions on it."""

    def __init__(self, app: App, link: Link) -> None:
        self.app = app
        self.link = link
        self.name = link.name
        self.info: dict[str, Any] = {}
        self.sessions: dict[int, Session] = {}
        self.greeted = False
        self._asked = False  # said "who" to a gateway that spoke before its hello
        self._group: list[Any] | None = None  # the output group being filled (see output)
        self._group_batch = -1
        self._group_bytes = 0
        self._blob_index: dict[int, int] = {}
        self.reload_acked: asyncio.Future[None] | None = None  # see App._stop_for_reload
        self._got: dict[int, int] = {}  # lines each session has had, said once per frame
        link.on_frame = self.on_frame
        link.on_close = self.on_close

    def __repr__(self) -> str:
        return f"<gateway {self.name}: {len(self.sessions)} sessions>"

    def post(self, message: Any) -> None:
        self._group = None  # (output after this goes in a new group: the order is kept)
        self.link.post(message)

    def output(self, sid: int, data: bytes, done: int) -> None:
        """One session's output, into this batch's output group: the group is posted when
        it opens and filled until the batch leaves, another message is posted, or it holds
        OUTPUT_GROUP_BYTES. Blobs are shared by identity (the room feed hands everyone who
        saw the same window the same bytes object), so they cross the link once."""
        group = self._group
        if group is None or self._group_batch != self.link.batches:
            group = self._group = ["O", [], [], [], []]
            self._group_batch = self.link.batches
            self._group_bytes = 0
            self._blob_index = {}
            self.link.post(group)
        key = id(data)  # (the group holds every blob, so no id is reused while it is open)
        which = self._blob_index.get(key)
        if which is None:
            which = self._blob_index[key] = len(group[4])
            group[4].append(data)
            self._group_bytes += len(data)
        group[1].append(sid)
        group[2].append(which)
        group[3].append(done)
        if self._group_bytes >= OUTPUT_GROUP_BYTES:
            self._group = None

    # -- from the gateway -------------------------------------------------------------------
    def on_frame(self, messages: list[Any]) -> None:
        for m in messages:
            try:
                self._handle(m)
            except Exception:  # one connection's trouble stays its own
                log.exception("gateway %s: handling %r failed", self.name, str(m)[:120])
        if self._got:  # once a frame: the gateway stops keeping the lines we have
            got, self._got = self._got, {}
            self.link.post(["got", list(got), list(got.values())])

    def _handle(self, m: list[Any]) -> None:
        kind = m[0]
        if self.reload_acked is not None and self.reload_acked.done():
            return  # handed over: what comes now is for the next engine (NATS)
        if kind == "in":
            s = self.sessions.get(m[1])
            if s is not None and s.telnet.reader.sink is not None:
                s.on_line(m[2])
                self._got[m[1]] = s.lines_in
            return
        if kind == "hello":
            self._hello(m[1], m[2], m[3])
        elif not self.greeted:  # a gateway that was talking to the engine before us (NATS)
            if not self._asked:
                self._asked = True
                self.post(["who"])
            return
        elif kind == "reloading":
            if self.reload_acked is not None and not self.reload_acked.done():
                self.reload_acked.set_result(None)
        elif kind == "c":
            self._connected(m[1], m[2])
        elif kind == "go":
            s = self.sessions.get(m[1])
            if s is not None:
                s.telnet.facts.update(m[2])
                s.start()
        elif kind == "f":
            self._facts(m[1], m[2])
        elif kind == "gmcp":
            s = self.sessions.get(m[1])
            if s is not None and s.telnet.reader.sink is not None:
                s.on_gmcp(m[2], m[3])
        elif kind == "ev":
            self._event(m[1], m[2], m)
        elif kind == "mssp?":
            self.post(["mssp", self.app.mssp_table(), m[1]])
        else:
            log.warning("gateway %s sent an unknown message %r", self.name, str(kind)[:40])

    def _hello(self, name: str, info: dict[str, Any], attached: list[Any]) -> None:
        """The App takes hellos together (App.gateway_hello): every gateway's dreamers are
        back before any gateway's kept input runs (a tell finds its listener)."""
        self.name = str(name)
        self.link.name = self.name
        self.info = dict(info)
        self.app.gateway_hello(self, attached)

    def take_hello(self, attached: list[Any]) -> None:
        """Put back the connections the hello listed (the welcome comes after: see App)."""
        info = self.info
        again = self.greeted  # the same gateway, restarted or asked to (NATS keeps the link)
        self.greeted = True
        self._asked = False
        self.app.gateway_port(self)
        if again:  # connections it no longer has are gone; the ones it still has stay as they are
            keep = {rec[0] for rec in attached}
            for sid in [sid for sid in self.sessions if sid not in keep]:
                self._event(sid, "gone")
            attached = [rec for rec in attached if rec[0] not in self.sessions]
        back = 0
        for sid, facts, state in attached:
            if self._attach(sid, facts, state, str(info.get("reason", "crash"))):
                back += 1
        if attached:
            log.info("gateway %s: %d connection(s) re-attached", self.name, back)

    def welcome(self) -> None:
        """After this the gateway sends the input it kept, and everything new."""
        engine = f"{os.getpid()}:{self.app.started_at}"
        self.post(["welcome", {"mssp": self.app.mssp_table(), "engine": engine}])
        self.app.gateway_ready(self)

    def _new_session(self, sid: int, facts: dict[str, Any]) -> Session:
        from mud.core.session import Session

        transport = RemoteTransport(self, sid, str(facts.get("address", "?")), facts.get("port", 0))
        session = Session(self.app, RemoteTelnet(self, sid, facts), transport)  # type: ignore[arg-type]
        transport.session = session
        supports = facts.get("gmcp_supports")
        if isinstance(supports, dict) and supports:  # kept by the gateway across engines
            session.gmcp.supports = {str(k): int(v) for k, v in supports.items()}
            session.wants_oob = True
        _gmcp_hello(session, facts)
        self.sessions[sid] = session
        return session

    def _connected(self, sid: int, facts: dict[str, Any]) -> None:
        session = self._new_session(sid, facts)
        self.app.lifecycle.new_session(session)

    def _attach(self, sid: int, facts: dict[str, Any], state: dict[str, Any], why: str) -> bool:
        session = self._new_session(sid, facts)
        return self.app.lifecycle.reattach(session, state, why)

    def _facts(self, sid: int, facts: dict[str, Any]) -> None:
        s = self.sessions.get(sid)
        if s is None:
            return
        old = s.telnet.facts
        if facts.get("address", s.address) != s.address:  # a web page resumed from elsewhere
            s.transport.peername = (str(facts["address"]), int(facts.get("port") or 0))
            s.address, s.port = s.transport.peername  # (what @who shows)
        resized = facts.get("cols") != old.get("cols") or facts.get("rows") != old.get("rows")
        old.update(facts)
        if "gmcp_supports" in facts and isinstance(facts["gmcp_supports"], dict):
            s.gmcp.supports = {str(k): int(v) for k, v in facts["gmcp_supports"].items()}
            s.wants_oob = bool(s.gmcp.supports)
        _gmcp_hello(s, facts)
        if resized:
            s.on_resize(old.get("cols") or 0, old.get("rows") or 0)
        s.client_changed()

    def _event(self, sid: int, what: str, m: list[Any] | None = None) -> None:
        s = self.sessions.get(sid)
        if s is None:
            return
        if what == "flood":
            s.on_flood()
        elif what == "overflow":
            s.on_overflow()
        elif what == "long":
            s.line_refused(int(m[3]) if len(m) > 3 else 0)
        elif what == "throttled":
            s.throttled()
        elif what == "resumed":
            self.app.lifecycle.resumed(s)
        else:  # the client went away
            self.sessions.pop(sid, None)
            s.on_disconnect()

    def forget(self, sid: int) -> None:
        self.sessions.pop(sid, None)

    def on_close(self, reason: str) -> None:
        """The gateway died (or stopped answering): its connections are gone; each dreamer
        leaves the game cleanly, as if they had dropped."""
        if self.app.stopping:
            self.app.gateway_lost(self)
            return
        log.warning("gateway %s lost (%s): %d connection(s) gone", self.name, reason,
                    len(self.sessions))  # fmt: skip
        sessions, self.sessions = self.sessions, {}
        for s in sessions.values():
            try:
                s.on_disconnect()
            except Exception:
                log.exception("logging out %r after its gateway went", s)
        self.app.gateway_lost(self)


def _gmcp_hello(session: Session, facts: dict[str, Any]) -> None:
    """The client's Core.Hello, kept by the gateway across engines (`client` shows it)."""
    hello = facts.get("gmcp_hello")
    if isinstance(hello, list) and len(hello) == 2 and hello[0]:
        session.gmcp.client, session.gmcp.version = str(hello[0])[:64], str(hello[1])[:32]
