"""The event interpreter without a server: every trigger kind, starting and stopping events,
run-time failures, and resuming after a restart."""

import logging

import pytest

from tests.event_sim import Ear, Sim
from world.scripting.runtime import ScriptError


def test_triggers_enter_say_step_schedule_and_once_at_a_time(tmp_path):
    sim = Sim(tmp_path,
        gate="""
            name: gate
            title: Gate
            triggers:
              - when: enter
                room: festival_grounds
            steps:
              - do: announce
                actor: true
                text: Welcome to the grounds, {actor}.
              - do: wait
                for: 10m
              - id: welcomed
                do: end
        """,
        password="""
            name: password
            title: Password
            triggers:
              - when: say
                keywords: [open sesame, starlight]
                room: festival_grounds
            steps:
              - do: announce
                text: "{actor} said the word."
        """,
        follow="""
            name: follow
            title: Follows the gate
            triggers:
              - when: step
                event: gate
                step: welcomed
            steps:
              - do: announce
                actor: true
                text: The gate closes behind {actor}.
        """,
        chime="""
            name: chime
            title: Chimes
            triggers:
              - when: schedule
                phase: dusk
              - when: schedule
                every: 5h
              - when: schedule
                at: "13:30"
            steps:
              - do: set
                flag: chimes
                value: 0
                scope: world
        """,
    )  # fmt: skip
    w, rt = sim.world, sim.rt
    ada, ear = sim.dreamer("Ada", "nexus")
    bob, bob_ear = sim.dreamer("Bob", "nexus")
    ear.heard()
    w.move(ada, w.rooms_by_key["festival_grounds"])
    assert ear.heard() == "Welcome to the grounds, Ada."
    w.move(bob, w.rooms_by_key["festival_grounds"])  # already running: one at a time
    assert "Welcome" not in bob_ear.heard()
    sim.later("10m")
    assert "The gate closes behind Ada." in ear.heard()
    w.say(ada, "I whisper OPEN, sesame!")
    assert "Ada said the word." in ear.heard()
    w.say(ada, "starlights are not the word")  # whole words only
    w.say(w.npcs_by_key["lyra"], "starlight")  # NPCs never set events off
    assert "said the word" not in ear.heard()
    # schedules: noon + 10m now; 13:30 daily, every 5h (15:00), dusk (18:00)
    assert rt.timers["schedule:chime:2"] == 13.5 * 3600
    assert rt.timers["schedule:chime:1"] == 15 * 3600
    assert rt.timers["schedule:chime:0"] == 18 * 3600
    seen = []
    rt.timer_changed = lambda key, when: seen.append(key)
    sim.later("1h20m")
    assert (
        rt.history["chime"].startswith("finished")
        and rt.timers["schedule:chime:2"] == (24 + 13.5) * 3600
    )
    assert "schedule:chime:2" in seen


def test_start_and_stop_steps_and_a_stopped_waiting_event(tmp_path):
    sim = Sim(tmp_path,
        boss="""
            name: boss
            title: Boss
            steps:
              - do: start
                event: worker
              - do: wait
                for: 1h
              - do: stop
                event: worker
              - do: stop
                event: boss
              - do: announce
                everyone: true
                text: never
        """,
        worker="""
            name: worker
            title: Worker
            steps:
              - do: announce
                everyone: true
                text: working
              - do: wait
                for: 1d
        """,
    )  # fmt: skip
    _, ear = sim.dreamer("Ada")
    sim.rt.start("boss")
    assert "worker" in sim.rt.running and ear.heard() == "working"
    sim.later("1h")
    assert not sim.rt.running and "never" not in ear.heard()
    assert sim.rt.history["worker"].startswith("stopped by event boss")
    with pytest.raises(ScriptError, match="no event called 'nope'"):
        sim.rt.start("nope")


