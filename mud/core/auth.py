"""Accounts' secrets and names: argon2 off the event loop, name rules, failure lockout."""

from __future__ import annotations

import asyncio
import re
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from world.moderation import HOUR, Quota, describe_wait, network_of

NAME_RE = re.compile(r"^[A-Za-z]{3,20}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 200
# NPCs and words a player name may not take (command words are added by the dispatcher).
RESERVED_NAMES = {
    "lyra", "kinsey", "ezra", "rourke", "mira", "albright", "dara", "nox",
    "admin", "administrator", "builder", "system", "server", "dreamwave", "nexus",
    "someone", "anyone", "everyone", "nobody", "here", "me", "self", "all", "new",
}  # fmt: skip
MAX_TRACKED_ADDRESSES = 10_000  # addresses (and, separately, names) with failures counted
NAME_KEY_CHARS = 32
TURN_WAIT = 10.0  # seconds a login waits for the checks ahead of it before "busy"

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


def _name_key(name: str) -> str:
    # whatever was typed as a name, bounded: no real name is longer
    return name.lower()[:NAME_KEY_CHARS]


class _Counter:
    """Recent wrong passwords for one kind of key (an address, or an account name), how many
    checks are in flight for each key, and the keys that are locked out."""

    def __init__(self, limit: int, window: float, lockout: float) -> None:
        self.limit, self.window, self.lockout = limit, window, lockout
        # key -> (time, other side) per failure: an address's failures remember the account
        # they were against, so a success clears only that account's share.
        self.fails: dict[str, deque[tuple[float, str]]] = {}
        self.locked: dict[str, float] = {}
        self.in_flight: dict[str, int] = {}

    def locked_for(self, key: str, now: float) -> float:
        until = self.locked.get(key)
        if until is None:
            return 0.0
        if until <= now:
            del self.locked[key]
            return 0.0
        return until - now

    def recent(self, key: str, now: float) -> int:
        q = self.fails.get(key)
        if not q:
            return 0
        while q and q[0][0] < now - self.window:
            q.popleft()
        return len(q)

    def saturated(self, key: str, now: float) -> bool:
        """Checks under way would reach the limit if they all failed: wait for them first."""
        return self.recent(key, now) + self.in_flight.get(key, 0) >= self.limit

    def begin(self, key: str) -> None:
        self.in_flight[key] = self.in_flight.get(key, 0) + 1

    def end(self, key: str) -> None:
        left = self.in_flight.get(key, 0) - 1
        if left > 0:
            self.in_flight[key] = left
        else:
            self.in_flight.pop(key, None)

    def fail(self, key: str, other: str, now: float) -> bool:
        """Record a failure; True when it locked the key out."""
        if len(self.fails) >= MAX_TRACKED_ADDRESSES and key not in self.fails:
            self.prune(now)
            if len(self.fails) >= MAX_TRACKED_ADDRESSES:
                self.fails.pop(next(iter(self.fails)))
        q = self.fails.setdefault(key, deque())
        q.append((now, other))
        if self.recent(key, now) >= self.limit:
            self.locked[key] = now + self.lockout
            q.clear()
            return True
        return False

    def forgive(self, key: str, other: str | None = None) -> None:
        """Forget the key's failures (only those against `other`, if given)."""
        q = self.fails.get(key)
        if q is None:
            return
        kept = deque(f for f in q if f[1] != other) if other is not None else None
        if kept:
            self.fails[key] = kept
        else:
            del self.fails[key]

    def clear(self, key: str) -> bool:
        """Lift a lockout and forget the failures; True if there was anything to clear."""
        found = self.locked.pop(key, None) is not None
        return self.fails.pop(key, None) is not None or found

    def prune(self, now: float) -> None:
        for key in [k for k, q in self.fails.items() if not q or q[-1][0] < now - self.window]:
            del self.fails[key]
        for key in [k for k, t in self.locked.items() if t <= now]:
            del self.locked[key]


@dataclass(frozen=True)
class Refusal:
    """Why a login may not be checked now: the address or the account name (`who`) is
    locked out for `wait` more seconds, or is `busy`: so many checks for it are under way
    that they would reach the limit if they all failed."""

    who: str  # "address" or "account"
    wait: float = 0.0
    busy: bool = False


@dataclass(frozen=True)
class LockoutEntry:
    kind: str  # "address" or "account"
    key: str
    locked_for: float  # seconds left, 0 when only counting failures
    failures: int  # recent failures (0 once locked: the count starts again afterwards)


class FailureThrottle:
    """Wrong passwords counted per address and per account name: too many in a window locks
    that address (or that name, from everywhere) out.

    Three ways around a per-address count are closed: checks in flight count as failures
    until they finish (so 30 parallel guesses don't all get hashed), failures against one
    name from many addresses lock the name, and a success clears only the failures against
    the account that succeeded. Names are counted whether or not an account has them, so
    the answers never tell which names exist.
    """

    def __init__(
        self,
        limit: int,
        window: float,
        lockout: float,
        account_limit: int | None = None,
        account_window: float | None = None,
    ) -> None:
        self.addresses = _Counter(limit, window, lockout)
        self.accounts = _Counter(account_limit or limit * 2, account_window or window * 10, lockout)
        self._waiters: dict[tuple[str, str], deque[asyncio.Future[None]]] = {}

    @staticmethod
    def _now(now: float | None) -> float:
        return time.monotonic() if now is None else now

    def locked_for(self, addr: str, now: float | None = None) -> float:
        """Seconds this address must still wait (0 when it may try)."""
        return self.addresses.locked_for(addr, self._now(now))

    def account_locked_for(self, name: str, now: float | None = None) -> float:
        return self.accounts.locked_for(_name_key(name), self._now(now))

    def begin(self, addr: str, name: str, now: float | None = None) -> Refusal | None:
        """Before checking a password: a refusal, or None (then call `end` when done)."""
        now, name = self._now(now), _name_key(name)
        wait = self.addresses.locked_for(addr, now)
        if wait > 0:
            return Refusal("address", wait)
        wait = self.accounts.locked_for(name, now)
        if wait > 0:
            return Refusal("account", wait)
        if self.addresses.saturated(addr, now):
            return Refusal("address", busy=True)
        if self.accounts.saturated(name, now):
            return Refusal("account", busy=True)
        self.addresses.begin(addr)
        self.accounts.begin(name)
        return None

    def end(self, addr: str, name: str, ok: bool, now: float | None = None) -> str | None:
        """After a check `begin` allowed: "address" or "account" if this failure locked one
        out, else None."""
        now, name = self._now(now), _name_key(name)
        self.addresses.end(addr)
        self.accounts.end(name)
        locked = None
        if ok:
            self.accounts.forgive(name)
            self.addresses.forgive(addr, name)
        else:
            if self.accounts.fail(name, addr, now):
                locked = "account"
            if self.addresses.fail(addr, name, now):
                locked = "address"
        # the first one waiting on each (see `turn`) decides again
        self._wake(("address", addr))
        self._wake(("account", name))
        return locked

    async def turn(self, addr: str, name: str, timeout: float = TURN_WAIT) -> Refusal | None:
        """`begin`, but while checks in flight might still succeed, wait (up to `timeout`)
        for them to finish rather than refuse: a parallel guess is never hashed before the
        guesses ahead of it are counted, and logins from one busy address just queue.
        Returns None (the check may go ahead; call `end`), or a refusal (a busy one when
        the wait ran out)."""
        refusal = self.begin(addr, name)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while refusal is not None and refusal.busy:
            key = self._key(refusal, addr, name)
            waiter = loop.create_future()
            self._waiters.setdefault(key, deque()).append(waiter)
            try:
                await asyncio.wait_for(waiter, deadline - loop.time())
            except TimeoutError:
                return refusal
            except BaseException:  # cancelled: whoever woke us wakes the next one
                if waiter.done() and not waiter.cancelled():
                    self._wake(key)
                raise
            refusal = self.begin(addr, name)
            # A slot freed up but isn't ours to take (we are locked out, or wait on the
            # other key now): pass the wake on. Still busy on this key: a newcomer took it.
            if refusal is not None and (not refusal.busy or self._key(refusal, addr, name) != key):
                self._wake(key)
        return refusal

    @staticmethod
    def _key(refusal: Refusal, addr: str, name: str) -> tuple[str, str]:
        return ("address", addr) if refusal.who == "address" else ("account", _name_key(name))

    def _wake(self, key: tuple[str, str]) -> None:
        queue = self._waiters.get(key)
        while queue:
            waiter = queue.popleft()
            if not waiter.done():
                waiter.set_result(None)
                break
        if queue is not None and not queue:
            del self._waiters[key]

    def clear(self, key: str) -> bool:
        """Lift the lockout on an address or an account name; True if there was one (or
        failures being counted)."""
        return self.addresses.clear(key) | self.accounts.clear(_name_key(key))

    def entries(self, now: float | None = None) -> list[LockoutEntry]:
        """Every locked address and name, and every one with failures being counted."""
        now = self._now(now)
        out = []
        for kind, counter in (("address", self.addresses), ("account", self.accounts)):
            for key in sorted(set(counter.locked) | set(counter.fails)):
                wait, fails = counter.locked_for(key, now), counter.recent(key, now)
                if wait > 0 or fails:
                    out.append(LockoutEntry(kind, key, wait, fails))
        return out

    def prune(self, now: float | None = None) -> None:
        now = self._now(now)
        self.addresses.prune(now)
        self.accounts.prune(now)


class AccountQuota:
    """New accounts per hour, from one address (an IPv6 /64 counts as one: one machine gets a
    whole prefix) and from everywhere together, so a script can't fill the disk with them."""

    def __init__(self, per_address: int, overall: int) -> None:
        self.by_address = Quota(per_address, HOUR)
        self.overall = Quota(overall, HOUR)

    def refusal(self, address: str) -> str | None:
        """What to tell someone who may not create an account now; None if they may."""
        wait = self.by_address.wait(network_of(address))
        if wait:
            return (
                "Too many new dreamers have come from your address this hour; try again "
                f"{describe_wait(wait)}, or connect with a dreamer you already have."
            )
        wait = self.overall.wait(EVERYONE)
        if wait:
            return f"Too many new dreamers are arriving just now; try again {describe_wait(wait)}."
        return None

    def take(self, address: str) -> str | None:
        """Count one new account from `address` if allowed (then None), else the refusal."""
        refusal = self.refusal(address)
        if refusal is None:
            self.by_address.take(network_of(address))
            self.overall.take(EVERYONE)
            self.by_address.prune()  # its keys: at most the accounts of the last hour
        return refusal


EVERYONE = "*"  # the overall quota's one key
