"""The event interpreter without a server: a seeded world, dreamers with fake ears, and a
clock the test moves by hand. Every step kind and trigger kind, flags and branches, prompts,
severing, the festival loop, run-time failures and resuming after a restart."""

from __future__ import annotations

import json
import logging
import textwrap
from pathlib import Path

import pytest

from mud.text import strip_markup
from world.clock import SECONDS_PER_HOUR, WorldClock
from world.content import load_world_spec, seed
from world.model import Player
from world.scripting.loader import read_events, shipped_facts
from world.scripting.runtime import EventRuntime, ScriptError
from world.world import World

NPCS = {
    "lyra": ("Lyra Kinsey", "festival_pavilion"),
    "ezra": ("Ezra Rourke", "sanctuary_clockwork"),
    "mira": ("Mira Albright", "festival_gallery"),
    "dara": ("Dara Nox", "grove_hollow"),
}


class Ear:
    """A connection that only listens."""

    wants_oob = False  # no GMCP

    def __init__(self) -> None:
        self.lines: list[str] = []

    def send(self, text: str) -> None:
        self.lines.append(strip_markup(text))

    def notify(self, kind: str, data: object = None) -> None:
        pass

    def heard(self) -> str:
        out = "\n".join(self.lines)
        self.lines.clear()
        return out


class Sim:
    """A world, its event runtime and a hand-driven clock (game time starts at noon)."""

    def __init__(self, tmp_path: Path, **events: str) -> None:
        self.rows: dict[tuple[str, object], dict | None] = {}
        self.real = [0.0]
        self.world = w = World(self._stage)
        w.clock = WorldClock(now=lambda: self.real[0], start=12 * SECONDS_PER_HOUR)
        seed(w, load_world_spec())
        for key, (name, room) in NPCS.items():
            w.create_npc(key, name, room=w.rooms_by_key[room])
        self.tmp = tmp_path
        self.specs = self.load(**events)
        self.rt = self.runtime()

    def _stage(self, table: str, key: object, row: dict | None) -> int:
        self.rows[(table, key)] = row
        return 0

    def load(self, **events: str) -> dict:
        paths = []
        for name, text in events.items():
            path = self.tmp / f"{name}.yaml"
            path.write_text(textwrap.dedent(text))
            paths.append(path)
        specs, problems = read_events(paths, shipped_facts())
        assert not problems, problems
        return specs

    def runtime(self) -> EventRuntime:
        rt = EventRuntime(self.world, self.specs)
        self.world.hooks = {kind: [] for kind in self.world.hooks}
        self.world.dreams.stability_listeners.clear()
        self.world.on("enter", rt.on_enter)
        self.world.on("say", rt.on_say)
        self.world.dreams.stability_listeners.append(rt.on_stability)
        rt.arm_schedules()
        return rt

    def later(self, game: str | float) -> None:
        """Let game time pass (e.g. '30m') and run whatever fell due."""
        from world.scripting.schema import parse_duration

        seconds = parse_duration(game) if isinstance(game, str) else game
        self.real[0] += self.world.clock.real_delay(seconds)
        self.rt.run_due()

    def dreamer(self, name: str, room: str = "nexus") -> tuple[Player, Ear]:
        p = self.world.create_player(name, "x")
        ear = Ear()
        self.world.enter_game(p, ear)
        self.world.move(p, self.world.rooms_by_key[room])
        ear.lines.clear()
        return p, ear

    def event_rows(self) -> list[dict]:
        return [r for (t, _), r in self.rows.items() if t == "event_state" and r is not None]


