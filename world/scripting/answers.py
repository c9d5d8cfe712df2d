"""Waits dreamers answer: questions (`prompt`, answered with `choose`) and goals ("weave three
lines"), each open for its game time but at least a real-time minimum (min_real), announced
with the time left and a reminder near the end. See docs/events.md.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from world.scripting import schema as S
from world.scripting.lookup import count, fill, room
from world.scripting.runtime import PAUSE, Instance, ScriptError, StepError, StepResult

if TYPE_CHECKING:
    from world.model import Player, Room
    from world.scripting.runtime import EventRuntime


def _open_window(rt: EventRuntime, inst: Instance, where: Room, wait: float, min_real: float
                 ) -> str:  # fmt: skip
    """Time a wait dreamers must answer: `wait` game time, but at least `min_real` real
    seconds (capped by the runtime's min_real_cap). Returns the time they have, in words."""
    game = max(wait, rt.game_for(rt.min_real(min_real)))
    inst.wake_at = rt.now() + game
    real = rt.world.clock.real_delay(game)
    inst.data["window"] = {"room": where.id, "real": real}
    return S.format_real(real)


def remind(rt: EventRuntime, inst: Instance) -> None:
    """Near the end of a question or a goal: tell the room how long is left."""
    window = inst.data.get("window") or {}
    where = rt.world.rooms.get(window.get("room", -1))
    step = inst.spec.steps[inst.step]
    if where is None or not where.players:
        return
    left = S.format_real(rt.real_left(inst))
    if isinstance(step, S.Prompt):
        words = ", ".join(f"|wchoose {o.word}|y" for o in step.options)
        rt.world.broadcast(where, f"|y{left} left to choose: {words}.|n")
    elif isinstance(step, S.Goal):
        n = count(rt, inst, step.count, step.room)
        rt.world.broadcast(where, f"|y{left} left ({n} of {step.at_least} so far).|n")


def goal_reached(rt: EventRuntime, inst: Instance) -> bool:
    step = inst.spec.steps[inst.step]
    return isinstance(step, S.Goal) and count(rt, inst, step.count, step.room) >= step.at_least


def resolve_goal(rt: EventRuntime, inst: Instance) -> str | None:
    """A goal's time is up, or it was reached: go to `then` or `else`."""
    step = inst.spec.steps[inst.step]
    assert isinstance(step, S.Goal)
    return step.then if goal_reached(rt, inst) else step.else_


def goal(rt: EventRuntime, inst: Instance, s: S.Goal) -> StepResult:
    where = room(rt, inst, s.room)
    if where is None:
        if s.room is None:
            raise StepError("this event has no room to announce the goal in: give it a room:")
        return resolve_goal(rt, inst)  # its loop is gone: decided as things stand
    if goal_reached(rt, inst):
        return s.then
    have = _open_window(rt, inst, where, s.wait, s.min_real)
    n = count(rt, inst, s.count, s.room)
    rt.world.broadcast(where, f"|y{fill(rt, inst, s.text)}|n\n"
                              f"|wYou have {have} ({n} of {s.at_least} so far).|n")  # fmt: skip
    inst.state = "goal"
    return PAUSE


def prompt(rt: EventRuntime, inst: Instance, s: S.Prompt) -> StepResult:
    where = room(rt, inst, s.room)
    if where is None:
        if s.room is None:
            raise StepError("this event has no room to ask in: give the prompt a room:")
        return _option_goto(s, s.default or s.options[0].word)  # its loop is gone
    inst.data["prompt"] = {"step": inst.step, "room": where.id, "votes": {}}
    inst.state = "prompting"
    if not where.players:  # nobody to ask: the default stands at once
        inst.wake_at = rt.now()
        return PAUSE
    have = _open_window(rt, inst, where, s.wait, s.min_real)
    lines = [f"|y{fill(rt, inst, s.text)}|n"]
    for opt in s.options:
        about = f" — {fill(rt, inst, opt.text)}" if opt.text else ""
        lines.append(f"  |wchoose {opt.word}|n{about}")
    lines.append(f"|wYou have {have} to choose.|n")
    rt.world.broadcast(where, "\n".join(lines))
    return PAUSE


def _option_goto(s: S.Prompt, word: str) -> str | None:
    return next((o.goto for o in s.options if o.word == word), None)


def resolve_prompt(rt: EventRuntime, inst: Instance) -> str | None:
    """The prompt's time is up (or everyone answered): the most-chosen word wins; a tie goes
    to the default if it is among the tied, else to the first tied option in the file."""
    s = inst.spec.steps[inst.step]
    assert isinstance(s, S.Prompt)
    prompt = inst.data.pop("prompt", None) or {"votes": {}}
    tally = Counter(prompt["votes"].values())
    words = [o.word for o in s.options]
    default = s.default or words[0]
    if tally:
        best = max(tally.values())
        tied = [w for w in words if tally.get(w) == best]
        winner = default if default in tied else tied[0]
    else:
        winner = default
    if s.flag is not None:
        inst.flags[s.flag] = winner
    where = rt.world.rooms.get(prompt.get("room", -1))
    if where is not None and tally:
        votes = sum(tally.values())
        rt.world.broadcast(where, f"|yThe answer is |w{winner}|y "
                                  f"({tally[winner]} of {votes} chose it).|n")  # fmt: skip
    return _option_goto(s, winner)


def vote(rt: EventRuntime, inst: Instance, p: Player, word: str) -> str:
    s = inst.spec.steps[inst.step]
    assert isinstance(s, S.Prompt)
    words = [o.word for o in s.options]
    low = word.strip().lower()
    matches = [w for w in words if w == low] or [w for w in words if low and w.startswith(low)]
    if len(matches) != 1:
        raise ScriptError("Choose one of: " + ", ".join(words) + ".")
    prompt = inst.data["prompt"]
    prompt["votes"][str(p.id)] = matches[0]
    rt.save(inst)
    where = rt.world.rooms.get(prompt["room"])
    present = {str(q.id) for q in where.players.values()} if where is not None else set()
    if present and present <= set(prompt["votes"]):  # everyone here answered: decide now
        rt.wake_soon(inst)
    return f"You choose |w{matches[0]}|n."
