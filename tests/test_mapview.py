"""The map layout and building target resolution, without a server."""

from __future__ import annotations

import pytest

from commands.api import CommandError
from commands.targets import destination, ref, resolve
from world.mapview import MAP_RADIUS, describe_map, layout, render_map
from world.model import Player
from world.world import World

GRAPH = {
    "hub": [("north", "n1"), ("east", "e1"), ("up", "sky"), ("southwest", "sw1")],
    "n1": [("south", "hub"), ("north", "n2"), ("down", "cellar")],
    "n2": [("south", "n1"), ("north", "n3")],
    "n3": [("south", "n2"), ("north", "n4")],
    "n4": [("south", "n3")],
    "e1": [("west", "hub"), ("north", "odd")],  # odd also sits north of hub's north: overlap
    "odd": [("south", "e1"), ("west", "n1")],
    "sw1": [("northeast", "hub")],
    "sky": [("down", "hub")],
    "cellar": [("up", "n1")],
}


def exits(room: str) -> list[tuple[str, str]]:
    return GRAPH[room]


def test_layout_places_rooms_by_direction_and_depth():
    lay = layout("hub", exits)
    assert lay.positions["hub"] == (0, 0)
    assert lay.positions["n1"] == (0, -1)
    assert lay.positions["e1"] == (1, 0)
    assert lay.positions["sw1"] == (-1, 1)
    assert lay.positions["n3"] == (0, -3)
    assert "n4" not in lay.positions  # four steps away
    assert "sky" not in lay.positions and "cellar" not in lay.positions  # up/down aren't drawn


def test_describe_map_tells_each_exit_and_what_lies_beyond_in_sentences():
    lines = describe_map("hub", exits, str.upper)
    assert lines == [
        "You are in HUB.",
        "North: N1; east: E1; up: SKY; southwest: SW1.",
        "Beyond N1, north: N2; down: CELLAR.",
        "Beyond E1, north: ODD.",
    ]
    assert describe_map("alone", lambda r: [], str) == [
        "You are in alone.",
        "There is no way out of here that you can see.",
    ]


def test_readme_command_tables_are_not_split_by_blank_lines():
    """A blank line inside a Markdown table ends it: the rows after it (`map`, `time` once)
    showed as stray text with pipes. Every table row follows a row, or starts a table."""
    from pathlib import Path

    lines = (Path(__file__).resolve().parent.parent / "README.md").read_text().splitlines()
    for i, line in enumerate(lines):
        if not line.startswith("|") or (i and lines[i - 1].startswith("|")):
            continue
        following = lines[i + 1] if i + 1 < len(lines) else ""
        assert following.startswith("|---") or following.startswith("| ---"), (
            f"README.md:{i + 1}: table row without a header: {line}"
        )
    assert "| `map` |" in "\n".join(lines) and "| `time` |" in "\n".join(lines)


def test_overlapping_rooms_are_left_out_not_drawn_on_top():
    graph = {
        "a": [("north", "b"), ("east", "c")],
        "b": [("east", "d")],
        "c": [("north", "e")],  # e would sit where d already is
        "d": [],
        "e": [],
    }
    lay = layout("a", lambda r: graph[r])
    assert lay.positions["d"] == (1, -1)
    assert "e" not in lay.positions
    assert lay.left_out == 1
    text = "\n".join(render_map("a", lambda r: graph[r], str.upper))
    assert "1 more nearby room(s) overlap" in text


def test_render_marks_here_connectors_and_up_down():
    lines = render_map("hub", exits, lambda r: f"The {r}")
    text = "\n".join(lines)
    assert "[*^]" in text  # here, with a way up
    assert "The hub (you are here) [up]" in text
    assert "[av]" in text and "a  The n1 [down]" in text  # n1 has a way down
    assert "[*^]-[b ]" in text  # hub - e1
    assert "|" in text and "/" in text  # n1 above hub, sw1 below-left
    assert all(len(line) <= 80 for line in lines)


