"""NPC scripts and decisions without a server: what a Brain says, and what a script may say."""

from __future__ import annotations

import json
import random
from itertools import pairwise
from pathlib import Path

import pytest

from world.content import load_world_spec, seed
from world.npc_behaviour import (
    EMOTE,
    MAX_REMEMBERED,
    MIN_TIMER,
    SAY,
    Brain,
    NpcTimings,
    make_line,
    topic_key,
)
from world.npc_scripts import (
    NpcScript,
    load_npc_scripts,
    npc_script_paths,
    read_npc_script,
    seed_npcs,
)
from world.world import World
from world.yamlsrc import ContentError

SHIPPED = ("lyra", "ezra", "mira", "dara")


def script(**extra) -> NpcScript:
    data = {
        "key": "wren",
        "name": "Wren Tally",
        "short": "Wren Tally, a lamplighter",
        "room": "nexus",
        "greetings": ["Hello, {name}.", ":waves at {name}."],
        "topics": {
            "lamps": {"aliases": ["lamp", "lamplighting", "the lantern"], "lines": ["Lamps!"]},
            "dream festival": "It is tonight.",
            "dreams": ["Dreams are long.", "Dreams are short."],
            "yourself": {"aliases": ["you", "wren"], "lines": ["Just Wren."]},
        },
        "unknown": "No idea about {topic}, {name}.",
        "hears": {"hello, hi": "Hi there, {name}.", "storm": ":looks at the sky."},
        "idle": {"every": 60, "chance": 1.0, "lines": ["one", "two", "three"]},
        "wander": {"route": ["nexus", "hall", "loft"], "every": 30},
    }
    data.update(extra)
    return NpcScript.model_validate(data)


def brain(**extra) -> Brain:
    return Brain(script(**extra), random.Random(7))


# -- lines ------------------------------------------------------------------------------------
def test_a_colon_makes_an_emote_and_names_are_filled_in():
    assert make_line(":bows to {name}.", name="Ada") == make_line(":bows to {name}.", name="Ada")
    line = make_line(":bows to {name}.", name="Ada")
    assert (line.kind, line.text) == (EMOTE, "bows to Ada.")
    line = make_line("Hello {name}, {unused} stays.", name="Ada")
    assert (line.kind, line.text) == (SAY, "Hello Ada, {unused} stays.")
    assert make_line("{topic}? Never heard of it.", topic="turnips").text.startswith("Turnips?")


# -- ask ------------------------------------------------------------------------------------
def test_topics_are_found_by_name_alias_plural_and_inside_a_phrase():
    b = brain()
    assert b.topic_of("lamps") == "lamps"
    assert b.topic_of("lamp") == "lamps"
    assert b.topic_of("the Lanterns") == "lamps"  # alias 'the lantern', plural, capitals
    assert b.topic_of("about the dream festival!") == "dream festival"
    assert b.topic_of("dream") == "dreams"
    assert b.topic_of("your dreams") == "dreams"
    assert b.topic_of("festival plans for the dream festival") == "dream festival"
    assert b.topic_of("yourself") == "yourself" and b.topic_of("you") == "yourself"
    assert b.topic_of("the weather") is None
    assert topic_key("The Stories") == "the story"


def test_an_unknown_topic_gets_the_fallback_with_the_topic_echoed():
    b = brain()
    assert b.answer("lamp", "Ada").text == "Lamps!"
    line = b.answer("The |rWeather|n!", "Ada")
    assert line.text == "No idea about the weather, Ada."


def test_lines_do_not_repeat_back_to_back():
    b = brain()
    said = [b.answer("dreams", "Ada").text for _ in range(20)]
    assert all(x != y for x, y in pairwise(said))
    assert set(said) == {"Dreams are long.", "Dreams are short."}


