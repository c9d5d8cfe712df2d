"""Talking beyond `say`: replying, whispering, shouting, and ignoring (world/comms.py)."""

from __future__ import annotations

from commands.api import NOTHING, SPEECH, CommandError, Ctx, command
from commands.util import match_player_here
from world.comms import MAX_IGNORED, SHOUT_INTERVAL, CommsError, ignores
from world.model import Player

CATEGORY = "Communication"
MAX_SPEECH = 1000  # characters in a whisper or a shout


def _speech(text: str, usage: str) -> str:
    text = text.strip()
    if not text:
        raise CommandError(f"Usage: {usage}")
    if len(text) > MAX_SPEECH:
        raise CommandError(f"That is too long; the most is {MAX_SPEECH} characters.")
    return text


@command("reply", aliases=("r",), category=CATEGORY, publishes=SPEECH)
def cmd_reply(ctx: Ctx) -> None:
    """Answer the last dreamer who sent you a tell.

    Usage:
      reply <message>
    Example:
      reply see you at the festival
    """
    text = _speech(ctx.args, "reply <message>")
    comms = ctx.world.comms
    try:
        comms.tell(ctx.player, comms.reply_target(ctx.player), text)
    except CommsError as err:
        raise CommandError(str(err)) from None


@command("whisper", category=CATEGORY, publishes=SPEECH)
def cmd_whisper(ctx: Ctx) -> None:
    """Whisper to someone in the same room; the others only see that you did.

    Usage:
      whisper <dreamer> <message>
    Example:
      whisper bob the lanterns go out at midnight
    """
    name, _, rest = ctx.args.strip().partition(" ")
    text = _speech(rest, "whisper <dreamer> <message>")
    p = ctx.player
    room = p.room
    if room is None:
        raise CommandError("You are nowhere at all; nobody is near enough.")
    target = match_player_here(room, name, exclude=p)
    if target is None:
        if name.lower() in ("me", "self", p.key):
            raise CommandError("You whisper to yourself. Nobody hears, which was the point.")
        raise CommandError(f"There is no dreamer called '{name[:30]}' here to whisper to.")
    if ignores(target, p):
        raise CommandError(f"{target.name} isn't listening to you.")
    heard = f'|m{p.name} whispers to you, "{text}|m"|n'
    said = f'|mYou whisper to {target.name}, "{text}|m"|n'
    target.send(heard)
    ctx.send(said)
    w = ctx.world
    left_out = w.comms.ignoring_here(room, p)
    w.broadcast(
        room, f"|c{p.name}|n whispers something to |c{target.name}|n.", (p, target, *left_out)
    )
    target.notify("channel", {"channel": "whisper", "talker": p.name, "text": heard})
    p.notify("channel", {"channel": "whisper", "talker": p.name, "text": said})


def cmd_shout(ctx: Ctx) -> None:
    """Shout to everyone awake in this zone (once every {interval} seconds).

    Usage:
      shout <message>
    Example:
      shout the fireworks are starting!
    Dreamers asleep in their dreams don't hear shouts, and can't shout.
    """
    text = _speech(ctx.args, "shout <message>")
    try:
        ctx.world.comms.shout(ctx.player, text)
    except CommsError as err:
        raise CommandError(str(err)) from None


# (the help names the limits' values, so it can't go stale)
cmd_shout.__doc__ = (cmd_shout.__doc__ or "").format(interval=f"{SHOUT_INTERVAL:.0f}")
command("shout", aliases=("yell",), category=CATEGORY, publishes=SPEECH)(cmd_shout)


def _find_dreamer(ctx: Ctx, name: str) -> Player:
    """Any dreamer by exact name (asleep or awake), else an awake one by unique prefix."""
    w = ctx.world
    other = w.players_by_key.get(name.lower()) or w.find_online(name)
    if other is None:
        raise CommandError(f"There is no dreamer called '{name[:30]}'.")
    return other


def cmd_ignore(ctx: Ctx) -> None:
    """Stop hearing from a dreamer, or list whom you ignore.

    Usage:
      ignore              the dreamers you ignore
      ignore <dreamer>    hear nothing more from them: no tells, whispers,
                          channel lines, socials or shouts (at most {most})
    |wunignore <dreamer>|n hears them again. Announcements to everyone still reach you.
    """
    comms = ctx.world.comms
    name = ctx.args.strip()
    if not name:
        names = sorted(q.name for q in comms.ignore_list(ctx.player))
        if not names:
            ctx.send("You are not ignoring anyone.")
        else:
            ctx.send(f"You are ignoring ({len(names)}): {', '.join(names)}.")
        return
    other = _find_dreamer(ctx, name)
    try:
        comms.ignore(ctx.player, other)
    except CommsError as err:
        raise CommandError(str(err)) from None
    ctx.send(f"You are now ignoring {other.name}.")


cmd_ignore.__doc__ = (cmd_ignore.__doc__ or "").format(most=MAX_IGNORED)
command("ignore", category=CATEGORY, publishes=NOTHING)(cmd_ignore)


@command("unignore", category=CATEGORY, publishes=NOTHING)
def cmd_unignore(ctx: Ctx) -> None:
    """Hear a dreamer you ignored again.

    Usage:
      unignore <dreamer>
    """
    name = ctx.args.strip()
    if not name:
        raise CommandError("Usage: unignore <dreamer>")
    other = _find_dreamer(ctx, name)
    try:
        ctx.world.comms.unignore(ctx.player, other)
    except CommsError as err:
        raise CommandError(str(err)) from None
    ctx.send(f"You hear {other.name} again.")
