"""The engine's output items as telnet bytes (pure): IAC doubled in text, a prompt marked as
the client agreed (IAC EOR, IAC GA or nothing), out-of-band data as GMCP subnegotiation,
echo as the connection's own telnet command (it changes that connection's option state)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from mud.edge.telnet import gmcp
from mud.protocol import Echo, Item, Oob, Prompt, Text


def telnet_bytes(
    items: Sequence[Item], marker: bytes, set_echo: Callable[[bool], bytes]
) -> tuple[bytes, bool]:
    """The bytes, and whether they are the same for every connection with this `marker`
    (False when an Echo is among them: `set_echo` records it and gives its bytes)."""
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
            out.append(set_echo(item.off))
    return b"".join(out), alike
