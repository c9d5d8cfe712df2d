"""Telnet for MUD clients on top of telnetlib3: one small module per concern.

- lines.py     in-band bytes -> lines, bounded
- protocol.py  the connection: option policy, ECHO, EOR/GA, NAWS, CHARSET, MCCP2, byte budget
- budget.py    how much negotiation a connection may make us parse (IAC and SB bytes)
- mtts.py      TTYPE/MTTS -> colour depth, UTF-8, screen reader
- gmcp.py      GMCP encode/decode and Core.* state
- mssp.py      the MSSP table as telnet bytes and as plain text
- render.py    the engine's output items as telnet bytes (prompt marks, echo, GMCP)
"""

from mud.edge.telnet.lines import LineReader
from mud.edge.telnet.protocol import MudTelnet

__all__ = ["LineReader", "MudTelnet"]
