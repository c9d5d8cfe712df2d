"""The event interpreter: running instances, triggers, flags and timers, with no I/O.

Each running event is an `Instance`: which event, the step it is at, its own flags, a little
data (who set it off, its room, its loop, its open prompt) and, while it waits, the game time
it wakes at. The runtime advances an instance step by step until a step pauses it (a wait or
a prompt) or it ends. Time never passes inside the runtime: it keeps a table of *timers*
(game times) and tells its owner whenever one changes (`timer_changed`); the owner calls
`fire(key)` when that time comes. The server wires that to the one scheduler; tests call
`run_due()` with a hand-driven clock.

A step that breaks at run time (an NPC or room that isn't there any more) stops only its
own instance, with an error logged that names the file and line.
"""

from __future__ import annotations

import logging
import re
import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from world.clock import next_daily, next_multiple, phase_start_hour
from world.model import Player
from world.scripting import schema as S
from world.scripting.persist import PAUSED_STATES, Persistence

if TYPE_CHECKING:
    from world.dreams import Loop
    from world.model import Room
    from world.npcs import Npc
    from world.world import World

log = logging.getLogger("dreamwave.events")

MAX_STEPS_PER_RUN = 500  # steps one instance may take without pausing (a goto loop guard)
# At high time scales a recurring event (the dusk workshop) comes round every minute: the same
# line to the same room (an announcement, an invitation, an NPC's arrival or leaving) is shown
# at most once per REPEAT_QUIET real seconds.
REPEAT_QUIET = 120.0
MAX_REMEMBERED_LINES = 2000  # lines the repeat limiter remembers before it forgets old ones
GOAL_CHECK_EVERY = 1.0  # real seconds between checks whether a goal has been reached
REMIND_AT = 1 / 3  # of a question's or goal's real time: the reminder comes when this is left
_WORDS = re.compile(r"[a-z0-9']+")


class ScriptError(Exception):
    """A request the runtime refuses; the message is one sentence for the person asking."""


class StepError(Exception):
    """A step can't be carried out in the world as it is now; stops the instance."""


@dataclass
class Instance:
    name: str
    spec: S.EventSpec
    step: int = 0
    state: str = "running"  # running | waiting | prompting | done | stopped | failed
    flags: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    wake_at: float | None = None  # game seconds

    @property
    def act(self) -> str:
        return str(self.data.get("act") or "")


class Pause:
    """Returned by a step that parks its instance (the step set state and wake_at)."""


class EndRun:
    """Returned by a step that ends the event."""


PAUSE = Pause()
END = EndRun()
StepResult = None | str | Pause | EndRun  # next step, a label, pause, end


def words(text: str) -> list[str]:
    return _WORDS.findall(text.lower())


def said(text: str, keyword: str) -> bool:
    """Does `text` contain `keyword` (a word or phrase) as whole words?"""
    have, want = words(text), words(keyword)
    n = len(want)
    return n > 0 and any(have[i : i + n] == want for i in range(len(have) - n + 1))


def _no_timer(key: str, when: float | None) -> None:
    pass


def _no_release(npc: Npc) -> None:
    pass


