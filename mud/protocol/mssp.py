"""MSSP's plain-text reply (clients that type MSSP-REQUEST); the engine writes it as text.

The telnet form (IAC SB MSSP ...) is the edge's: mud/edge/telnet/mssp.py.
"""

from __future__ import annotations


def plain(table: dict[str, str | list[str]]) -> str:
    """The MSSP plain-text reply for clients that type MSSP-REQUEST."""
    lines = ["MSSP-REPLY-START"]
    for key, value in table.items():
        values = value if isinstance(value, list) else [value]
        lines.append("\t".join([key, *(str(v) for v in values)]))
    lines.append("MSSP-REPLY-END")
    return "\n".join(lines)
