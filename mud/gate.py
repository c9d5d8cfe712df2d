"""Who may reach the login screen, counted by the gateway at connect (mud/gateway.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from mud.config import Limits


class Connection(Protocol):
    address: str  # where it comes from (IPv6-mapped addresses as IPv4)


class ConnectionGate:
    """Who may reach the login screen: at most `max_connections_per_address` connections
    from one address at a time, and at most `max_unauthenticated` not yet logged in, from
    everywhere (each one can cost a password hash; a flood of them is not players)."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._admitted: set[Connection] = set()
        self._waiting: set[Connection] = set()  # admitted, not logged in yet
        self._per_address: dict[str, int] = {}

    def admit(self, session: Connection) -> str | None:
        """Count the new connection in, or say in one sentence why it is refused."""
        address, lim = session.address, self.limits
        if self._per_address.get(address, 0) >= lim.max_connections_per_address:
            return (
                f"There are already {lim.max_connections_per_address} connections from your "
                "address; close one and try again."
            )
        if len(self._waiting) >= lim.max_unauthenticated:
            return "Too many people are at the login screen right now; try again in a minute."
        self._admitted.add(session)
        self._waiting.add(session)
        self._per_address[address] = self._per_address.get(address, 0) + 1
        return None

    def logged_in(self, session: Connection) -> None:
        self._waiting.discard(session)

    def release(self, session: Connection) -> None:
        if session not in self._admitted:
            return
        self._admitted.discard(session)
        self._waiting.discard(session)
        left = self._per_address.get(session.address, 1) - 1
        if left > 0:
            self._per_address[session.address] = left
        else:
            self._per_address.pop(session.address, None)

    @property
    def unauthenticated(self) -> int:
        return len(self._waiting)
