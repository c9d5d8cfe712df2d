"""The edge's one token bucket (mud/edge/bucket.py), against the formula each of the five
hand-written budgets it replaced used: refill `rate` a second up to `burst`, then take."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from mud.edge.bucket import TokenBucket

rates = st.floats(min_value=0.1, max_value=1e6, allow_nan=False)
bursts = st.integers(min_value=0, max_value=1 << 20)
steps = st.lists(
    st.tuples(st.floats(min_value=0, max_value=100, allow_nan=False), st.integers(0, 1 << 16)),
    max_size=50,
)


def test_starts_full_and_refills_at_its_rate_up_to_its_burst() -> None:
    b = TokenBucket(10, 20, now=100.0)
    assert b.tokens == 20
    assert b.take(20, 100.0) and not b.take(1, 100.0)
    assert b.take(5, 100.5)  # half a second: 5 back
    assert not b.take(1, 100.5)
    assert b.refill(1000.0) == 20  # never past the burst


def test_take_is_all_or_nothing() -> None:
    b = TokenBucket(1, 3, now=0.0)
    assert not b.take(4, 0.0)
    assert b.tokens == 3
    assert b.take(3, 0.0) and b.tokens == 0


def test_charge_overdraws_and_wait_says_how_long_until_the_debt_is_paid() -> None:
    b = TokenBucket(100, 100, now=0.0)
    assert b.charge(60, 0.0) and b.wait() == 0
    assert not b.charge(90, 0.0)
    assert b.tokens == -50 and b.wait() == 0.5
    assert not b.charge(0, 0.25) and b.charge(0, 0.5)


def test_a_bucket_that_never_refills_waits_forever() -> None:
    b = TokenBucket(0, 5, now=0.0)
    assert not b.charge(6, 1.0)
    assert b.wait() == math.inf


def test_time_that_seems_to_go_back_adds_nothing() -> None:
    b = TokenBucket(10, 10, now=5.0)
    b.charge(10, 5.0)
    assert b.refill(4.0) == 0
    assert b.refill(5.5) == 5


@given(rates, bursts, steps)
def test_take_is_the_command_rate_formula(rate: float, burst: int, seq: list) -> None:
    """mud/edge/gateway.py's line rate, as it was written out by hand."""
    b = TokenBucket(rate, burst, now=0.0)
    tokens, at, now = float(burst), 0.0, 0.0
    for dt, _ in seq:
        now += dt
        tokens = min(burst, tokens + (now - at) * rate)
        at = now
        kept = tokens >= 1
        if kept:
            tokens -= 1
        assert b.take(1, now) == kept
        assert math.isclose(b.tokens, tokens, rel_tol=1e-9, abs_tol=1e-6)


@given(rates, bursts, steps)
def test_charge_is_the_byte_budget_formula(rate: float, burst: int, seq: list) -> None:
    """The web frame and GMCP budgets and telnet's byte budget, as written out by hand."""
    b = TokenBucket(rate, burst, now=0.0)
    left, at, now = float(burst), 0.0, 0.0
    for dt, size in seq:
        now += dt
        left = min(burst, left + (now - at) * rate) - size
        at = now
        assert b.charge(size, now) == (left >= 0)
        assert math.isclose(b.tokens, left, rel_tol=1e-9, abs_tol=1e-6)
        wait = -left / rate if left < 0 else 0.0
        assert math.isclose(b.wait(), wait, rel_tol=1e-9, abs_tol=1e-9)
