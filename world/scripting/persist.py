"""Keeping event state across restarts: flags, running instances and timed restores.

The runtime's durable half, as a component: rows go to the `event_state` table through the
world's staging (the Store's one writer), and come back at start-up. A wait is saved as the
game time it has *left*: the clock is derived from the wall clock and the time scale, so a
reading from before a restart means little after it.
"""

from __future__ import annotations

import json
import logging
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from world.scripting.runtime import EventRuntime, Instance

log = logging.getLogger("dreamwave.events")
PAUSED_STATES = ("waiting", "prompting", "goal")


def _ended(note: str, at: float) -> str:
    return f"{note} at {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(at))}"


class Persistence:
    """The event runtime's durable half: its `persist` component (the flags, instances and
    restores are the runtime's; the runtime's methods of the same names call these)."""

    def __init__(self, rt: EventRuntime) -> None:
        self.rt = rt
        self.world = rt.world

    # -- flags ------------------------------------------------------------------------------------
    def set_world_flag(self, name: str, value: Any) -> None:
        if value is None:
            self.rt.flags.pop(name, None)
        else:
            self.rt.flags[name] = value
        self.world.stage("event_state", "flags", self._flag_row("flags", self.rt.flags))

    def set_player_flag(self, pid: int, name: str, value: Any) -> None:
        flags = self.rt.player_flags.setdefault(pid, {})
        if value is None:
            flags.pop(name, None)
        else:
            flags[name] = value
        key = f"flags:{pid}"
        self.world.stage("event_state", key, self._flag_row(key, flags) if flags else None)

    @staticmethod
    def _flag_row(key: str, flags: dict[str, Any]) -> dict[str, Any]:
        return {
            "key": key, "name": "", "step": 0, "state": "flags", "flags": json.dumps(flags),
            "data": "{}", "wake_at": None, "updated_at": time.time(),
        }  # fmt: skip

    # -- persistence ----------------------------------------------------------------------------
    def save(self, inst: Instance) -> None:
        data = dict(inst.data)
        if inst.wake_at is not None:
            data["left"] = max(0.0, inst.wake_at - self.rt.now())
        steps = inst.spec.steps
        for i in range(min(inst.step, len(steps) - 1), -1, -1):
            if steps[i].id is not None:  # where we are, as "so many steps after a label"
                data["anchor"] = [steps[i].id, inst.step - i]
                break
        self.world.stage("event_state", f"run:{inst.name}", {
            "key": f"run:{inst.name}", "name": inst.name, "step": inst.step,
            "state": inst.state, "flags": json.dumps(inst.flags), "data": json.dumps(data),
            "wake_at": inst.wake_at, "updated_at": time.time(),
        })  # fmt: skip

    def record_history(self, name: str, note: str, at: float) -> None:
        """How an event's last run ended, kept across restarts (shown by @event list)."""
        self.rt.history[name] = _ended(note, at)
        key = f"last:{name}"
        self.world.stage("event_state", key, {
            "key": key, "name": name, "step": 0, "state": "history", "flags": "{}",
            "data": json.dumps({"note": note}), "wake_at": None, "updated_at": at,
        })  # fmt: skip

    def save_restores(self) -> None:
        now = self.rt.now()
        left = {str(eid): max(0.0, when - now) for eid, when in self.rt.restores.items()}
        row = None
        if left:
            row = {
                "key": "restores", "name": "", "step": 0, "state": "restores", "flags": "{}",
                "data": json.dumps(left), "wake_at": None, "updated_at": time.time(),
            }  # fmt: skip
        self.world.stage("event_state", "restores", row)

    def add_restore(self, exit_id: int, when: float) -> None:
        self.rt.restores[exit_id] = when
        self.rt._set_timer(f"restore:{exit_id}", when)
        self.save_restores()

    def drop_restore(self, exit_id: int) -> None:
        if self.rt.restores.pop(exit_id, None) is not None:
            self.rt._set_timer(f"restore:{exit_id}", None)
            self.save_restores()

    def save_all(self) -> None:
        """Record how much game time each wait has left (at shutdown): after a restart a wait
        resumes with that much to go, whatever the clock's speed is then."""
        for inst in self.rt.running.values():
            self.save(inst)
        self.save_restores()

    def load(self, rows: list[dict[str, Any]]) -> None:
        """Resume from the database: each instance at the step it had reached."""
        now = self.rt.now()
        for r in rows:
            key = r["key"]
            if key == "flags":
                self.rt.flags = json.loads(r["flags"] or "{}")
            elif key.startswith("flags:"):
                self.rt.player_flags[int(key[6:])] = json.loads(r["flags"] or "{}")
            elif key.startswith("last:"):
                note = json.loads(r["data"] or "{}").get("note", "ended")
                at = float(r["updated_at"] or 0.0)
                self.rt.history[r["name"]] = _ended(note, at)
            elif key == "restores":
                for eid, left in json.loads(r["data"] or "{}").items():
                    self.rt.restores[int(eid)] = now + float(left)
                    self.rt._set_timer(f"restore:{eid}", now + float(left))
        for r in rows:
            if r["key"].startswith("run:"):
                self._resume(r, now)

    def _resume(self, r: dict[str, Any], now: float) -> None:
        name = r["name"]
        spec = self.rt.specs.get(name)
        data = json.loads(r["data"] or "{}")
        if spec is None:
            log.warning("event %s was running but is no longer defined; dropping it", name)
            from world.scripting import effects

            effects.release_npcs(self.rt, data)
            self.world.stage("event_state", r["key"], None)
            return
        step = int(r["step"])
        anchor = data.pop("anchor", None)
        labels = spec.label_index()
        if anchor and anchor[0] in labels:
            # Steps count from the nearest label, so an edit elsewhere in the file while the
            # server was down doesn't shift where the instance picks up.
            step = labels[anchor[0]] + int(anchor[1])
        if step >= len(spec.steps):
            log.warning("event %s: its file changed and step %d is gone; dropping it",
                        name, step + 1)  # fmt: skip
            self.world.stage("event_state", r["key"], None)
            return
        from world.scripting.runtime import Instance

        inst = Instance(name, spec, step, r["state"], json.loads(r["flags"] or "{}"), data)
        if inst.state in PAUSED_STATES:
            inst.wake_at = now + float(data.pop("left", 0.0))
        self.rt.running[name] = inst
        log.info("event %s resumes at step %d (%s)", name, step + 1, inst.state)
        if inst.state in PAUSED_STATES:
            self.rt._set_timer(f"run:{name}", inst.wake_at)
            self.rt.arm_window(inst)
        else:
            inst.state = "running"
            self.rt._submit(lambda: self.rt._advance(inst))