# -- greetings ------------------------------------------------------------------------------
def test_each_dreamer_is_greeted_once_per_cooldown():
    b = brain()
    first = b.greeting(1, "Ada", now=100.0, cooldown=60)
    assert first is not None and "Ada" in first.text
    assert b.greeting(1, "Ada", now=130.0, cooldown=60) is None  # walked out and back in
    assert b.greeting(2, "Bob", now=130.0, cooldown=60) is not None  # someone else
    assert b.greeting(1, "Ada", now=161.0, cooldown=60) is not None  # long enough
    assert b.greeting(1, "Ada", now=161.0, cooldown=0) is not None  # no cooldown at all


def test_greeting_memory_is_bounded_and_silent_without_greetings():
    b = brain()
    for pid in range(MAX_REMEMBERED + 50):
        b.greeting(pid, "X", now=float(pid), cooldown=1e9)
    assert len(b._greeted) == MAX_REMEMBERED
    assert b.greeting(MAX_REMEMBERED + 10, "X", now=0.0, cooldown=1e9) is None  # remembered
    assert brain(greetings=[]).greeting(1, "Ada", 0.0, 0.0) is None


# -- overheard words ------------------------------------------------------------------------
def test_keywords_said_nearby_get_a_reaction_at_most_once_per_cooldown():
    b = brain()
    line = b.hear("well hello everyone", "Ada", now=10.0, cooldown=15)
    assert line is not None and line.text == "Hi there, Ada."
    assert b.hear("hi again", "Ada", now=12.0, cooldown=15) is None  # too soon
    assert b.hear("a storm is coming", "Ada", now=30.0, cooldown=15).kind == EMOTE
    assert b.hear("nothing to see here", "Ada", now=60.0, cooldown=15) is None


def test_speaking_to_the_npc_by_name_answers_its_topics_even_in_the_cooldown():
    b = brain()
    assert b.hear("hello", "Ada", now=10.0, cooldown=15) is not None
    line = b.hear("Wren, do you like lamps?", "Ada", now=11.0, cooldown=15)
    assert line is not None and line.text == "Lamps!"  # 'wren' and 'you' are not the topic
    line = b.hear("tally, hi", "Ada", now=12.0, cooldown=15)  # addressed: no cooldown
    assert line is not None and line.text == "Hi there, Ada."
    assert b.hear("wren?", "Ada", now=13.0, cooldown=15) is None  # named, but about nothing
    assert b.hear("I dream of lamps", "Ada", now=100.0, cooldown=15) is None  # not addressed


# -- on a timer ------------------------------------------------------------------------------
def test_idle_chatter_follows_the_chance_and_varies():
    b = brain()
    said = [b.idle() for _ in range(10)]
    assert all(line is not None for line in said)
    texts = [line.text for line in said if line]
    assert all(x != y for x, y in pairwise(texts))
    rare = brain(idle={"every": 60, "chance": 0.001, "lines": ["hm"]})
    assert sum(rare.idle() is not None for _ in range(200)) <= 3
    assert brain(idle=None).idle() is None and brain(idle=None).idle_delay(NpcTimings()) is None


def test_delays_scale_and_jitter_within_bounds():
    b = brain()
    t = NpcTimings(scale=0.5, jitter=0.2)
    delays = [b.idle_delay(t) for _ in range(50)]
    assert all(24.0 <= d <= 36.0 for d in delays)  # 60 * 0.5 ± 20%
    assert len(set(delays)) > 1
    assert b.wander_delay(NpcTimings(scale=0.0)) == MIN_TIMER


def test_wandering_goes_back_and_forth_and_never_leaves_the_route():
    b = brain()
    here, seen = "nexus", []
    for _ in range(8):
        here = b.next_stop(here)
        seen.append(here)
    assert seen == ["hall", "loft", "hall", "nexus", "hall", "loft", "hall", "nexus"]
    assert b.next_stop("somewhere_else") is None  # moved off the route: stays put
    assert b.next_stop(None) is None
    loop = brain(wander={"route": ["nexus", "hall", "loft"], "every": 30, "circuit": True})
    assert [loop.next_stop(k) for k in ("nexus", "hall", "loft")] == ["hall", "loft", "nexus"]
    lazy = brain(wander={"route": ["nexus", "hall"], "every": 30, "chance": 0.001})
    assert sum(lazy.next_stop("nexus") is not None for _ in range(200)) <= 3