def test_a_broken_step_stops_only_its_own_event(tmp_path, caplog):
    sim = Sim(tmp_path,
        fragile="""
            name: fragile
            title: Fragile
            steps:
              - do: set
                flag: began
              - do: say
                npc: dara
                text: I am here.
              - do: say
                npc: dara
                text: never
        """,
        steady="""
            name: steady
            title: Steady
            steps:
              - do: wait
                for: 1h
              - do: announce
                everyone: true
                text: still fine
        """,
        spin="""
            name: spin
            title: Spins
            steps:
              - id: top
                do: goto
                to: top
        """,
    )  # fmt: skip
    _, ear = sim.dreamer("Ada")
    sim.rt.start("steady")
    dara = sim.world.npcs_by_key["dara"]
    sim.world.move_npc(dara, None)
    del sim.world.npcs_by_key["dara"]  # a builder deleted her
    with caplog.at_level(logging.ERROR, logger="dreamwave.events"):
        sim.rt.start("fragile")
        sim.rt.start("spin")
    messages = [r.getMessage() for r in caplog.records]
    assert any("fragile.yaml:7: step 2 (say): there is no NPC 'dara'" in m for m in messages)
    assert any("without waiting" in m for m in messages)
    assert "failed at step 2" in sim.rt.history["fragile"]
    sim.later("1h")
    assert ear.heard() == "still fine"


def test_resume_after_a_restart_at_the_step_reached(tmp_path):
    text = """
        name: long
        title: A long event
        room: festival_pavilion
        steps:
          - do: set
            flag: started
          - do: sever
            room: nexus
            exit: west
            for: 3h
          - id: middle
            do: wait
            for: 2h
          - do: announce
            everyone: true
            text: after the wait
          - do: prompt
            text: Again?
            wait: 1h
            options:
              - word: yes
              - word: no
                goto: done
          - do: announce
            everyone: true
            text: yes won
          - id: done
            do: end
    """
    sim = Sim(tmp_path, long=text)
    ada, _ = sim.dreamer("Ada", "festival_pavilion")
    sim.rt.start("long")
    sim.later("1h30m")
    sim.rt.save_all()  # the server stops: each wait records how long it has left
    rows = sim.event_rows()
    # a new server, much later and at another speed: the wait still has 30m to go
    sim.real[0] += 10_000
    sim.world.clock.set_time_scale(4)
    sim.rt = sim.runtime()
    sim.rt.load(rows)
    inst = sim.rt.running["long"]
    assert inst.step == 2 and inst.flags == {"started": True} and inst.state == "waiting"
    assert inst.wake_at == pytest.approx(sim.world.clock.game_seconds() + 1800)
    assert sim.rt.timers["restore:" + str(sim.world.rooms_by_key["nexus"].find_exit("west").id)]
    ear = Ear()
    sim.world.enter_game(ada, ear)
    sim.later("30m")
    assert "after the wait" in ear.heard() and inst.state == "prompting"
    sim.rt.choose(ada, "no")
    rows = sim.event_rows()
    # the file gains steps before the label while the server is down
    edited = text.replace(
        """          - do: set
            flag: started""",
        """          - do: goto
            to: middle
          - do: set
            flag: started""",
    )
    assert edited != text
    sim.specs = sim.load(long=edited)
    sim.rt = sim.runtime()
    sim.rt.load(rows)
    inst = sim.rt.running["long"]
    assert inst.state == "prompting" and inst.data["prompt"]["votes"] == {str(ada.id): "no"}
    assert sim.rt.specs["long"].steps[inst.step].do == "prompt"
    sim.later("1h")
    assert "yes won" not in ear.heard() and "long" not in sim.rt.running
    sim.later("1h")  # the timed restore, too, survived
    assert not sim.world.rooms_by_key["nexus"].find_exit("west").attrs.get("severed")


def test_a_resumed_event_whose_file_is_gone_is_dropped(tmp_path):
    sim = Sim(tmp_path, brief="""
        name: brief
        title: Brief
        steps:
          - do: move
            npc: ezra
            to: nexus
          - do: wait
            for: 1h
        """)  # fmt: skip
    sim.rt.start("brief")
    assert sim.world.npcs_by_key["ezra"].flags["still"] is True
    rows = sim.event_rows()
    sim.specs = {}
    sim.rt = sim.runtime()
    sim.rt.load(rows)
    assert not sim.rt.running and not sim.world.npcs_by_key["ezra"].flags.get("still")
