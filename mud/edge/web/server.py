"""The gateway's web port: the page's static files over HTTP, play over WebSocket.

One `websockets` server: its `process_request` hook answers plain HTTP (the page, with a
strict Content-Security-Policy) and checks the Origin of upgrades; a WebSocket must choose
a subprotocol from the mudstandards.org proposal:

- `gmcp.mudstandards.org`: our page (mud/edge/web/conn.py `WebConn`).
- `telnet.mudstandards.org`: BINARY frames carry the raw telnet stream, through the same
  MudTelnet as the telnet port, so it is exactly a telnet connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import json
import logging
import secrets
import ssl
import time
from collections.abc import Sequence
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response
from websockets.protocol import State
from websockets.typing import Subprotocol

from mud.edge.addresses import forwarded_address, peer_address
from mud.edge.bucket import TokenBucket
from mud.edge.telnet import MudTelnet
from mud.edge.telnet import gmcp as gmcp_codec
from mud.edge.web.conn import WebConn, WsTransport

if TYPE_CHECKING:
    from mud.edge.gateway import Gateway

log = logging.getLogger("dreamwave.web")

GMCP_PROTOCOL = "gmcp.mudstandards.org"
TELNET_PROTOCOL = "telnet.mudstandards.org"
SUBPROTOCOLS = [GMCP_PROTOCOL, TELNET_PROTOCOL]
STATIC = Path(__file__).parent / "static"
FILES = {  # path -> (file, content type): nothing else is served
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/style.css": ("style.css", "text/css; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/ansi.js": ("ansi.js", "text/javascript; charset=utf-8"),
}
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
HELLO_WAIT = 5.0  # seconds the page has to send Dreamwave.Client (its width, resume token)
MAX_QUEUE = 16  # frames read ahead of the gateway per connection
REFUSED = f"unsupported subprotocol: offer {GMCP_PROTOCOL} or {TELNET_PROTOCOL}"


class Handshake:
    """A web socket before it is a Conn (its HTTP handshake, then the page's hello): the
    gate counts it from the first byte, so half-open handshakes can't hold every file."""

    def __init__(self, address: str, transport: asyncio.BaseTransport) -> None:
        self.address = address
        self.transport = transport

    def evict(self) -> None:
        self.transport.abort()  # type: ignore[attr-defined]


class CountedConnection(ServerConnection):
    """websockets' connection, counted by the gateway's gate while it is not a Conn yet."""

    def __init__(self, *args: Any, listener: WebListener, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.listener = listener
        self.held: Handshake | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.held = self.listener.hold(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.listener.let_go(self)
        super().connection_lost(exc)


def pick_subprotocol(_conn: ServerConnection, offered: Sequence[Subprotocol]) -> Subprotocol | None:
    for name in offered:
        if name in SUBPROTOCOLS:
            return name
    return None  # (the handler refuses it with a close reason the client can show)


class WebListener:
    def __init__(self, gw: Gateway) -> None:
        self.gw = gw
        self.settings = gw.settings.web
        self.server: Server | None = None
        self.port = gw.settings.web_port
        self.tokens: dict[str, WebConn] = {}  # single use; valid while its Conn waits
        self.scheme = "https" if self.settings.tls_cert else "http"

    async def start(self) -> None:
        # websockets logs every listen and handshake at INFO ("server listening on ..."
        # reads like our own startup line); we log what matters ourselves
        logging.getLogger("websockets").setLevel(logging.WARNING)
        s = self.settings
        ctx = None
        if s.tls_cert:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(s.tls_cert, s.tls_key or None)
        try:
            self.server = await serve(
                self.handle, self.gw.settings.hosts, self.port, subprotocols=SUBPROTOCOLS,  # type: ignore[arg-type]
                select_subprotocol=pick_subprotocol, process_request=self.http,
                max_size=s.max_frame_bytes, max_queue=MAX_QUEUE, ssl=ctx,
                create_connection=functools.partial(CountedConnection, listener=self),  # type: ignore[arg-type]
                reuse_address=True, reuse_port=self.gw.reuse_port or None,
                server_header="Dreamwave", compression=None,
            )  # fmt: skip
        except OSError as err:
            from mud.edge.gateway import ListenError

            raise ListenError(self.gw.settings.hosts[0], self.port, err) from err
        self.port = next(iter(self.server.sockets)).getsockname()[1]
        host = self.gw.settings.hosts[0]
        shown = "localhost" if host in ("127.0.0.1", "0.0.0.0", "::", "") else host
        log.info("web client at %s://%s:%d/", self.scheme, shown, self.port)

    def close(self) -> None:
        if self.server is not None:
            self.server.close(close_connections=False)

    # -- HTTP ---------------------------------------------------------------------------------
    def http(self, conn: ServerConnection, request: Request) -> Response | None:
        path = urlsplit(request.path).path
        if request.headers.get("Upgrade", "").lower() == "websocket":
            if path != "/ws":
                return self._plain(HTTPStatus.NOT_FOUND, "Play at /ws.")
            if not self.origin_ok(request.headers):
                log.warning("refused a websocket from origin %r for host %r",
                            request.headers.get("Origin"), request.headers.get("Host"))  # fmt: skip
                return self._plain(HTTPStatus.FORBIDDEN, "That page may not connect here.")
            return None
        entry = FILES.get(path)
        if entry is None:
            return self._plain(HTTPStatus.NOT_FOUND, "Not found.")
        body = (STATIC / entry[0]).read_bytes()
        headers = Headers(
            [
                ("Content-Type", entry[1]),
                ("Content-Length", str(len(body))),
                ("Content-Security-Policy", CSP),
                ("X-Content-Type-Options", "nosniff"),
                ("Referrer-Policy", "no-referrer"),
                ("Cache-Control", "no-cache"),
            ]
        )
        return Response(200, "OK", headers, body)

    @staticmethod
    def _plain(status: HTTPStatus, text: str) -> Response:
        body = text.encode() + b"\n"
        headers = Headers([("Content-Type", "text/plain; charset=utf-8"),
                           ("Content-Length", str(len(body)))])  # fmt: skip
        return Response(status.value, status.phrase, headers, body)

    def origin_ok(self, headers: Headers) -> bool:
        """A page elsewhere may not play here as its visitor (Origin), and a name of the
        attacker's that resolves to us (DNS rebinding: Host) is not ours either."""
        host = urlsplit("//" + headers.get("Host", "")).hostname or ""
        origin = headers.get("Origin")
        if not self.our_host(host):
            return False
        if self.settings.origins:
            return origin is None or origin in self.settings.origins
        if origin is None:  # not a browser (a MUD client): nothing to forge
            return True
        parts = urlsplit(origin)
        return self.our_host(parts.hostname or "") and parts.netloc == headers.get("Host", "")

    def our_host(self, name: str) -> bool:
        """localhost, an address we listen on, a configured origin's name, or any IP literal
        (a name an attacker controls can rebind to us; a bare address can't)."""
        if name == "localhost" or name in self.gw.settings.hosts:
            return True
        if any(urlsplit(o).hostname == name for o in self.settings.origins):
            return True
        try:
            ipaddress.ip_address(name)
        except ValueError:
            return False
        return True

    def peer(self, ws: ServerConnection) -> tuple[str, int]:
        addr = ws.remote_address or ("?", 0)
        host, port = peer_address(str(addr[0])), int(addr[1]) if len(addr) > 1 else 0
        forwarded = ws.request.headers.get("X-Forwarded-For") if ws.request else None
        if forwarded and host in self.settings.trusted_proxies:
            host = forwarded_address(forwarded.split(",")[-1].strip())  # what our proxy saw
        return host, port

    # -- counted from the first byte ----------------------------------------------------------
    def hold(self, transport: asyncio.BaseTransport) -> Handshake | None:
        """Count a new socket at the gate (per address, the login pool, open files); close
        it at once if a cap refuses. A trusted proxy's sockets are counted per player later."""
        peer = transport.get_extra_info("peername") or ("?", 0)
        address = peer_address(str(peer[0]))
        if address in self.settings.trusted_proxies:
            return None
        held = Handshake(address, transport)
        if self.gw.gate.admit(held) is not None:  # (the gate logs it)
            transport.abort()  # type: ignore[attr-defined]
            return None
        return held

    def let_go(self, ws: ServerConnection) -> None:
        """The socket became a Conn (counted as itself from now) or closed."""
        held = getattr(ws, "held", None)
        if held is not None:
            ws.held = None  # type: ignore[attr-defined]
            self.gw.gate.release(held)

    # -- WebSocket ----------------------------------------------------------------------------
    async def handle(self, ws: ServerConnection) -> None:
        if ws.subprotocol == TELNET_PROTOCOL:
            await self.telnet(ws)
        elif ws.subprotocol == GMCP_PROTOCOL:
            await self.page(ws)
        else:
            await ws.close(1002, REFUSED)

    async def telnet(self, ws: ServerConnection) -> None:
        transport = WsTransport(ws, self.peer(ws))
        self.let_go(ws)
        protocol = MudTelnet(self.gw)
        protocol.connection_made(transport)  # type: ignore[arg-type]
        try:
            async for message in ws:
                if isinstance(message, str):
                    message = message.encode()
                protocol.data_received(message)
                await transport.reading.wait()
        except Exception:  # the socket closed under us: the same as a telnet hang-up
            pass
        finally:
            transport.closing = True
            protocol.connection_lost(None)
            transport.task.cancel()

    async def page(self, ws: ServerConnection) -> None:
        hello: dict[str, Any] = {}
        first: bytes | str = ""
        with contextlib.suppress(Exception):
            first = await asyncio.wait_for(ws.recv(), HELLO_WAIT)
            if isinstance(first, str) and first.startswith("Dreamwave.Client "):
                got = json.loads(first.split(" ", 1)[1])
                hello = got if isinstance(got, dict) else {}
        if ws.state is not State.OPEN:  # gone meanwhile (or its place went to a newcomer)
            return
        transport = WsTransport(ws, self.peer(ws))
        self.let_go(ws)
        conn = self.resume(str(hello.get("resume") or ""), transport, hello)
        if conn is None:
            conn = WebConn(self.gw, self, transport, hello)
            self.gw.add_conn(conn, transport)
            if conn.closed:
                await asyncio.sleep(0.2)  # (the refusal notice goes out first)
                transport.close()
                return
            conn.start()
        # Every byte a page sends, against the telnet port's `bytes_per_second`: over it, the
        # next frame is read only once the budget has refilled (frames wait in the socket).
        rate = self.gw.limits.bytes_per_second
        budget = TokenBucket(rate, rate, time.monotonic())
        if not conn.gmcp_budget(len(first)):  # (the hello is charged like any frame)
            conn.on_flood()
        budget.charge(len(first), time.monotonic())
        try:
            async for message in ws:
                if conn.transport is not transport:
                    break
                self.from_page(conn, message)
                if not budget.charge(len(message), time.monotonic()):
                    # the next frames stay unread (websockets stops reading the socket)
                    await asyncio.sleep(budget.wait())
        except Exception:
            pass
        finally:
            transport.closing = True
            transport.task.cancel()
            if conn.transport is transport:
                conn.on_disconnect()

    def from_page(self, conn: WebConn, message: bytes | str) -> None:
        if isinstance(message, bytes):  # typed lines, each ended by LF (CR LF)
            if message.endswith(b"\n"):
                message = message[:-1]
            for line in message.split(b"\n"):
                conn.on_line(line.rstrip(b"\r"))
            return
        if not conn.gmcp_budget(len(message)):  # the same budget as telnet's IAC SB ... SE
            log.info("cutting off %r: GMCP over budget", conn)
            conn.on_flood()
            return
        if message.startswith("Dreamwave.Client "):
            with contextlib.suppress(ValueError):
                got = json.loads(message.split(" ", 1)[1])
                if isinstance(got, dict):
                    conn.client_facts(got)
                    conn._caps_changed()
            return
        decoded = gmcp_codec.decode(message.encode())
        if decoded is not None:
            conn.on_gmcp(*decoded)

    # -- resume tokens ------------------------------------------------------------------------
    def issue_token(self, conn: WebConn) -> None:
        self.forget(conn)
        token = secrets.token_urlsafe(24)
        conn.token = token
        self.tokens[token] = conn
        conn.send_gmcp(
            "Dreamwave.Resume", {"token": token, "seconds": self.settings.resume_seconds}
        )

    def forget(self, conn: WebConn) -> None:
        if conn.token is not None:
            self.tokens.pop(conn.token, None)
            conn.token = None

    def resume(self, token: str, transport: WsTransport, hello: dict[str, Any]) -> WebConn | None:
        conn = self.tokens.pop(token, None) if token else None
        if conn is None:
            return None
        conn.token = None
        if conn.closed:  # (a detached Conn closes when its resume time is over)
            return None
        if conn.transport is not None and not conn.transport.is_closing():
            conn.transport.close()  # a second tab took over: the first one is told goodbye
        conn.reattach(transport, hello)
        return conn
