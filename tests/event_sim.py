"""A seeded world with dreamers who have fake ears and a clock a test moves by hand, for
testing the event interpreter without a server (tests/test_event_*.py)."""

import textwrap
from pathlib import Path

from mud.core.text import strip_markup
from world.clock import SECONDS_PER_HOUR, WorldClock
from world.content import load_world_spec, seed
from world.model import Player
from world.scripting.loader import read_events, shipped_facts
from world.scripting.runtime import EventRuntime
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
