"""Event files are checked like code: every problem reported with its file, line, what is wrong
and what was expected; `python server.py check-scripts` does it without starting a server."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import ROOT, server_env
from world.scripting.loader import event_paths, read_events, shipped_facts

GOOD = """\
name: good
title: A good event
room: festival_pavilion
triggers:
  - manual
  - when: enter
    room: festival_grounds
  - when: say
    keywords: lantern
  - when: schedule
    phase: deep night
  - when: stability
    above: 90
steps:
  - id: begin
    act: The only act
    do: say
    npc: lyra
    text: Hello, {actor}.
  - do: wait
    for: 1h30m
  - do: prompt
    text: Stay or go?
    wait: 10m
    options:
      - word: yes
        goto: begin
      - word: no
"""


def check(tmp_path: Path, text: str, name: str = "broken") -> list[str]:
    path = tmp_path / f"{name}.yaml"
    path.write_text(textwrap.dedent(text))
    shipped, _ = read_events(event_paths(), shipped_facts())
    _, problems = read_events([path], shipped_facts(), known=shipped)
    return [p.replace(str(path), f"{name}.yaml") for p in problems]


def test_every_shipped_event_file_is_valid():
    specs, problems = read_events(event_paths(), shipped_facts())
    assert problems == []
    assert {"dream_festival", "storytelling_workshop", "loop_tremor"} <= set(specs)


def test_a_good_file_and_its_shorthands(tmp_path):
    path = tmp_path / "good.yaml"
    path.write_text(GOOD)
    specs, problems = read_events([path], shipped_facts())
    assert problems == []
    spec = specs["good"]
    assert spec.trigger_text() == (
        "manual, enter festival_grounds, say lantern, each night, stability above 90"
    )
    assert spec.steps[1].for_ == 5400.0
    assert [o.word for o in spec.steps[2].options] == ["yes", "no"]  # bare yes/no are words
    assert spec.where(1) == f"{path}:20"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: broken\ntitle: T\nsteps:\n  - do: sya\n    npc: lyra\n",
         "broken.yaml:4: steps.0: unknown step kind 'sya'; expected one of say, emote, move,"),
        ("name: broken\ntitle: T\nsteps:\n  - npc: lyra\n",
         "broken.yaml:4: steps.0: each step needs `do: <kind>`, one of say,"),
        ("name: broken\ntitle: T\nsteps:\n  - do: say\n    npc: lyra\n    txt: hi\n",
         "broken.yaml:6: steps.0.txt: unknown field 'txt' for a say step; expected one of id, "
         "act, do, npc, text"),
        ("name: broken\ntitle: T\nsteps:\n  - do: say\n    npc: lyra\n",
         "broken.yaml:4: steps.0.text: missing required field 'text' (a say step needs it)"),
        ("name: broken\ntitle: T\nsteps:\n  - do: wait\n    for: 90\n",
         "broken.yaml:5: steps.0.for: expected a game-time duration such as 45m, 2h, 1h30m or 1d"),
        ("name: broken\ntitle: T\ntriggers:\n  - when: schedule\n    phase: noon\nsteps:\n"
         "  - do: end\n",
         "broken.yaml:5: triggers.0.phase: expected a phase of the dream-day: one of ['dusk', "
         "'night', 'dawn', 'day']"),
        ("name: broken\ntitle: T\ntriggers:\n  - when: schedule\n    phase: dusk\n    every: 2h\n"
         "steps:\n  - do: end\n",
         "broken.yaml:4: triggers.0: give exactly one of phase, at, every (found phase, every)"),
        ("name: broken\ntitle: T\ntriggers:\n  - when: later\nsteps:\n  - do: end\n",
         "broken.yaml:4: triggers.0: unknown trigger kind 'later'; expected one of manual, "
         "schedule, enter, say, step, stability"),
        ("name: broken\ntitle: T\nsteps:\n  - do: if\n    count: players\n    then: x\n",
         "broken.yaml:4: steps.0: a count needs at_least, at_most or both"),
        ("name: broken\ntitle: T\nsteps:\n  - do: restore\n    room: nexus\n",
         "broken.yaml:4: steps.0: give both room and exit"),
        ("name: broken\ntitle: T\nsteps:\n  - do: prompt\n    text: Q\n    wait: 1h\n"
         "    default: maybe\n    options:\n      - word: a\n      - word: b\n",
         "broken.yaml:4: steps.0: default 'maybe' is not one of the options ['a', 'b']"),
        ("name: broken\ntitle: T\nsteps: []\n",
         "broken.yaml:3: steps: List should have at least 1 item after validation, not 0"),
        ("- just\n- a list\n", "broken.yaml:1: an event file is a mapping"),
        ("name: broken\ntitle: [unclosed\n", "broken.yaml:3: not valid YAML"),
    ],
)  # fmt: skip
def test_shape_problems_name_the_line_and_what_was_expected(tmp_path, text, expected):
    problems = check(tmp_path, text)
    assert any(p.startswith(expected) for p in problems), problems


def test_reference_problems_are_all_reported_in_line_order(tmp_path):
    problems = check(tmp_path, """\
        name: other_name
        title: References
        room: festival_grounds
        triggers:
          - when: enter
            room: ballroom
          - when: step
            event: dream_festival
            step: no_such_label
          - when: stability
            below: 20
            host: zed
        steps:
          - id: top
            do: say
            npc: lira
            text: Hi {name}.
          - do: goto
            to: bottom
          - do: sever
            room: nexus
            exit: northwest
          - do: announce
            zone: attic
            text: "{{literal braces}} are fine"
          - do: start
            event: no_such_event
          - id: top
            do: move
            npc: ezra
            to: loop
          - do: stability
            change: 0
        """)  # fmt: skip
    # the shape problem (change: 0) is reported alone: references are checked once it parses
    assert problems == ["broken.yaml:32: steps.6: change must raise (+) or lower (-) the stability"]
    problems = check(tmp_path, "\n".join(
        line for line in (tmp_path / "broken.yaml").read_text().splitlines()
        if "change: 0" not in line and "do: stability" not in line
    ))  # fmt: skip
    labels = [s.id for s in read_events(event_paths(), shipped_facts())[0]["dream_festival"].steps]
    assert problems == [
        "broken.yaml:1: name: the name 'other_name' must match the file name (broken.yaml)",
        "broken.yaml:6: triggers.0.room: unknown room 'ballroom'; expected a room key such as "
        "chrono_archive, festival_gallery, festival_grounds, festival_pavilion, grove_hollow, "
        "nexus",
        "broken.yaml:9: triggers.1.step: event 'dream_festival' has no step labelled "
        "'no_such_label'; its labels: " + ", ".join(x for x in labels if x),
        "broken.yaml:12: triggers.2.host: unknown NPC 'zed'; expected one of dara, ezra, lyra, "
        "mira",
        "broken.yaml:16: steps.0.npc: unknown NPC 'lira'; expected one of dara, ezra, lyra, mira",
        "broken.yaml:17: steps.0.text: unknown placeholder {name}; expected one of {actor}, "
        "{stability}, {joined}, {woven}, {players}",
        "broken.yaml:19: steps.1.to: no step is labelled 'bottom'; labels here: top",
        "broken.yaml:22: steps.2.exit: room 'nexus' has no exit 'northwest'; expected one of "
        "clockwork, e, east, festival, grove, lanterns, n, north, s, south, tides, u, up, w, west",
        "broken.yaml:24: steps.3.zone: unknown zone 'attic'; expected one of festival, nexus, "
        "sanctuaries",
        "broken.yaml:27: steps.4.event: unknown event 'no_such_event'; expected one of "
        "dream_festival, festival_welcome, loop_tremor, other_name, sponsor_grumble, "
        "storytelling_workshop",
        "broken.yaml:28: steps.5.id: label 'top' is already used at broken.yaml:14",
    ]  # fmt: skip
    # `loop` needs a loop: an open_loop step, or a stability trigger that brings one
    problems = check(tmp_path, """\
        name: broken
        title: No loop
        steps:
          - do: move
            npc: ezra
            to: loop
          - do: if
            count: woven
            at_least: 1
            then: x
          - id: x
            do: close_loop
          - do: announce
            text: Hello?
        """)  # fmt: skip
    assert problems == [
        "broken.yaml:6: steps.0.to: this event never has a loop: add an open_loop step first",
        "broken.yaml:8: steps.1.count: this event never has a loop: add an open_loop step first",
        "broken.yaml:12: steps.2.do: this event never has a loop: add an open_loop step first",
        "broken.yaml:13: steps.3: say where to announce: room:, zone:, everyone: true or actor: "
        "true (this event has no room of its own)",
    ]


def run_check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "server.py"), "check-scripts", *args],
        capture_output=True, text=True, env=server_env(), timeout=60,
    )  # fmt: skip


def test_check_scripts_command_exit_codes(tmp_path):
    res = run_check()
    assert res.returncode == 0, res.stdout + res.stderr
    shipped = len(event_paths()) + len(list((ROOT / "world" / "npcs").glob("*.yaml")))
    assert f"{shipped} script file(s) checked: all fine." in res.stdout
    good = tmp_path / "good.yaml"
    good.write_text(GOOD)
    res = run_check(str(good), str(ROOT / "world" / "events" / "loop_tremor.yaml"))
    assert res.returncode == 0 and "2 script file(s) checked" in res.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\ntitle: Bad\nsteps:\n  - do: start\n    event: dream_festivle\n")
    npcs = tmp_path / "npcs"
    npcs.mkdir()
    (npcs / "zed.yaml").write_text("key: zed\nname: Zed\nshort: Zed\nroom: attic\n")
    res = run_check(str(good), str(bad), str(npcs / "zed.yaml"))
    assert res.returncode == 1
    lines = res.stdout.splitlines()
    assert lines[0].startswith(f"{bad}:5: steps.0.event: unknown event 'dream_festivle'")
    assert "dream_festival" in lines[0]  # shipped events may be referred to
    assert lines[1] == f"{npcs / 'zed.yaml'}:4: unknown room 'attic'"
    assert lines[-1] == "2 problem(s) in 3 file(s)."
