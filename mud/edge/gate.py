"""Who may reach the login screen, counted by the gateway from a connection's first byte.

Every socket is counted when it is accepted, on every port: a telnet connection, and a web
socket still in its HTTP handshake (mud/edge/web/server.py holds a place for it until it becomes
a Conn). Caps, each a named limit in mud/config.py `Limits`:

- connections from one address (`max_connections_per_address`);
- open sockets in all, below the process's open-file limit less a reserve (`fd_reserve`),
  so a flood never makes `accept()` fail for everyone;
- connections not logged in yet (`max_unauthenticated`); once that pool is busy
  (`login_pool_busy`), one address may hold only its share of it, and sockets that never
  typed a line are closed sooner (`login_silence_busy_timeout`);
- when a pool is full, a new arrival takes the place of the oldest socket that never typed
  (a player who is typing keeps theirs; a flood of silent sockets does not lock anyone out).

Refusals and evictions are logged, at most once per `LOG_EVERY` seconds per kind.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from mud.config import Limits

log = logging.getLogger("dreamwave.gateway")

LOG_EVERY = 10.0  # seconds between log lines about the same kind of refusal (a flood logs once)
FULL = "Too many people are at the login screen right now; try again in a minute."
SERVER_FULL = "The server has no room for another connection right now; try again in a minute."


class Connection(Protocol):
    address: str  # where it comes from (IPv6-mapped addresses as IPv4)

    def evict(self) -> None:
        """Close it: its place went to a new arrival (it never typed anything)."""


class ConnectionGate:
    """Who may reach the login screen (see the module docstring for the rules)."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.max_open: int | None = None  # sockets in all (set from the open-file limit)
        self._admitted: set[Connection] = set()
        self._waiting: set[Connection] = set()  # admitted, not logged in yet
        self._silent: dict[Connection, float] = {}  # never typed: when admitted, oldest first
        self._per_address: dict[str, int] = {}
        self._waiting_per_address: dict[str, int] = {}
        self._logged: dict[str, tuple[float, int]] = {}  # kind -> (last logged, held back)

    def admit(self, session: Connection) -> str | None:
        """Count the new connection in, or say in one sentence why it is refused."""
        address, lim = session.address, self.limits
        if self._per_address.get(address, 0) >= lim.max_connections_per_address:
            return self._refuse(
                "address",
                address,
                f"There are already {lim.max_connections_per_address} connections from your "
                "address; close one and try again.",
            )
        self._close_silent_when_busy()
        refusal = self._make_room(address)
        if refusal is not None:
            return refusal
        self._admitted.add(session)
        self._waiting.add(session)
        self._silent[session] = time.monotonic()
        _bump(self._per_address, address, 1)
        _bump(self._waiting_per_address, address, 1)
        return None

    def _make_room(self, address: str) -> str | None:
        """Room in the pools for one more from `address`: a silent socket may give its place."""
        lim = self.limits
        busy = len(self._waiting) >= lim.max_unauthenticated * lim.login_pool_busy
        share = lim.unauthenticated_share_when_busy
        if busy and self._waiting_per_address.get(address, 0) >= share:
            return self._refuse(
                "share",
                address,
                f"The login screen is busy: at most {share} connections from one address may "
                "wait there; log in on one of yours first.",
            )
        if len(self._waiting) >= lim.max_unauthenticated and not self._evict_oldest_silent():
            return self._refuse("pool", address, FULL)
        files_full = self.max_open is not None and len(self._admitted) >= self.max_open
        if files_full and not self._evict_oldest_silent():
            return self._refuse("files", address, SERVER_FULL)
        return None

    def _evict_oldest_silent(self) -> bool:
        victim = next(iter(self._silent), None)
        if victim is None:
            return False
        self._note("evict", f"a new arrival took the place of a silent connection from "
                            f"{victim.address}")  # fmt: skip
        self.release(victim)
        victim.evict()
        return True

    def _close_silent_when_busy(self) -> None:
        """Sockets that never typed get `login_silence_busy_timeout` while the pool is busy."""
        lim = self.limits
        if len(self._waiting) < lim.max_unauthenticated * lim.login_pool_busy:
            return
        too_old = time.monotonic() - lim.login_silence_busy_timeout
        while self._silent:
            oldest, since = next(iter(self._silent.items()))
            if since > too_old:
                return
            self._note("silent", f"closed a silent connection from {oldest.address} (busy)")
            self.release(oldest)
            oldest.evict()

    def typed(self, session: Connection) -> None:
        """It sent a line: a player, not a held socket. It keeps its place."""
        self._silent.pop(session, None)

    def logged_in(self, session: Connection) -> None:
        self._silent.pop(session, None)
        if session in self._waiting:
            self._waiting.discard(session)
            _bump(self._waiting_per_address, session.address, -1)

    def moved(self, session: Connection, address: str) -> None:
        """A resumed connection now comes from `address`: count it there."""
        if session in self._admitted and address != session.address:
            _bump(self._per_address, session.address, -1)
            _bump(self._per_address, address, 1)
            if session in self._waiting:
                _bump(self._waiting_per_address, session.address, -1)
                _bump(self._waiting_per_address, address, 1)
        session.address = address

    def release(self, session: Connection) -> None:
        if session not in self._admitted:
            return
        self._admitted.discard(session)
        self._silent.pop(session, None)
        _bump(self._per_address, session.address, -1)
        if session in self._waiting:
            self._waiting.discard(session)
            _bump(self._waiting_per_address, session.address, -1)

    @property
    def unauthenticated(self) -> int:
        return len(self._waiting)

    def _refuse(self, kind: str, address: str, why: str) -> str:
        self._note(kind, f"refused a connection from {address}: {why}")
        return why

    def _note(self, kind: str, text: str) -> None:
        """Log it, or count it if this kind was logged in the last LOG_EVERY seconds."""
        now = time.monotonic()
        last, held = self._logged.get(kind, (0.0, 0))
        if last and now - last < LOG_EVERY:
            self._logged[kind] = (last, held + 1)
            return
        more = f" (and {held} more like it)" if held else ""
        log.warning("%s%s", text, more)
        self._logged[kind] = (now, 0)


def _bump(counts: dict[str, int], key: str, by: int) -> None:
    left = counts.get(key, 0) + by
    if left > 0:
        counts[key] = left
    else:
        counts.pop(key, None)
