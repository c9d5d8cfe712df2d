"""NPCs come alive: world hooks and the one scheduler drive the pure Brains.

The director listens to what happens (a dreamer arrives, logs in, speaks; an NPC arrives),
asks the NPC's Brain what to do, and does it a beat later through World.say/World.emote and
World.move_npc, the same paths players use. Idle chatter and wandering run on per-NPC timers
that exist only while a dreamer is near: an NPC alone in a room (or, for a wanderer, with
nobody anywhere on its route) lets its timer lapse and costs nothing until someone comes.

State flags a builder or an event may set on an NPC (`@npc edit <npc>/flag.<name> = yes`):
  silent   no greetings, overheard reactions or idle chatter (`ask` is still answered)
  still    no wandering
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
from collections.abc import Callable, Mapping

from mud.core.scheduler import Scheduler
from world import npc_behaviour
from world.model import Player, Room
from world.npc_behaviour import EMOTE, Brain, EventState, Line, NpcTimings
from world.npc_scripts import NpcScript
from world.npcs import Npc
from world.world import FROM_WHERE, World

log = logging.getLogger("dreamwave.npcs")

GREET_STAGGER = 0.5  # of greet_delay: a second NPC in the room greets a little later


class NpcDirector:
    def __init__(
        self, world: World, scheduler: Scheduler, scripts: Mapping[str, NpcScript],
        timings: NpcTimings | None = None, rng: random.Random | None = None,
    ) -> None:  # fmt: skip
        self.world = world
        self.scheduler = scheduler
        self.timings = timings or dataclasses.replace(npc_behaviour.TIMINGS)
        self.rng = rng or random.Random()
        self.brains = {key: Brain(spec, self.rng) for key, spec in scripts.items()}
        # room key -> keys of the NPCs whose wandering route passes through it
        self.routes: dict[str, set[str]] = {}
        for key, brain in self.brains.items():
            for room_key in brain.route:
                self.routes.setdefault(room_key, set()).add(key)
        self._idle: dict[int, asyncio.TimerHandle] = {}
        self._wander: dict[int, asyncio.TimerHandle] = {}
        self._pending: set[asyncio.TimerHandle] = set()
        self.running = False
        self.events: EventState | None = None  # world flags and running events (topic variants)

    # -- life cycle -------------------------------------------------------------------------
    def start(self) -> None:
        self.running = True
        self.world.on("enter", self._on_enter)
        self.world.on("login", self._on_login)
        self.world.on("say", self._on_say)
        self.world.on("npc_enter", self._on_npc_enter)

    def stop(self) -> None:
        """Cancel every timer; hooks that still fire afterwards do nothing."""
        self.running = False
        for handle in (*self._idle.values(), *self._wander.values(), *self._pending):
            self.scheduler.cancel(handle)
        self._idle.clear()
        self._wander.clear()
        self._pending.clear()

    def brain(self, npc: Npc) -> Brain | None:
        return self.brains.get(npc.key)

    @property
    def timers(self) -> int:
        """Timers alive now (idle, wander and pending lines): a gauge for tests and @stats."""
        return len(self._idle) + len(self._wander) + len(self._pending)

    # -- acting -----------------------------------------------------------------------------
    def act(self, npc: Npc, line: Line) -> None:
        if line.kind == EMOTE:
            self.world.emote(npc, line.text)
        else:
            self.world.say(npc, line.text)

    def answer(self, npc: Npc, question: str, asker: Player) -> bool:
        """`ask <npc> about <question>`: the NPC answers aloud now. False: it has no script."""
        brain = self.brain(npc)
        if brain is None:
            return False
        here = npc.room.key if npc.room is not None else None
        self.act(npc, brain.answer(question, asker.name, here, self.events))
        return True

    def go_home(self, npc: Npc) -> None:
        """An event has let `npc` go: a beat later it walks back to its home room (its
        script's start room), unless it is already home or on its route, or something
        (another event, a builder's `still`) holds it again by then."""
        brain = self.brain(npc)
        if brain is None or brain.at_home(npc.room.key if npc.room else None):
            return

        def walk() -> None:
            here = npc.room
            home = self.world.rooms_by_key.get(brain.home)
            if not self._alive(npc) or npc.flags.get("still") or home is None or here is None:
                return
            if brain.at_home(here.key):
                return
            name = f"|y{npc.name}|n"
            way = next((e for e in here.exits if e.dest_id == home.id), None)
            leave = f"{name} leaves {way.name}, heading home." if way else f"{name} heads home."
            self.world.move_npc(npc, home, leave, f"{name} comes back.")

        self._later(self.timings.home_delay, walk)

    def _later(self, delay: float, fn: Callable[[], None]) -> None:
        box: list[asyncio.TimerHandle] = []

        def run() -> None:
            self._pending.discard(box[0])
            if self.running:
                fn()

        box.append(self.scheduler.after(delay, run))
        self._pending.add(box[0])

    def _alive(self, npc: Npc) -> bool:
        return self.running and self.world.npcs.get(npc.id) is npc

    # -- hooks ------------------------------------------------------------------------------
    def _on_enter(self, player: Player, room: Room, **_: object) -> None:
        if self.running:
            self._arrived(player, room)

    def _on_login(self, player: Player, room: Room | None = None, **_: object) -> None:
        room = room or player.room
        if self.running and room is not None:
            self._arrived(player, room)

    def _arrived(self, player: Player, room: Room) -> None:
        for npc in room.npcs.values():
            self._wake(npc)
        for key in self.routes.get(room.key or "", ()):
            wanderer = self.world.npcs_by_key.get(key)
            if wanderer is not None:
                self._wake_wander(wanderer)
        now = self.scheduler.loop.time()
        for i, npc in enumerate(list(room.npcs.values())):
            self._greet(npc, player, room, now, i)

    def _on_npc_enter(self, npc: Npc, room: Room, greet: bool = True, **_: object) -> None:
        if not self.running or not room.players:
            return
        self._wake(npc)
        if not greet:  # an event brought it, with words of its own
            return
        now = self.scheduler.loop.time()
        for p in list(room.players.values()):
            self._greet(npc, p, room, now, 1)

    def _greet(self, npc: Npc, p: Player, room: Room, now: float, order: int) -> None:
        brain = self.brain(npc)
        if brain is None or npc.flags.get("silent"):
            return
        line = brain.greeting(p.id, p.name, now, self.timings.greet_cooldown, room.key)
        if line is None:
            return

        def greet() -> None:
            if self._alive(npc) and npc.room is room and p.room is room and p.online:
                self.act(npc, line)

        self._later(self.timings.greet_delay * (1 + GREET_STAGGER * order), greet)

    def _on_say(self, speaker: object, room: Room, text: str, **_: object) -> None:
        # Only dreamers are listened to: NPCs answering NPCs could talk forever.
        if not self.running or not isinstance(speaker, Player):
            return
        now = self.scheduler.loop.time()
        for npc in list(room.npcs.values()):
            brain = self.brain(npc)
            if brain is None or npc.flags.get("silent"):
                continue
            line = brain.hear(
                text, speaker.name, now, self.timings.hear_cooldown, room.key, self.events
            )
            if line is not None:
                self._later(self.timings.reply_delay, self._reply(npc, room, line))

    def _reply(self, npc: Npc, room: Room, line: Line) -> Callable[[], None]:
        def reply() -> None:
            if self._alive(npc) and npc.room is room:
                self.act(npc, line)

        return reply

    # -- idle chatter and wandering, only while someone is near -------------------------------
    def _wake(self, npc: Npc) -> None:
        self._wake_idle(npc)
        self._wake_wander(npc)

    def _wake_idle(self, npc: Npc) -> None:
        brain = self.brain(npc)
        if brain is None or npc.id in self._idle:
            return
        delay = brain.idle_delay(self.timings)
        if delay is not None:
            self._idle[npc.id] = self.scheduler.after(delay, lambda: self._idle_tick(npc))

    def _idle_tick(self, npc: Npc) -> None:
        self._idle.pop(npc.id, None)
        room = npc.room
        brain = self.brain(npc)
        if not self._alive(npc) or brain is None or room is None or not room.players:
            return  # nobody to hear it: sleep until someone arrives
        if not npc.flags.get("silent"):
            line = brain.idle(room.key)
            if line is not None:
                self.act(npc, line)
        self._wake_idle(npc)

    def _someone_near(self, npc: Npc, brain: Brain) -> bool:
        if npc.room is not None and npc.room.players:
            return True
        rooms = self.world.rooms_by_key
        return any((r := rooms.get(key)) is not None and r.players for key in brain.route)

    def _wake_wander(self, npc: Npc) -> None:
        brain = self.brain(npc)
        if brain is None or npc.id in self._wander:
            return
        delay = brain.wander_delay(self.timings)
        if delay is not None:
            self._wander[npc.id] = self.scheduler.after(delay, lambda: self._wander_tick(npc))

    def _wander_tick(self, npc: Npc) -> None:
        self._wander.pop(npc.id, None)
        brain = self.brain(npc)
        if not self._alive(npc) or brain is None or not self._someone_near(npc, brain):
            return
        if not npc.flags.get("still"):
            self._step(npc, brain)
        self._wake_wander(npc)

    def _step(self, npc: Npc, brain: Brain) -> None:
        here = npc.room
        if here is None:
            return
        dest = self.world.rooms_by_key.get(brain.next_stop(here.key) or "")
        if dest is None or dest is here or self.world.dreams.is_private(dest):
            return
        way = next((e for e in here.exits if e.dest_id == dest.id), None)
        back = next((e for e in dest.exits if e.dest_id == here.id), None)
        name = f"|y{npc.name}|n"
        leave = f"{name} leaves {way.name}." if way else f"{name} drifts out of sight."
        whence = FROM_WHERE.get(back.name, f"from the {back.name}") if back else "from nowhere"
        self.world.move_npc(npc, dest, leave, f"{name} arrives {whence}.")
