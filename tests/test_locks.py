"""The lock language and the world clock, without a server: parse, print, evaluate."""

from __future__ import annotations

import pytest

from world.clock import (
    GAME_SECONDS_PER_REAL_SECOND,
    SECONDS_PER_HOUR,
    WorldClock,
    phase_at,
    phase_key,
)
from world.locks import And, Facts, LockError, Not, Or, Term, check, normalise, parse


def facts(role: str = "player", holding: tuple[str, ...] = (), loop: bool = False,
          phase: str = "day") -> Facts:  # fmt: skip
    order = ["player", "builder", "admin"]
    return Facts(
        has_role=lambda r: order.index(role) >= order.index(r),
        holds=lambda thing: thing in holding,
        in_loop=lambda: loop,
        phase=lambda: phase,
    )


def test_precedence_not_binds_tightest_then_and_then_or():
    node = parse("role:builder and (holds:lantern or not phase:day) or inloop")
    assert node == Or(
        (
            And(
                (Term("role", "builder"), Or((Term("holds", "lantern"), Not(Term("phase", "day")))))
            ),
            Term("inloop"),
        )
    )


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("ROLE:Builder", "role:builder"),
        ("  holds:lantern   and   inloop ", "holds:lantern and inloop"),
        ("((role:admin))", "role:admin"),
        ("not (role:admin or inloop)", "not (role:admin or inloop)"),
        ("(inloop or phase:dusk) and holds:card", "(inloop or phase:dusk) and holds:card"),
        ("phase:deep_night", "phase:night"),
        ("not not inloop", "not not inloop"),
    ],
)
def test_normalise_is_stable(text, canonical):
    assert normalise(text) == canonical
    assert normalise(canonical) == canonical  # printing then parsing changes nothing


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "empty"),
        ("role:wizard", "no role 'wizard'"),
        ("phase:noon", "no phase 'noon'"),
        ("holds:", "needs a value"),
        ("flying", "don't know the rule 'flying'"),
        ("role:admin and", "ends too soon after 'and'"),
        ("(inloop", "never closed"),
        ("inloop)", "without a matching"),
        ("inloop holds:x", "expected 'and' or 'or'"),
        ("or inloop", "expected a rule where 'or'"),
        ("__import__('os')", "don't know the rule"),
        ("x" * 400, "too long"),
    ],
)
def test_bad_rules_say_what_to_write(text, says):
    with pytest.raises(LockError, match=says):
        parse(text)


def test_role_is_at_least():
    assert not check("role:builder", facts("player"))
    assert check("role:builder", facts("builder"))
    assert check("role:builder", facts("admin"))
    assert not check("role:admin", facts("builder"))


def test_holds_inloop_and_phase():
    assert check("holds:lantern", facts(holding=("lantern",)))
    assert not check("holds:lantern", facts())
    assert check("inloop", facts(loop=True))
    assert not check("inloop", facts())
    assert check("phase:dusk", facts(phase="dusk"))
    assert not check("phase:dusk", facts(phase="day"))


def test_combinations():
    rule = "role:builder and (holds:lantern or not phase:day) or inloop"
    assert check(rule, facts("builder", holding=("lantern",)))
    assert check(rule, facts("builder", phase="night"))
    assert not check(rule, facts("builder", phase="day"))
    assert not check(rule, facts("player", holding=("lantern",)))
    assert check(rule, facts("player", loop=True))


def test_only_the_facts_needed_are_asked():
    asked: list[str] = []

    def holds(thing: str) -> bool:
        asked.append(thing)
        return True

    f = Facts(has_role=lambda r: False, holds=holds, in_loop=lambda: False, phase=lambda: "day")
    assert not check("role:admin and holds:key", f)
    assert asked == []  # 'and' stopped at the first false


def test_clock_phases_by_hour():
    assert [phase_at(h) for h in (0, 4.9, 5, 7.9, 8, 17.9, 18, 20.9, 21, 23.9)] == [
        "night", "night", "dawn", "dawn", "day", "day", "dusk", "dusk", "night", "night",
    ]  # fmt: skip
    assert phase_key("Deep Night") == "night"
    assert phase_key("noon") is None


def test_clock_runs_at_the_time_scale_and_can_change_speed():
    now = [1000.0]
    clock = WorldClock(now=lambda: now[0], start=6 * SECONDS_PER_HOUR)
    assert clock.clock_text() == "06:00" and clock.phase == "dawn" and clock.day == 1
    now[0] += 2 * SECONDS_PER_HOUR / GAME_SECONDS_PER_REAL_SECOND  # two game hours
    assert clock.clock_text() == "08:00" and clock.phase == "day"
    clock.set_time_scale(2.0)
    assert clock.clock_text() == "08:00"  # changing speed doesn't jump
    now[0] += 5 * SECONDS_PER_HOUR / GAME_SECONDS_PER_REAL_SECOND  # ten game hours at 2x
    assert clock.clock_text() == "18:00" and clock.phase == "dusk"
    now[0] += 6 * SECONDS_PER_HOUR / GAME_SECONDS_PER_REAL_SECOND
    assert clock.day == 2 and clock.phase == "dawn"


def test_default_clock_follows_the_wall_clock_across_restarts():
    a = WorldClock(now=lambda: 2_000_000_000.0)
    b = WorldClock(now=lambda: 2_000_000_000.0)
    assert a.game_seconds() == b.game_seconds()
