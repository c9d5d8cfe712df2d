"""Carrying things: inventory, get, drop, give."""

from __future__ import annotations

from commands.api import NOTHING, CommandError, Ctx, command
from commands.targets import match
from commands.util import require
from world.model import Item, Player
from world.words import list_words

MAX_CARRIED = 100  # items one dreamer may hold


@command("inventory", aliases=("i", "inv"), category="Items", publishes=NOTHING)
def cmd_inventory(ctx: Ctx) -> None:
    """List what you are carrying."""
    inv = ctx.player.inventory
    if not inv:
        ctx.send("You are carrying nothing.")
        return
    ctx.send("You are carrying:\n" + "\n".join(f"  {it.name}" for it in inv))


@command("get", aliases=("take",), category="Items", publishes=NOTHING)
def cmd_get(ctx: Ctx) -> None:
    """Pick something up.

    Usage:
      get <item>
      get all
    """
    word = require(ctx.args.strip(), "get <item>")
    p = ctx.player
    room = p.room
    assert room is not None
    if word.lower() == "all":
        items = list(room.items)
        if not items:
            raise CommandError("There is nothing here to pick up.")
    else:
        item = match(word, [("here", room.items)], "get {}")
        if not isinstance(item, Item):
            raise CommandError(f"You don't see '{word}' here.")
        items = [item]
    if len(p.inventory) + len(items) > MAX_CARRIED:
        raise CommandError(f"Your hands are full; you can carry at most {MAX_CARRIED} things.")
    for item in items:
        ctx.world.move_item(item, p)
    names = list_words([it.name for it in items])
    ctx.world.broadcast(room, f"|c{p.name}|n picks up {names}.", exclude=p)
    ctx.send(f"You pick up {names}.")


@command("drop", category="Items", publishes=NOTHING)
def cmd_drop(ctx: Ctx) -> None:
    """Put something down here.

    Usage:
      drop <item>
      drop all
    """
    word = require(ctx.args.strip(), "drop <item>")
    p = ctx.player
    room = p.room
    assert room is not None
    if word.lower() == "all":
        items = list(p.inventory)
        if not items:
            raise CommandError("You aren't carrying anything.")
    else:
        item = match(word, [("in your hands", p.inventory)], "drop {}")
        if not isinstance(item, Item):
            raise CommandError(f"You aren't carrying '{word}'.")
        items = [item]
    for item in items:
        ctx.world.move_item(item, room)
    names = list_words([it.name for it in items])
    ctx.world.broadcast(room, f"|c{p.name}|n drops {names}.", exclude=p)
    ctx.send(f"You drop {names}.")


@command("give", category="Items", publishes=NOTHING)
def cmd_give(ctx: Ctx) -> None:
    """Hand something you carry to a dreamer in the same room.

    Usage:
      give <item> to <dreamer>
      give <item> <dreamer>      (the last word is the dreamer)
    Example:
      give map to ada
    """
    what, who = _give_args(ctx.args)
    p = ctx.player
    room = p.room
    assert room is not None
    item = match(what, [("in your hands", p.inventory)], f"give {{}} to {who}")
    if not isinstance(item, Item):
        raise CommandError(f"You aren't carrying '{what}'.")
    others = [q for q in room.players.values() if q is not p]
    target = match(who, [("here", others)], f"give {what} to {{}}")
    if not isinstance(target, Player):
        raise CommandError(f"There is no dreamer called '{who}' here.")
    if len(target.inventory) >= MAX_CARRIED:
        raise CommandError(f"{target.name}'s hands are full.")
    ctx.world.move_item(item, target)
    target.send(f"|c{p.name}|n gives you {item.name}.")
    ctx.world.broadcast(
        room, f"|c{p.name}|n gives {item.name} to |c{target.name}|n.", exclude=(p, target)
    )
    ctx.send(f"You give {item.name} to {target.name}.")


def _give_args(args: str) -> tuple[str, str]:
    """'map to ada' or 'map ada' -> ('map', 'ada'); an item's own name may hold 'to'."""
    args = " ".join(args.split())
    low = args.lower()
    if " to " in low:
        cut = low.rindex(" to ")
        what, who = args[:cut], args[cut + 4 :]
    else:
        what, _, who = args.rpartition(" ")
    if not what.strip() or not who.strip():
        raise CommandError("Usage: give <item> to <dreamer> (or give <item> <dreamer>)")
    return what.strip(), who.strip()