# -- script files -----------------------------------------------------------------------------
def problems_of(tmp_path: Path, name: str, text: str, **kw) -> list[str]:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ContentError) as err:
        read_npc_script(path, **kw)
    return err.value.problems


GOOD = """\
key: wren
name: Wren Tally
short: Wren Tally, a lamplighter
room: nexus
topics:
  lamps: Lamps!
"""


def test_bad_scripts_are_refused_with_file_and_line(tmp_path):
    probs = problems_of(tmp_path, "wren.yaml", GOOD.replace("room: nexus", "room: [nexus]"))
    assert len(probs) == 1 and probs[0].startswith(f"{tmp_path / 'wren.yaml'}:4: room")
    probs = problems_of(tmp_path, "other.yaml", GOOD)
    assert probs[0].endswith(":1: the key 'wren' must match the file name (other.yaml)")
    text = GOOD + "  lamp: [Again]\n  dreams:\n    aliases: [lamps]\n    lines: x\n"
    probs = problems_of(tmp_path, "wren.yaml", text)
    assert any(":7: 'lamp' is already a word for topic 'lamps'" in p for p in probs)
    assert any(":9: 'lamps' is already a word for topic 'lamps'" in p for p in probs)
    text = GOOD + "wander:\n  route: [hall, loft]\n  every: 1\n"
    probs = problems_of(tmp_path, "wren.yaml", text, rooms={"nexus", "hall"})
    assert any(":9: wander.every: Input should be greater than or equal to 5" in p for p in probs)
    text = GOOD + "wander:\n  route: [hall, loft]\n  every: 10\n"
    probs = problems_of(tmp_path, "wren.yaml", text, rooms={"nexus", "hall"})
    assert any(":8: the route must include the start room 'nexus'" in p for p in probs)
    assert any(":8: unknown room 'loft'" in p for p in probs)
    probs = problems_of(tmp_path, "wren.yaml", GOOD + "  bad: [unclosed\n")
    assert "not valid YAML" in probs[0]
    probs = problems_of(tmp_path, "wren.yaml", GOOD + "mood: grumpy\n")
    assert any(":7: mood: Extra inputs are not permitted" in p for p in probs)


def test_load_npc_scripts_reports_every_file_at_once(tmp_path):
    (tmp_path / "wren.yaml").write_text(GOOD)
    (tmp_path / "zed.yaml").write_text(GOOD.replace("wren", "zed").replace("name: Wren", "nam: W"))
    (tmp_path / "ivy.yaml").write_text(GOOD.replace("wren", "ivy").replace("nexus", "attic"))
    with pytest.raises(ContentError) as err:
        load_npc_scripts(sorted(tmp_path.glob("*.yaml")), rooms={"nexus"})
    text = str(err.value)
    assert "ivy.yaml:4: unknown room 'attic'" in text
    assert "zed.yaml:2: nam: Extra inputs" in text and "zed.yaml:1: name: Field required" in text
    (tmp_path / "zed.yaml").unlink()
    (tmp_path / "ivy.yaml").unlink()
    assert list(load_npc_scripts(npc_script_paths(tmp_path))) == ["wren"]


def test_the_shipped_scripts_are_valid_and_full():
    rooms = {r.key for r in load_world_spec().rooms}
    scripts = load_npc_scripts(rooms=rooms)
    assert sorted(scripts) == sorted(SHIPPED)
    for key, spec in scripts.items():
        b = Brain(spec)
        assert len(spec.topics) >= 10, key
        assert spec.greetings and spec.idle and spec.unknown and spec.hears
        for topic in ("festival", "dreamwave", "dreams", "loops", "yourself", "you", key):
            assert b.topic_of(topic) is not None, (key, topic)
        for other in SHIPPED:
            assert b.topic_of(other) is not None, (key, other)
        assert b.topic_of(other := "xylophone") is None, other


