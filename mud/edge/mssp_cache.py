"""What the gateway answers an MSSP crawler with while the engine can't: the last whole table
the engine sent, its PLAYERS moved by how many of our connections came and went since
(nobody logs in while the engine is away); and which connections still wait for an answer
(asked before any table came, or of an engine that went away before it answered)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from mud.edge.telnet import mssp

if TYPE_CHECKING:
    from mud.edge.conn import Conn

Table = dict[str, str | list[str]]  # MSSP variables: one value, or several (mud.protocol.Mssp)


class MsspCache:
    def __init__(self, conns: Mapping[int, Conn]) -> None:
        self.conns = conns  # (the gateway's, live)
        self.table: Table = {}  # the last whole table the engine sent ...
        self._players = 0  # ... and how many of our connections played then
        self.owed: set[int] = set()  # sids that asked for MSSP and have no answer yet

    def _playing(self) -> int:
        return sum(1 for c in self.conns.values() if c.player and not c.closed)

    def keep(self, table: Table) -> None:
        self.table = table
        self._players = self._playing()

    def current(self) -> Table | None:
        """The last whole table, its PLAYERS counted again here; None before the engine sent
        one."""
        if not self.table:
            return None
        now = self._playing()
        said = self.table.get("PLAYERS", "0")
        try:
            players = max(0, int(said if isinstance(said, str) else "") - self._players + now)
        except ValueError:
            players = now
        return {**self.table, "PLAYERS": str(players)}

    def answer(self, conn: Conn) -> None:
        """Answer from the last whole table, or (none yet) leave it owed until there is."""
        table = self.current()
        if table is not None:
            self.owed.discard(conn.sid)
            conn.write(mssp.encode(table))

    def answer_owed(self) -> None:
        for sid in list(self.owed):
            conn = self.conns.get(sid)
            if conn is None:
                self.owed.discard(sid)
            else:
                self.answer(conn)

    def from_engine(self, table: Table, sid: int) -> None:
        """The engine's live table, the answer to `sid`'s question."""
        self.keep(table)
        conn = self.conns.get(sid)
        if conn is not None and sid in self.owed:
            self.owed.discard(sid)
            conn.write(mssp.encode(table))
