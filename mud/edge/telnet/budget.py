"""How much telnet negotiation one connection may make the server parse. Pure.

telnetlib3 interprets every byte from an IAC on, and every byte of a subnegotiation, one at
a time in Python (plain text is passed on with `find()` at C speed). So a flood of IAC
commands or of subnegotiation bytes costs the server about a hundred times what text does,
and 20 such clients stalled everyone else for seconds. Before telnetlib3 sees a chunk, we
count (with `find()`, once per IAC) its IAC bytes and the bytes inside IAC SB ... IAC SE,
and charge them to two token buckets; a chunk that overdraws either is never parsed and
the connection is cut. Real clients stay far below: a few dozen commands at connect, a
GMCP message now and then.
"""

from __future__ import annotations

from mud.edge.bucket import TokenBucket

IAC, SB, SE = 255, 250, 240


class NegotiationBudget:
    def __init__(
        self,
        commands_per_second: float,  # IAC bytes: commands, SB/SE, escaped 0xFF data
        command_burst: float,
        sb_bytes_per_second: float,  # bytes inside subnegotiations
        sb_burst: float,
        now: float,  # time.monotonic()
    ) -> None:
        self.iacs = TokenBucket(commands_per_second, command_burst, now)
        self.sb = TokenBucket(sb_bytes_per_second, sb_burst, now)
        self._in_sb = False  # the last chunk ended inside a subnegotiation
        self._iac_last = False  # ... or right after an IAC

    @property
    def commands(self) -> float:
        """IAC bytes left to take."""
        return self.iacs.tokens

    @property
    def sb_bytes(self) -> float:
        """Subnegotiation bytes left to take."""
        return self.sb.tokens

    def charge(self, data: bytes, now: float) -> bool:
        """Count `data`'s negotiation; False if this connection is over its budget."""
        if data.count(IAC) > self.iacs.refill(now) + 1:  # no need to look closer (C speed)
            self.iacs.tokens = -1.0
            return False
        iacs, sb = self._scan(data)
        within_iacs = self.iacs.charge(iacs, now)
        return self.sb.charge(sb, now) and within_iacs

    def _scan(self, data: bytes) -> tuple[int, int]:
        """(IAC bytes, bytes inside subnegotiations) in `data`, given where the last ended."""
        iacs = 0
        if self._iac_last:  # an IAC ended the last chunk: look at it again with its command
            data = b"\xff" + data
            iacs = -1
            self._iac_last = False
        n = len(data)
        in_sb = self._in_sb
        sb = 0
        sb_start = 0
        i = data.find(IAC)
        while i != -1:
            iacs += 1
            if i + 1 == n:
                self._iac_last = True
                break
            cmd = data[i + 1]
            if cmd == SB and not in_sb:
                in_sb, sb_start = True, i + 2
            elif cmd == SE and in_sb:
                sb += i - sb_start
                in_sb = False
            i = data.find(IAC, i + 2)
        if in_sb:
            sb += n - sb_start
        self._in_sb = in_sb
        return iacs, sb
