"""What each step does to the world, through the World and Dreamscape APIs only.

A step returns None (go on to the next step), a label (go there), PAUSE (the instance now
waits; the step set its state and wake time) or END. A step that can't act on the world as
it is raises StepError, which stops its instance alone. Steps that need the event's loop do
nothing once that loop has ended: a collapse is part of the story, not a fault.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from world.scripting import answers
from world.scripting import schema as S
from world.scripting.lookup import actor, count, fill, loop_of, npc, players, room
from world.scripting.runtime import END, PAUSE, Instance, StepError, StepResult
from world.words import capitalise_first

if TYPE_CHECKING:
    from world.dreams import Loop
    from world.model import Exit, Room
    from world.npcs import Npc
    from world.scripting.runtime import EventRuntime

DEFAULT_SEVERED = "The way {exit} is severed: only static hisses where the link should be."
DEFAULT_LOOP_DESC = (
    "Threads of many dreams braid into one bright room here, and {host} stands at its heart, "
    "holding the loose ends together. Everything woven here is heard by everyone in it."
)
HEADING = "Woven into it:"


# -- steps --------------------------------------------------------------------------------------
def _say(rt: EventRuntime, inst: Instance, s: S.Say) -> StepResult:
    who = npc(rt, inst, s.npc)
    rt.world.say(who, fill(rt, inst, s.text))
    return None


def _emote(rt: EventRuntime, inst: Instance, s: S.Emote) -> StepResult:
    who = npc(rt, inst, s.npc)
    rt.world.emote(who, fill(rt, inst, s.text))
    return None


def _move(rt: EventRuntime, inst: Instance, s: S.Move) -> StepResult:
    who = npc(rt, inst, s.npc)
    dest = room(rt, inst, s.to)
    if dest is None or dest is who.room:  # the loop is gone, or already there
        return None
    leave = fill(rt, inst, s.leave) if s.leave else f"|y{who.name}|n leaves."
    arrive = fill(rt, inst, s.arrive) if s.arrive else f"|y{who.name}|n arrives."
    src = who.room
    show = (
        src is None or rt.fresh("move", src.id, who.key, leave),
        rt.fresh("move", dest.id, who.key, arrive),
    )  # the repeat limiter: a recurring event's comings and goings don't flood a room
    moved = inst.data.setdefault("moved", [])
    if s.npc not in moved:
        moved.append(s.npc)
    rt.world.move_npc(who, dest, leave, arrive, show=show, greet=False)
    return None


def _announce(rt: EventRuntime, inst: Instance, s: S.Announce) -> StepResult:
    text = fill(rt, inst, s.text)
    world = rt.world
    target: str | tuple[str, str | int] | None = (
        "everyone" if s.everyone else ("zone", s.zone) if s.zone else None
    )
    if target is None and not s.actor:
        where = room(rt, inst, s.room)
        target = ("room", where.id) if where is not None else None
    if target is not None and not rt.fresh("announce", target, text):
        return None  # the same words reached the same place a moment ago
    if s.everyone:
        world.announce(text)
    elif s.actor:
        a = actor(rt, inst)
        if a is not None:
            a.send(text)
    elif s.zone is not None:
        targets = [
            p.session for p in world.online.values()
            if p.session is not None and p.room is not None and p.room.zone == s.zone
        ]  # fmt: skip
        if targets:
            world.observer.fanout(targets, text)
    else:
        where = room(rt, inst, s.room)
        if where is None and s.room is None:
            raise StepError("this event has no room to announce in: give room:, zone: or "
                            "everyone: true")  # fmt: skip
        if where is not None:
            world.broadcast(where, text)
    return None


def _wait(rt: EventRuntime, inst: Instance, s: S.Wait) -> StepResult:
    inst.state = "waiting"
    least = rt.game_for(rt.min_real(s.min_real)) if s.min_real else 0.0
    inst.wake_at = rt.now() + max(s.for_, least)
    return PAUSE


def _flag_targets(rt: EventRuntime, inst: Instance, scope: str) -> list[int]:
    return [p.id for p in players(rt, inst, scope)]


def _set(rt: EventRuntime, inst: Instance, s: S.SetFlag | S.ClearFlag) -> StepResult:
    value = s.value if isinstance(s, S.SetFlag) else None
    if s.scope == "event":
        if value is None:
            inst.flags.pop(s.flag, None)
        else:
            inst.flags[s.flag] = value
    elif s.scope == "world":
        rt.set_world_flag(s.flag, value)
    else:
        for pid in _flag_targets(rt, inst, s.scope):
            rt.set_player_flag(pid, s.flag, value)
    return None


def _if(rt: EventRuntime, inst: Instance, s: S.If) -> StepResult:
    if s.flag is not None:
        if s.scope == "event":
            value = inst.flags.get(s.flag)
        elif s.scope == "world":
            value = rt.flags.get(s.flag)
        else:
            a = actor(rt, inst)
            value = rt.player_flags.get(a.id, {}).get(s.flag) if a is not None else None
        ok = bool(value) if s.is_ is None else value == s.is_
    elif s.event is not None:
        ok = s.event in rt.running
    else:
        n = count(rt, inst, s.count or "players", s.room)
        ok = (s.at_least is None or n >= s.at_least) and (s.at_most is None or n <= s.at_most)
    return s.then if ok else s.else_


def _goto(rt: EventRuntime, inst: Instance, s: S.Goto) -> StepResult:
    return s.to


def _end(rt: EventRuntime, inst: Instance, s: S.End) -> StepResult:
    return END


def _exits(rt: EventRuntime, s: S.Sever | S.Restore) -> list[Exit]:
    src = rt.world.rooms_by_key.get(s.room or "")
    if src is None:
        raise StepError(f"there is no room {s.room!r} in the world")
    ex = src.find_exit((s.exit or "").lower())
    if ex is None:
        raise StepError(f"room {s.room!r} has no exit {s.exit!r}")
    out = [ex]
    dest = rt.world.exit_destination(ex)
    if dest is not None and not getattr(s, "one_way", False):
        out += [back for back in dest.exits if back.dest_id == src.id]
    return out


def _sever(rt: EventRuntime, inst: Instance, s: S.Sever) -> StepResult:
    world = rt.world
    for ex in _exits(rt, s):
        message = fill(rt, inst, s.message or DEFAULT_SEVERED.replace("{exit}", ex.name))
        if not ex.attrs.get("severed"):
            world.broadcast(ex.room, f"|rThe way {ex.name} flickers and goes dark.|n")
        world.set_attr(ex, "severed", message)
        if ex.id not in inst.data["severed"]:
            inst.data["severed"].append(ex.id)
        if s.for_ is not None:
            rt.add_restore(ex.id, rt.now() + s.for_)
        else:
            rt.drop_restore(ex.id)
    return None


def heal(rt: EventRuntime, ex: Exit) -> None:
    """Make a severed exit passable again, and say so on its side."""
    rt.drop_restore(ex.id)
    if ex.attrs.get("severed") and ex.id in rt.world.exits:
        rt.world.set_attr(ex, "severed", None)
        rt.world.broadcast(ex.room, f"|gThe way {ex.name} shimmers back into being.|n")


def _restore(rt: EventRuntime, inst: Instance, s: S.Restore) -> StepResult:
    if s.all:
        exits = [rt.world.exits[i] for i in inst.data["severed"] if i in rt.world.exits]
    else:
        exits = _exits(rt, s)
    for ex in exits:
        heal(rt, ex)
        if ex.id in inst.data["severed"]:
            inst.data["severed"].remove(ex.id)
    return None


def _invite(rt: EventRuntime, inst: Instance, where: Room | None, host: Npc, loop: Loop) -> None:
    if where is None:
        return
    dreams = rt.world.dreams
    for p in dreams.invite_hosted(loop, list(where.players.values())):
        if not rt.fresh("invite", p.id, host.key, loop.title):
            continue  # invited to the same kind of loop a moment ago
        p.send(
            f"|m{host.name} opens |w{loop.title}|m and invites you in. Type "
            f"|wmerge {host.key}|m to join from where you stand, or |wdecline {host.key}|m.|n"
        )


def _open_loop(rt: EventRuntime, inst: Instance, s: S.OpenLoop) -> StepResult:
    if loop_of(rt, inst) is not None:
        raise StepError("this event's loop is already open; close_loop first")
    host = npc(rt, inst, s.npc)
    desc = DEFAULT_LOOP_DESC.replace("{host}", host.name)
    stage = room(rt, inst, s.room) if s.room else host.room
    loop = rt.world.dreams.open_loop(
        [], fill(rt, inst, s.title), host_id=host.id, stability=s.stability, description=desc,
        anchor=stage,
    )  # fmt: skip
    inst.data["loop"] = loop.id
    inst.data["own_loop"] = True  # opened here, so closed when this event ends
    if s.invite:
        _invite(rt, inst, stage, host, loop)
    return None


def _invite_step(rt: EventRuntime, inst: Instance, s: S.Invite) -> StepResult:
    loop = loop_of(rt, inst)
    if loop is None:
        return None
    host = rt.world.npcs.get(loop.host_id) if loop.host_id is not None else None
    if host is None:
        raise StepError("this event's loop has no host NPC to invite anyone")
    _invite(rt, inst, room(rt, inst, s.room), host, loop)
    return None


def _stability(rt: EventRuntime, inst: Instance, s: S.Stability) -> StepResult:
    loop = loop_of(rt, inst)
    if loop is not None:
        rt.world.dreams.adjust_stability(loop, s.change, fill(rt, inst, s.reason or ""))
    return None


def _close_loop(rt: EventRuntime, inst: Instance, s: S.CloseLoop) -> StepResult:
    loop = loop_of(rt, inst)
    if loop is None:
        return None
    where = room(rt, inst, "loop")
    if s.text and where is not None:
        rt.world.broadcast(where, fill(rt, inst, s.text))
    rt.world.dreams.end_loop(loop, "closed")
    return None


def _give(rt: EventRuntime, inst: Instance, s: S.Give) -> StepResult:
    for p in players(rt, inst, s.to):
        rt.world.create_item(s.name, tuple(s.keywords), s.description, p)
        p.send(f"|y{capitalise_first(s.name)} is pressed into your hands.|n")
    return None


def _place(rt: EventRuntime, inst: Instance, s: S.Place) -> StepResult:
    where = room(rt, inst, s.room)
    assert where is not None
    if any(s.keywords[0] in it.keywords for it in where.items):
        return None  # already there (and perhaps already holding stories): leave it be
    rt.world.create_item(s.name, tuple(s.keywords), s.description, where)
    return None


def _gather(rt: EventRuntime, inst: Instance, s: S.Gather) -> StepResult:
    """Copy the dreamers' woven lines into an item's description, newest kept, so the item
    holds the stories of every run (at most max_lines of them)."""
    where = room(rt, inst, s.room)
    assert where is not None
    word = s.item.lower()
    item = next((it for it in where.items if word in it.keywords), None)
    if item is None:
        raise StepError(f"there is no item {s.item!r} in room {s.room!r} to gather into")
    loop = loop_of(rt, inst, active=False)
    new = [f'  "{ln.text}" ({ln.author})' for ln in (loop.narrative if loop else [])
           if ln.author_id is not None]  # fmt: skip
    if not new:
        return None
    heading = fill(rt, inst, s.heading or HEADING)
    base, marker, old = item.description.partition(f"\n\n{heading}\n")
    kept = [line for line in old.split("\n") if line] if marker else []
    lines = (kept + new)[-s.max_lines :]
    rt.world.set_description(item, f"{base}\n\n{heading}\n" + "\n".join(lines))
    return None


def _start(rt: EventRuntime, inst: Instance, s: S.StartEvent) -> StepResult:
    # Registered now; its first steps run once this event pauses (the runtime's work queue).
    rt.start(s.event, actor=actor(rt, inst), by=f"event {inst.name}")
    return None


def _stop(rt: EventRuntime, inst: Instance, s: S.StopEvent) -> StepResult:
    if s.event == inst.name:
        return END
    rt.stop(s.event, by=f"stopped by event {inst.name}")
    return None


# (A handler takes its own kind of step: the table is keyed by that kind, so a step is
# `Any` here and each handler's own annotation is the real one.)
HANDLERS: dict[type, Callable[[EventRuntime, Instance, Any], StepResult]] = {
    S.Say: _say, S.Emote: _emote, S.Move: _move, S.Announce: _announce, S.Wait: _wait,
    S.SetFlag: _set, S.ClearFlag: _set, S.If: _if, S.Goto: _goto, S.End: _end,
    S.Prompt: answers.prompt, S.Goal: answers.goal, S.Sever: _sever, S.Restore: _restore,
    S.OpenLoop: _open_loop,
    S.Invite: _invite_step, S.Stability: _stability, S.CloseLoop: _close_loop, S.Give: _give,
    S.Place: _place, S.Gather: _gather, S.StartEvent: _start, S.StopEvent: _stop,
}  # fmt: skip


def run_step(rt: EventRuntime, inst: Instance, step: S.Step) -> StepResult:
    return HANDLERS[type(step)](rt, inst, step)


def tidy(rt: EventRuntime, inst: Instance, heal_links: bool) -> None:
    """An instance ended: close the loop it opened (one it was only set off by stays), free
    its NPCs, and (stopped or failed) heal the links it cut."""
    loop = loop_of(rt, inst)
    if loop is not None and inst.data.get("own_loop"):
        rt.world.dreams.end_loop(loop, "closed")
    release_npcs(rt, inst.data)
    if heal_links:
        for eid in list(inst.data.get("severed", [])):
            ex = rt.world.exits.get(eid)
            if ex is not None:
                heal(rt, ex)


def release_npcs(rt: EventRuntime, data: dict[str, Any]) -> None:
    """An instance ended: the NPCs it held still wander again and those it moved go home,
    unless another running event is using them (that one holds them from now on)."""

    def user(key: str) -> Instance | None:
        return next((i for i in rt.running.values() if key in i.data.get("used", [])), None)

    for key in data.get("npcs", []):
        found = rt.world.npcs_by_key.get(key)
        heir = user(key)
        if heir is not None:
            if key not in heir.data.setdefault("npcs", []):
                heir.data["npcs"].append(key)
            rt.save(heir)
        elif found is not None and found.flags.get("still"):
            rt.world.set_npc_flag(found, "still", None)
    for key in data.get("moved", []):
        found = rt.world.npcs_by_key.get(key)
        heir = user(key)
        if heir is not None:  # the last event to let go sends it home
            if key not in heir.data.setdefault("moved", []):
                heir.data["moved"].append(key)
        elif found is not None:
            rt.npc_released(found)
