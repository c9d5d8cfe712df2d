"""Building, continued: looking at the world the way the server stores it."""

from __future__ import annotations

import json
import time

from commands.api import NOTHING, CommandError, Ctx, command
from commands.building import CATEGORY
from commands.targets import ALL_KINDS, hidden, label, ref, resolve
from world.model import Exit, Item, Player, Room
from world.npc_behaviour import Brain
from world.npcs import Npc
from world.world import World

MAX_FOUND = 30  # matches listed per kind by @find


def _raw(text: str) -> str:
    """Show stored text with its colour codes visible, as a builder would type them."""
    return text.replace("|", "||")


def _when(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(at)) if at else "never"


def _attrs(attrs: dict[str, object]) -> str:
    return _raw(json.dumps(attrs, sort_keys=True)) if attrs else "{}"


def _owner(attrs: dict[str, object]) -> str:
    return str(attrs.get("owner") or "none (world content)")


def _where(world: World, obj: Item | Player) -> str:
    loc = obj.location if isinstance(obj, Item) else obj.room
    return label(loc) if loc is not None else "nowhere"


def examine_room(world: World, room: Room) -> list[str]:
    zone = world.zones.get(room.zone)
    lines = [
        f"|wRoom|n {ref(room)}  key: {room.key or '(none)'}",
        f"|wName:|n {_raw(room.name)}",
        f"|wZone:|n {room.zone or '(none)'}" + (f" ({zone.name})" if zone else ""),
        f"|wOwner:|n {_owner(room.attrs)}",
        f"|wAttrs:|n {_attrs(room.attrs)}",
        "|wDescription:|n " + (_raw(room.description) or "(none)"),
        f"|wExits ({len(room.exits)}):|n",
    ]
    for ex in room.exits:
        dest = world.exit_destination(ex)
        aliases = f" ({';'.join(ex.aliases)})" if ex.aliases else ""
        to = label(dest) if dest else "nowhere"
        lines.append(f"  {ref(ex)} {ex.name}{aliases} -> {to}")
        if ex.attrs.get("lock"):
            lines.append(f"      lock: {ex.attrs['lock']}")
    into = [e for e in world.exits.values() if e.dest_id == room.id and e.room is not room]
    if into:
        froms = ", ".join(f"{ref(e)} from {ref(e.room)}" for e in into)
        lines.append(f"|wExits leading here:|n {froms}")
    if room.items:
        lines.append("|wItems:|n " + ", ".join(label(i) for i in room.items))
    people = [p for p in world.players.values() if p.room is room]
    if people:
        names = ", ".join(f"{p.name} ({ref(p)}{'' if p.online else ', asleep'})" for p in people)
        lines.append(f"|wDreamers:|n {names}")
    if room.npcs:
        lines.append("|wCharacters:|n " + ", ".join(label(n) for n in room.npcs.values()))
    return lines


def examine_exit(world: World, ex: Exit) -> list[str]:
    dest = world.exit_destination(ex)
    return [
        f"|wExit|n {ref(ex)}",
        f"|wName:|n {ex.name}  |waliases:|n {';'.join(ex.aliases) or '(none)'}",
        f"|wFrom:|n {label(ex.room)}",
        f"|wTo:|n {label(dest) if dest else 'nowhere (unlinked)'}",
        f"|wLock:|n {ex.attrs.get('lock') or '(none: anyone may pass)'}",
        f"|wFail message:|n {_raw(str(ex.attrs.get('fail') or '(default)'))}",
        f"|wOwner:|n {_owner(ex.attrs)}",
        f"|wAttrs:|n {_attrs(ex.attrs)}",
        "|wDescription:|n " + (_raw(ex.description) or "(none)"),
    ]


def examine_item(world: World, item: Item) -> list[str]:
    return [
        f"|wItem|n {ref(item)}",
        f"|wName:|n {_raw(item.name)}",
        f"|wKeywords:|n {' '.join(item.keywords) or '(none)'}",
        f"|wLocation:|n {_where(world, item)}",
        f"|wOwner:|n {_owner(item.attrs)}",
        f"|wAttrs:|n {_attrs(item.attrs)}",
        "|wDescription:|n " + (_raw(item.description) or "(none)"),
    ]


