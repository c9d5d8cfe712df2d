"""Accounts' secrets and names: argon2 off the event loop, name rules, failure lockout."""

from __future__ import annotations

import asyncio
import re
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

NAME_RE = re.compile(r"^[A-Za-z]{3,20}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 200
# NPCs and words a player name may not take (command words are added by the dispatcher).
RESERVED_NAMES = {
    "lyra", "kinsey", "ezra", "rourke", "mira", "albright", "dara", "nox",
    "admin", "administrator", "builder", "system", "server", "dreamwave", "nexus",
    "someone", "anyone", "everyone", "nobody", "here", "me", "self", "all", "new",
}  # fmt: skip
MAX_TRACKED_ADDRESSES = 10_000

# OWASP's argon2id recommendation (19 MiB, 2 passes): ~15 ms of one core per hash here.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# argon2 releases the GIL, so two threads use both cores while the loop keeps serving play.
_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="argon2")
# A well-formed hash of a random password: verifying against it costs the same as a real one,
# so "no such account" and "wrong password" take the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password-but-costs-the-same")


def check_name(name: str, reserved: set[str]) -> str | None:
    """Why `name` can't be a dreamer's name, or None if it can."""
    if not NAME_RE.match(name):
        return "Names are 3 to 20 letters, A to Z, with no spaces or digits."
    if name.lower() in reserved or name.lower() in RESERVED_NAMES:
        return f"The name {name.capitalize()} is reserved; please choose another."
    return None


def check_password(password: str) -> str | None:
    if len(password) < MIN_PASSWORD:
        return f"Passwords need at least {MIN_PASSWORD} characters."
    if len(password) > MAX_PASSWORD:
        return f"Passwords can be at most {MAX_PASSWORD} characters."
    return None


def hash_password_sync(password: str) -> str:
    return _hasher.hash(password)


def verify_sync(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def hash_password(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_pool, hash_password_sync, password)


async def verify_password(stored: str | None, password: str) -> bool:
    return await asyncio.get_running_loop().run_in_executor(_pool, verify_sync, stored, password)


class FailureThrottle:
    """Counts wrong passwords per address; too many in a window locks the address out."""

    def __init__(self, limit: int, window: float, lockout: float) -> None:
        self.limit, self.window, self.lockout = limit, window, lockout
        self._fails: dict[str, deque[float]] = {}
        self._locked: dict[str, float] = {}

    def locked_for(self, addr: str, now: float | None = None) -> float:
        """Seconds this address must still wait (0 when it may try)."""
        now = time.monotonic() if now is None else now
        until = self._locked.get(addr)
        if until is None:
            return 0.0
        if until <= now:
            del self._locked[addr]
            return 0.0
        return until - now

    def failed(self, addr: str, now: float | None = None) -> bool:
        """Record a failure; True when this one triggered a lockout."""
        now = time.monotonic() if now is None else now
        if len(self._fails) >= MAX_TRACKED_ADDRESSES and addr not in self._fails:
            self.prune(now)
            if len(self._fails) >= MAX_TRACKED_ADDRESSES:
                self._fails.pop(next(iter(self._fails)))
        q = self._fails.setdefault(addr, deque())
        q.append(now)
        while q and q[0] < now - self.window:
            q.popleft()
        if len(q) >= self.limit:
            self._locked[addr] = now + self.lockout
            q.clear()
            return True
        return False

    def succeeded(self, addr: str) -> None:
        self._fails.pop(addr, None)

    def prune(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        for addr in [a for a, q in self._fails.items() if not q or q[-1] < now - self.window]:
            del self._fails[addr]
        for addr in [a for a, t in self._locked.items() if t <= now]:
            del self._locked[addr]
