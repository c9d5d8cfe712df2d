"""A browser's connection as the gateway and engine see it: a `Conn` with no telnet layer.

`WsTransport` is the asyncio-transport face of one WebSocket: writes are queued in order and
sent by one task, and its queued size is what the gateway checks against its output cap.
`WebConn` tells the engine what the page can do (ClientCaps: UTF-8, truecolor, GMCP, the
page's width, its screen-reader choice) and renders the engine's output items as
`gmcp.mudstandards.org` frames (text: BINARY; out-of-band data: TEXT), with no telnet in
between. When its socket drops after login it can wait, detached, for the page to come
back with its resume token.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mud.edge.addresses import peer_address
from mud.edge.bucket import TokenBucket
from mud.edge.conn import Conn, Rendered, WebFrame
from mud.protocol import ClientCaps, ConnState, Echo, Event, Item, Oob, Prompt, Text

if TYPE_CHECKING:
    from websockets.asyncio.server import ServerConnection

    from mud.edge.gateway import Gateway
    from mud.edge.web.server import WebListener

log = logging.getLogger("dreamwave.web")

WEB_CLIENT = "Dreamwave-web"  # (the engine shows it no prompt again after others' lines)
WEB_TERMINAL = "xterm-truecolor"
LOST_SOME = "\r\n(Some output was lost while you were away.)\r\n"


class WsTransport:
    """One WebSocket as a transport: ordered sends, a size to check, close after the rest."""

    def __init__(self, ws: ServerConnection, peer: tuple[str, int], binary: bool = True) -> None:
        self.ws = ws
        self.peer = peer
        self.binary = binary  # write() as BINARY frames (telnet.mudstandards.org)
        self.queue: asyncio.Queue[bytes | str | None] = asyncio.Queue()
        self.queued = 0
        self.closing = False
        self.reading = asyncio.Event()
        self.reading.set()
        self.task = asyncio.get_running_loop().create_task(self._send_all())

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.peer if name == "peername" else default

    def send(self, frame: bytes | str) -> None:
        if self.closing:
            return
        self.queued += len(frame)
        self.queue.put_nowait(frame)

    def write(self, data: bytes) -> None:
        self.send(bytes(data))

    def get_write_buffer_size(self) -> int:
        return self.queued

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        if not self.closing:
            self.queue.put_nowait(None)
            self.closing = True

    def abort(self) -> None:
        self.closing = True
        self.task.cancel()
        with contextlib.suppress(Exception):
            self.ws.transport.abort()

    def pause_reading(self) -> None:
        self.reading.clear()

    def resume_reading(self) -> None:
        self.reading.set()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def unsent(self) -> list[bytes | str]:
        """The frames still queued, never handed to the socket (its sender stopped: the page
        dropped); taken out of the queue."""
        frames: list[bytes | str] = []
        while not self.queue.empty():
            frame = self.queue.get_nowait()
            if frame is not None:
                frames.append(frame)
        self.queued = 0
        return frames

    async def _send_all(self) -> None:
        try:
            while True:
                frame = await self.queue.get()
                if frame is None:
                    await self.ws.close(1000, "goodbye")
                    return
                self.queued -= len(frame)
                await self.ws.send(frame)
        except Exception:  # the socket went away: the reader side reports it
            pass


class Detached:
    """Where a resumable WebConn's output goes while its page is away: bounded."""

    def __init__(self, peer: tuple[str, int], limit: int) -> None:
        self.peer = peer
        self.limit = limit
        self.frames: deque[bytes | str] = deque()
        self.size = 0
        self.lost = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.peer if name == "peername" else default

    def send(self, frame: bytes | str) -> None:
        self.frames.append(frame)
        self.size += len(frame)
        while self.size > self.limit and self.frames:
            self.size -= len(self.frames.popleft())
            self.lost = True

    def write(self, data: bytes) -> None:  # (a Transport's; WebConn sends frames instead)
        self.send(bytes(data))

    def get_write_buffer_size(self) -> int:
        return 0

    def is_closing(self) -> bool:
        return True

    def close(self) -> None:
        pass

    abort = close


