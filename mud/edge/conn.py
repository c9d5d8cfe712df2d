"""One client connection in the gateway: what the telnet layer (or the browser edge, whose
`WebConn` is a `Conn`) feeds, and what the engine's Session stands for.

A `Conn` holds what a connection is to the engine while the engine comes and goes: what the
client can do (its ClientCaps, MTTS parsed here, its GMCP packages kept here), its line rate
(one TokenBucket), the lines typed while no engine was there (`waiting`, bounded) and those
sent up that the engine has not yet said it got (`unconfirmed`: sent again to the next
engine). It tells its player, once per outage, that the engine went away and whether a line
may not have happened. The Gateway (mud/edge/gateway.py) owns the Conns and the link.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from mud.edge.addresses import peer_address
from mud.edge.bucket import TokenBucket
from mud.edge.notices import plain
from mud.edge.telnet import LineReader, MudTelnet, gmcp
from mud.edge.telnet.gmcp import GmcpState
from mud.edge.telnet.mtts import parse_ttypes
from mud.edge.telnet.render import telnet_bytes
from mud.protocol import (
    Attached,
    Caps,
    ClientCaps,
    ConnState,
    Echo,
    Event,
    Gmcp,
    Go,
    Item,
    Line,
    MsspAsk,
)

if TYPE_CHECKING:
    from mud.edge.gateway import Gateway

log = logging.getLogger("dreamwave.gateway")

FLICKER = "The dream flickers and goes dark for a moment; hold still, it is reforming."
MAYBE_NOT_DONE = "Your last command may not have happened; look before you try it again."
NOT_KEPT = "The dream is still reforming; that line was not kept. Try it again in a moment."
THROTTLED = "You're sending commands faster than the dream can follow; slow down."
EVICTED = "The login screen is full and you had not typed anything; connect again when ready."


class Transport(Protocol):
    """What a Conn writes to: asyncio's transport (or MCCP's in front of it, telnet/mccp.py),
    or a browser's WebSocket (web/conn.py: WsTransport, or Detached while the page is away)."""

    def write(self, data: bytes) -> None: ...
    def get_extra_info(self, name: str, default: Any = None) -> Any: ...  # (asyncio's)
    def get_write_buffer_size(self) -> int: ...
    def is_closing(self) -> bool: ...
    def close(self) -> None: ...
    def abort(self) -> None: ...


# A browser's output frames: BINARY (bytes), TEXT (str), or an Echo its connection applies.
WebFrame = bytes | str | Echo


class Rendered:
    """One Output message's outputs as each kind of connection sends them, made once for a
    crowd (Gateway._output): telnet bytes by (output, prompt marker), page frames by output."""

    __slots__ = ("telnet", "web")

    def __init__(self) -> None:
        self.telnet: dict[tuple[int, bytes], bytes] = {}
        self.web: dict[int, list[WebFrame]] = {}


class Conn:
    """One client connection: what the telnet layer talks to, and what the engine's Session
    stands for."""

    def __init__(self, gw: Gateway, telnet: MudTelnet, transport: Transport) -> None:
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
        first, the answer waits for the engine (mud/edge/mssp_cache.py)."""
        gw = self.gw
        gw.mssp.owed.add(self.sid)
        if not gw.reloading and gw.up(MsspAsk(self.sid)):
            return  # (if it never answers, the outage answers: MsspCache.answer_owed)
        gw.mssp.answer(self)

    # -- from the engine ----------------------------------------------------------------------
    def output(self, items: Sequence[Item], key: int, cache: Rendered) -> None:
        """The engine's output items as telnet bytes: IAC doubled, the prompt marked as the
        client agreed (EOR, GA or nothing), echo and GMCP as telnet commands. `cache` holds
        the bytes of this Output message's outputs (`key`) per marker: a crowd's lines
        are turned into bytes once."""
        marker = self._marker
        if marker is None:
            marker = self._prompt_marker()
        got = cache.telnet.get((key, marker))
        if got is None:
            got, alike = telnet_bytes(items, marker, self.set_echo)
            if alike:
                cache.telnet[key, marker] = got
        self.write(got)

    def _prompt_marker(self) -> bytes:
        """IAC EOR, IAC GA or nothing, as the client agreed (kept until an option changes)."""
        t = self.telnet
        if t.writer is None:
            return b""
        self._marker = t.prompt_marker()
        return self._marker

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
