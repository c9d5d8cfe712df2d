"""Waits dreamers must answer last a real-time minimum whatever the clock's speed, with the
time left announced; recurring events don't flood a room; NPCs an event moved walk home.
All on a hand-driven clock (tests/event_sim.py)."""

from pathlib import Path

import pytest

from tests.event_sim import Sim
from world.scripting import schema as S
from world.scripting.loader import read_events, shipped_facts
from world.scripting.runtime import REPEAT_QUIET

SCALE = 1000.0  # an hour of game time in 0.3 real seconds

QUESTION = """
    name: question
    title: A question
    room: festival_pavilion
    steps:
      - do: prompt
        text: Tea or coffee?
        wait: 10m
        default: tea
        options:
          - word: tea
          - word: coffee
      - do: announce
        text: Decided.
    """

GOAL = """
    name: goal
    title: A goal
    room: festival_pavilion
    steps:
      - do: goal
        count: players
        at_least: 3
        wait: 1h
        text: Bring three friends to the pavilion.
        then: crowd
        else: alone
      - id: crowd
        do: announce
        text: A crowd!
      - do: end
      - id: alone
        do: announce
        text: Just us, then.
    """


def fast(sim: Sim) -> Sim:
    sim.world.clock.set_time_scale(SCALE)
    sim.rt.real_now = lambda: sim.real[0]
    return sim


def real(sim: Sim, seconds: float) -> None:
    """Let `seconds` of real time pass and run what fell due."""
    sim.real[0] += seconds
    sim.rt.run_due()


def test_a_question_stays_open_its_real_minimum_at_any_speed(tmp_path):
    sim = fast(Sim(tmp_path, question=QUESTION))
    ada, ear = sim.dreamer("Ada", "festival_pavilion")
    sim.dreamer("Bob", "festival_pavilion")
    inst = sim.rt.start("question")
    assert "You have 45 seconds to choose." in ear.heard()
    sim.rt.choose(ada, "coffee")  # Bob doesn't answer: the time runs
    real(sim, 29)  # ten game minutes went by long ago; 45 real seconds have not
    assert inst.state == "prompting" and not ear.heard()
    real(sim, 1.5)
    assert "15 seconds left to choose: choose tea, choose coffee." in ear.heard()
    real(sim, 14)
    assert inst.state == "prompting"
    real(sim, 1)
    heard = ear.heard()
    assert "The answer is coffee (1 of 1 chose it)." in heard and "Decided." in heard


def test_a_slow_clock_keeps_the_game_wait_when_it_is_longer(tmp_path):
    sim = Sim(tmp_path, question=QUESTION)  # time scale 1: ten game minutes are 50 s
    _, ear = sim.dreamer("Ada", "festival_pavilion")
    sim.rt.start("question")
    assert "You have 50 seconds to choose." in ear.heard()


def test_the_minimum_can_be_capped_for_tests_and_still_holds(tmp_path):
    sim = fast(Sim(tmp_path, question=QUESTION))
    sim.rt.min_real_cap = 2.0
    _, ear = sim.dreamer("Ada", "festival_pavilion")
    inst = sim.rt.start("question")
    assert "You have 2 seconds to choose." in ear.heard()
    real(sim, 1.9)
    assert inst.state == "prompting"
    real(sim, 0.2)
    assert "Decided." in ear.heard()


def test_a_goal_waits_its_minimum_and_ends_early_once_reached(tmp_path):
    sim = fast(Sim(tmp_path, goal=GOAL))
    _, ear = sim.dreamer("Ada", "festival_pavilion")
    inst = sim.rt.start("goal")
    heard = ear.heard()
    assert (
        "Bring three friends" in heard and "You have 1 minute 30 seconds (1 of 3 so far)." in heard
    )
    real(sim, 59)
    assert inst.state == "goal"
    real(sim, 1.5)
    assert "30 seconds left (1 of 3 so far)." in ear.heard()
    real(sim, 30)
    assert "Just us, then." in ear.heard() and "goal" not in sim.rt.running
    # again, and this time the friends come: it is over at the next check
    inst = sim.rt.start("goal")
    sim.dreamer("Bob", "festival_pavilion")
    sim.dreamer("Cyd", "festival_pavilion")
    real(sim, 1.1)
    assert "A crowd!" in ear.heard() and "goal" not in sim.rt.running


def test_a_goal_already_met_goes_straight_on(tmp_path):
    sim = fast(Sim(tmp_path, goal=GOAL))
    _, ear = sim.dreamer("Ada", "festival_pavilion")
    sim.dreamer("Bob", "festival_pavilion")
    sim.dreamer("Cyd", "festival_pavilion")
    sim.rt.start("goal")
    assert "A crowd!" in ear.heard() and "goal" not in sim.rt.running


def check(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    return read_events([path], shipped_facts())[1]


def test_minimums_and_goals_are_checked_with_file_and_line(tmp_path):
    head = "name: bad\ntitle: Bad\nroom: nexus\nsteps:\n"
    probs = check(tmp_path, head + "  - do: wait\n    for: 1h\n    min_real: 2h\n")
    assert any(":7: steps.0.min_real: expected a real-time duration of at most 900s" in p
               for p in probs), probs  # fmt: skip
    probs = check(tmp_path, head + "  - do: goal\n    count: woven\n    at_least: 3\n"
                  "    wait: 1h\n    text: Weave.\n    then: nowhere\n")  # fmt: skip
    assert any(":10: steps.0.then: no step is labelled 'nowhere'" in p for p in probs), probs
    assert any(":6: steps.0.count: this event never has a loop" in p for p in probs), probs
    probs = check(tmp_path, head + "  - do: goal\n    count: players\n    text: Come.\n"
                  "    wait: 1h\n")  # fmt: skip
    assert any("missing required field 'at_least' (a goal step needs it)" in p for p in probs)
    probs = check(tmp_path, head + "  - do: if\n    event: no_such\n    then: x\n  - id: x\n"
                  "    do: end\n")  # fmt: skip
    assert any(":6: steps.0.event: unknown event 'no_such'" in p for p in probs), probs
    assert S.parse_real("1m30s") == 90.0 and S.format_real(90) == "1 minute 30 seconds"
    with pytest.raises(ValueError):
        S.parse_real("45")  # the unit must be said


WORKSHOP = """
    name: workshop
    title: A workshop
    room: festival_pavilion
    steps:
      - do: announce
        everyone: true
        text: The workshop begins.
      - do: move
        npc: lyra
        to: festival_grounds
      - do: move
        npc: lyra
        to: festival_pavilion
    """


def test_a_recurring_event_says_the_same_thing_to_a_room_once_per_window(tmp_path):
    sim = fast(Sim(tmp_path, workshop=WORKSHOP))
    _, ear = sim.dreamer("Ada", "festival_pavilion")
    sim.rt.start("workshop")
    first = ear.heard()
    assert first.count("The workshop begins.") == 1
    assert "Lyra Kinsey leaves." in first and "Lyra Kinsey arrives." in first
    for _ in range(5):  # at a high time scale it comes round every few seconds
        real(sim, 5)
        sim.rt.start("workshop")
    assert ear.heard() == ""  # the same lines within the window: nothing new to say
    real(sim, REPEAT_QUIET)
    sim.rt.start("workshop")
    again = ear.heard()
    assert "The workshop begins." in again and "Lyra Kinsey arrives." in again


TWO_USERS = {
    "first": """
        name: first
        title: First
        room: festival_pavilion
        steps:
          - do: move
            npc: ezra
            to: festival_pavilion
          - do: wait
            for: 1h
        """,
    "second": """
        name: second
        title: Second
        room: festival_pavilion
        steps:
          - do: say
            npc: ezra
            text: Still here.
          - do: wait
            for: 2h
        """,
}


def test_npcs_go_home_when_the_last_event_using_them_ends(tmp_path):
    sim = Sim(tmp_path, **TWO_USERS)
    released: list[str] = []
    sim.rt.npc_released = lambda npc: released.append(npc.key)
    ezra = sim.world.npcs_by_key["ezra"]
    sim.rt.start("first")
    sim.rt.start("second")  # uses Ezra too, while the first holds him
    assert ezra.flags.get("still")
    sim.later("1h")
    assert "first" not in sim.rt.running
    assert ezra.flags.get("still") and released == []  # the second event holds him now
    sim.later("1h")
    assert not ezra.flags.get("still") and released == ["ezra"]
    sim.world.move_npc(ezra, sim.world.rooms_by_key["sanctuary_clockwork"])  # as if home
    sim.rt.start("first")
    sim.rt.stop("first")  # any ending lets go
    assert released == ["ezra", "ezra"]


def test_an_npc_an_event_brings_in_does_not_greet_as_if_walking_by(tmp_path):
    sim = Sim(tmp_path, **TWO_USERS)
    arrivals: list[tuple[str, bool]] = []
    sim.world.on("npc_enter", lambda npc, room, greet=True, **_: arrivals.append((npc.key, greet)))
    sim.rt.start("first")
    assert arrivals == [("ezra", False)]


def test_the_dusk_workshop_waits_while_the_festival_runs(tmp_path):
    from tests.test_festival import festival_sim

    sim = festival_sim(tmp_path)
    sim.rt.set_world_flag("workshops_begun", True)  # an earlier festival began them
    lyra = sim.world.npcs_by_key["lyra"]
    sim.rt.start("dream_festival")
    assert lyra.room.key == "festival_grounds"
    sim.rt.start("storytelling_workshop", by="schedule")  # dusk falls mid-festival
    assert "storytelling_workshop" not in sim.rt.running
    assert lyra.room.key == "festival_grounds"  # still at the festival, not in a workshop
    sim.rt.stop("dream_festival")
    sim.rt.start("storytelling_workshop", by="schedule")
    assert "storytelling_workshop" in sim.rt.running
