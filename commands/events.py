"""World events: answering their questions, declining a host's loop, and running them (@event)."""

from __future__ import annotations

import time

from commands.api import NOTHING, CommandError, Ctx, command
from commands.building import CATEGORY
from world.scripting import schema as S
from world.scripting.runtime import EventRuntime, Instance, ScriptError
from world.words import list_words

STATUS_FLAGS_MAX = 20  # flags one status line lists before "..."


def _runtime(ctx: Ctx) -> EventRuntime:
    return ctx.app.events.runtime


@command("choose", aliases=("vote",), category="Dreams", publishes=NOTHING)
def cmd_choose(ctx: Ctx) -> None:
    """Answer a question an event is asking everyone where you are.

    Usage:
      choose             hear the question again
      choose <option>    give your answer (you may change it until time is up)
    The answer most dreamers here choose is what happens.
    """
    rt = _runtime(ctx)
    word = ctx.args.strip()
    if not word:
        inst = rt.prompt_here(ctx.player.room)
        if inst is None:
            raise CommandError("Nothing is being asked here right now.")
        step = inst.spec.steps[inst.step]
        assert isinstance(step, S.Prompt)
        options = ", ".join(f"|w{o.word}|n" for o in step.options)
        left = S.format_real(rt.real_left(inst))
        ctx.send(f"|y{step.text}|n\nChoose one of: {options}. ({left} left.)")
        return
    try:
        ctx.send(rt.choose(ctx.player, word))
    except ScriptError as err:
        raise CommandError(str(err)) from None


@command("decline", category="Dreams", publishes=NOTHING)
def cmd_decline(ctx: Ctx) -> None:
    """Turn down an invitation into a loop someone is hosting.

    Usage:
      decline            every invitation waiting for you
      decline <host>     just that one, e.g. |wdecline lyra|n
    Ignoring an invitation is fine too: you only join if you |wmerge <host>|n.
    """
    ds = ctx.world.dreams
    p = ctx.player
    word = ctx.args.strip()
    loops = [ds.find_hosted_invitation(p, word)] if word else ds.hosted_invitations(p)
    loops = [lp for lp in loops if lp is not None]
    if not loops:
        raise CommandError(
            "No one is inviting you into a loop" + (f" called '{word}'." if word else ".")
        )
    for loop in loops:
        ds.decline_hosted(p, loop)
        ctx.send(f"You politely decline to join |w{loop.title}|n.")


# -- @event -----------------------------------------------------------------------------------
def _state(rt: EventRuntime, inst: Instance | None, name: str) -> str:
    if inst is None:
        return "idle" + (f" (last: {rt.history[name]})" if name in rt.history else "")
    act = f", act: {inst.act}" if inst.act else ""
    return f"{inst.state} at step {inst.step + 1}{act}"


def _when(ctx: Ctx, wake_at: float | None) -> str:
    if wake_at is None:
        return "none"
    clock = ctx.world.clock
    left = wake_at - clock.game_seconds()
    real = clock.real_delay(left)
    hour = (wake_at / 3600) % 24
    return (f"in {S.format_duration(left)} of game time (about {real:.0f}s real), "
            f"at {int(hour):02d}:{int(hour % 1 * 60):02d}")  # fmt: skip


def _flags(flags: dict[str, object]) -> str:
    items = [f"{k}={v}" for k, v in sorted(flags.items())]
    if len(items) > STATUS_FLAGS_MAX:
        items = [*items[:STATUS_FLAGS_MAX], "..."]
    return ", ".join(items) or "none"


def _status_one(ctx: Ctx, rt: EventRuntime, name: str) -> str:
    inst = rt.running.get(name)
    spec = inst.spec if inst is not None else rt.specs.get(name)
    if spec is None:
        raise CommandError(f"There is no event called '{name}'. |w@event list|n shows them.")
    lines = [f"|w{spec.name}|n — {spec.title}  |X[{spec.where(0).rsplit(':', 1)[0]}]|n",
             f"  triggers: {spec.trigger_text()}"]  # fmt: skip
    if inst is None:
        lines.append(f"  state: {_state(rt, None, name)}")
        return "\n".join(lines)
    step = spec.steps[min(inst.step, len(spec.steps) - 1)]
    label = f", last label '{inst.data['step_id']}'" if inst.data.get("step_id") else ""
    by = inst.data.get("by", "?")
    ago = int(time.time() - float(inst.data.get("started", time.time())))
    lines += [
        f"  state: {inst.state}, act: {inst.act or '-'}",
        f"  step: {inst.step + 1} of {len(spec.steps)} ({step.do}{label}) {spec.where(inst.step)}",
        f"  started: {by}, {ago}s ago",
        f"  flags: {_flags(inst.flags)}",
        f"  next wake-up: {_when(ctx, inst.wake_at)}",
    ]
    lid = inst.data.get("loop")
    loop = ctx.world.dreams.loops.get(lid) if lid is not None else None
    if loop is not None:
        lines.append(
            f"  loop: #{loop.id} {loop.title!r}, {loop.state}, stability {loop.stability}, "
            f"{len(loop.participants)} in it, {len(loop.former)} joined, "
            f"{len(loop.invited)} invited"
        )
    prompt = inst.data.get("prompt")
    if prompt is not None:
        votes = list(prompt["votes"].values())
        tally = ", ".join(f"{w} {votes.count(w)}" for w in sorted(set(votes))) or "no votes yet"
        lines.append(f"  prompt: {tally}")
    severed = [ctx.world.exits[i] for i in inst.data.get("severed", []) if i in ctx.world.exits]
    if severed:
        lines.append("  severed: " + ", ".join(f"{ex.room.name} {ex.name}" for ex in severed))
    return "\n".join(lines)


