"""How one connection's client is shown text: colour, width, charset, screen reader.

Decided from what the gateway says the client can do (`mud.protocol.ClientCaps`) and then the
dreamer's own settings (`decide`), and summed up in the two keys the output path uses on
every delivery: `render_key` (the arguments of `mud.core.text.render` after the text) and
`out_key` (a small int, equal for connections whose encoded bytes for one message are
equal: what fan-outs and feeds render once per kind of client by).

`Rendering` is the base of the connection's output buffer (mud/core/outbuf.py), so the hot
loops that hold a buffer read these keys with no further lookup.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from mud.core.text import render
from mud.protocol import ClientCaps
from mud.protocol.charset import usable_charset

log = logging.getLogger("dreamwave.session")

DEFAULT_WIDTH = 80
MIN_WIDTH = 20
MAX_WIDTH = 250
# Clients that keep their own input line, where a prompt shown again after other people's
# lines would be a line of its own (the browser page): they get no redrawn prompt.
NO_REDRAW_CLIENTS = frozenset({"dreamwave-web"})

# Every distinct (colour, width, ascii, screen reader, encoding) seen, numbered. Bounded in
# practice by the widths clients report (MIN_WIDTH..MAX_WIDTH) times a handful of charsets.
_OUT_KEYS: dict[tuple[bool, int, bool, bool, str], int] = {}


class Rendering:
    """What the client can do and how it is shown text (the one writer of these fields)."""

    def __init__(self, caps: ClientCaps) -> None:
        # what the client can do, as its gateway says, and the rendering decided from it
        self.caps = caps
        self.colour = False
        self.screen_reader = False  # plain output: no decoration, sentences for maps
        self.width = DEFAULT_WIDTH
        self.height = 25
        self.encoding = "utf-8"
        self.wants_oob = caps.gmcp and bool(caps.gmcp_packages)  # it enabled GMCP packages
        # the arguments of mud.core.text.render after the text: colour, width, ascii, screen reader
        self.render_key: tuple[bool, int, bool, bool] = (False, DEFAULT_WIDTH, False, False)
        self.out_key = 0
        self.redraws = True  # a prompt interrupted by output is shown again (NO_REDRAW_CLIENTS)

    def set_caps(self, caps: ClientCaps) -> None:
        """The gateway says the client can do something else now (TTYPE, CHARSET or GMCP
        answered, the window resized)."""
        old, self.caps = self.caps, caps
        self.wants_oob = caps.gmcp and bool(caps.gmcp_packages)
        if caps.cols != old.cols or caps.rows != old.rows:
            self.on_resize(caps.cols or 0, caps.rows or 0)

    def caps_final(self, caps: ClientCaps) -> None:
        """Negotiation is over: what the client can do (decided from at the start)."""
        self.caps = caps

    def decide(self, settings: Mapping[str, Any]) -> None:
        """Colour, charset and width from what the client told us, then the dreamer's
        `settings` (their overrides)."""
        caps = self.caps
        self.redraws = caps.name.lower() not in NO_REDRAW_CLIENTS
        self.colour = bool(settings["colour"]) if "colour" in settings else caps.has_colour
        # Screen-reader mode, the one place every command and layer asks: the dreamer's
        # `config screenreader on|off`, else (auto) what the client said (MTTS bit 64).
        choice = settings.get("screenreader")
        chosen = choice in ("on", "off")
        self.screen_reader = choice == "on" if chosen else caps.screen_reader
        # A stored charset the server no longer accepts (saved before it checked) is ignored.
        stored = settings.get("charset")
        taken = isinstance(stored, str) and self.set_encoding(stored)
        if not taken and not self.set_encoding(self._negotiated_charset()):
            self.set_encoding("utf-8")
        self.on_resize(caps.cols or DEFAULT_WIDTH, caps.rows or 25)

    def _negotiated_charset(self) -> str:
        """CHARSET's answer if there was one; else what MTTS says; else UTF-8.

        A client that refused UTF-8 and says nothing about it in MTTS gets ASCII, with our
        text transliterated. One that never took part in CHARSET keeps the UTF-8 default.
        """
        state = self.caps.charset_state
        if state == "accepted":
            return self.caps.charset or "utf-8"
        if self.caps.utf8 is not None:
            return "utf-8" if self.caps.utf8 else "ascii"
        return "ascii" if state == "rejected" else "utf-8"

    def set_encoding(self, name: str) -> bool:
        """Use charset `name` for this connection; False (nothing changed) unless it is a
        text encoding that keeps ASCII as it is (mud.protocol.charset)."""
        codec = usable_charset(name)
        if codec is None:
            return False
        self.encoding = codec
        self._update_render_key()
        return True

    def on_resize(self, cols: int, rows: int) -> None:
        try:
            cols, rows = int(cols), int(rows)
        except (TypeError, ValueError):
            cols, rows = DEFAULT_WIDTH, 25
        self.height = rows if rows > 0 else 25
        # 0 means "unknown" in NAWS; absurd sizes are clamped.
        self.width = DEFAULT_WIDTH if cols <= 0 else max(MIN_WIDTH, min(MAX_WIDTH, cols))
        self._update_render_key()

    def set_colour(self, on: bool) -> None:
        self.colour = on
        self._update_render_key()

    def _update_render_key(self) -> None:
        self.render_key = (self.colour, self.width, self.encoding == "ascii", self.screen_reader)
        # What makes two sessions' bytes for one message identical (see OutputPump.fanout), as a
        # small int: it is hashed once per recipient of every broadcast.
        self.out_key = _OUT_KEYS.setdefault((*self.render_key, self.encoding), len(_OUT_KEYS))

    def render(self, text: str) -> str:
        """Markup as this client is shown it (not yet encoded)."""
        return render(text, *self.render_key)

    def encode_line(self, text: str) -> bytes:
        return self.encode(text + "\r\n")

    def encode(self, text: str) -> bytes:
        try:
            data = text.encode(self.encoding, "replace")
        except Exception:  # a codec we shouldn't have taken: this connection goes back to UTF-8
            log.exception("encoding output as %s for %r failed; using UTF-8", self.encoding, self)
            self.set_encoding("utf-8")
            data = text.encode("utf-8", "replace")
        return data