class EventRuntime:
    """Runs the event scripts. What it keeps across restarts goes through its `persist`
    component (world/scripting/persist.py); its methods of the same names call that one."""

    def __init__(
        self, world: World, specs: dict[str, S.EventSpec],
        now: Callable[[], float] | None = None, *,
        timer_changed: Callable[[str, float | None], None] | None = None,
        npc_released: Callable[[Npc], None] | None = None,
        min_real_cap: float | None = None,
    ) -> None:  # fmt: skip
        """`timer_changed(key, when)`: a timer was set (game time) or cancelled (None), for
        whoever wakes the runtime; `npc_released(npc)`: an NPC an event moved was let go by
        every event (the NPC runtime walks it home); `min_real_cap` caps every step's
        real-time minimum (min_real), e.g. 2 s in tests; None: as written."""
        self.world = world
        self.specs: dict[str, S.EventSpec] = {}
        self.enter_rooms: set[str] = set()  # rooms some event listens for arrivals in
        self.listens_for_speech = False
        self._index(specs)
        self._clock = now or (lambda: world.clock.game_seconds())
        self._at: float | None = None  # while a timer fires: its own time
        self.running: dict[str, Instance] = {}
        self.flags: dict[str, Any] = {}  # world flags
        self.player_flags: dict[int, dict[str, Any]] = {}
        self.restores: dict[int, float] = {}  # exit id -> game time it heals
        self.timers: dict[str, float] = {}  # key -> game time
        self.history: dict[str, str] = {}  # event -> how its last run ended
        self.timer_changed = timer_changed or _no_timer
        self.npc_released = npc_released or _no_release
        self.min_real_cap = min_real_cap
        self.repeat_quiet = REPEAT_QUIET
        self.real_now: Callable[[], float] = time.monotonic
        self._shown: dict[tuple[Hashable, ...], float] = {}
        self._queue: deque[Callable[[], object]] = deque()  # (what a job returns is dropped)
        self._busy = False
        self.persist = Persistence(self)  # flags, instances and restores, durable

    # -- what is kept across restarts: the persist component's (world/scripting/persist.py) ---
    def set_world_flag(self, name: str, value: Any) -> None:
        self.persist.set_world_flag(name, value)

    def set_player_flag(self, pid: int, name: str, value: Any) -> None:
        self.persist.set_player_flag(pid, name, value)

    def save(self, inst: Instance) -> None:
        self.persist.save(inst)

    def record_history(self, name: str, note: str, at: float) -> None:
        self.persist.record_history(name, note, at)

    def add_restore(self, exit_id: int, when: float) -> None:
        self.persist.add_restore(exit_id, when)

    def drop_restore(self, exit_id: int) -> None:
        self.persist.drop_restore(exit_id)

    def save_all(self) -> None:
        self.persist.save_all()

    def load(self, rows: list[dict[str, Any]]) -> None:
        self.persist.load(rows)

    def now(self) -> float:
        """Game time. While a timer fires it is the timer's own time, so a run of waits keeps
        to its timeline even when the server is a little late waking it."""
        return self._at if self._at is not None else self._clock()

    # -- real time: minimums for waits dreamers answer, and the repeat limiter -----------------
    def game_for(self, real_seconds: float) -> float:
        """Game seconds that pass in `real_seconds` at the clock's speed now."""
        return self.world.clock.game_delay(real_seconds)

    def real_left(self, inst: Instance) -> float:
        """Real seconds until a paused instance wakes, at the clock's speed now."""
        return self.world.clock.real_delay((inst.wake_at or 0.0) - self.now())

    def min_real(self, seconds: float) -> float:
        cap = self.min_real_cap
        return seconds if cap is None else min(seconds, max(0.0, cap))

    def fresh(self, *key: Hashable) -> bool:
        """True (and remembered) unless this line went to this target within repeat_quiet
        real seconds: what the repeat limiter asks before an event shows a line."""
        now = self.real_now()
        last = self._shown.get(key)
        if last is not None and now - last < self.repeat_quiet:
            return False
        if len(self._shown) >= MAX_REMEMBERED_LINES:
            old = [k for k, t in self._shown.items() if now - t >= self.repeat_quiet]
            for k in old or list(self._shown)[: MAX_REMEMBERED_LINES // 2]:
                del self._shown[k]
        self._shown[key] = now
        return True

    def arm_window(self, inst: Instance) -> None:
        """The timers of an open question or goal: its reminder, and a goal's checks."""
        window = inst.data.get("window")
        if not window or inst.wake_at is None:
            return
        before = self.game_for(float(window["real"]) * REMIND_AT)
        if inst.wake_at - self.now() > before and float(window["real"]) >= 2:
            self._set_timer(f"remind:{inst.name}", inst.wake_at - before)
        if inst.state == "goal":
            self._set_timer(f"check:{inst.name}", self.now() + self.game_for(GOAL_CHECK_EVERY))

    def _close_window(self, inst: Instance) -> None:
        inst.data.pop("window", None)
        self._set_timer(f"remind:{inst.name}", None)
        self._set_timer(f"check:{inst.name}", None)

    # -- what NPC scripts may ask (world/npc_behaviour.EventState) ----------------------------
    def world_flag(self, name: str) -> Any:
        return self.flags.get(name)

    def event_running(self, name: str) -> bool:
        return name in self.running

    # -- the work queue: events that start events run after the current one pauses ------------
    def _submit(self, job: Callable[[], None]) -> None:
        self._queue.append(job)
        if self._busy:
            return
        self._busy = True
        try:
            while self._queue:
                self._queue.popleft()()
        finally:
            self._busy = False

    # -- timers ---------------------------------------------------------------------------------
    def _set_timer(self, key: str, when: float | None) -> None:
        if when is None:
            if self.timers.pop(key, None) is None:
                return
        else:
            self.timers[key] = when
        self.timer_changed(key, when)

    def fire(self, key: str) -> None:
        """A timer's game time has come (called by the scheduler, or run_due in tests)."""
        when = self.timers.pop(key, None)
        if when is None:
            return
        outer, self._at = self._at, min(when, self._clock())
        try:
            self._fire(key)
        finally:
            self._at = outer

    def _fire(self, key: str) -> None:
        kind, _, rest = key.partition(":")
        if kind == "run":
            inst = self.running.get(rest)
            if inst is not None and inst.state in PAUSED_STATES:
                self._submit(partial(self._wake, inst))
        elif kind in ("remind", "check"):
            inst = self.running.get(rest)
            if inst is not None and inst.state in PAUSED_STATES and inst.data.get("window"):
                if kind == "remind":
                    answers.remind(self, inst)
                elif answers.goal_reached(self, inst):
                    self.wake_soon(inst)
                else:
                    self._set_timer(key, self.now() + self.game_for(GOAL_CHECK_EVERY))
        elif kind == "restore":
            self.restores.pop(int(rest), None)
            self.persist.save_restores()
            ex = self.world.exits.get(int(rest))
            if ex is not None:
                effects.heal(self, ex)
        elif kind == "schedule":
            name, _, index = rest.rpartition(":")
            self._arm_schedule(name, int(index))
            if name in self.specs:
                self.start(name, by="schedule")

    def wake_soon(self, inst: Instance) -> None:
        """Wake a paused instance as soon as the owner's timers allow (not inside this call,
        so whoever caused it hears their own reply first)."""
        inst.wake_at = self.now()
        self._set_timer(f"run:{inst.name}", inst.wake_at)

    def run_due(self) -> int:
        """Fire every timer that is due by the clock, earliest first (tests and tools)."""
        fired = 0
        while True:
            now = self.now() + 1e-6  # float rounding must not hold back a timer that is due
            due = [(when, key) for key, when in self.timers.items() if when <= now]
            if not due:
                return fired
            self.fire(min(due)[1])
            fired += 1

    def arm_schedules(self) -> None:
        """(Re)compute the next firing of every schedule trigger."""
        for key in [k for k in self.timers if k.startswith("schedule:")]:
            self._set_timer(key, None)
        for name, spec in self.specs.items():
            for i, t in enumerate(spec.triggers):
                if isinstance(t, S.ScheduleTrigger):
                    self._arm_schedule(name, i)

    def _arm_schedule(self, name: str, index: int) -> None:
        spec = self.specs.get(name)
        t = spec.triggers[index] if spec is not None and index < len(spec.triggers) else None
        if not isinstance(t, S.ScheduleTrigger):
            return
        now = self.now()
        if t.phase is not None:
            when = next_daily(now, phase_start_hour(t.phase))
        elif t.at is not None:
            when = next_daily(now, t.at)
        else:
            when = next_multiple(now, t.every or 3600.0)
        self._set_timer(f"schedule:{name}:{index}", when)

    # -- starting and stopping --------------------------------------------------------------------
    def start(
        self, name: str, *, actor: Player | None = None, room: Room | None = None,
        loop: Loop | None = None, by: str = "manual",
    ) -> Instance | None:  # fmt: skip
        """Begin an event. None if it is already running (an event runs once at a time)."""
        spec = self.specs.get(name)
        if spec is None:
            raise ScriptError(f"There is no event called '{name}'.")
        if name in self.running:
            return None
        if room is None and spec.room is not None:
            room = self.world.rooms_by_key.get(spec.room)
        if room is None and loop is not None and loop.room_id is not None:
            room = self.world.rooms.get(loop.room_id)
        data: dict[str, Any] = {"by": by, "started": time.time(), "severed": [], "npcs": []}
        if actor is not None:
            data["actor"] = actor.id
        if room is not None:
            data["room"] = room.id
        if loop is not None:
            data["loop"] = loop.id
        inst = Instance(name, spec, data=data)
        self.running[name] = inst
        # Instant reactions (a greeting at a gate) would flood the log: only long runs are news.
        log.debug("event %s starts (%s)", name, by)
        self._submit(lambda: self._advance(inst))
        return inst

    def stop(self, name: str, by: str = "stopped") -> bool:
        inst = self.running.get(name)
        if inst is None:
            return False
        self._end(inst, "stopped", by)
        return True

    def _wake(self, inst: Instance) -> None:
        if self.running.get(inst.name) is not inst:
            return
        self._close_window(inst)
        if inst.state in ("prompting", "goal"):
            prompting = inst.state == "prompting"
            resolve = answers.resolve_prompt if prompting else answers.resolve_goal
            target = resolve(self, inst)
            inst.state = "running"
            inst.wake_at = None
            self._goto(inst, target)
        else:
            inst.state = "running"
            inst.wake_at = None
            inst.step += 1
        self._advance(inst)

    def _goto(self, inst: Instance, target: str | None) -> None:
        if target is None:
            inst.step += 1
        else:
            inst.step = inst.spec.label_index()[target]

    def _advance(self, inst: Instance) -> None:
        steps = inst.spec.steps
        budget = MAX_STEPS_PER_RUN
        while inst.state == "running" and self.running.get(inst.name) is inst:
            if inst.step >= len(steps):
                self._end(inst, "done", "finished")
                return
            budget -= 1
            if budget < 0:
                self._fail(inst, f"ran {MAX_STEPS_PER_RUN} steps without waiting "
                                 "(a goto loop with no wait in it?)")  # fmt: skip
                return
            step = steps[inst.step]
            if step.act is not None:
                inst.data["act"] = step.act
            if step.id is not None:
                inst.data["step_id"] = step.id
                self._reached(inst, step.id)
            try:
                result = effects.run_step(self, inst, step)
            except StepError as err:
                self._fail(inst, str(err))
                return
            except Exception as err:  # a bug in a step must not take the server down
                log.exception("event %s: step %d crashed", inst.name, inst.step + 1)
                self._fail(inst, f"internal error: {err}")
                return
            if isinstance(result, Pause):
                if not inst.data.get("paused"):
                    inst.data["paused"] = True
                    log.info("event %s is running (%s)", inst.name, inst.data.get("by", "?"))
                self._set_timer(f"run:{inst.name}", inst.wake_at)
                self.arm_window(inst)
                self.save(inst)
                return
            if isinstance(result, EndRun):
                self._end(inst, "done", "ended")
                return
            self._goto(inst, result)

    def _reached(self, inst: Instance, label: str) -> None:
        for name, spec in self.specs.items():
            for t in spec.triggers:
                if isinstance(t, S.StepTrigger) and t.event == inst.name and t.step == label:
                    actor = self.world.players.get(inst.data.get("actor", -1))
                    self._queue.append(
                        partial(self.start, name, actor=actor, by=f"{inst.name}:{label}")
                    )

    def _fail(self, inst: Instance, why: str) -> None:
        kind = inst.spec.steps[min(inst.step, len(inst.spec.steps) - 1)].do
        log.error(
            "event %s stopped: %s: step %d (%s): %s",
            inst.name, inst.spec.where(inst.step), inst.step + 1, kind, why,
        )  # fmt: skip
        self._end(inst, "failed", f"failed at step {inst.step + 1} ({kind}): {why}")

    def _end(self, inst: Instance, state: str, note: str) -> None:
        """Leave the world tidy: the event's loop closes; a stopped or failed event also
        heals the links it severed (a finished one has said itself what stays cut)."""
        if self.running.get(inst.name) is not inst:
            return
        del self.running[inst.name]
        inst.state = state
        self._set_timer(f"run:{inst.name}", None)
        self._close_window(inst)
        effects.tidy(self, inst, heal_links=state != "done")
        self.world.stage("event_state", f"run:{inst.name}", None)
        self.record_history(inst.name, note, time.time())
        quick = state == "done" and not inst.data.get("paused")
        log.log(logging.DEBUG if quick else logging.INFO, "event %s %s", inst.name, note)

    # -- triggers from the world ---------------------------------------------------------------
    def on_enter(self, player: Player, room: Room, source: Room | None = None) -> None:
        if room.key not in self.enter_rooms:
            return
        for name, spec in self.specs.items():
            if any(isinstance(t, S.EnterTrigger) and t.room == room.key for t in spec.triggers):
                self.start(name, actor=player, room=room, by=f"{player.name} entered")

    def on_say(self, speaker: object, room: Room, text: str) -> None:
        if not self.listens_for_speech or not isinstance(speaker, Player):
            return  # NPC lines never set events off: no echo loops
        for name, spec in self.specs.items():
            for t in spec.triggers:
                if not isinstance(t, S.SayTrigger) or (t.room and t.room != room.key):
                    continue
                if any(said(text, k) for k in t.keywords):
                    self.start(name, actor=speaker, room=room, by=f"{speaker.name} said it")
                    break

    def on_stability(self, loop: Loop, old: int, new: int) -> None:
        host = self.world.npcs.get(loop.host_id) if loop.host_id is not None else None
        for name, spec in self.specs.items():
            for t in spec.triggers:
                if not isinstance(t, S.StabilityTrigger):
                    continue
                if t.host is not None and (host is None or host.key != t.host):
                    continue
                crossed = (
                    (t.below is not None and old >= t.below > new)
                    or (t.above is not None and old <= t.above < new)
                )  # fmt: skip
                if crossed:
                    self.start(name, loop=loop, by=f"loop stability {old}->{new}")
                    break

    # -- prompts ----------------------------------------------------------------------------------
    def prompt_here(self, room: Room | None) -> Instance | None:
        for inst in self.running.values():
            prompt = inst.data.get("prompt")
            if (
                inst.state == "prompting"
                and prompt
                and room is not None
                and prompt["room"] == room.id
            ):
                return inst
        return None

    def choose(self, player: Player, word: str) -> str:
        """`choose <word>`: a vote on the question offered where the player stands."""
        inst = self.prompt_here(player.room)
        if inst is None:
            raise ScriptError("Nothing is being asked here right now.")
        return answers.vote(self, inst, player, word)

    # -- reloading -------------------------------------------------------------------------------
    def replace_specs(self, specs: dict[str, S.EventSpec]) -> None:
        """New definitions for new runs; running instances finish the version they began."""
        self._index(specs)
        self.arm_schedules()

    def _index(self, specs: dict[str, S.EventSpec]) -> None:
        # Every move and every line said passes through the hooks: answer "not here" cheaply.
        self.specs = dict(specs)
        triggers = [t for spec in specs.values() for t in spec.triggers]
        self.enter_rooms = {t.room for t in triggers if isinstance(t, S.EnterTrigger)}
        self.listens_for_speech = any(isinstance(t, S.SayTrigger) for t in triggers)


# Steps live in their own module, which needs the names above: imported last on purpose.
from world.scripting import answers, effects  # noqa: E402