def test_npc_steps_announcements_and_a_wait_in_game_time(tmp_path):
    sim = Sim(tmp_path, show="""
        name: show
        title: A little show
        room: festival_grounds
        steps:
          - do: move
            npc: lyra
            to: festival_grounds
            arrive: Lyra sweeps in.
          - do: say
            npc: lyra
            text: Welcome, {actor}; {players} of you are here.
          - do: emote
            npc: lyra
            text: bows low.
          - do: wait
            for: 1h30m
          - do: announce
            text: The crowd murmurs.
          - do: announce
            zone: festival
            text: The whole festival hears a bell.
          - do: announce
            everyone: true
            text: Everyone hears a chime.
        """)  # fmt: skip
    ada, ada_ear = sim.dreamer("Ada", "festival_grounds")
    _, bob_ear = sim.dreamer("Bob", "festival_gallery")
    _, cyd_ear = sim.dreamer("Cyd", "nexus")
    inst = sim.rt.start("show", actor=ada)
    heard = ada_ear.heard()
    assert "Lyra sweeps in." in heard
    assert 'Lyra Kinsey says, "Welcome, Ada; 1 of you are here."' in heard
    assert "Lyra Kinsey bows low." in heard
    assert inst.state == "waiting" and inst.wake_at == 12 * 3600 + 5400
    sim.later("1h29m")
    assert inst.state == "waiting" and not ada_ear.heard()
    sim.later("1m")
    assert "The crowd murmurs." in ada_ear.heard() and "show" not in sim.rt.running
    assert "The crowd murmurs" not in bob_ear.lines[0] and "bell" in bob_ear.heard()
    assert cyd_ear.heard() == "Everyone hears a chime."
    assert sim.world.npcs_by_key["lyra"].room.key == "festival_grounds"
    assert sim.rt.start("show") is not None  # finished, so it may run again


def test_flags_branches_and_counts(tmp_path):
    sim = Sim(tmp_path, branches="""
        name: branches
        title: Branches
        room: festival_grounds
        steps:
          - do: if
            flag: seen
            scope: actor
            then: again
          - do: set
            flag: seen
            scope: actor
          - do: set
            flag: visits
            value: 1
            scope: world
          - do: set
            flag: mood
            value: bright
          - do: if
            flag: mood
            is: bright
            then: bright
            else: dull
          - id: bright
            do: announce
            actor: true
            text: first visit, bright
          - do: if
            count: players
            at_least: 2
            then: crowd
            else: alone
          - id: crowd
            do: announce
            actor: true
            text: in company
          - do: end
          - id: alone
            do: announce
            actor: true
            text: on your own
          - do: clear
            flag: mood
          - do: goto
            to: finish
          - id: again
            do: announce
            actor: true
            text: back again
          - do: clear
            flag: visits
            scope: world
          - id: dull
            do: announce
            actor: true
            text: never shown
          - id: finish
            do: set
            flag: greeted
            scope: present
        """)  # fmt: skip
    ada, ear = sim.dreamer("Ada", "festival_grounds")
    sim.rt.start("branches", actor=ada)
    assert ear.heard() == "first visit, bright\non your own"
    assert sim.rt.flags == {"visits": 1}
    assert sim.rt.player_flags[ada.id] == {"seen": True, "greeted": True}
    bob, _ = sim.dreamer("Bob", "festival_grounds")
    ear.heard()
    sim.rt.start("branches", actor=bob)
    assert sim.rt.player_flags[bob.id] == {"seen": True}  # in company: it ended early
    sim.rt.start("branches", actor=ada)
    assert ear.heard() == "back again\nnever shown"
    assert sim.rt.flags == {}
    assert sim.rt.player_flags[bob.id] == {"seen": True, "greeted": True}
    saved = {r["key"]: json.loads(r["flags"]) for r in sim.event_rows()}
    assert saved[f"flags:{ada.id}"] == {"seen": True, "greeted": True}
    assert ("event_state", "flags") in sim.rows  # world flags staged (now cleared)


