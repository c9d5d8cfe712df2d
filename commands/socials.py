"""Socials as commands: `smile`, `smile ada`, `smile me` (the lines are data: world/socials.py).

The dispatcher asks for a social only when no command or exit took the word, so a social
never hides either.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from commands.api import NOTHING, REGISTRY, SPEECH, Command, CommandError, Ctx, command
from commands.util import match_player_here
from world.comms import ignores
from world.socials import Social, fill

if TYPE_CHECKING:
    from world.ports import Speech
    from world.world import World

CATEGORY = "Communication"
COLUMNS = 6  # names per line in the `socials` list


@command("socials", category=CATEGORY, publishes=NOTHING)
def cmd_socials(ctx: Ctx) -> None:
    """List the socials: little gestures such as smile, bow or wave.

    Usage:
      socials
      <social>              e.g. |wsmile|n
      <social> <dreamer>    e.g. |wbow ada|n (someone or a character in the room)
      <social> me           at yourself, where the social allows it
    """
    registry = ctx.app.registry
    names = sorted(n for n in ctx.world.socials if registry.exact(n) is None)
    if not names:
        ctx.send("There are no socials in this dreamscape.")
        return
    width = max(len(n) for n in names) + 2
    rows = [
        "  " + "".join(f"{n:<{width}}" for n in names[i : i + COLUMNS])
        for i in range(0, len(names), COLUMNS)
    ]
    ctx.send("\n".join([f"|wSocials ({len(names)}):|n", *rows, "Type one alone, or with a name."]))


def do_social(ctx: Ctx) -> None:
    """Make a gesture the room sees (type |wsocials|n for the list).

    Usage:
      <social>              e.g. |wsmile|n
      <social> <dreamer>    e.g. |wbow ada|n
      <social> me
    """
    social: Social = ctx.world.socials[ctx.word.lower()]
    p = ctx.player
    room = p.room
    if room is None:
        raise CommandError("You are nowhere at all; nobody would see it.")
    w = ctx.world
    who = ctx.args.strip()
    left_out = w.comms.ignoring_here(room, p)  # who ignores the actor sees nothing of it
    channel: Speech = {"channel": "emote", "talker": p.name}
    if not who:
        ctx.send(fill(social.alone))
        w.broadcast(room, fill(social.alone_room, p.name), (p, *left_out), channel)
        return
    if who.lower() in ("me", "self", "myself", p.key):
        if social.self is None or social.self_room is None:
            raise CommandError(f"You can't {social.name} at yourself; try |w{social.name}|n alone.")
        ctx.send(fill(social.self))
        w.broadcast(room, fill(social.self_room, p.name), (p, *left_out), channel)
        return
    if not social.targeted:
        raise CommandError(
            f"{social.name.capitalize()} takes nobody; type |w{social.name}|n alone."
        )
    assert social.actor is not None and social.target is not None and social.room is not None
    target = match_player_here(room, who, exclude=p)
    if target is not None:
        if ignores(target, p):
            raise CommandError(f"{target.name} isn't paying attention to you.")
        ctx.send(fill(social.actor, p.name, target.name))
        target.send(fill(social.target, p.name, target.name))
        w.broadcast(room, fill(social.room, p.name, target.name), (p, target, *left_out), channel)
        return
    npc = w.find_npc(who, room)
    if npc is not None:
        ctx.send(fill(social.actor, p.name, npc.name, npc=True))
        w.broadcast(room, fill(social.room, p.name, npc.name, npc=True), (p, *left_out), channel)
        return
    raise CommandError(f"You don't see '{who[:30]}' here.")


SOCIAL_WORD = Command("<social>", do_social, category=CATEGORY, hidden=True, publishes=SPEECH)


def social_word(world: World, word: str) -> Command | None:
    return SOCIAL_WORD if word in world.socials else None


REGISTRY.add_late(social_word)
