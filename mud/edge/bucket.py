"""One token bucket for every rate limit the edge keeps. Pure: the caller passes the time.

A bucket holds up to `burst` tokens, starts full and refills at `rate` tokens a second.
The edge uses it two ways:
- `take`: a whole unit or nothing (a command line: kept if a token is left, else dropped);
- `charge`: a cost that may overdraw it (bytes that already arrived: the debt is what the
  caller acts on, by waiting `wait()` seconds before reading on, or by cutting the
  connection off).
"""

from __future__ import annotations

import math


class TokenBucket:
    __slots__ = ("at", "burst", "rate", "tokens")

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate = float(rate)  # tokens a second
        self.burst = float(burst)  # the most it holds
        self.tokens = float(burst)  # what it holds now (below 0: a debt)
        self.at = now  # when it was last refilled (time.monotonic())

    def __repr__(self) -> str:
        return f"<TokenBucket {self.tokens:.1f}/{self.burst:g} +{self.rate:g}/s>"

    def refill(self, now: float) -> float:
        """Add what `now` brings (never past `burst`); the tokens now held."""
        if now > self.at:
            tokens = self.tokens + (now - self.at) * self.rate
            self.tokens = tokens if tokens < self.burst else self.burst
            self.at = now
        return self.tokens

    def take(self, cost: float, now: float) -> bool:
        """Take `cost` tokens if they are there; False (and nothing taken) if not."""
        if self.refill(now) < cost:
            return False
        self.tokens -= cost
        return True

    def charge(self, cost: float, now: float) -> bool:
        """Take `cost` tokens, overdrawing if need be; False if the bucket is now in debt."""
        self.tokens = tokens = self.refill(now) - cost
        return tokens >= 0

    def wait(self) -> float:
        """Seconds until a debt is paid off (0 when not in debt; never, at rate 0)."""
        if self.tokens >= 0:
            return 0.0
        return -self.tokens / self.rate if self.rate > 0 else math.inf
