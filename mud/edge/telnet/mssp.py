"""MSSP (option 70): the server status table crawlers read, as telnet bytes or plain text."""

from __future__ import annotations

from telnetlib3.telopt import IAC, MSSP, SB, SE

from mud.protocol.mssp import plain

MSSP_VAR = b"\x01"
MSSP_VAL = b"\x02"


def encode(table: dict[str, str | list[str]]) -> bytes:
    out = bytearray(IAC + SB + MSSP)
    for key, value in table.items():
        out += MSSP_VAR + key.encode("utf-8")
        for v in value if isinstance(value, list) else [value]:
            out += MSSP_VAL + str(v).encode("utf-8")
    body = bytes(out[3:]).replace(IAC, IAC + IAC)
    return IAC + SB + MSSP + body + IAC + SE


__all__ = ["encode", "plain"]
