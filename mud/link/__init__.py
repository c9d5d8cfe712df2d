"""The Link between gateways (every socket) and the engine (the world): batches of typed
messages (mud.protocol; msgpack on the wire, mud.link.frames) over a local Unix socket
(mud.link.local) or NATS (mud.link.nats), with heartbeats and bounds shared by both
(mud.link.base); every gateway proves the link secret first, and over NATS every payload is
sealed (mud.link.auth)."""

from mud.link.base import Link
from mud.link.frames import LinkProtocolError

__all__ = ["Link", "LinkProtocolError"]
