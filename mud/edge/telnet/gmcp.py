"""GMCP (option 201): decoding what clients send and encoding what we send.

Pure functions and a small per-connection state; the protocol layer moves the bytes.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from telnetlib3.telopt import GMCP, IAC, SB, SE

log = logging.getLogger("dreamwave.gmcp")

MAX_INBOUND = 8 * 1024  # bytes; larger client messages are ignored


def encode(package: str, data: object = None) -> bytes:
    """IAC SB GMCP <package> [json] IAC SE, with IAC bytes doubled."""
    body = package if data is None else f"{package} {json.dumps(data, separators=(',', ':'))}"
    payload = body.encode("utf-8").replace(IAC, IAC + IAC)
    return IAC + SB + GMCP + payload + IAC + SE


def frame(package: str, body: str = "") -> bytes:
    """IAC SB GMCP <package> [body] IAC SE, `body` already JSON text (as the engine sends it
    in an Oob item), IAC bytes doubled."""
    payload = (f"{package} {body}" if body else package).encode("utf-8")
    return IAC + SB + GMCP + payload.replace(IAC, IAC + IAC) + IAC + SE


def decode(payload: bytes) -> tuple[str, Any] | None:
    """The (package, data) of one inbound message, or None if it must be ignored."""
    if len(payload) > MAX_INBOUND:
        log.debug("ignoring %d-byte GMCP message (limit %d)", len(payload), MAX_INBOUND)
        return None
    text = payload.decode("utf-8", "replace").strip()
    if not text:
        return None
    package, _, rest = text.partition(" ")
    rest = rest.strip()
    if not rest:
        return package, None
    try:
        return package, json.loads(rest)
    except ValueError:
        log.debug("ignoring GMCP %s with malformed JSON", package[:40])
        return None


class GmcpState:
    """What one client said about itself and which packages it wants."""

    MAX_SUPPORTS = 64

    def __init__(self) -> None:
        self.client: str = ""
        self.version: str = ""
        self.supports: dict[str, int] = {}

    def handle(self, package: str, data: Any) -> str | None:
        """Apply a Core.* message. Returns a package name to answer with, if any."""
        pkg = package.lower()
        if pkg == "core.hello" and isinstance(data, dict):
            self.client = str(data.get("client", ""))[:64]
            self.version = str(data.get("version", ""))[:32]
        elif pkg in ("core.supports.set", "core.supports.add", "core.supports.remove"):
            if not isinstance(data, list):
                return None
            if pkg == "core.supports.set":
                self.supports = {}
            for entry in data[: self.MAX_SUPPORTS]:
                if not isinstance(entry, str):
                    continue
                name, _, ver = entry.strip().partition(" ")
                if not name:
                    continue
                if pkg == "core.supports.remove":
                    self.supports.pop(name.lower(), None)
                elif len(self.supports) < self.MAX_SUPPORTS:
                    self.supports[name.lower()] = int(ver) if ver.isdigit() else 1
        elif pkg == "core.ping":
            return "Core.Ping"
        return None

    def wants(self, package: str) -> bool:
        """True if the client enabled this package or any parent of it."""
        parts = package.lower().split(".")
        return any(".".join(parts[:i]) in self.supports for i in range(1, len(parts) + 1))
