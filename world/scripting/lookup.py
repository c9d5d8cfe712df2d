"""What event steps look up in the world: their NPCs, rooms, loop, actor, counts and the
placeholders in their text. A missing NPC or room raises StepError (the instance stops)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from world.scripting.runtime import Instance, StepError

if TYPE_CHECKING:
    from world.dreams import Loop
    from world.model import Player, Room
    from world.npcs import Npc
    from world.scripting.runtime import EventRuntime


def npc(rt: EventRuntime, inst: Instance, key: str) -> Npc:
    found = rt.world.npcs_by_key.get(key)
    if found is None:
        raise StepError(f"there is no NPC {key!r} in the world")
    used = inst.data.setdefault("used", [])
    if key not in used:
        used.append(key)
    if not found.flags.get("still"):  # an NPC an event uses stays where the event puts it
        rt.world.set_npc_flag(found, "still", True)
        inst.data.setdefault("npcs", []).append(key)
    return found


def loop_of(rt: EventRuntime, inst: Instance, active: bool = True) -> Loop | None:
    lid = inst.data.get("loop")
    loop = rt.world.dreams.loops.get(lid) if lid is not None else None
    if loop is None or (active and loop.state != "active"):
        return None
    return loop


def room(rt: EventRuntime, inst: Instance, key: str | None) -> Room | None:
    """A room by key; `loop` is the event's loop room (None once it ended); None: the
    event's own room."""
    world = rt.world
    if key is None:
        rid = inst.data.get("room")
        return world.rooms.get(rid) if rid is not None else None
    if key == "loop":
        loop = loop_of(rt, inst)
        return world.rooms.get(loop.room_id) if loop and loop.room_id is not None else None
    found = world.rooms_by_key.get(key)
    if found is None:
        raise StepError(f"there is no room {key!r} in the world")
    return found


def actor(rt: EventRuntime, inst: Instance) -> Player | None:
    pid = inst.data.get("actor")
    return rt.world.players.get(pid) if pid is not None else None


def players(rt: EventRuntime, inst: Instance, who: str, where: str | None = None) -> list[Player]:
    if who == "actor":
        a = actor(rt, inst)
        return [a] if a is not None else []
    if who == "joined":
        loop = loop_of(rt, inst, active=False)
        return [rt.world.players[i] for i in loop.former if i in rt.world.players] if loop else []
    here = room(rt, inst, where)
    return list(here.players.values()) if here is not None else []


def count(rt: EventRuntime, inst: Instance, what: str, where: str | None = None) -> int:
    if what == "players":
        here = room(rt, inst, where)
        return len(here.players) if here is not None else 0
    loop = loop_of(rt, inst, active=False)
    if loop is None:
        return 0
    if what == "participants":
        return len(loop.participants) if loop.state == "active" else 0
    if what == "joined":
        return len(loop.former)
    if what == "woven":
        return sum(1 for line in loop.narrative if line.author_id is not None)
    return loop.stability if loop.state == "active" else 0  # stability


def fill(rt: EventRuntime, inst: Instance, text: str) -> str:
    """Put the placeholders' values into a line of text."""
    if "{" not in text:
        return text
    a = actor(rt, inst)
    values = {
        "actor": a.name if a is not None else "someone",
        "stability": count(rt, inst, "stability"),
        "joined": count(rt, inst, "joined"),
        "woven": count(rt, inst, "woven"),
        "players": count(rt, inst, "players"),
    }
    return text.format_map(values)
