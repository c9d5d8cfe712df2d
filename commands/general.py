"""Looking, talking and the people around you."""

from __future__ import annotations

import time
from typing import Any

from commands.util import (
    item_view,
    match_item,
    match_player_here,
    npc_view,
    player_view,
    require,
    room_view,
)
from mud.dispatch import CommandError, Ctx, command
from mud.text import render
from world.comms import CommsError


@command("look", aliases=("l",), category="General")
def cmd_look(ctx: Ctx) -> None:
    """Look around, or at something or someone.

    Usage:
      look              the room you are in
      look <thing>      an item here or in your hands, a dreamer, an exit, or |wme|n
    """
    room = ctx.player.room
    if room is None:
        raise CommandError("You are nowhere at all. Try |wquit|n and log in again.")
    target = ctx.args.strip()
    if target.lower().startswith("at "):
        target = target[3:].strip()
    if not target or target.lower() == "here":
        ctx.send(room_view(ctx, room))
        return
    ctx.send(describe_target(ctx, target))


def describe_target(ctx: Ctx, target: str) -> str:
    p = ctx.player
    room = p.room
    assert room is not None
    if target.lower() in ("me", "self", p.key):
        return player_view(ctx, p)
    item = match_item(room.items, target) or match_item(p.inventory, target)
    if item is not None:
        return item_view(ctx, item)
    other = match_player_here(room, target)
    if other is not None:
        return player_view(ctx, other)
    npc = ctx.world.find_npc(target, room)
    if npc is not None:
        return npc_view(ctx, npc)
    ex = room.find_exit(target)
    if ex is not None:
        dest = ctx.world.exit_destination(ex)
        where = dest.name if dest else "nowhere you can reach"
        text = f"The way {ex.name} leads to |c{where}|n."
        return f"{ex.description}\n{text}" if ex.description else text
    raise CommandError(f"You don't see '{target}' here.")


@command("examine", aliases=("ex", "exa"), category="General")
def cmd_examine(ctx: Ctx) -> None:
    """Study something closely.

    Usage:
      examine <thing>   an item here or in your hands, a dreamer, or an exit
    """
    require(ctx.args, "examine <thing>")
    ctx.send(describe_target(ctx, ctx.args.strip()))


@command("say", category="Communication")
def cmd_say(ctx: Ctx) -> None:
    """Speak aloud to everyone in the room.

    Usage:
      say <message>
      '<message>        (shortcut)
    """
    text = ctx.args
    if not text:
        raise CommandError("Say what?")
    ctx.world.say(ctx.player, text)


@command("emote", aliases=("pose",), category="Communication")
def cmd_emote(ctx: Ctx) -> None:
    """Show the room what you are doing.

    Usage:
      emote <action>    e.g. |wemote stretches and yawns|n shows "Ada stretches and yawns"
      :<action>         (shortcut)
    """
    text = ctx.args
    if not text:
        raise CommandError("Emote what? For example: emote smiles.")
    ctx.world.emote(ctx.player, text)


@command("tell", aliases=("page",), category="Communication")
def cmd_tell(ctx: Ctx) -> None:
    """Send a private message to a dreamer anywhere in the world.

    Usage:
      tell <dreamer> <message>
    """
    name, _, text = ctx.args.partition(" ")
    text = text.strip()
    if not name or not text:
        raise CommandError("Usage: tell <dreamer> <message>")
    target = ctx.world.find_online(name)
    if target is None:
        raise CommandError(f"No dreamer called '{name}' is awake in the Dreamwave right now.")
    try:  # (world/comms.py: ignore lists, and whom `reply` answers)
        ctx.world.comms.tell(ctx.player, target, text)
    except CommsError as err:
        raise CommandError(str(err)) from None


def _idle(seconds: float) -> str:
    if seconds < 60:
        return f"{int(seconds)}s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    return f"{int(seconds // 3600)}h"


@command("who", category="Communication")
def cmd_who(ctx: Ctx) -> None:
    """List the dreamers who are connected now, and whether they are awake or dreaming."""
    # With thousands online the list is long: build it at most once a second (idle times are
    # shown to the second anyway) and render it once per kind of client.
    now = time.monotonic()
    second = int(now)
    if _WHO_CACHE.get("second") != (second, len(ctx.world.online)):
        _WHO_CACHE.clear()
        _WHO_CACHE["second"] = (second, len(ctx.world.online))
        _WHO_CACHE["markup"] = _who_markup(ctx, now)
    key = ctx.session.out_key
    rendered = _WHO_CACHE.get(key)
    if rendered is None:
        rendered = _WHO_CACHE[key] = render(_WHO_CACHE["markup"], *ctx.session.render_key)
    ctx.session.write_rendered(rendered)


_WHO_CACHE: dict[object, Any] = {}


def _who_markup(ctx: Ctx, now: float) -> str:
    online = sorted(ctx.world.online.values(), key=lambda q: q.key)
    lines = [f"|wDreamers in the Dreamwave ({len(online)}):|n"]
    for q in online:
        tag = "" if q.role == "player" else f" |y({q.role})|n"
        idle = _idle(now - q.session.last_input) if q.session is not None else "-"
        state = ctx.world.dream_state(q)  # never where: a dream is private
        lines.append(f"  |c{q.name:<20}|n {state:<9} idle {idle:>4}{tag}")
    return "\n".join(lines)


@command("colour", aliases=("color",), category="Settings")
def cmd_colour(ctx: Ctx) -> None:
    """Turn colour on or off (remembered for your dreamer).

    Usage:
      colour            show the current setting
      colour on|off
    """
    arg = ctx.args.strip().lower()
    if not arg:
        state = "on" if ctx.session.colour else "off"
        ctx.send(f"Colour is {state}. Type |wcolour on|n or |wcolour off|n to change it.")
        return
    if arg not in ("on", "off"):
        raise CommandError("Usage: colour on|off")
    on = arg == "on"
    ctx.world.set_setting(ctx.player, "colour", on)
    ctx.session.set_colour(on)
    ctx.send("|gColour is on.|n" if on else "Colour is off.")
