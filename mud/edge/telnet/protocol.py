"""One telnet connection: the option policy and the hooks into the Session.

telnetlib3 parses IAC sequences and runs the RFC state machines; this module decides which
options we take part in and routes what they carry to the Session. Settings follow what we
measured (DEPENDENCIES.md): line mode, forced BINARY with replacement of bad bytes, a short
negotiation wait, and telnetlib3's idle timer off because the Session owns idleness.

Options we agree to when the client asks (DO): SGA, BINARY, EOR, GMCP, MSSP, MCCP2, CHARSET,
ECHO only around password prompts, TM. Options we accept from the client (WILL): BINARY,
SGA, NAWS, TTYPE, CHARSET. Everything else is refused; MCCP3 in particular (client->server
compression is a decompression-bomb risk for little gain).
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from typing import TYPE_CHECKING, Any, Protocol

import telnetlib3.stream_writer
from telnetlib3.server import TelnetServer
from telnetlib3.stream_writer import TelnetWriterUnicode
from telnetlib3.telopt import (
    ACCEPTED,
    BINARY,
    CHARSET,
    DO,
    DONT,
    ECHO,
    EOR,
    GA,
    GMCP,
    IAC,
    MCCP2_COMPRESS,
    MSSP,
    NAWS,
    REJECTED,
    SB,
    SE,
    SGA,
    TM,
    TTYPE,
    WILL,
    WONT,
)

from mud.edge.bucket import TokenBucket
from mud.edge.telnet import gmcp
from mud.edge.telnet.budget import NegotiationBudget
from mud.edge.telnet.lines import LineReader, LineSink
from mud.edge.telnet.mccp import CompressingTransport
from mud.protocol.charset import usable_charset

if TYPE_CHECKING:
    from mud.config import Limits, Settings

log = logging.getLogger("dreamwave.telnet")

GA_BYTES = IAC + GA
EOR_BYTES = IAC + b"\xef"  # IAC EOR (239): end of record, marks a prompt
# What we will do when asked (DO x -> WILL x) and what we let the client do (WILL x -> DO x).
WE_WILL = frozenset([SGA, BINARY, EOR, GMCP, MSSP, MCCP2_COMPRESS, CHARSET, ECHO, TM])
THEY_MAY = frozenset([BINARY, SGA, NAWS, TTYPE, CHARSET])
SUBNEGOTIATIONS = frozenset([TTYPE, NAWS, CHARSET])
TTYPE_ROUNDS = 3
# telnetlib3 buffers up to 1 MiB of a subnegotiation, as one Python object per byte (~8 MB of
# memory per connection). Nothing a client may send us needs more than a GMCP message, so
# cap it; a client that overflows it is disconnected like one sending an endless line.
MAX_SUBNEGOTIATION = 16 * 1024
telnetlib3.stream_writer._MAX_SUBNEGOTIATION = MAX_SUBNEGOTIATION
LOCAL_OPTION_NAMES = [
    ("BINARY", BINARY), ("SGA", SGA), ("EOR", EOR), ("GMCP", GMCP), ("MSSP", MSSP),
    ("MCCP2", MCCP2_COMPRESS), ("CHARSET", CHARSET),
]  # fmt: skip


class TelnetConn(LineSink, Protocol):
    """What a telnet connection feeds (the gateway's Conn): its lines, and what happened."""

    def start(self) -> None: ...  # negotiation is over
    def client_changed(self) -> None: ...  # TTYPE/MTTS or CHARSET told us more
    def options_changed(self) -> None: ...  # an option went on or off
    def on_resize(self, cols: int, rows: int, /) -> None: ...
    def on_gmcp(self, package: str, data: Any, /) -> None: ...  # (data: the client's JSON)
    def send_mssp(self) -> None: ...  # a crawler asked for the MSSP table
    def on_flood(self) -> None: ...  # too much negotiation: to be cut off
    def on_disconnect(self) -> None: ...


class TelnetHost(Protocol):
    """What makes telnet connections (the gateway): the settings, and a Conn for each."""

    @property
    def settings(self) -> Settings: ...
    def new_session(self, telnet: MudTelnet, transport: asyncio.Transport, /) -> TelnetConn: ...


class MudWriter(TelnetWriterUnicode):
    """telnetlib3's writer with our option policy and GMCP routing."""

    # No server-side "special line characters" (^C, ^H... acted on by the server while the
    # client is in character mode): we read whole lines, and with SLC on, telnetlib3 scans
    # every input chunk in Python a byte at a time instead of looking for IAC with find().
    slc_simulated = False

    def handle_do(self, opt: bytes) -> bool:
        self.protocol.count_option_command()
        if opt not in WE_WILL or (opt == ECHO and not self.local_option.enabled(ECHO)):
            log.debug("refusing DO %r", opt)
            if self.local_option.get(opt) is not False:
                self.iac(WONT, opt)
            self.local_option[opt] = False
            return False
        agreed = bool(super().handle_do(opt))
        if agreed and opt == MSSP:
            self.protocol.send_mssp()
        self.protocol.options_changed()
        return agreed

    def handle_dont(self, opt: bytes) -> None:
        self.protocol.count_option_command()
        super().handle_dont(opt)
        if opt == MCCP2_COMPRESS:
            self.protocol.stop_compression()
        self.protocol.options_changed()

    def handle_will(self, opt: bytes) -> None:
        self.protocol.count_option_command()
        if opt not in THEY_MAY:
            log.debug("refusing WILL %r", opt)
            if self.remote_option.get(opt) is not False:
                self.iac(DONT, opt)
            self.remote_option[opt] = False
            return
        super().handle_will(opt)
        self.protocol.options_changed()

    def handle_wont(self, opt: bytes) -> None:
        self.protocol.count_option_command()
        super().handle_wont(opt)
        self.protocol.options_changed()

    def handle_subnegotiation(self, buf: collections.deque[bytes]) -> None:
        if not buf:
            return
        opt = buf[0]
        if opt == GMCP:
            self.protocol.on_gmcp(b"".join(list(buf)[1:]))
            return
        if opt == CHARSET and len(buf) > 1 and buf[1] == REJECTED:
            self.protocol.charset_rejected()
            return
        if opt == CHARSET and len(buf) > 1 and buf[1] == ACCEPTED:
            # We offer UTF-8 alone: "accepting" anything else (base64, rot13...) is ignored.
            name = b"".join(list(buf)[2:]).decode("ascii", "replace")
            if usable_charset(name) != "utf-8":
                log.debug("ignoring CHARSET ACCEPTED %r: not what we offered", name[:40])
                return
        if opt not in SUBNEGOTIATIONS:
            log.debug("ignoring subnegotiation for option %r", opt)
            return
        try:
            super().handle_subnegotiation(buf)
        except Exception as exc:  # a client's malformed bytes must never reach the player
            log.debug("ignoring malformed subnegotiation %r: %s", opt, exc)


class MudTelnet(TelnetServer):
    """One telnet connection, in a gateway (mud/edge/gateway.py): creates its Conn and feeds it
    lines and client facts."""

    TTYPE_LOOPMAX = TTYPE_ROUNDS - 1
    # telnetlib3 makes the writer in connection_made from our factory (both factories are
    # MudWriter); nothing here runs before that.
    writer: MudWriter

    def __init__(self, app: TelnetHost) -> None:
        limits: Limits = app.settings.limits
        super().__init__(
            encoding="utf8",
            encoding_errors="replace",
            force_binary=True,
            line_mode=True,
            connect_maxwait=limits.connect_maxwait,
            timeout=0,
            reader_factory=LineReader,
            reader_factory_encoding=LineReader,
            writer_factory=MudWriter,
            writer_factory_encoding=MudWriter,
        )
        self.app = app
        self.limits = limits
        self.session: TelnetConn | None = None
        now = time.monotonic()
        self.input_bytes = TokenBucket(limits.bytes_per_second, limits.bytes_per_second, now)
        self.negotiation = NegotiationBudget(
            limits.telnet_commands_per_second,
            limits.telnet_command_burst,
            limits.subnegotiation_bytes_per_second,
            limits.subnegotiation_burst,
            now,
        )
        self.option_commands = 0  # DO/DONT/WILL/WONT received so far
        self.flooded = False
        self._paused = False
        self._negotiating = False  # begin_negotiation has run
        self.charset_state = "unasked"  # unasked | requested | accepted | rejected

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        # Everything we send, ours and telnetlib3's, goes through one (optionally
        # compressing) writer in front of the real transport.
        self.out = CompressingTransport(transport)
        self.writer._transport = self.out
        reader = self.reader  # (from our factory: telnetlib3's reader type is not ours)
        assert isinstance(reader, LineReader)
        reader.max_pending = self.limits.max_pending_bytes
        self.session = self.app.new_session(self, self.out)
        reader.sink = self.session

    # -- negotiation ------------------------------------------------------------------------
    def begin_negotiation(self) -> None:
        self._negotiating = True
        super().begin_negotiation()

    def _check_negotiation_timer(self) -> None:
        """telnetlib3 checks negotiation on every chunk with a command in it, also on bytes
        that arrived with the connection (uvloop delivers them before `begin_negotiation`
        runs): that check finished negotiation, then the one `begin_negotiation` schedules
        set the finished future again and logged InvalidStateError. Check only once
        negotiation has begun, and never after it is over."""
        if self._negotiating and not self._waiter_connected.done():
            super()._check_negotiation_timer()

    def begin_advanced_negotiation(self) -> None:
        # telnetlib3 offers MCCP2 and MCCP3 together; we offer MCCP2 alone, below.
        self._mccp2_enabled = False
        super().begin_advanced_negotiation()
        self._mccp2_enabled = bool(self.app.settings.compression)
        w = self.writer
        w.iac(WILL, EOR)
        w.iac(WILL, GMCP)
        w.iac(WILL, MSSP)
        if self.app.settings.compression:
            w.iac(WILL, MCCP2_COMPRESS)

    def negotiation_should_advance(self) -> bool:
        """Offer NAWS, EOR, CHARSET... to any client that answered anything, even a refusal:
        telnetlib3 waits for a *yes*, so a client that says WONT TTYPE never got DO NAWS."""
        w = self.writer
        return (
            bool(len(w.remote_option) or len(w.local_option))
            or super().negotiation_should_advance()
        )

    def _mccp3_start(self) -> None:
        """Never decompress client input (MCCP3 is refused; see the module docstring)."""
        self.writer.mccp3_active = False

    def _negotiate_environ(self) -> None:
        """We don't ask for the client's environment: TTYPE, NAWS and CHARSET are enough."""
        self._environ_requested = True

    def begin_shell(self, future: asyncio.Future[None]) -> None:
        """Negotiation is over: the Conn starts (where telnetlib3 would start a shell)."""
        if future.cancelled() or future.exception() is not None:
            return
        if self.session is not None:
            self.session.start()

    def on_ttype(self, ttype: str) -> None:
        super().on_ttype(ttype)
        if self.session is not None:
            self.session.client_changed()

    def on_request_charset(self) -> list[str]:
        self.charset_state = "requested"
        return ["UTF-8"]

    def on_charset(self, charset: str) -> None:
        super().on_charset(charset)
        self.charset_state = "accepted"
        if self.session is not None:
            self.session.client_changed()

    def charset_rejected(self) -> None:
        self.charset_state = "rejected"
        if self.session is not None:
            self.session.client_changed()

    def data_received(self, data: bytes) -> None:
        # Byte budget: telnetlib3 parses IAC sequences byte by byte in Python, so a flood of
        # garbage costs real CPU. Over budget, stop reading until the budget refills.
        now = time.monotonic()
        within = self.input_bytes.charge(len(data), now)
        if self.flooded:
            return
        if not self.negotiation.charge(data, now):
            self.flood("telnet negotiation over budget")
            return
        try:
            super().data_received(data)
        except Exception:
            log.exception("telnet parsing failed for %s; closing", self.session)
            self.abort()
            return
        if self.writer is not None and self.writer._sb_overflow and self.session is not None:
            self.session.on_overflow()
            return
        if not within and not self._paused and self._transport is not None:
            self._paused = True
            self._transport.pause_reading()
            asyncio.get_running_loop().call_later(self.input_bytes.wait(), self._resume)

    def options_changed(self) -> None:
        """An option went on or off: the connection's facts (prompt marker, GMCP...) changed."""
        if self.session is not None:
            self.session.options_changed()

    def count_option_command(self) -> None:
        self.option_commands += 1
        if self.option_commands > self.limits.max_option_commands:
            self.flood(f"more than {self.limits.max_option_commands} option negotiations")

    def flood(self, reason: str) -> None:
        """Too much negotiation: read nothing more from this client, and cut it off."""
        if self.flooded:
            return
        self.flooded = True
        log.info("cutting off %s: %s", self.session, reason)
        if self._transport is not None:
            self._transport.pause_reading()
        if self.session is not None:
            self.session.on_flood()
        else:
            self.abort()

    def _resume(self) -> None:
        self._paused = False
        if self._transport is not None and not self._closing and not self.flooded:
            self._transport.resume_reading()

    def on_naws(self, rows: int, cols: int) -> None:
        super().on_naws(rows, cols)
        if self.session is not None:
            self.session.on_resize(cols, rows)

    def send_mssp(self) -> None:
        if self.session is not None:
            self.session.send_mssp()  # (the gateway's Conn asks the engine for the table)

    def on_gmcp(self, payload: bytes) -> None:
        message = gmcp.decode(payload)
        if message is not None and self.session is not None:
            self.session.on_gmcp(*message)

    def _mccp2_start(self) -> None:
        """The client agreed (DO MCCP2): announce the stream, then compress all that follows.
        Replaces telnetlib3's version, which patches `transport.write` (impossible on uvloop)."""
        self._mccp2_pending = True
        self.writer.send_iac(IAC + SB + MCCP2_COMPRESS + IAC + SE)
        self.out.start()
        self._mccp2_compressor = self.out
        self.writer.mccp2_active = True

    def _mccp2_end(self) -> None:
        self.out.finish()
        self._mccp2_compressor = None
        self._mccp2_pending = False
        self.writer.mccp2_active = False

    def stop_compression(self) -> None:
        """Client said DONT MCCP2: finish the zlib stream; later output goes out plain.

        Ordering needs no care: the Session writes through the same CompressingTransport,
        so whatever it queued lands on the right side of the switch.
        """
        if self._mccp2_compressor is not None:
            self._mccp2_end()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._closing:
            return
        super().connection_lost(exc)
        session, self.session = self.session, None
        if session is not None:
            session.on_disconnect()

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    # -- what the Session asks for ----------------------------------------------------------
    def echo_off(self) -> bytes:
        """IAC WILL ECHO: the client stops echoing (password prompts). Returns the bytes to
        send, so the caller keeps them in order with its text."""
        w = self.writer
        w.local_option[ECHO] = True
        w.pending_option[WILL + ECHO] = False
        return IAC + WILL + ECHO

    def echo_on(self) -> bytes:
        self.writer.local_option[ECHO] = False
        return IAC + WONT + ECHO

    def prompt_marker(self) -> bytes:
        """IAC EOR when the client agreed to EOR, else IAC GA unless it suppressed go-ahead."""
        w = self.writer
        if w.local_option.enabled(EOR):
            return EOR_BYTES
        if w.local_option.enabled(SGA):
            return b""
        return GA_BYTES

    def options_on(self) -> list[str]:
        """Names of the options in effect, for the `client` command."""
        w = self.writer
        names = []
        for name, opt in LOCAL_OPTION_NAMES:
            if w.local_option.enabled(opt):
                names.append(name)
        for name, opt in (("NAWS", NAWS), ("TTYPE", TTYPE)):
            if w.remote_option.enabled(opt):
                names.append(name)
        if self._mccp2_compressor is not None and "MCCP2" not in names:
            names.append("MCCP2")
        return names

    def gmcp_enabled(self) -> bool:
        return bool(self.writer.local_option.enabled(GMCP))

    def ttypes(self) -> list[str]:
        return [
            str(self.get_extra_info(f"ttype{i}"))
            for i in range(1, TTYPE_ROUNDS + 1)
            if self.get_extra_info(f"ttype{i}")
        ]


__all__ = ["DO", "MudTelnet", "MudWriter"]
