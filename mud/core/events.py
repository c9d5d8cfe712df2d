"""Event scripts, wired to the server: files in, hooks and the one scheduler around the runtime.

The runtime (world/scripting/runtime.py) decides; this thin layer reads the files, hands it the
world's hooks (enter, say, loop stability), and turns each of its timers (game time) into a
game-time job on the App's scheduler, so waits follow the clock's speed.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from mud.core.scheduler import GameJob, Scheduler
from world.scripting.loader import WorldFacts, event_paths, read_events, shipped_facts
from world.scripting.runtime import EventRuntime
from world.world import World

if TYPE_CHECKING:
    from mud.core.npc_runtime import NpcDirector
    from world.dreams import Loop
    from world.model import Player, Room
    from world.scripting.schema import EventSpec

log = logging.getLogger("dreamwave.events")


def live_facts(world: World) -> WorldFacts:
    """What the running world offers scripts: its keyed rooms (and their exits), zones, NPCs."""
    rooms = {
        key: {w for ex in room.exits for w in ex.words} for key, room in world.rooms_by_key.items()
    }
    return WorldFacts(rooms, set(world.zones), set(world.npcs_by_key))


class EventService:
    def __init__(
        self, world: World, scheduler: Scheduler, directory: Path | None = None,
        npcs: NpcDirector | None = None, min_real_cap: float | None = None,
    ) -> None:  # fmt: skip
        self.world = world
        self.scheduler = scheduler
        self.directory = directory
        self.jobs: dict[str, GameJob] = {}
        self.runtime = EventRuntime(
            world, {}, timer_changed=self._timer_changed, min_real_cap=min_real_cap,
            npc_released=npcs.go_home if npcs is not None else None,
        )  # fmt: skip
        if npcs is not None:  # NPCs read event flags, and walk home when an event lets go
            npcs.events = self.runtime
        self.problems: list[str] = []  # what the last read of the files found wrong

    def facts(self) -> WorldFacts:
        return shipped_facts().merged(live_facts(self.world))

    def start(self) -> None:
        """Read every event file (a broken one is left out, its problems logged), resume the
        instances that were running, and hook into the world."""
        specs, self.problems = read_events(event_paths(self.directory), self.facts())
        for problem in self.problems:
            log.error("event script: %s", problem)
        rt = self.runtime
        rt.replace_specs(specs)
        rt.load(self.world.event_rows)
        self.world.event_rows = []  # handed over; the runtime is the truth from here on
        self.world.on("enter", self._on_enter)
        self.world.on("say", rt.on_say)
        self.world.dreams.stability_listeners.append(self._on_stability)
        log.info("%d event script(s) loaded, %d running", len(specs), len(rt.running))

    def reload(self) -> list[str]:
        """Re-read the files; swap them in only if every one is fine. Returns the problems
        (empty: swapped). Running instances finish the version they began with."""
        specs, problems = read_events(event_paths(self.directory), self.facts())
        return self._swap(specs, problems)

    async def reload_async(self) -> list[str]:
        """`reload`, with the files read and parsed in a worker thread, off the event loop."""
        facts = self.facts()
        specs, problems = await asyncio.get_running_loop().run_in_executor(
            None, lambda: read_events(event_paths(self.directory), facts)
        )
        return self._swap(specs, problems)

    async def check_files(self) -> list[str]:
        """What is wrong with the event files on disk (read off the loop); nothing swapped."""
        facts = self.facts()
        _specs, problems = await asyncio.get_running_loop().run_in_executor(
            None, lambda: read_events(event_paths(self.directory), facts)
        )
        return list(problems)

    def _swap(self, specs: dict[str, EventSpec], problems: list[str]) -> list[str]:
        if not problems:
            self.runtime.replace_specs(specs)
            self.problems = []
        return problems

    def stop(self) -> None:
        """Save how long each wait has left, so a restart resumes it (see docs/events.md)."""
        self.runtime.save_all()
        for job in self.jobs.values():
            self.scheduler.cancel_game(job)
        self.jobs.clear()

    def _on_enter(self, player: Player, room: Room, source: Room | None = None) -> None:
        # A beat later: the dreamer sees the room they walked into before what happens there.
        if room.key in self.runtime.enter_rooms:
            self.scheduler.after(0, lambda: self.runtime.on_enter(player, room, source))

    def _on_stability(self, loop: Loop, old: int, new: int) -> None:
        # After the change has fully happened (a fall to 0 collapses the loop first).
        self.scheduler.after(0, lambda: self.runtime.on_stability(loop, old, new))

    def _timer_changed(self, key: str, when: float | None) -> None:
        self.scheduler.cancel_game(self.jobs.pop(key, None))
        if when is not None:
            self.jobs[key] = self.scheduler.at_game(when, lambda: self._fire(key))

    def _fire(self, key: str) -> None:
        self.jobs.pop(key, None)
        self.runtime.fire(key)
