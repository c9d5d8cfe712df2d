"""Finding your way: a map of the rooms around you, and the time in the Dreamwave."""

from __future__ import annotations

from collections.abc import Iterator

from commands.api import NOTHING, CommandError, Ctx, command
from world.clock import PHASE_NAMES
from world.mapview import describe_map, render_map
from world.model import Room

PHASE_MOOD = {
    "dusk": "The light thickens; dreamers drift toward the sanctuaries.",
    "night": "The network hums at its deepest; most dreams are being dreamt now.",
    "dawn": "Dreams thin at the edges as the sleepers begin to stir.",
    "day": "The Dreamwave is quiet and bright; only the restless are dreaming.",
}


@command("map", category="Movement", publishes=NOTHING)
def cmd_map(ctx: Ctx) -> None:
    """Draw a map of the rooms around you.

    Rooms are laid out by their compass exits, a few steps out; |w*|n marks
    where you are, and ^ v + mark rooms with ways up, down or both. With a
    screen reader (your client's MTTS, or |wclient screenreader on|n) you get
    sentences instead: where each exit leads, and what lies beyond.
    """
    room = ctx.player.room
    if room is None:
        raise CommandError("You are nowhere at all. Try |wquit|n and log in again.")
    world = ctx.world

    def exits(r: Room) -> Iterator[tuple[str, Room]]:
        for ex in r.exits:
            dest = world.exit_destination(ex)
            if dest is not None:
                yield ex.name, dest

    if ctx.session.screen_reader:  # sentences instead of a drawing
        lines = describe_map(room, exits, lambda r: r.name)
    else:
        lines = render_map(room, exits, lambda r: r.name)
    # The map is drawn with | and friends: escape them so they aren't read as colour codes.
    ctx.send("\n".join(line.replace("|", "||") for line in lines))


@command("time", category="General", publishes=NOTHING)
def cmd_time(ctx: Ctx) -> None:
    """Tell the time in the Dreamwave and the phase of the dream-day."""
    clock = ctx.world.clock
    phase = clock.phase
    speed = ""
    if clock.time_scale != 1:  # a demo or test server: say how fast the dream-day runs
        speed = f"\n|XTime runs {clock.time_scale:g}x faster than usual here.|n"
    ctx.send(
        f"It is |w{clock.clock_text()}|n in the Dreamwave: "
        f"|c{PHASE_NAMES[phase]}|n.\n{PHASE_MOOD[phase]}{speed}"
    )
