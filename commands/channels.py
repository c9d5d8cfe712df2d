"""Channels: talking to everyone tuned in, wherever they are (world/channels.py).

A channel's name is also a command word (`public hello`, `public :waves`): the dispatcher
asks for channel names only when no command or exit took the word.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from commands import modal
from commands.api import (
    NOTHING,
    REGISTRY,
    SPEECH,
    Command,
    CommandError,
    Ctx,
    command,
    text_after,
)
from commands.building import audit, split_assign
from world import locks
from world.channels import (
    HISTORY_MAX,
    MAX_DESCRIPTION,
    NAME_PATTERN,
    ON,
    Channel,
    ChannelError,
    HistoryLine,
    rule_text,
)  # fmt: skip
from world.model import ABBREVIATION_OF, DIRECTIONS
from world.moderation import muted_message

if TYPE_CHECKING:
    from world.world import World

CATEGORY = "Communication"
HISTORY_DEFAULT = 20  # lines `channel history` shows without a number
WHO_SHOWN = 60  # names `channel who` lists before counting the rest
_NAME = re.compile(NAME_PATTERN)


def _do(action: Callable[[], object]) -> None:
    try:
        action()
    except ChannelError as err:
        raise CommandError(str(err)) from None


@command("channels", category=CATEGORY, publishes=NOTHING)
def cmd_channels(ctx: Ctx) -> None:
    """List the channels, and which ones you are on.

    Usage:
      channels
    A channel's name speaks on it: |wpublic hello|n, or |wpublic :waves|n for a pose.
    See |whelp channel|n for joining, leaving, muting and history.
    """
    chans = ctx.world.channels
    subs = chans.subscriptions(ctx.player)
    lines = ["|wChannels|n (type |w<name> <text>|n to speak; the number is who listens now):"]
    for ch in sorted(chans.by_name.values(), key=lambda c: c.name):
        if not chans.may_read(ctx.player, ch):
            continue
        state = subs.get(ch.name)
        mark = "|g[on]|n   " if state == ON else "|y[muted]|n" if state else "|x[off]|n  "
        quiet = "" if chans.may_speak(ctx.player, ch) else " |x(listen only)|n"
        count = len(ch.listeners)
        lines.append(f"  {mark} |w{ch.name:<10}|n {count:>4}  {ch.description}{quiet}")
    if len(lines) == 1:
        lines.append("  (none you can hear)")
    ctx.send("\n".join(lines))


@command("channel", aliases=("chan",), category=CATEGORY, publishes=text_after("say"))
def cmd_channel(ctx: Ctx) -> None:
    """Join, leave or mute a channel; read its history; see who listens.

    Usage:
      channel join <name>         start hearing it (and speaking on it)
      channel leave <name>        stop, and take it off your list
      channel mute <name>         stay on it but hear nothing for now
      channel unmute <name>
      channel history <name> [n]  the last n lines said on it (20; at most 200)
      channel who <name>          who is listening now
      channel say <name> <text>   speak on it (also |w<name> <text>|n, even where an
                                  exit has that name: the name alone walks)
    Examples:
      channel join festival
      channel history public 50
      channel say festival the parade starts at dusk
    """
    sub, _, rest = ctx.args.strip().partition(" ")
    sub = sub.lower()
    name, _, extra = rest.strip().partition(" ")
    if sub not in ("join", "leave", "mute", "unmute", "history", "who", "say") or not name:
        raise CommandError("Usage: channel join||leave||mute||unmute||history||who||say <name>")
    chans = ctx.world.channels
    try:
        ch = chans.find(name)
        if not chans.may_read(ctx.player, ch) and sub != "leave":
            raise ChannelError(f"[{ch.name}] is closed to you.")
    except ChannelError as err:
        raise CommandError(str(err)) from None
    p = ctx.player
    if sub == "say":
        _speak(ctx, ch, extra)
    elif sub == "join":
        _do(lambda: chans.join(p, ch))
        ctx.send(f"You join |w[{ch.name}]|n. Speak with |w{ch.name} <text>|n.")
    elif sub == "leave":
        _do(lambda: chans.leave(p, ch))
        ctx.send(f"You leave |w[{ch.name}]|n.")
    elif sub in ("mute", "unmute"):
        _do(lambda: chans.mute(p, ch, sub == "mute"))
        ctx.send(f"|w[{ch.name}]|n is {'muted' if sub == 'mute' else 'unmuted'}.")
    elif sub == "history":
        n = HISTORY_DEFAULT
        if extra.strip():
            if not extra.strip().isdigit() or not 1 <= int(extra) <= HISTORY_MAX:
                raise CommandError(f"Give a number of lines from 1 to {HISTORY_MAX}.")
            n = int(extra)
        lines = chans.history(ch, n)
        if not lines:
            ctx.send(f"Nothing has been said on |w[{ch.name}]|n yet.")
            return
        ctx.page("\n".join([f"|wThe last {len(lines)} on [{ch.name}]:|n", *map(_stamp, lines)]))
    else:
        names = sorted(q.name for q in ch.listeners.values())
        if not names:
            ctx.send(f"Nobody is listening to |w[{ch.name}]|n right now.")
            return
        shown = ", ".join(names[:WHO_SHOWN])
        more = f" and {len(names) - WHO_SHOWN} more" if len(names) > WHO_SHOWN else ""
        ctx.send(f"|wListening to [{ch.name}] ({len(names)}):|n {shown}{more}.")


def _stamp(line: HistoryLine) -> str:
    return f"|x{time.strftime('%m-%d %H:%M', time.gmtime(line.at))}|n {line.text}"


def check_channel_name(ctx: Ctx, name: str) -> str:
    name = name.strip().lower()
    if not _NAME.match(name):
        raise CommandError(
            "A channel name is 2 to 20 lower-case letters or digits, starting with a letter."
        )
    registry = ctx.app.registry
    if name in DIRECTIONS or name in ABBREVIATION_OF:
        raise CommandError(f"'{name}' is a direction; choose another channel name.")
    if any(word.startswith(name) for word in registry.words()):
        raise CommandError(f"'{name}' is a command (or the start of one); choose another name.")
    if name in ctx.world.socials:
        raise CommandError(f"'{name}' is a social; choose another channel name.")
    return name


@command("@channel", category="Building", role="builder", publishes=text_after("create", "set"))
def cmd_at_channel(ctx: Ctx) -> None:
    """Create, change or delete a channel.

    Usage:
      @channel create <name> [= <description>]
      @channel delete <name>                      (after you confirm)
      @channel set <name>/read = <who>            who may hear it
      @channel set <name>/speak = <who>           who may speak on it
      @channel set <name>/description = <text>
    <who> is a role (player, builder, admin) or a lock rule such as
    |wrole:builder or holds:lantern|n. A new channel is open to every dreamer,
    and you are on it.
    Examples:
      @channel create lore = Stories of the old Dreamwave
      @channel set lore/speak = builder
    """
    sub, _, rest = ctx.args.strip().partition(" ")
    sub = sub.lower()
    chans = ctx.world.channels
    if sub == "create":
        name, desc = split_assign(rest, "@channel create <name> [= <description>]", False)
        name = check_channel_name(ctx, name)
        desc = " ".join((desc or "").split())
        if len(desc) > MAX_DESCRIPTION:
            raise CommandError(f"A description has at most {MAX_DESCRIPTION} characters.")
        try:
            ch = chans.create(ctx.player, name, desc)
        except ChannelError as err:
            raise CommandError(str(err)) from None
        chans.join(ctx.player, ch)  # its maker is on it
        audit(ctx, "channel create", name)
        ctx.send(
            f"You create the channel |w[{ch.name}]|n and are on it. Dreamers join with "
            f"|wchannel join {ch.name}|n."
        )
    elif sub == "delete":
        if not rest.strip():
            raise CommandError("Usage: @channel delete <name>")
        try:
            ch = chans.find(rest)
        except ChannelError as err:
            raise CommandError(str(err)) from None
        question = (
            f"|yYou are about to delete [{ch.name}]|n: its {len(ch.history)} line(s) of "
            f"history go with it, and {len(ch.listeners)} dreamer(s) listening now stop hearing it."
        )

        def delete() -> None:
            if chans.by_name.get(ch.name) is not ch:
                raise CommandError("It is already gone.")
            chans.delete(ch)
            audit(ctx, "channel delete", ch.name)
            ctx.session.send(f"You delete the channel [{ch.name}].")

        modal.begin(ctx, modal.Confirm(question, delete))
    elif sub == "set":
        usage = "@channel set <name>/<read|speak|description> = <value>"
        target, value = split_assign(rest, usage)
        assert value is not None
        name, slash, field = target.partition("/")
        field = field.strip().lower()
        if not slash or field not in ("read", "speak", "description"):
            raise CommandError(f"Usage: {usage}")
        try:
            ch = chans.find(name)
        except ChannelError as err:
            raise CommandError(str(err)) from None
        if field == "description":
            value = " ".join(value.split())
            if len(value) > MAX_DESCRIPTION:
                raise CommandError(f"A description has at most {MAX_DESCRIPTION} characters.")
        else:
            if not value:
                raise CommandError(f"Say who may {field}: a role, or a lock rule.")
            try:
                value = rule_text(value)
            except locks.LockError as err:
                raise CommandError(str(err)) from None
        old = getattr(ch, field)
        chans.set_field(ch, field, value)
        audit(ctx, "channel set", f"{ch.name}/{field}: '{old}' -> '{value}'"[:200])
        ctx.send(f"[{ch.name}] {field} is now |w{value or '(empty)'}|n.")
    else:
        raise CommandError("Usage: @channel create|delete|set ... (see |whelp @channel|n)")


def speak_on_channel(ctx: Ctx) -> None:
    """Speak on a channel: its name, then what you say.

    Usage:
      <channel> <text>     e.g. |wpublic hello, dreamers|n
      <channel> :<pose>    e.g. |wpublic :waves|n shows "[public] Ada waves"
    Type |wchannels|n for the list.
    """
    ch = ctx.world.channels.get(ctx.word)
    if ch is None:  # deleted since the word was looked up
        raise CommandError(f"There is no channel '{ctx.word[:30]}'.")
    _speak(ctx, ch, ctx.args)


def _speak(ctx: Ctx, ch: Channel, text: str) -> None:
    text = text.strip()
    pose = text.startswith(":")
    if pose:
        text = text[1:].lstrip()
    if not text:
        raise CommandError(f"Say what on [{ch.name}]? For example: {ch.name} hello.")
    refusal = muted_message(ctx.player)  # `channel say` is a subcommand, not a speech word
    if refusal is not None:
        raise CommandError(refusal)
    _do(lambda: ctx.world.channels.speak(ctx.player, ch, text, pose))


CHANNEL_WORD = Command(
    "<channel>", speak_on_channel, category=CATEGORY, hidden=True, publishes=SPEECH
)


def channel_word(world: World, word: str) -> Command | None:
    return CHANNEL_WORD if word in world.channels.by_name else None


REGISTRY.add_late(channel_word)