def test_map_radius_bounds_the_width():
    line = {f"r{i}": [("east", f"r{i + 1}"), ("west", f"r{i - 1}")] for i in range(-20, 21)}
    line["r-21"] = line["r21"] = []
    lines = render_map("r0", lambda r: line[r], str, depth=20)
    grid = lines[: lines.index("")]
    assert len(grid[0]) == (2 * MAP_RADIUS + 1) * 5 - 1
    assert all(len(s) <= 80 for s in lines)


# -- target resolution --------------------------------------------------------------------
@pytest.fixture
def world() -> World:
    w = World(lambda *a: 0)
    w.create_zone("z", "Zone")
    hall = w.create_room("Hall of Echoes", zone="z", key="nexus")
    w.create_room("Garden of Glass", zone="z")
    w.create_room("Garden of Stone", zone="z")
    w.create_exit(hall, "north", None, ("arch",))
    return w


def player(w: World, name: str) -> Player:
    p = w.create_player(name, "x")
    p.session = p  # type: ignore[assignment]  (anything with send() counts as online)
    w.online[p.id] = p
    assert p.room is not None
    p.room.players[p.id] = p
    return p


def test_resolve_here_me_names_prefixes_and_ids(world: World):
    ada = player(world, "Ada")
    hall = world.nexus
    lamp = world.create_item("a brass lamp", ("lamp", "brass"), "", ada)
    assert resolve(world, ada, "here") is hall
    assert resolve(world, ada, "me") is ada
    assert resolve(world, ada, "lamp") is lamp
    assert resolve(world, ada, "bra") is lamp
    assert resolve(world, ada, "arch").name == "north"
    assert resolve(world, ada, "n").name == "north"
    assert resolve(world, ada, "Garden of Glass").name == "Garden of Glass"
    assert resolve(world, ada, "room#2").name == "Garden of Glass"
    assert resolve(world, ada, f"item#{lamp.id}") is lamp


def test_bare_ids_prefer_what_is_near_and_list_a_tie(world: World):
    ada = player(world, "Ada")
    # id 1 is the hall (here), exit north (here) and Ada: all near, so it's a tie
    with pytest.raises(CommandError, match="could be any of") as err:
        resolve(world, ada, "#1")
    assert "room#1" in str(err.value) and "exit#1" in str(err.value)
    # id 3 is only a room
    assert resolve(world, ada, "#3").name == "Garden of Stone"
    # id 2 is a room and an item, neither near: the room
    world.create_item("a far kite", ("kite",), "", world.rooms[3])
    world.create_item("a second kite", ("kite",), "", world.rooms[3])
    assert resolve(world, ada, "#2").name == "Garden of Glass"
    assert resolve(world, ada, "item#2").name == "a second kite"


def test_ambiguous_names_list_candidates_and_missing_names_say_so(world: World):
    ada = player(world, "Ada")
    with pytest.raises(CommandError, match="could be any of: Garden of Glass"):
        resolve(world, ada, "garden")
    with pytest.raises(CommandError, match="can't find 'pavilion'"):
        resolve(world, ada, "pavilion")
    with pytest.raises(CommandError, match="Nothing with the id #99"):
        resolve(world, ada, "#99")


def test_destinations_are_rooms_or_where_a_dreamer_is(world: World):
    ada = player(world, "Ada")
    bo = world.create_player("Bo", "x")  # asleep, but still somewhere
    bo.room = world.rooms[3]
    assert destination(world, ada, "here") is world.nexus
    assert destination(world, ada, "garden of stone").id == 3
    assert destination(world, ada, "bo") is world.rooms[3]
    assert destination(world, ada, "#2").name == "Garden of Glass"  # #id: rooms only
    assert ref(destination(world, ada, "nexus")) == "room#1"  # a room key works too
    with pytest.raises(CommandError):
        destination(world, ada, "item#1")