def _status_all(ctx: Ctx, rt: EventRuntime) -> str:
    lines = ["|wRunning events|n"]
    for name, inst in sorted(rt.running.items()):
        lines.append(f"  {name:<24} {_state(rt, inst, name)}; wakes {_when(ctx, inst.wake_at)}")
    if not rt.running:
        lines.append("  none")
    lines.append(f"World flags: {_flags(rt.flags)}")
    if rt.restores:
        heal = min(rt.restores.values())
        lines.append(f"Timed restores: {len(rt.restores)} link(s), the next {_when(ctx, heal)}")
    lines.append("|w@event status <name>|n for one event.")
    return "\n".join(lines)


def _list(ctx: Ctx, rt: EventRuntime) -> str:
    names = sorted(set(rt.specs) | set(rt.running))
    lines = [f"|wEvents|n ({len(names)}): name, title; trigger; state"]
    for name in names:
        inst = rt.running.get(name)
        spec = inst.spec if inst is not None else rt.specs[name]
        gone = " (removed; finishing its run)" if name not in rt.specs else ""
        lines.append(f"  |w{name}|n  {spec.title}{gone}")
        lines.append(f"      trigger: {spec.trigger_text()}; {_state(rt, inst, name)}")
    problems = ctx.app.events.problems
    if problems:
        lines.append(f"|r{len(problems)} problem(s) in the event files|n (see the server log).")
    return "\n".join(lines)


@command("@event", aliases=("@events",), category=CATEGORY, role="builder", publishes=NOTHING)
def cmd_event(ctx: Ctx) -> None:
    """See and run world events (the scripts in world/events/).

    Usage:
      @event list               every event: name, title, trigger, state
      @event status [<name>]    what is running: act, step, flags, next wake-up
      @event start <name>       begin an event now (admins)
      @event stop <name>        end a running event; it tidies up (admins)
      @event reload             re-read the files; swapped in only if all are valid (admins)
    Builders may look; only admins may start, stop or reload.
    """
    sub, _, rest = ctx.args.strip().partition(" ")
    sub, rest = sub.lower() or "list", rest.strip().lower()
    rt = _runtime(ctx)
    if sub == "list":
        ctx.send(_list(ctx, rt))
        return
    if sub == "status":
        ctx.send(_status_one(ctx, rt, rest) if rest else _status_all(ctx, rt))
        return
    if sub not in ("start", "stop", "reload"):
        raise CommandError(
            "Usage: @event list | status [<name>] | start <name> | stop <name> | reload"
        )
    if not ctx.player.has_role("admin"):
        raise CommandError("Only admins may start, stop or reload events; you may list and status.")
    if sub == "reload":
        ctx.session.run_task(_reload(ctx, rt))
        return
    if not rest:
        raise CommandError(f"Usage: @event {sub} <name>")
    if sub == "start":
        try:
            inst = rt.start(rest, by=f"manual by {ctx.player.name}")
        except ScriptError as err:
            raise CommandError(str(err)) from None
        if inst is None:
            raise CommandError(f"{rest} is already running; |w@event status {rest}|n shows where.")
        ctx.world.audit(ctx.player, "event", f"start {rest}")
        ctx.send(f"You start |w{rest}|n. ({_state(rt, rt.running.get(rest), rest)})")
        return
    if not rt.stop(rest, by=f"stopped by {ctx.player.name}"):
        raise CommandError(f"{rest} isn't running.")
    ctx.world.audit(ctx.player, "event", f"stop {rest}")
    ctx.send(f"You stop |w{rest}|n; its loop is closed and the links it cut are restored.")


async def _reload(ctx: Ctx, rt: EventRuntime) -> None:
    """The files are read off the event loop; the player's further input waits meanwhile."""
    try:
        await _reload_files(ctx, rt)
    finally:
        mode = ctx.session.mode
        if mode is not None and not ctx.session.closed:
            mode.prompt()


async def _reload_files(ctx: Ctx, rt: EventRuntime) -> None:
    problems = await ctx.app.events.reload_async()
    if problems:
        shown = "\n".join(f"  {p}" for p in problems[:20])
        ctx.send(f"|rThe event files have {len(problems)} problem(s); nothing was "
                 f"changed:|n\n{shown}")  # fmt: skip
        return
    ctx.world.audit(ctx.player, "event", "reload")
    ctx.send(f"Reloaded {len(rt.specs)} event(s): {list_words(sorted(rt.specs))}. "
             "Running events finish the version they began with.")  # fmt: skip