# -- seeding ----------------------------------------------------------------------------------
def fresh_world() -> tuple[World, list[tuple]]:
    staged: list[tuple] = []
    w = World(lambda table, key, row: staged.append((table, key, row)) or len(staged))
    seed(w, load_world_spec())
    return w, staged


def test_seeding_places_each_npc_once_and_remembers_deletions():
    w, staged = fresh_world()
    scripts = load_npc_scripts()
    created = seed_npcs(w, scripts)
    assert {n.key: n.room.key for n in created} == {
        "dara": "grove_hollow", "ezra": "sanctuary_clockwork",
        "lyra": "festival_pavilion", "mira": "festival_gallery",
    }  # fmt: skip
    meta = [{"key": k, "value": r["value"]} for t, k, r in staged if t == "meta"]
    assert json.loads(meta[-1]["value"]) == sorted(SHIPPED)
    assert seed_npcs(w, scripts, meta) == []  # all there already
    w.destroy_npc(w.npcs_by_key["dara"])
    assert seed_npcs(w, scripts, meta) == []  # deleted by a builder: stays deleted
    assert "dara" not in w.npcs_by_key
    assert [n.key for n in seed_npcs(w, scripts, [])] == ["dara"]  # an older database


def test_a_start_room_this_world_lacks_means_the_nexus(caplog):
    w, _ = fresh_world()
    spec = script(key="wren", room="attic", wander=None)
    (npc,) = seed_npcs(w, {"wren": spec})
    assert npc.room is w.nexus and "no room 'attic'" in caplog.text


# -- lines scoped to rooms, topics that depend on events ----------------------------------------
class FakeEvents:
    def __init__(self, flags=None, running=()):
        self.flags = dict(flags or {})
        self.running = set(running)

    def world_flag(self, name):
        return self.flags.get(name)

    def event_running(self, name):
        return name in self.running


def test_lines_scoped_to_a_room_are_said_only_there():
    b = brain(
        greetings=[{"text": "You found the hollow, {name}.", "room": "hollow"}, "Hello, {name}."],
        idle={"every": 60, "lines": [{"text": ":chalks the bark.", "rooms": ["hollow", "grove"]}]},
        hears={"hello": [{"text": "Welcome to my hollow.", "room": "hollow"}]},
    )
    elsewhere = {b.greeting(i, "Ada", 0.0, 0.0, "pavilion").text for i in range(30)}
    assert elsewhere == {"Hello, Ada."}
    in_a_loop = {b.greeting(i, "Ada", 0.0, 0.0, None).text for i in range(100, 130)}
    assert in_a_loop == {"Hello, Ada."}  # a loop room has no key: only unscoped lines fit
    home = {b.greeting(i, "Ada", 0.0, 0.0, "hollow").text for i in range(200, 230)}
    assert home == {"Hello, Ada.", "You found the hollow, Ada."}
    assert b.idle("grove").text == "chalks the bark." and b.idle("nexus") is None
    assert b.hear("hello", "Ada", 0.0, 0.0, "nexus") is None  # nothing fits: nothing said
    assert b.hear("hello", "Ada", 0.0, 0.0, "hollow").text == "Welcome to my hollow."
    only_scoped = brain(greetings=[{"text": "Hollow!", "room": "hollow"}])
    assert only_scoped.greeting(1, "Ada", 0.0, 0.0, "nexus") is None


