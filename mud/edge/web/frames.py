"""Sans-I/O: the engine's telnet byte stream as the frames of `gmcp.mudstandards.org`.

Text (UTF-8 with ANSI) goes out in BINARY frames; each GMCP subnegotiation becomes a TEXT
frame "Package.Name {json}"; every other IAC sequence (prompt markers, option commands) is
dropped, because the page has no telnet layer. A sequence cut across two writes is kept
until the rest arrives.
"""

from __future__ import annotations

IAC, SB, SE = 255, 250, 240
WILL, WONT, DO, DONT = 251, 252, 253, 254
GMCP = 201


class TelnetToFrames:
    def __init__(self) -> None:
        self._carry = b""

    def feed(self, data: bytes) -> list[bytes | str]:
        """Frames for `data`: bytes for BINARY, str for TEXT."""
        buf = self._carry + data
        self._carry = b""
        out: list[bytes | str] = []
        text = bytearray()
        i, n = 0, len(buf)
        while i < n:
            j = buf.find(b"\xff", i)
            if j < 0:
                text += buf[i:]
                break
            text += buf[i:j]
            if j + 1 >= n:
                self._carry = buf[j:]
                break
            cmd = buf[j + 1]
            if cmd == IAC:
                text.append(IAC)
                i = j + 2
            elif cmd in (WILL, WONT, DO, DONT):
                if j + 2 >= n:
                    self._carry = buf[j:]
                    break
                i = j + 3
            elif cmd == SB:
                end = buf.find(b"\xff\xf0", j + 2)
                if end < 0:
                    self._carry = buf[j:]
                    break
                body = buf[j + 2 : end].replace(b"\xff\xff", b"\xff")
                if body[:1] == bytes([GMCP]):
                    if text:
                        out.append(bytes(text))
                        text = bytearray()
                    out.append(body[1:].decode("utf-8", "replace"))
                i = end + 2
            else:  # GA, EOR, NOP...
                i = j + 2
        if text:
            out.append(bytes(text))
        return out