def test_prompt_plurality_default_and_early_decision(tmp_path):
    sim = Sim(tmp_path, vote="""
        name: vote
        title: A vote
        room: festival_pavilion
        steps:
          - do: prompt
            text: Which way?
            wait: 1h
            default: stay
            flag: answer
            options:
              - word: stay
                goto: stay
              - word: leave
                text: go home
                goto: leave
              - word: dance
                goto: dance
          - id: stay
            do: announce
            text: we stay
          - do: end
          - id: leave
            do: announce
            text: we leave
          - do: end
          - id: dance
            do: announce
            text: we dance
        """)  # fmt: skip
    ada, ear = sim.dreamer("Ada", "festival_pavilion")
    bob, _ = sim.dreamer("Bob", "festival_pavilion")
    cyd, _ = sim.dreamer("Cyd", "festival_pavilion")
    inst = sim.rt.start("vote")
    assert "choose leave — go home" in ear.heard() and inst.state == "prompting"
    with pytest.raises(ScriptError, match="Choose one of: stay, leave, dance"):
        sim.rt.choose(ada, "fly")
    assert sim.rt.choose(ada, "le") == "You choose |wleave|n."  # a unique prefix is enough
    sim.rt.choose(bob, "dance")
    sim.rt.choose(ada, "dance")  # changed her mind
    nobody, _ = sim.dreamer("Dee", "nexus")
    with pytest.raises(ScriptError, match="Nothing is being asked here"):
        sim.rt.choose(nobody, "stay")
    sim.rt.choose(cyd, "leave")  # everyone present has answered: decided at once
    assert "vote" in sim.rt.running  # decided on the next tick, after "You choose"
    sim.later(0)
    heard = ear.heard()
    assert "The answer is dance (2 of 3 chose it)." in heard and "we dance" in heard
    assert "vote" not in sim.rt.running
    # a tie: the default wins if it is among the tied; nobody answering: the default
    inst = sim.rt.start("vote")
    sim.rt.choose(ada, "stay")
    sim.rt.choose(bob, "leave")
    sim.later("1h")
    assert inst.flags["answer"] == "stay"
    inst = sim.rt.start("vote")
    sim.later("59m")
    assert inst.state == "prompting"
    sim.later("1m")
    assert inst.flags["answer"] == "stay" and "we stay" in ear.heard()


def test_sever_and_restore_both_ways_one_way_and_on_a_timer(tmp_path):
    sim = Sim(tmp_path, cut="""
        name: cut
        title: Cuts
        steps:
          - do: sever
            room: nexus
            exit: north
            message: The tides are unreachable.
          - do: sever
            room: nexus
            exit: east
            one_way: true
          - do: sever
            room: nexus
            exit: south
            for: 2h
          - do: wait
            for: 3h
          - do: restore
            room: nexus
            exit: north
          - do: wait
            for: 1h
          - do: restore
            all: true
        """)  # fmt: skip
    w = sim.world
    nexus = w.rooms_by_key["nexus"]
    _, ear = sim.dreamer("Ada", "nexus")

    def severed(room: str, exit: str) -> str | None:
        return w.rooms_by_key[room].find_exit(exit).attrs.get("severed")

    sim.rt.start("cut")
    assert severed("nexus", "north") == "The tides are unreachable."
    assert severed("sanctuary_tides", "south") == "The tides are unreachable."
    assert severed("nexus", "east") and not severed("sanctuary_clockwork", "west")
    assert "The way north flickers and goes dark." in ear.heard()
    assert severed("nexus", "south").startswith("The way south is severed")
    sim.later("2h")
    assert not severed("nexus", "south") and not severed("sanctuary_lanterns", "north")
    assert "The way south shimmers back into being." in ear.heard()
    sim.later("1h")
    assert not severed("nexus", "north") and not severed("sanctuary_tides", "south")
    assert severed("nexus", "east")
    sim.later("1h")
    assert not severed("nexus", "east")
    assert all(not ex.attrs.get("severed") for ex in nexus.exits)
    # stopping a running event heals what it cut
    sim.rt.start("cut")
    assert severed("nexus", "north")
    assert sim.rt.stop("cut", by="test")
    assert not any(ex.attrs.get("severed") for ex in w.exits.values())
    assert not sim.rt.restores


FESTIVAL_LOOP = """
    name: gathering
    title: The Gathering
    room: festival_pavilion
    steps:
      - do: open_loop
        npc: lyra
        title: The Test Loop
        stability: 50
      - do: wait
        for: 30m
      - do: invite
      - do: move
        npc: lyra
        to: loop
      - do: say
        npc: lyra
        text: Welcome inside; stability {stability}, {joined} joined.
      - do: stability
        change: -20
        reason: Something tugs at the threads.
      - do: wait
        for: 1h
      - do: stability
        change: 15
      - do: gather
        room: festival_gallery
        item: mirror
        heading: "Kept here:"
        max_lines: 3
      - do: give
        to: joined
        name: a silver thread
        keywords: [thread]
        description: It hums.
      - do: close_loop
        text: The loop unwinds.
"""