def test_a_topic_answers_from_the_first_variant_whose_condition_holds():
    b = brain(topics={"festival": {
        "lines": ["I'll be there."],
        "variants": [
            {"when": {"event": "dream_festival"}, "lines": ["It's happening now."]},
            {"when": {"flag": "festival_outcome", "is": "held"}, "lines": ["It held."]},
            {"when": {"flag": "festival_outcome"}, "lines": ["It's over."]},
        ],
    }})  # fmt: skip
    assert b.answer("festival", "Ada").text == "I'll be there."  # no event state at all
    assert b.answer("festival", "Ada", state=FakeEvents()).text == "I'll be there."
    during = FakeEvents({"festival_outcome": "held"}, running={"dream_festival"})
    assert b.answer("festival", "Ada", state=during).text == "It's happening now."
    assert b.answer("festival", "Ada", state=FakeEvents({"festival_outcome": "held"})).text == (
        "It held."
    )
    after = FakeEvents({"festival_outcome": "collapsed"})
    assert b.answer("festival", "Ada", state=after).text == "It's over."
    assert b.hear("wren, the festival?", "Ada", 0.0, 0.0, state=after).text == "It's over."


def test_scoped_lines_and_variants_are_checked_with_file_and_line(tmp_path):
    text = GOOD + (
        "  festival:\n"
        "    lines: [Soon.]\n"
        "    variants:\n"
        "      - when: {is: held}\n"  # line 10: no flag
        "        lines: [Done.]\n"
        "      - when: {event: no_such_event}\n"  # line 12
        "        lines: [Now.]\n"
        "greetings:\n"
        "  - text: Hi.\n"
        "    room: attic\n"  # line 16
        "  - {text: Yo., room: nexus, rooms: [nexus]}\n"  # line 17
    )
    probs = problems_of(tmp_path, "wren.yaml", text, rooms={"nexus"})
    assert any(":10: topics.festival.variants.0.when" in p and "give flag, event" in p
               for p in probs), probs  # fmt: skip
    assert any(":17: greetings.1" in p and "give room or rooms, not both" in p for p in probs)
    text = text.replace("      - when: {is: held}\n", "      - when: {flag: x}\n")
    text = text.replace("  - {text: Yo., room: nexus, rooms: [nexus]}\n", "")
    probs = problems_of(tmp_path, "wren.yaml", text, rooms={"nexus"})
    assert any(":16: unknown room 'attic' for this line" in p for p in probs), probs
    assert any(":12: unknown event 'no_such_event'" in p for p in probs), probs


def test_the_shipped_npcs_say_room_lines_only_in_their_rooms():
    scripts = load_npc_scripts()
    for key, spec in scripts.items():
        b = Brain(spec, random.Random(3))
        greetings = {b.greeting(i, "Ada", 0.0, 0.0, None).text for i in range(60)}
        assert greetings, key  # something fits a loop room
        for line in greetings:
            assert not any(w in line for w in ("hollow", "pavilion", "gallery", "murmur")), line
    dara = Brain(scripts["dara"], random.Random(1))
    heard = {dara.greeting(i, "Ada", 0.0, 0.0, "festival_pavilion").text for i in range(60)}
    assert not any("You found the hollow" in line for line in heard)
    heard = {dara.greeting(i, "Ada", 0.0, 0.0, "grove_hollow").text for i in range(60)}
    assert any("You found the hollow" in line for line in heard)


def test_the_shipped_npcs_talk_of_the_festival_before_during_and_after():
    scripts = load_npc_scripts()
    dara = Brain(scripts["dara"], random.Random(1))
    before = {dara.answer("festival", "Ada", state=FakeEvents()).text for _ in range(10)}
    assert any("I'll be there" in t for t in before)
    during = FakeEvents(running={"dream_festival"})
    now = {dara.answer("festival", "Ada", state=during).text for _ in range(10)}
    assert not any("I'll be there" in t for t in now) and any("happening now" in t for t in now)
    for outcome in ("held", "collapsed"):
        after = FakeEvents({"festival_outcome": outcome, "workshops_begun": True})
        for key, spec in scripts.items():
            b = Brain(spec, random.Random(2))
            said = {b.answer("festival", "Ada", state=after).text for _ in range(10)}
            assert not any("I'll be there" in t for t in said), (key, said)
            assert said != {b.answer("festival", "Ada").text for _ in range(10)}, key