class WebConn(Conn):
    """A `gmcp.mudstandards.org` page: the same Conn (limits, throttle, queue while the
    engine is away) with frames instead of telnet."""

    transport: WsTransport | Detached  # (Detached: the page is away, see detach)

    def __init__(
        self, gw: Gateway, web: WebListener, transport: WsTransport, hello: dict[str, Any]
    ) -> None:
        self.web = web  # (first: Conn.__init__ sets `player`, whose setter uses these)
        self.token: str | None = None
        self._player: str | None = None
        # a resumed page's missed output, and what came after the resume, held until the
        # engine says it may go on (an address ban refuses it: then the page is told why, and
        # never sees what it missed)
        self.held: Detached | None = None
        self.meanwhile: Detached | None = None
        super().__init__(gw, None, transport)  # type: ignore[arg-type]
        self.cols = 80
        self.screenreader = False
        self.expiry: asyncio.TimerHandle | None = None
        self.resume_unreported = False  # resumed while no engine heard: the hello says so
        lim = gw.limits  # GMCP bytes: the same budget as telnet's IAC SB ... IAC SE
        self.gmcp_bytes = TokenBucket(
            lim.subnegotiation_bytes_per_second, lim.subnegotiation_burst, time.monotonic()
        )
        self.client_facts(hello)

    def gmcp_budget(self, size: int) -> bool:
        """Charge a GMCP frame from the page; False once it sends more than telnet may."""
        return self.gmcp_bytes.charge(size, time.monotonic())

    # the engine's "bind" sets this: a dreamer logged in, so the page may resume
    @property
    def player(self) -> str | None:
        return self._player

    @player.setter
    def player(self, name: str | None) -> None:
        """A new dreamer gets a new token; the same one again (a new engine, after a reload
        or a crash, binds everyone it put back) keeps the token the page already holds,
        even while the page is away. Back at the login screen, there is nothing to resume."""
        same = name is not None and name == self._player and self.token is not None
        left = name is None and self._player is not None
        self._player = name
        if name is None:
            self.web.forget(self)
            if left and not self.closed:  # back at the login screen: the old panels are stale
                self.send_gmcp("Dreamwave.Session", {"resumed": False})
        elif not same and not self.closed:
            self.web.issue_token(self)

    def state(self) -> ConnState:
        return ConnState(self.started, self.greeted, self.player, self.resume_unreported)

    def client_facts(self, hello: dict[str, Any]) -> None:
        cols = hello.get("cols")
        if isinstance(cols, int) and 20 <= cols <= 500:
            self.cols = cols
        if "screenreader" in hello:
            self.screenreader = bool(hello["screenreader"])

    def caps(self) -> ClientCaps:
        """The page: UTF-8, truecolor, GMCP, its width and screen-reader choice."""
        return ClientCaps(
            name=WEB_CLIENT, terminal=WEB_TERMINAL, colour="truecolor", utf8=True,
            screen_reader=self.screenreader, charset="utf-8", charset_state="accepted",
            cols=self.cols, rows=0,  # (no pager height: the page scrolls)
            options=["BINARY", "GMCP", "NAWS", "TTYPE"], gmcp=True,
            gmcp_client=self.gmcp.client, gmcp_version=self.gmcp.version,
            gmcp_packages=dict(self.gmcp.supports),
        )  # fmt: skip

    def gmcp_answer(self, package: str) -> None:
        self._send(package)

    def send_gmcp(self, package: str, data: object) -> None:  # (JSON we built)
        self._send(f"{package} {json.dumps(data)}")

    def _send(self, frame: bytes | str) -> None:
        """To the page, or behind what it missed while the engine decides on its resume."""
        (self.meanwhile or self.transport).send(frame)

    def start(self) -> None:
        # a new session, not a resumed one: the page forgets what it showed of an old one
        if not self.started and not self.closed:
            self.send_gmcp("Dreamwave.Session", {"resumed": False})
        super().start()

    def resume_allowed(self) -> None:
        """The engine let the resume go on (no ban on the page's new address): what it
        missed, then what came meanwhile, in order."""
        self._release(missed=True)

    def _release(self, missed: bool) -> None:
        held, meanwhile, self.held, self.meanwhile = self.held, self.meanwhile, None, None
        for box in (held if missed else None, meanwhile):
            if box is None:
                continue
            if box.lost:
                self.transport.send(LOST_SOME.encode())
            for frame in box.frames:
                self.transport.send(frame)

    def close(self, tell: bool = False) -> None:
        """A resume the engine refused still gets the engine's last words (never what the
        page missed while it was away)."""
        if self.meanwhile is not None and not self.closed:
            self._release(missed=False)
        super().close(tell)

    # -- from the engine ----------------------------------------------------------------------
    def output(self, items: Sequence[Item], key: int, cache: Rendered) -> None:
        """The engine's items as frames: text and prompts (as they are: the page marks no
        prompt) in BINARY frames, out-of-band data in TEXT frames "Package {json}", echo as
        Dreamwave.Echo. A crowd's output is framed once (`cache`)."""
        if self.closed:
            return
        frames = cache.web.get(key)
        if frames is None:
            frames, alike = page_frames(items)
            if alike:
                cache.web[key] = frames
        for frame in frames:
            if isinstance(frame, Echo):  # (this page's own state, told in order)
                self.set_echo(frame.off)
            else:
                self._send(frame)
        self._check_backlog()

    def write(self, data: bytes) -> None:
        """The gateway's own notices (plain text)."""
        if self.closed:
            return
        self._send(bytes(data))
        self._check_backlog()

    def _check_backlog(self) -> None:
        if self.transport.get_write_buffer_size() > self.gw.limits.max_output_bytes:
            log.info("dropping %r: output backlog over limit (page not reading)", self)
            self.abort()

    def set_echo(self, off: bool) -> bytes:
        self.echo_hidden = off
        if not self.closed:
            self.send_gmcp("Dreamwave.Echo", {"hidden": off})
        return b""

    def stop_reading(self) -> None:
        self.web.forget(self)

    def on_disconnect(self) -> None:
        if self.closed:
            return
        if self.player is not None and self.token and self.web.settings.resume_seconds > 0:
            self.detach()
            return
        self.closed = True
        self.web.forget(self)
        self.gw.conn_gone(self)

    def engine_lost(self, planned: bool) -> None:
        if self.closed or not self.started:
            return
        if self.echo_hidden:
            self.set_echo(False)
        super().engine_lost(planned)

    # -- resume -------------------------------------------------------------------------------
    def detach(self) -> None:
        """The page went away after login: keep playing (buffered) until it comes back."""
        peer = (self.address, self.port)
        box = Detached(peer, self.web.settings.resume_buffer_bytes)
        if isinstance(self.transport, WsTransport):  # what never left for the dropped socket
            for frame in self.transport.unsent():  # waits too
                box.send(frame)
        self.transport = box
        loop = asyncio.get_running_loop()
        self.expiry = loop.call_later(self.web.settings.resume_seconds, self._expire)
        log.info("%r detached; resumable for %.0f s", self, self.web.settings.resume_seconds)

    def _came_from(self, peer: tuple[str, int]) -> None:
        """Count and report the address it resumed from (the engine checks its bans)."""
        self.port = int(peer[1])
        self.gw.gate.moved(self, peer_address(str(peer[0])))

    def _expire(self) -> None:
        log.info("%r: resume time is over; closing", self)
        self.close(tell=True)

    def reattach(self, transport: WsTransport, hello: dict[str, Any]) -> None:
        old = self.transport
        if self.expiry is not None:
            self.expiry.cancel()
            self.expiry = None
        self.transport = transport
        self._came_from(transport.peer)
        self.send_gmcp("Dreamwave.Session", {"resumed": True})
        self.send_gmcp("Dreamwave.Echo", {"hidden": self.echo_hidden})
        self.web.issue_token(self)
        # from here the engine's output waits behind what the page missed (see resume_allowed)
        self.held = old if isinstance(old, Detached) else None
        self.meanwhile = Detached(transport.peer, self.web.settings.resume_buffer_bytes)
        self.client_facts(hello)
        self._caps_pending = True
        self._send_caps()  # (its address first: the engine checks the ban on "resumed")
        self.resume_unreported = not self.gw.up(Event(self.sid, "resumed"))
        log.info("%r resumed", self)


def page_frames(items: Sequence[Item]) -> tuple[list[WebFrame], bool]:
    """Output items as `gmcp.mudstandards.org` frames: neighbouring text and prompts joined
    in one BINARY frame (bytes), each Oob a TEXT frame (str), an Echo left in place for the
    connection to apply. And whether the frames are the same for every page (no Echo)."""
    frames: list[WebFrame] = []
    text: list[bytes] = []
    alike = True
    for item in items:
        if type(item) is Text or type(item) is Prompt:
            text.append(item.data)
            continue
        if text:
            frames.append(b"".join(text))
            text = []
        if type(item) is Oob:
            frames.append(f"{item.package} {item.data}" if item.data else item.package)
        elif type(item) is Echo:
            alike = False
            frames.append(item)
    if text:
        frames.append(b"".join(text))
    return frames, alike
