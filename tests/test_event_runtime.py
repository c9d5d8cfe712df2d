"""The event interpreter without a server: every step kind, flags and branches, prompts,
severing, and the festival loop."""

import json

import pytest

from tests.event_sim import Sim
from world.scripting.runtime import ScriptError


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