def examine_npc(world: World, npc: Npc, brain: Brain | None) -> list[str]:
    lines = [
        f"|wCharacter|n {ref(npc)}  key: {npc.key}",
        f"|wName:|n {_raw(npc.name)}  |wanswers to:|n {' '.join(sorted(npc.keywords))}",
        f"|wShort:|n {_raw(npc.short)}",
        f"|wRoom:|n {label(npc.room) if npc.room is not None else 'nowhere'}",
        f"|wFlags:|n {_attrs(npc.flags)}",
        "|wDescription:|n " + (_raw(npc.description) or "(none)"),
    ]
    script = brain.script if brain is not None else None
    if script is None:
        lines.append("|wScript:|n none (they stand and say nothing)")
        return lines
    lines.append(
        f"|wScript:|n world/npcs/{npc.key}.yaml: {len(script.greetings)} greeting(s), "
        f"{len(script.topics)} topic(s), {len(script.hears)} overheard word(s)"
    )
    if script.idle:
        lines.append(f"  idle chatter every ~{script.idle.every:g}s ({len(script.idle.lines)} "
                     f"lines, chance {script.idle.chance:g})")  # fmt: skip
    if script.wander:
        lines.append(f"  wanders every ~{script.wander.every:g}s along "
                     + " -> ".join(script.wander.route))  # fmt: skip
    return lines


def examine_player(world: World, p: Player, private: bool = False) -> list[str]:
    return [
        f"|wDreamer|n {ref(p)}",
        f"|wName:|n {p.name}  |wrole:|n {p.role}  |wonline:|n {'yes' if p.online else 'no'}",
        f"|wRoom:|n {'a private dream' if private else _where(world, p)}",
        f"|wCreated:|n {_when(p.created_at)}  |wlast login:|n {_when(p.last_login)}",
        f"|wSettings:|n {_attrs(p.settings)}",
        "|wCarrying:|n " + (", ".join(label(i) for i in p.inventory) or "nothing"),
        "|wDescription:|n " + (_raw(p.description) or "(none)"),
    ]


@command("@examine", aliases=("@ex", "@exa"), category=CATEGORY, role="builder", publishes=NOTHING)
def cmd_examine(ctx: Ctx) -> None:
    """Show everything stored about a room, exit, item, dreamer or character.

    Usage:
      @examine              this room
      @examine <target>     here, me, a name, or an #id (npc#3 for a character)
    Examples:
      @examine north
      @examine lyra
    """
    w = ctx.world
    target = resolve(w, ctx.player, ctx.args or "here", (*ALL_KINDS, Npc))
    if isinstance(target, Npc):
        lines = examine_npc(w, target, ctx.app.npc_director.brain(target))
    elif isinstance(target, Room):
        lines = examine_room(w, target)
    elif isinstance(target, Exit):
        lines = examine_exit(w, target)
    elif isinstance(target, Item):
        lines = examine_item(w, target)
    else:
        lines = examine_player(w, target, private=hidden(w, ctx.player, target))
    ctx.send("\n".join(lines))


def _section(title: str, found: list[str]) -> list[str]:
    if not found:
        return []
    more = [f"  ... and {len(found) - MAX_FOUND} more"] if len(found) > MAX_FOUND else []
    return [f"|w{title} ({len(found)}):|n", *found[:MAX_FOUND], *more]


@command("@find", aliases=("@search",), category=CATEGORY, role="builder", publishes=NOTHING)
def cmd_find(ctx: Ctx) -> None:
    """Find rooms, items, dreamers and characters by name, with their ids.

    Usage:
      @find <text>
    Example:
      @find lantern
    """
    text = ctx.args.strip().lower()
    if not text:
        raise CommandError("Usage: @find <part of a name>")
    w = ctx.world
    rooms = [
        f"  {ref(r):<10} {r.name}  |x({r.zone or 'no zone'})|n"
        for r in w.rooms.values()
        if (text in r.name.lower() or text == (r.key or "")) and not hidden(w, ctx.player, r)
    ]  # fmt: skip
    items = [
        f"  {ref(i):<10} {i.name}  |xin {_where(w, i)}|n"
        for i in w.items.values()
        if (text in i.name.lower() or text in i.keywords) and not hidden(w, ctx.player, i)
    ]  # fmt: skip
    people = [
        f"  {ref(p):<10} {p.name}  |xin "
        + ("a private dream" if hidden(w, ctx.player, p) else _where(w, p)) + "|n"
        for p in w.players.values() if text in p.key
    ]  # fmt: skip
    npcs = [
        f"  {ref(n):<10} {n.name}  |xin "
        + (label(n.room) if n.room is not None else "nowhere") + "|n"
        for n in w.npcs.values()
        if (text in n.name.lower() or text == n.key) and not hidden(w, ctx.player, n)
    ]  # fmt: skip
    lines = _section("Rooms", rooms) + _section("Items", items) + _section("Dreamers", people)
    lines += _section("Characters", npcs)
    if not lines:
        raise CommandError(f"Nothing in the world is called anything like '{ctx.args.strip()}'.")
    ctx.send("\n".join(lines))
