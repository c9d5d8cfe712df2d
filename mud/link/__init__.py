"""The Link between gateways (every socket) and the engine (the world): batched msgpack
messages over a local Unix socket (mud.link.local) or NATS (mud.link.nats), with heartbeats
and bounds shared by both (mud.link.base); every gateway proves the link secret first, and
over NATS every payload is sealed (mud.link.auth)."""

from mud.link.base import Link
from mud.link.frames import LinkProtocolError

__all__ = ["Link", "LinkProtocolError"]