def test_festival_loop_invite_join_stability_gather_give_and_close(tmp_path):
    sim = Sim(tmp_path, gathering=FESTIVAL_LOOP, tremor="""
        name: tremor
        title: Tremor
        triggers:
          - when: stability
            below: 40
            host: lyra
        steps:
          - do: announce
            room: loop
            text: The loop trembles at {stability}.
        """)  # fmt: skip
    w, ds = sim.world, sim.world.dreams
    w.create_item(
        "a frosted mirror", ("mirror",), "A tall mirror.", w.rooms_by_key["festival_gallery"]
    )
    ada, ada_ear = sim.dreamer("Ada", "festival_pavilion")
    bob, _ = sim.dreamer("Bob", "festival_pavilion")
    inst = sim.rt.start("gathering")
    loop = ds.loops[inst.data["loop"]]
    assert loop.host_id == w.npcs_by_key["lyra"].id and loop.stability == 50
    assert loop.invited == {ada.id, bob.id}
    assert "invites you in. Type merge lyra" in ada_ear.heard()
    assert ds.find_hosted_invitation(ada, "lyra") is loop
    assert ds.find_hosted_invitation(ada, "kinsey") is loop
    ds.join_hosted(ada, loop)
    ds.decline_hosted(bob, loop)
    assert ds.loop_of(ada) is loop and not ds.hosted_invitations(bob)
    cyd, _ = sim.dreamer("Cyd", "festival_pavilion")  # a latecomer
    sim.later("30m")
    assert loop.invited == {bob.id, cyd.id}  # a later invite asks everyone not yet inside
    ds.join_hosted(cyd, loop)
    heard = ada_ear.heard()
    assert "Welcome inside; stability 50, 1 joined." in heard
    assert "The loop shudders (stability 30). Something tugs at the threads." in heard
    assert "The loop trembles at 30." in heard  # the stability trigger fired
    ds.weave(ada, "a lighthouse that hums")
    ds.weave(cyd, "rain on a tin roof")  # answers Ada's: +2
    ds.unmerge(cyd)  # a hosted loop stays open while its host holds it
    assert loop.state == "active"
    sim.later("1h")
    assert loop.state == "archived" and loop.end_reason == "closed"
    assert ada.room.key == "festival_pavilion"  # woke where she joined
    assert "The loop unwinds." in ada_ear.heard()
    mirror = next(it for it in w.rooms_by_key["festival_gallery"].items if "mirror" in it.keywords)
    assert mirror.description.endswith(
        'Kept here:\n  "a lighthouse that hums" (Ada)\n  "rain on a tin roof" (Cyd)'
    )
    assert [it.name for it in ada.inventory] == ["a silver thread"]
    assert [it.name for it in cyd.inventory] == ["a silver thread"]
    assert not bob.inventory
    # a host inside a closing loop steps back out where the loop was opened
    assert w.npcs_by_key["lyra"].room.key == "festival_pavilion"
    assert not w.npcs_by_key["lyra"].flags.get("still")
    # a second run gathers more; the mirror keeps the newest max_lines
    sim.rt.start("gathering")
    loop2 = ds.loops[sim.rt.running["gathering"].data["loop"]]
    ds.join_hosted(ada, loop2)
    ds.weave(ada, "a third line")
    ds.weave(ada, "a fourth line")
    sim.later("1h30m")
    assert mirror.description.split("Kept here:\n")[1].splitlines() == [
        '  "rain on a tin roof" (Cyd)', '  "a third line" (Ada)', '  "a fourth line" (Ada)',
    ]  # fmt: skip


def test_the_events_loop_closes_when_it_ends_or_is_stopped(tmp_path):
    sim = Sim(tmp_path, gathering=FESTIVAL_LOOP)
    ada, _ = sim.dreamer("Ada", "festival_pavilion")
    inst = sim.rt.start("gathering")
    loop = sim.world.dreams.loops[inst.data["loop"]]
    sim.world.dreams.join_hosted(ada, loop)
    sim.rt.stop("gathering")
    assert loop.state == "archived" and ada.room.key == "festival_pavilion"
    assert "stopped" in sim.rt.history["gathering"]


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
