"""Private dreams and shared loops, as players type them."""

from __future__ import annotations

import time

from commands.api import NOTHING, SPEECH, CommandError, Ctx, command, text_after
from commands.util import room_view
from world.dreams import DreamError, Dreamscape, Loop, plural
from world.model import ABBREVIATION_OF, DIRECTIONS, Player
from world.words import list_words


def _dreams(ctx: Ctx) -> Dreamscape:
    return ctx.world.dreams


def _player(ctx: Ctx, name: str) -> Player:
    """Any dreamer by name (online or not)."""
    name = name.strip()
    if not name:
        raise CommandError("Whom? Give a dreamer's name.")
    p = ctx.world.players_by_key.get(name.lower()) or ctx.world.find_online(name)
    if p is None:
        raise CommandError(f"There is no dreamer called '{name}'.")
    return p


def _ago(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h {seconds % 3600 // 60}m"
    return f"{seconds // 86400}d"


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(ts))


@command(
    "dream",
    aliases=("sleep",),
    category="Dreams",
    publishes=text_after("describe", "name", "motif", "dig"),
)
def cmd_dream(ctx: Ctx) -> None:
    """Enter your own private dream, and shape it.

    Usage:
      dream                          fall asleep into your own dream (|wsleep|n works too)
      dream describe <text>          describe the dream room you are in
      dream name <text>              rename it
      dream motif <item name>        dream up a small personal object (at most 12)
      dream dig <name> = <exit>, <exit back>   add a room (at most 5 added rooms)
      dream invite <dreamer>         let someone visit your dream
      dream uninvite <dreamer>       take it back (they are shown out if inside)
      dream visit <dreamer>          visit a dream you were invited into
      dream guests                   who may visit yours
      dream journal [n]              past loops you took part in; n reads one
    Nobody can enter, look into or learn what is in your dream without your invitation.
    """
    sub, _, rest = ctx.args.partition(" ")
    sub, rest = sub.lower(), rest.strip()
    ds = _dreams(ctx)
    p = ctx.player
    try:
        if not sub:
            room = ds.fall_asleep(p)
            ctx.send("|mYou close your eyes, and your own dream gathers around you.|n")
            ctx.send(room_view(ctx, room))
        elif sub == "describe":
            if not rest:
                raise CommandError("Usage: dream describe <text>")
            ds.describe(p, rest)
            ctx.send("Your dream reshapes itself around the new description.")
        elif sub == "name":
            if not rest:
                raise CommandError("Usage: dream name <text>")
            ds.rename(p, rest[:80])
            ctx.send(f"This part of your dream is now called |c{rest[:80]}|n.")
        elif sub == "motif":
            if not rest:
                raise CommandError("Usage: dream motif <item name>")
            item = ds.add_motif(p, rest[:80])
            ctx.send(f"You dream {item.name} into being; it settles into your hands.")
        elif sub == "dig":
            name, eq, exits = rest.partition("=")
            there, _, back = exits.partition(",")
            if not eq or not name.strip() or not there.strip() or not back.strip():
                raise CommandError("Usage: dream dig <name> = <exit>, <exit back>")
            there = _exit_word(there)
            room = ds.dig(p, name.strip()[:80], there, _exit_word(back))
            ctx.send(f"Your dream unfolds a new place, |c{room.name}|n, {_whereabouts(there)}.")
        elif sub == "invite":
            guest = _player(ctx, rest)
            ds.invite(p, guest)
            ctx.send(f"You invite {guest.name} into your dream.")
            guest.send(
                f"|m{p.name} invites you into their dream. Type |wdream visit {p.name}|m to go.|n"
            )
        elif sub == "uninvite":
            guest = _player(ctx, rest)
            ejected = ds.uninvite(p, guest)
            ctx.send(
                f"{guest.name} may no longer visit your dream"
                + (" and has been shown out." if ejected else ".")
            )
        elif sub == "visit":
            owner = _player(ctx, rest)
            room = ds.visit(p, owner)
            ctx.send(room_view(ctx, room))
        elif sub == "guests":
            guests = ds.guests(p)
            ctx.send(
                "Invited into your dream: " + list_words([g.name for g in guests]) + "."
                if guests
                else "Nobody is invited into your dream. |wdream invite <dreamer>|n to change that."
            )
        elif sub == "journal":
            _journal(ctx, rest)
        else:
            raise CommandError("Unknown dream command. Type |whelp dream|n.")
    except DreamError as err:
        raise CommandError(str(err)) from None


def _exit_word(text: str) -> str:
    """An exit's name as typed: 'N' -> 'north' (as @dig does), 'Garden Gate' -> 'garden gate'."""
    word = text.strip().lower()
    return ABBREVIATION_OF.get(word, word)


def _whereabouts(exit_name: str) -> str:
    """Where a room reached by `exit_name` lies: 'above here', 'north of here', ..."""
    if exit_name in WHEREABOUTS:
        return WHEREABOUTS[exit_name]
    if exit_name in DIRECTIONS:
        return f"{exit_name} of here"
    return f"through the way |w{exit_name}|n from here"


WHEREABOUTS = {"up": "above here", "down": "below here"}


def _journal(ctx: Ctx, arg: str) -> None:
    loops = _dreams(ctx).journal(ctx.player)
    if not loops:
        ctx.send("Your dream journal is empty: you haven't been part of a finished loop yet.")
        return
    names = ctx.world.players
    if not arg:
        lines = ["|wYour dream journal|n (|wdream journal <n>|n to read one):"]
        for i, lp in enumerate(loops, 1):
            who = list_words([names[x].name for x in lp.former if x in names])
            lines.append(
                f"  {i:>2}. {_when(lp.started_at)}  {lp.end_reason:<9} "
                f"{plural(len(lp.narrative), 'line')}  with {who}"
            )
        ctx.send("\n".join(lines))
        return
    if not arg.isdigit() or not 1 <= int(arg) <= len(loops):
        raise CommandError(f"Choose an entry from 1 to {len(loops)}.")
    lp = loops[int(arg) - 1]
    who = list_words([names[x].name for x in lp.former if x in names])
    head = (
        f"|wLoop of {who}|n — {_when(lp.started_at)} to {_when(lp.ended_at or lp.started_at)}, "
        f"{lp.end_reason}."
    )
    body = [f"  {ln.author}: {ln.text}" for ln in lp.narrative] or ["  (nothing was woven)"]
    ctx.page("\n".join([head, *body]))


@command("wake", category="Dreams", publishes=NOTHING)
def cmd_wake(ctx: Ctx) -> None:
    """Wake up: return to the waking-world place where you fell asleep."""
    try:
        room = _dreams(ctx).wake(ctx.player)
    except DreamError as err:
        raise CommandError(str(err)) from None
    ctx.send("|mThe dream thins, and you wake.|n")
    ctx.send(room_view(ctx, room))


@command("merge", category="Dreams", publishes=NOTHING)
def cmd_merge(ctx: Ctx) -> None:
    """Propose merging dreams with another dreamer, or accept their proposal.

    Usage:
      merge                 list proposals to you and from you
      merge <dreamer>       propose (both of you must be in your own dreams), or accept
                            theirs, or join a loop they invited you into
      merge <host>          join a loop a character such as Lyra opened and invited you
                            into (from wherever you stand; |wwake|n brings you back here)
    Proposals fade after a few minutes.
    """
    ds = _dreams(ctx)
    p = ctx.player
    hosted = ds.find_hosted_invitation(p, ctx.args) if ctx.args.strip() else None
    if hosted is not None:
        try:
            ds.join_hosted(p, hosted)
        except DreamError as err:
            raise CommandError(str(err)) from None
        ctx.send(room_view(ctx, ctx.world.rooms[hosted.room_id]))  # type: ignore[index]
        return
    if not ctx.args.strip():
        incoming, outgoing = ds.pending(p)
        invitations = ds.hosted_invitations(p)
        if not incoming and not outgoing and not invitations:
            ctx.send("No merge proposals are waiting. |wmerge <dreamer>|n to propose one.")
            return
        now = ds.now()
        lines = []
        for pr in incoming:
            who = ctx.world.players[pr.proposer_id].name
            what = "join their loop" if pr.loop_id else "merge dreams"
            lines.append(
                f"  {who} asks you to {what} ({_ago(pr.expires - now)} left): |wmerge {who}|n"
            )
        for pr in outgoing:
            who = ctx.world.players[pr.target_id].name
            lines.append(f"  you asked {who} ({_ago(pr.expires - now)} left)")
        for lp in invitations:
            host = ctx.world.npcs.get(lp.host_id) if lp.host_id is not None else None
            if host is not None:
                lines.append(f"  {host.name} invites you into {lp.title}: |wmerge {host.key}|n")
        ctx.send("|wMerge proposals|n\n" + "\n".join(lines))
        return
    if ctx.world.players_by_key.get(ctx.args.strip().lower()) is None:
        npc = ctx.world.find_npc(ctx.args)
        if npc is not None:
            mine = ds.loop_of(p)
            if mine is not None and mine.host_id == npc.id:
                raise CommandError(f"You are already part of {mine.title}, {npc.name}'s loop.")
            raise CommandError(f"{npc.name} hasn't invited you into a loop.")
    other = _player(ctx, ctx.args)
    try:
        loop = ds.merge(p, other)
    except DreamError as err:
        raise CommandError(str(err)) from None
    if loop is None:
        ctx.send(
            f"You reach toward {other.name}'s dream. If they answer with "
            f"|wmerge {p.name}|n, your dreams will merge."
        )
        other.send(
            f"|m{p.name} reaches toward your dream, hoping to merge. "
            f"Type |wmerge {p.name}|m to accept.|n"
        )
        return
    room = ctx.world.rooms[loop.room_id]  # type: ignore[index]
    ctx.send(room_view(ctx, room))


def _loop_here(ctx: Ctx) -> Loop:
    loop = _dreams(ctx).loop_of(ctx.player)
    if loop is None:
        raise CommandError("You aren't in a loop. |wmerge|n with another dreamer first.")
    return loop


@command("loop", category="Dreams", publishes=NOTHING)
def cmd_loop(ctx: Ctx) -> None:
    """The loop you are in: who, how long, how stable, the latest narrative.

    Usage:
      loop                   show the loop
      loop invite <dreamer>  ask another dreamer in (they join with |wmerge <you>|n)
    """
    sub, _, rest = ctx.args.partition(" ")
    ds = _dreams(ctx)
    if sub.lower() == "invite":
        other = _player(ctx, rest)
        try:
            ds.invite_to_loop(ctx.player, other)
        except DreamError as err:
            raise CommandError(str(err)) from None
        ctx.send(f"You invite {other.name} into the loop.")
        other.send(f"|m{ctx.player.name} invites you into a shared loop. From your own dream, "
                   f"type |wmerge {ctx.player.name}|m to join.|n")  # fmt: skip
        return
    if sub:
        raise CommandError("Usage: loop, or loop invite <dreamer>")
    loop = _loop_here(ctx)
    names = [ctx.world.players[i].name for i in loop.participants]
    lines = [
        f"|wThe loop|n — {plural(len(names), 'dreamer')}: {list_words(names)}",
        f"  running for {_ago(ds.now() - loop.started_at)}, stability |y{loop.stability}|n/100",
    ]
    recent = loop.narrative[-5:]
    if recent:
        lines.append("  latest narrative:")
        lines.extend(f"    {ln.author}: {ln.text}" for ln in recent)
    else:
        lines.append("  Nothing has been woven yet. |wweave <text>|n begins the story.")
    ctx.send("\n".join(lines))


@command("weave", category="Dreams", publishes=SPEECH)
def cmd_weave(ctx: Ctx) -> None:
    """Add a line to the loop's shared story, seen by everyone in the loop.

    Usage:
      weave <text>
    When a weave answers another dreamer's within a minute, the loop steadies a little.
    """
    try:
        _dreams(ctx).weave(ctx.player, ctx.args)
    except DreamError as err:
        raise CommandError(str(err)) from None


@command("narrative", category="Dreams", publishes=NOTHING)
def cmd_narrative(ctx: Ctx) -> None:
    """Read the loop's shared story, a page at a time, newest last.

    Usage:
      narrative          the latest page
      narrative <page>   an earlier page
    """
    loop = _loop_here(ctx)
    arg = ctx.args.strip()
    if arg and not arg.isdigit():
        raise CommandError("Usage: narrative [page number]")
    lines, page, pages = _dreams(ctx).narrative_page(loop, int(arg) if arg else None)
    head = f"|wThe narrative|n, page {page} of {pages}:"
    body = [f"  {ln.author}: {ln.text}" for ln in lines] or ["  (nothing woven yet)"]
    ctx.page("\n".join([head, *body]))


@command("unmerge", category="Dreams", publishes=NOTHING)
def cmd_unmerge(ctx: Ctx) -> None:
    """Leave the loop and return to your own dream (your motifs go with you)."""
    try:
        _dreams(ctx).unmerge(ctx.player)
    except DreamError as err:
        raise CommandError(str(err)) from None
    ctx.send("|mYou unravel your dream from the loop and return to your own.|n")
    room = ctx.player.room
    if room is not None:
        ctx.send(room_view(ctx, room))
