"""Moderation rules, free of I/O: bans by name or address (IPv4 and IPv6 prefixes), mutes, the
durations admins type ("10m", "2h", "3d", "perm"), and quotas (how often one dreamer or address
may do something that fills the disk: new accounts, letters, loops, narrative).
"""

from __future__ import annotations

import ipaddress
import math
import re
import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from world.model import Player
from world.ports import Stage

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhdw])$")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
FOREVER = ("perm", "permanent", "forever")
MAX_DURATION = 10 * 365 * 86400.0  # ten years: anything longer is written "perm"
MAX_REASON = 200
MUTE_KEY = "muted_until"  # in Player.settings: a time, or 0 for "until unmuted"


class ModerationError(ValueError):
    """An admin's input that can't be understood, in one sentence."""


def parse_duration(word: str) -> float | None:
    """Seconds for "30s", "10m", "2h", "3d", "1w"; None for "perm". Raises if neither."""
    word = word.lower()
    if word in FOREVER:
        return None
    m = DURATION.match(word)
    if not m:
        raise ModerationError(f"'{word}' is not a duration: use e.g. 30s, 10m, 2h, 3d, 1w or perm.")
    seconds = float(m.group(1)) * UNIT_SECONDS[m.group(2)]
    if not 0 < seconds <= MAX_DURATION:
        raise ModerationError("A duration must be more than nothing and at most ten years.")
    return seconds


def looks_like_duration(word: str) -> bool:
    """Meant as a duration (a number first, or perm): then it must parse as one."""
    return word.lower() in FOREVER or word[:1].isdigit()


def describe_duration(seconds: float | None) -> str:
    if seconds is None:
        return "for good"
    units = (("week", 604800), ("day", 86400), ("hour", 3600), ("minute", 60))
    for name, size in units:
        if seconds >= size:
            n = round(seconds / size)
            return f"for {n} {name}{'' if n == 1 else 's'}"
    n = max(1, round(seconds))
    return f"for {n} second{'' if n == 1 else 's'}"


def normalise_address(address: str) -> str:
    """An IPv4-mapped IPv6 address (::ffff:1.2.3.4) as plain IPv4; others unchanged."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


def parse_network(text: str) -> IpNetwork | None:
    """An address or CIDR prefix as a network; None if `text` is neither."""
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None
    if isinstance(net, ipaddress.IPv6Network) and net.network_address.ipv4_mapped is not None:
        prefix = max(0, net.prefixlen - 96)
        return ipaddress.ip_network(f"{net.network_address.ipv4_mapped}/{prefix}", strict=False)
    return net


def network_of(address: str) -> str:
    """An address as a quota counts it: IPv4 whole, IPv6 by its /64 (one site's prefix)."""
    address = normalise_address(address)
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return address


def address_in(address: str, net: IpNetwork) -> bool:
    try:
        ip = ipaddress.ip_address(normalise_address(address))
    except ValueError:
        return False
    return ip.version == net.version and ip in net


@dataclass
class Ban:
    id: int
    kind: str  # "name" or "address"
    target: str  # a dreamer's key, or a network in CIDR form
    by: str
    reason: str
    created_at: float
    expires_at: float | None  # None: until lifted

    def active(self, now: float) -> bool:
        return self.expires_at is None or now < self.expires_at

    def remaining(self, now: float) -> str:
        return describe_duration(None if self.expires_at is None else self.expires_at - now)

    def to_row(self) -> dict[str, Any]:
        return {
            "id": self.id, "kind": self.kind, "target": self.target, "by": self.by,
            "reason": self.reason, "created_at": self.created_at, "expires_at": self.expires_at,
        }  # fmt: skip

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> Ban:
        return cls(
            r["id"], r["kind"], r["target"], r["by"], r["reason"], r["created_at"],
            r["expires_at"],
        )  # fmt: skip


class BanList:
    """Every ban in force, with the address bans kept as parsed networks for connect-time checks."""

    def __init__(self) -> None:
        self.bans: dict[int, Ban] = {}
        self._networks: dict[int, IpNetwork] = {}

    def add(self, ban: Ban) -> None:
        self.bans[ban.id] = ban
        if ban.kind == "address":
            net = parse_network(ban.target)
            if net is not None:
                self._networks[ban.id] = net

    def remove(self, ban: Ban) -> None:
        self.bans.pop(ban.id, None)
        self._networks.pop(ban.id, None)

    def for_name(self, key: str, now: float | None = None) -> Ban | None:
        now = time.time() if now is None else now
        for b in self.bans.values():
            if b.kind == "name" and b.target == key and b.active(now):
                return b
        return None

    def for_address(self, address: str, now: float | None = None) -> Ban | None:
        if not self._networks:
            return None
        now = time.time() if now is None else now
        for ban_id, net in self._networks.items():
            ban = self.bans[ban_id]
            if address_in(address, net) and ban.active(now):
                return ban
        return None

    def matching(self, target: str) -> list[Ban]:
        """The bans an admin means by `target`: #id, a name, or an address/prefix."""
        if target.startswith("#") and target[1:].isdigit():
            ban = self.bans.get(int(target[1:]))
            return [ban] if ban else []
        net = parse_network(target)
        if net is not None:
            return [b for b in self.bans.values() if b.kind == "address" and b.target == str(net)]
        key = target.lower()
        return [b for b in self.bans.values() if b.kind == "name" and b.target == key]

    def expired(self, now: float) -> list[Ban]:
        return [b for b in self.bans.values() if not b.active(now)]


def mute_remaining(p: Player, now: float | None = None) -> float | None:
    """Seconds of mute left (0.0 for "until unmuted"); None if not muted."""
    until = p.settings.get(MUTE_KEY)
    if until is None:
        return None
    if until == 0:
        return 0.0
    left = float(until) - (time.time() if now is None else now)
    return left if left > 0 else None


def muted_message(p: Player) -> str | None:
    """What a muted dreamer is told when they try to speak; None if they may."""
    left = mute_remaining(p)
    if left is None:
        return None
    how_long = (
        "until an admin lifts it"
        if left == 0
        else describe_duration(left).replace("for ", "for another ", 1)
    )
    return f"You have been muted by the admins ({how_long}); nobody hears you."


class Moderation:
    """Bans and mutes: memory first, each change staged for the writer like any other row."""

    def __init__(self, stage: Stage, new_id: Callable[[], int] | None = None) -> None:
        self._stage = stage
        self.bans = BanList()
        self._next_id = 1
        # The World passes its own allocator, whose high-water mark is saved: a lifted
        # ban's #id is never given to another one (the audit log names bans by #id).
        self._new_id = new_id or self._count

    def _count(self) -> int:
        nid = self._next_id
        self._next_id += 1
        return nid

    def load(self, rows: list[dict[str, Any]]) -> None:
        for r in rows:
            self.bans.add(Ban.from_row(r))
            self._next_id = max(self._next_id, r["id"] + 1)

    def ban(
        self, kind: str, target: str, by: str, reason: str, seconds: float | None
    ) -> tuple[Ban, int]:
        now = time.time()
        for old in [b for b in self.bans.bans.values() if (b.kind, b.target) == (kind, target)]:
            self.bans.remove(old)  # a new ban of the same target replaces the old one
            self._stage("ban", old.id, None)
        ban = Ban(
            self._new_id(), kind, target, by, reason[:MAX_REASON], now,
            None if seconds is None else now + seconds,
        )  # fmt: skip
        self.bans.add(ban)
        return ban, self._stage("ban", ban.id, ban.to_row())

    def lift(self, ban: Ban) -> int:
        self.bans.remove(ban)
        return self._stage("ban", ban.id, None)

    def prune(self) -> None:
        """Forget bans that have run out (their rows go too)."""
        for ban in self.bans.expired(time.time()):
            self.lift(ban)


HOUR = 3600.0
MINUTE = 60.0


class Quota:
    """At most `limit` uses per key in any `window` seconds: a sliding window, so a burst
    can't straddle a boundary to get twice the limit. A key's times are kept only while they
    count, so memory is bounded by the keys active within one window. `limit` 0: no quota.
    """

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._used: dict[Hashable, deque[float]] = {}

    def wait(self, key: Hashable, now: float | None = None) -> float:
        """Seconds until `key` may use one more (0.0: now)."""
        if self.limit <= 0:
            return 0.0
        now = time.time() if now is None else now
        used = self._used.get(key)
        if used is None:
            return 0.0
        while used and used[0] <= now - self.window:
            used.popleft()
        if not used:
            del self._used[key]
            return 0.0
        return used[0] + self.window - now if len(used) >= self.limit else 0.0

    def take(self, key: Hashable, now: float | None = None) -> float:
        """Use one if allowed (then 0.0), else the seconds to wait (and nothing is used)."""
        now = time.time() if now is None else now
        wait = self.wait(key, now)
        if wait == 0.0 and self.limit > 0:
            self._used.setdefault(key, deque()).append(now)
        return wait

    def prune(self, now: float | None = None) -> None:
        """Forget keys none of whose uses count any more (call now and then)."""
        now = time.time() if now is None else now
        for key in [k for k, used in self._used.items() if used[-1] <= now - self.window]:
            del self._used[key]


def describe_wait(seconds: float) -> str:
    """'in 12 minutes', 'in 40 seconds': when a quota lets someone try again (rounded up to
    the minute past one, so 59 minutes 50 seconds reads 'in 1 hour')."""
    whole = max(1, math.ceil(seconds))
    if whole > MINUTE:
        whole = math.ceil(whole / MINUTE) * int(MINUTE)
    return describe_duration(whole).replace("for ", "in ", 1)
