"""The engine's side of the gateways: sessions whose connection lives in another process.

A gateway (mud/edge/gateway.py) owns the socket and every protocol; here each of its
connections is an ordinary `Session` that talks to a `SessionPort` (its gateway and its sid):
output goes as typed items (mud.protocol: Text, Prompt, Echo, Oob), what the client can do
comes as one `ClientCaps`. So everything above the Session (login, commands, the output pump,
the commit gates) never touches a socket or a protocol. The messages are mud/protocol/messages.py.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import TYPE_CHECKING

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
    Output,
    Prompt,
    Reloading,
    ResumeOk,
    Text,
    Welcome,
    Who,
)

if TYPE_CHECKING:
    from mud.core.app import App
    from mud.core.session import Session
    from mud.link.base import Link

log = logging.getLogger("dreamwave.remote")

OUTPUT_GROUP_BYTES = 256 * 1024  # output bytes in one Output message before the next one starts

# What a Session hands its port at a flush: text bytes alone (shared by identity with everyone
# who got the same bytes), or a tuple of items (shared too when it is a feed's variant)
Out = bytes | tuple[Item, ...]


class SessionPort:
    """Where a Session's output and orders go: its gateway's link, under its sid."""

    __slots__ = ("_closing", "peer", "sid")

    def __init__(self, peer: GatewayPeer, sid: int) -> None:
        self.peer = peer
        self.sid = sid
        self._closing = False

    def output(self, out: Out, done: int) -> None:
        if not self._closing:
            self.peer.output(self.sid, out, done)

    def close(self) -> None:
        """Close once the output before this has gone out."""
        if not self._closing:
            self._closing = True
            self.peer.post(Close(self.sid))

    def abort(self) -> None:
        """Drop the connection at once."""
        if not self._closing:
            self._closing = True
            self.peer.post(Abort(self.sid))

    def resume_ok(self) -> None:
        self.peer.post(ResumeOk(self.sid))

    def bind(self, player: str | None) -> None:
        self.peer.post(Bind(self.sid, player))

    def forget(self) -> None:
        self.peer.forget(self.sid)


class GatewayPeer:
    """One gateway, as the engine sees it: its Link and the sessions on it."""

    def __init__(self, app: App, link: Link) -> None:
        self.app = app
        self.link = link
        self.name = link.name
        self.info = GatewayInfo()
        self.sessions: dict[int, Session] = {}
        self.greeted = False
        self._asked = False  # said Who to a gateway that spoke before its hello
        self._group: Output | None = None  # the output group being filled (see output)
        self._group_batch = -1
        self._group_bytes = 0
        self._group_keep: list[Out] = []  # what the group's outputs came from (see output)
        self._out_index: dict[int, int] = {}
        self.reload_acked: asyncio.Future[None] | None = None  # see App._stop_for_reload
        self._got: dict[int, int] = {}  # lines each session has had, said once per frame
        link.on_frame = self.on_frame
        link.on_close = self.on_close

    def __repr__(self) -> str:
        return f"<gateway {self.name}: {len(self.sessions)} sessions>"

    def post(self, message: Message) -> None:
        self._group = None  # (output after this goes in a new group: the order is kept)
        self.link.post(message)

    def output(self, sid: int, out: Out, done: int) -> None:
        """One session's output, into this batch's output group: the group is posted when
        it opens and filled until the batch leaves, another message is posted, or it holds
        OUTPUT_GROUP_BYTES. Outputs are shared by identity (the room feed hands everyone who
        saw the same window the same bytes object), so they cross the link once."""
        group = self._group
        if group is None or self._group_batch != self.link.batches:
            group = self._group = Output([], [], [], [])
            self._group_batch = self.link.batches
            self._group_bytes = 0
            self._out_index = {}
            self._group_keep = []  # (kept: no id is reused while the group is open)
            self.link.post(group)
        key = id(out)
        which = self._out_index.get(key)
        if which is None:
            which = self._out_index[key] = len(group.outs)
            self._group_keep.append(out)
            if isinstance(out, bytes):
                group.outs.append((Text(out),))
                self._group_bytes += len(out)
            else:
                group.outs.append(out)  # (a tuple of items)
                size = 0
                for item in out:
                    if isinstance(item, (Text, Prompt)):
                        size += len(item.data)
                self._group_bytes += size
        group.sids.append(sid)
        group.which.append(which)
        group.dones.append(done)
        if self._group_bytes >= OUTPUT_GROUP_BYTES:
            self._group = None

    # -- from the gateway -------------------------------------------------------------------
    def on_frame(self, messages: list[Message]) -> None:
        for m in messages:
            try:
                self._handle(m)
            except Exception:  # one connection's trouble stays its own
                log.exception("gateway %s: handling %r failed", self.name, str(m)[:120])
        if self._got:  # once a frame: the gateway stops keeping the lines we have
            got, self._got = self._got, {}
            self.link.post(Got(list(got), list(got.values())))

    def _handle(self, m: Message) -> None:
        if self.reload_acked is not None and self.reload_acked.done():
            return  # handed over: what comes now is for the next engine (NATS)
        if type(m) is Line:
            s = self.sessions.get(m.sid)
            if s is not None and s.taking_input:
                s.on_line(m.line)
                self._got[m.sid] = s.lines_in
            return
        if type(m) is Hello:
            self._hello(m)
            return
        if not self.greeted:  # a gateway that was talking to the engine before us (NATS)
            if not self._asked:
                self._asked = True
                self.post(Who())
            return
        match m:
            case Reloading():
                if self.reload_acked is not None and not self.reload_acked.done():
                    self.reload_acked.set_result(None)
            case Connect(sid, address, port, caps):
                session = self._new_session(sid, address, port, caps)
                self.app.lifecycle.new_session(session)
            case Go(sid, caps):
                s = self.sessions.get(sid)
                if s is not None:
                    s.out.caps_final(caps)
                    s.start()
            case Caps():
                self._caps(m)
            case Gmcp(sid, package, data):
                s = self.sessions.get(sid)
                if s is not None and s.taking_input:
                    s.on_gmcp(package, data)
            case Event(sid, what, size):
                self._event(sid, what, size)
            case MsspAsk(sid):
                self.post(Mssp(self.app.mssp_table(), sid))
            case _:
                log.warning("gateway %s sent a message the engine doesn't take: %s",
                            self.name, type(m).__name__)  # fmt: skip

    def _hello(self, hello: Hello) -> None:
        """The App takes hellos together (App.gateway_hello): every gateway's dreamers are
        back before any gateway's kept input runs (a tell finds its listener)."""
        if hello.version != VERSION:  # (another version's hello rarely decodes at all: the
            log.error(  # codec refuses its frame and says so; this is for one that did)
                "gateway %s speaks link protocol version %s; this engine speaks %s: refused "
                "(run the gateway and the engine from the same release)",
                hello.name, hello.version, VERSION,
            )  # fmt: skip
            self.link.close("link protocol version mismatch")
            return
        self.name = str(hello.name)
        self.link.name = self.name
        self.info = hello.info
        self.app.gateway_hello(self, hello.attached)

    def take_hello(self, attached: list[Attached]) -> None:
        """Put back the connections the hello listed (the welcome comes after: see App)."""
        again = self.greeted  # the same gateway, restarted or asked to (NATS keeps the link)
        self.greeted = True
        self._asked = False
        self.app.gateway_port(self)
        if again:  # connections it no longer has are gone; the ones it still has stay as they are
            keep = {rec.sid for rec in attached}
            for sid in [sid for sid in self.sessions if sid not in keep]:
                self._event(sid, "gone")
            attached = [rec for rec in attached if rec.sid not in self.sessions]
        back = 0
        for rec in attached:
            if self._attach(rec, self.info.reason or "crash"):
                back += 1
        if attached:
            log.info("gateway %s: %d connection(s) re-attached", self.name, back)

    def welcome(self) -> None:
        """After this the gateway sends the input it kept, and everything new."""
        engine = f"{os.getpid()}:{self.app.started_at}"
        self.post(Welcome(engine, self.app.mssp_table()))
        self.app.gateway_ready(self)

    def _new_session(self, sid: int, address: str, port: int, caps: ClientCaps) -> Session:
        from mud.core.session import Session

        session = Session(self.app, SessionPort(self, sid), address, port, caps)
        self.sessions[sid] = session
        return session

    def _attach(self, rec: Attached, why: str) -> bool:
        session = self._new_session(rec.sid, rec.address, rec.port, rec.caps)
        state: ConnState = rec.state
        return self.app.lifecycle.reattach(session, state, why)

    def _caps(self, m: Caps) -> None:
        s = self.sessions.get(m.sid)
        if s is None:
            return
        if m.address and m.address != s.address:  # a web page resumed from elsewhere
            s.moved(m.address, m.port)
        s.set_caps(m.caps)

    def _event(self, sid: int, what: str, size: int = 0) -> None:
        s = self.sessions.get(sid)
        if s is None:
            return
        if what == "flood":
            s.on_flood()
        elif what == "overflow":
            s.on_overflow()
        elif what == "long":
            s.line_refused(size)
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
