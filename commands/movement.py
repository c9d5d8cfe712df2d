"""Walking the dreamscape."""

from __future__ import annotations

from commands.api import NOTHING, CommandError, Ctx, command
from commands.util import room_view
from world.dreams import DreamError


@command("go", aliases=("walk",), category="Movement", publishes=NOTHING)
def cmd_go(ctx: Ctx) -> None:
    """Walk through an exit. Exit names work on their own too.

    Usage:
      go <exit>         e.g. |wgo north|n
      north, n, up, u   the usual directions and abbreviations, or any exit's name
    """
    word = ctx.args.strip().lower()
    if not word:
        raise CommandError("Go where? |wlook|n shows the exits.")
    p = ctx.player
    room = p.room
    assert room is not None
    ex = room.find_exit(word)
    if ex is None:
        raise CommandError("You can't go that way.")
    dest = ctx.world.exit_destination(ex)
    if dest is None:
        raise CommandError(f"The way {ex.name} dissolves into static; it leads nowhere now.")
    severed = ex.attrs.get("severed")  # an event cut this link; it will be restored
    if severed:
        raise CommandError(str(severed))
    if not ctx.world.may_pass(p, ex):
        raise CommandError(ex.attrs.get("fail") or f"The way {ex.name} is sealed.")
    ctx.world.move(p, dest, via=ex)
    ctx.send(room_view(ctx, dest, walking=True))


@command("home", category="Movement", publishes=NOTHING)
def cmd_home(ctx: Ctx) -> None:
    """Go home at once, wherever you are stranded.

    Awake, it takes you to the Nexus; dreaming, to the entrance of the dream you
    are in. In a loop, |wunmerge|n first (or |wwake|n).
    """
    try:
        room = ctx.world.dreams.home(ctx.player)
    except DreamError as err:
        raise CommandError(str(err)) from None
    ctx.send("|mYou close your eyes, think of home, and are there.|n")
    ctx.send(room_view(ctx, room))
