"""The World's port (world/ports.py): what the world tells whoever runs it, and nothing else.

A World is given its observer when it is built; nothing replaces its callables later. These
tests build one with a recording observer (no engine) and check what it is told, and that a
World without one (tools, tests) delivers straight to each listener."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from world.channels import Channel, load_channel_specs
from world.model import Player, Room
from world.ports import DirectDelivery, Listener, WorldObserver
from world.world import World

ROOT = Path(__file__).resolve().parent.parent


class Conn:
    """A connection as the world sees it."""

    def __init__(self, oob: bool = False) -> None:
        self.wants_oob = oob
        self.lines: list[str] = []
        self.oob: list[tuple[str, dict[str, Any] | None]] = []

    def send(self, text: str) -> None:
        self.lines.append(text)

    def notify(self, kind: str, data: dict[str, Any] | None = None) -> None:
        self.oob.append((kind, data))


class Recorder:
    """An observer that writes down what it is told; durability waits until `commit`."""

    def __init__(self) -> None:
        self.told: list[tuple[Any, ...]] = []
        self.waiting: list[tuple[int, Callable[[], None]]] = []

    def fanout(self, listeners: Iterable[Listener], text: str) -> None:
        self.told.append(("fanout", len(list(listeners)), text))

    def room_cast(
        self,
        room: Room,
        text: str,
        exclude: tuple[Player, ...] | None,
        channel: dict[str, Any] | None,
    ) -> None:
        names = tuple(p.name for p in exclude or ())
        self.told.append(("room_cast", room.name, text, names, channel is not None))

    def room_joined(self, player: Player, room: Room) -> None:
        self.told.append(("joined", player.name, room.name))

    def room_left(self, player: Player, room: Room) -> None:
        self.told.append(("left", player.name, room.name))

    def landed(self, player: Player, seq: int) -> None:
        self.told.append(("landed", player.name))

    def channel_cast(
        self, channel: Channel, text: str, speaker: Player | None, exclude: frozenset[Player] | None
    ) -> None:
        self.told.append(("channel_cast", channel.name, speaker.name if speaker else None))

    def when_durable(self, seq: int, callback: Callable[[], None]) -> None:
        self.waiting.append((seq, callback))

    def commit(self) -> None:
        waiting, self.waiting = self.waiting, []
        for _seq, callback in waiting:
            callback()


def _world(observer: WorldObserver | None = None) -> tuple[World, Room, Room]:
    staged: list[object] = []

    def stage(table: str, key: object, row: object) -> int:
        staged.append((table, key, row))
        return len(staged)

    w = World(stage, observer)
    w.load({})
    nexus = w.create_room("Dreamwave Nexus", key="nexus")
    garden = w.create_room("Garden", key="garden")
    w.create_exit(nexus, "north", garden)
    w.create_exit(garden, "south", nexus)
    w.channels.seed(load_channel_specs(), [])
    return w, nexus, garden


def test_the_observer_hears_of_presence_moves_speech_and_channels_in_order():
    rec = Recorder()
    w, nexus, garden = _world(rec)
    ada, bob = w.create_player("Ada", "x"), w.create_player("Bob", "x")
    w.enter_game(ada, Conn(), announce=False)
    w.enter_game(bob, Conn())
    assert rec.told == [
        ("joined", "Ada", "Dreamwave Nexus"),
        ("room_cast", "Dreamwave Nexus", "|cBob|n shimmers into the dreamscape.", ("Bob",), False),
        ("joined", "Bob", "Dreamwave Nexus"),
    ]
    rec.told.clear()
    w.say(ada, "hello")
    assert rec.told[0][:2] == ("room_cast", "Dreamwave Nexus")
    assert rec.told[0][3:] == (("Ada",), True)  # speech: the speaker left out, marked as speech
    rec.told.clear()
    w.move(bob, garden, via=nexus.find_exit("north"))
    assert [t[0] for t in rec.told] == ["left", "room_cast", "room_cast", "joined", "landed"]
    rec.told.clear()
    # a channel line reaches the observer only once it is durable
    public = w.channels.by_name["public"]
    w.channels.speak(ada, public, "anyone?")
    assert rec.told == []
    rec.commit()
    assert rec.told == [("channel_cast", "public", "Ada")]
    rec.told.clear()
    w.announce("The dreamscape shivers.")
    assert rec.told == [("fanout", 2, "The dreamscape shivers.")]
    rec.told.clear()
    w.leave_game(bob)
    assert rec.told == [("left", "Bob", "Garden"), ("room_cast", "Garden", "|cBob|n fades "
                                                   "from the dreamscape.", (), False)]  # fmt: skip


def test_a_world_without_an_engine_delivers_straight_to_each_listener():
    w, _nexus, _garden = _world()
    assert isinstance(w.observer, DirectDelivery)
    ada, bob = w.create_player("Ada", "x"), w.create_player("Bob", "x")
    a, b = Conn(), Conn(oob=True)
    w.enter_game(ada, a)
    w.enter_game(bob, b)
    w.say(ada, "hello")
    assert b.lines[-1] == '|cAda|n says, "hello|n"'
    assert b.oob[-1] == ("channel", {"channel": "say", "talker": "Ada",
                                     "text": '|cAda|n says, "hello|n"'})  # fmt: skip
    assert a.lines[-1] == 'You say, "hello|n"'
    w.channels.speak(ada, w.channels.by_name["public"], "anyone?")
    assert b.lines[-1] == "|w[public]|n |cAda|n: anyone?|n"


def test_nothing_replaces_a_world_callable_after_it_is_built():
    """The engine hands the World its port at construction (mud/core/app.py): no assignment
    to one of the World's (or its channels') callables anywhere in the engine or commands."""
    ports = {name for name in vars(WorldObserver) if not name.startswith("_")} | {"cast"}
    assert {"room_cast", "landed", "when_durable"} <= ports
    found = []
    for path in [*ROOT.joinpath("mud").rglob("*.py"), *ROOT.joinpath("commands").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    if (
                        isinstance(t, ast.Attribute)
                        and t.attr in ports
                        and "world" in ast.unparse(t.value)
                    ):
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []
