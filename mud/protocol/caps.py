"""What a client can do, as the edge found out and the engine renders for: one value.

The edge negotiates (telnet: TTYPE/MTTS, NAWS, CHARSET, GMCP; the browser page: its hello)
and sends a `ClientCaps` whenever it changes; the engine decides colour, width, charset and
screen-reader output from it (Session.decide_capabilities) and never sees a protocol.
"""

from __future__ import annotations

import msgspec

COLOUR_NONE, COLOUR_16, COLOUR_256, COLOUR_TRUE = "none", "16", "256", "truecolor"


class ClientCaps(msgspec.Struct, array_like=True, gc=False):
    """One connection's client, as its edge knows it."""

    name: str = ""  # e.g. "TINTIN++", "MUDLET", "Dreamwave-web", or a plain terminal's name
    terminal: str = ""
    mtts: int | None = None  # the MTTS bits the client reported (None: it didn't)
    colour: str = COLOUR_NONE  # none, 16, 256 or truecolor
    utf8: bool | None = None  # None: the client didn't say
    screen_reader: bool = False  # the client says a screen reader reads it (MTTS 64)
    charset: str = ""  # what CHARSET agreed on ...
    charset_state: str = "unasked"  # ... "accepted", "rejected" or "unasked"
    cols: int = 0  # the window (0: unknown)
    rows: int = 0
    options: list[str] = msgspec.field(default_factory=list)  # telnet options on (`client`)
    gmcp: bool = False  # out-of-band data may be sent (GMCP on)
    gmcp_client: str = ""  # its Core.Hello
    gmcp_version: str = ""
    gmcp_packages: dict[str, int] = msgspec.field(default_factory=dict)  # Core.Supports, lower case

    @property
    def has_colour(self) -> bool:
        return self.colour != COLOUR_NONE

    def wants(self, package: str) -> bool:
        """GMCP is on and the client enabled `package` or a parent of it."""
        return self.gmcp and wants_package(self.gmcp_packages, package)


def wants_package(supports: dict[str, int], package: str) -> bool:
    """True if `supports` (lower-case names) holds this package or any parent of it."""
    parts = package.lower().split(".")
    return any(".".join(parts[:i]) in supports for i in range(1, len(parts) + 1))
