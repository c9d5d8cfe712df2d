"""Looking, talking and the people around you."""

from __future__ import annotations

import heapq
import time
from collections.abc import Iterable

from commands.api import NOTHING, SPEECH, CommandError, Ctx, command
from commands.selfservice import away_message, presence_version, title_of
from commands.targets import Thing, match
from commands.util import (
    item_view,
    npc_view,
    player_view,
    require,
    room_view,
)
from world.comms import CommsError
from world.model import Exit, Item, Player
from world.npcs import Npc


@command("look", aliases=("l",), category="General", publishes=NOTHING)
def cmd_look(ctx: Ctx) -> None:
    """Look around, or at something or someone.

    Usage:
      look              the room you are in
      look <thing>      an item here or in your hands, a dreamer, an exit, or |wme|n
      look 2.<thing>    the second of several things that fit the word (what
                        you carry comes first; a word that fits several lists them)
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
    others = [q for q in room.players.values() if q is not p]
    places: list[tuple[str, Iterable[Thing]]] = [
        ("in your hands", p.inventory), ("here", room.items), ("here", others),
        ("here", room.npcs.values()), ("a way out", room.exits),
    ]  # fmt: skip
    thing = match(target, places, f"{ctx.word.lower()} {{}}")
    if isinstance(thing, Item):
        return item_view(ctx, thing)
    if isinstance(thing, Player):
        return player_view(ctx, thing)
    if isinstance(thing, Npc):
        return npc_view(ctx, thing)
    if isinstance(thing, Exit):
        dest = ctx.world.exit_destination(thing)
        where = dest.name if dest else "nowhere you can reach"
        text = f"The way {thing.name} leads to |c{where}|n."
        return f"{thing.description}\n{text}" if thing.description else text
    raise CommandError(f"You don't see '{target}' here.")


@command("examine", aliases=("ex", "exa"), category="General", publishes=NOTHING)
def cmd_examine(ctx: Ctx) -> None:
    """Study something closely.

    Usage:
      examine <thing>   an item here or in your hands, a dreamer, or an exit
    """
    require(ctx.args, "examine <thing>")
    ctx.send(describe_target(ctx, ctx.args.strip()))


@command("say", category="Communication", publishes=SPEECH)
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


@command("emote", aliases=("pose",), category="Communication", publishes=SPEECH)
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


@command("tell", aliases=("page",), category="Communication", publishes=SPEECH)
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
        asleep = ctx.world.players_by_key.get(name.lower())
        if asleep is not None:  # (a letter waits for them: mail)
            raise CommandError(
                f"{asleep.name} is asleep, out of the Dreamwave; "
                f"|wmail send {asleep.name}|n leaves them a letter."
            )
        raise CommandError(f"No dreamer called '{name}' is awake in the Dreamwave right now.")
    try:  # (world/comms.py: ignore lists, and whom `reply` answers)
        ctx.world.comms.tell(ctx.player, target, text)
    except CommsError as err:
        raise CommandError(str(err)) from None
    away = away_message(ctx, target)
    if away is not None:  # an away dreamer's message answers for them
        ctx.send(f"{target.name} is away" + (f": {away.replace('|', '||')}" if away else "."))


def _idle(seconds: float) -> str:
    if seconds < 60:
        return f"{int(seconds)}s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    return f"{int(seconds // 3600)}h"


@command("who", category="Communication", publishes=NOTHING)
def cmd_who(ctx: Ctx) -> None:
    """List the dreamers connected now, with titles and idle times.

    Shows whether each is awake, dreaming (never where) or away (afk). With more than a
    hundred online it lists the first hundred by name and how many more there are; give the
    first letters of a name to find someone among them.

    Usage:
      who               everyone online (the first hundred by name)
      who <letters>     those whose names begin with them
    """
    now = time.monotonic()
    one_column = ctx.session.screen_reader
    wanted = ctx.args.strip().lower()
    if wanted:  # (a short list, made each time: no cache to keep)
        online = [q for q in ctx.world.online.values() if q.key.startswith(wanted)]
        if not online:
            letters = wanted.replace("|", "||")
            ctx.send(f"No dreamer online has a name beginning with '{letters}'.")
            return
        ctx.session.write_rendered(
            ctx.session.render(_who_markup(ctx, now, online, one_column, wanted))
        )
        return
    # With thousands online, build the list at most once a second (idle times are shown to
    # the second anyway) and render it once per kind of client.
    second = int(now)
    stamp = (second, len(ctx.world.online), presence_version())
    if _WHO.stamp != stamp:
        _WHO.stamp = stamp
        _WHO.markup.clear()
        _WHO.rendered.clear()
    markup = _WHO.markup.get(one_column)
    if markup is None:
        everyone = list(ctx.world.online.values())
        markup = _who_markup(ctx, now, everyone, one_column)
        _WHO.markup[one_column] = markup
    key = (ctx.session.out_key, one_column)
    rendered = _WHO.rendered.get(key)
    if rendered is None:
        rendered = _WHO.rendered[key] = ctx.session.render(markup)
    ctx.session.write_rendered(rendered)


class _WhoCache:
    """The list as it was this second (`stamp`: the second, how many are online, and the
    version of everyone's titles and away messages): its markup for one column or a table,
    and that rendered per kind of client (out_key) and layout."""

    def __init__(self) -> None:
        self.stamp: tuple[int, int, int] | None = None
        self.markup: dict[bool, str] = {}
        self.rendered: dict[tuple[int, bool], str] = {}


_WHO = _WhoCache()
WHO_NAME_WIDTH = 20  # a name (and title) is padded to this many columns in the table


WHO_MOST = 100  # dreamers listed by `who` at most (more: how many, and `who <letters>`)


def _who_markup(
    ctx: Ctx, now: float, found: list[Player], one_column: bool = False, prefix: str = ""
) -> str:
    """The list of `found` (everyone online, or those whose names begin with `prefix`): the
    first WHO_MOST by name, then how many more there are."""
    online = heapq.nsmallest(WHO_MOST, found, key=lambda q: q.key)
    header = (
        f"Dreamers whose names begin with '{prefix}'" if prefix else "Dreamers in the Dreamwave"
    )
    lines = [f"|w{header} ({len(found)}):|n"]
    for q in online:
        session = ctx.app.session_of(q)
        idle = _idle(now - session.last_input) if session is not None else "-"
        state = ctx.world.dream_state(q)  # never where: a dream is private
        title = title_of(q)
        away = away_message(ctx, q)
        if one_column:  # a screen reader: words in order, no padding to line things up
            parts = [f"|c{q.name}|n" + (f" {title}" if title else ""), state, f"idle {idle}"]
            if q.role != "player":
                parts.append(q.role)
            if away is not None:
                parts.append("away" + (f": {away.replace('|', '||')}" if away else ""))
            lines.append(", ".join(parts) + ".")
            continue
        tag = "" if q.role == "player" else f" |y({q.role})|n"
        if away is not None:
            state = "away"
        shown = f"{q.name} {q.settings.get('title', '')}".rstrip()
        pad = " " * max(0, WHO_NAME_WIDTH - len(shown))
        named = f"|c{q.name}|n {title}".rstrip()
        line = f"  {named}{pad} {state:<9} idle {idle:>4}{tag}"
        if away:
            line += f"  |x[{away.replace('|', '||')}]|n"
        lines.append(line)
    more = len(found) - len(online)
    if more > 0:
        lines.append(
            f"... and {more:,} more: type |wwho|n and the first letters of a name to find "
            "one of them."
        )
    return "\n".join(lines)


@command("colour", aliases=("color",), category="Settings", publishes=NOTHING)
def cmd_colour(ctx: Ctx) -> None:
    """Turn colour on or off (remembered for your dreamer).

    The same setting as |wconfig colour|n.

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
