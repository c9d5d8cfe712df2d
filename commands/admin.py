"""Moderation for admins: boot, ban, mute, wall, shutdown, a new password, who with addresses.

Every action is written to the audit log with who did it and why, and the dreamer it is done
to is told what happened (a ban of an address is silent: it only refuses new connections).
"""

from __future__ import annotations

import secrets
import time

from mud.core import auth
from mud.core.dispatch import NOTHING, SPEECH, CommandError, Ctx, command
from mud.core.world_port import session_of
from world.model import Player
from world.moderation import (
    IpNetwork,
    ModerationError,
    address_in,
    describe_duration,
    looks_like_duration,
    mute_remaining,
    normalise_address,
    parse_duration,
    parse_network,
)

CATEGORY = "Moderation"
NEW_PASSWORD_BYTES = 9  # secrets.token_urlsafe: 12 characters


def _dreamer(ctx: Ctx, name: str) -> Player:
    player = ctx.world.players_by_key.get(name.strip().lower())
    if player is None:
        raise CommandError(f"There is no dreamer called '{name.strip()}'.")
    return player


def _not_yourself(ctx: Ctx, target: Player, what: str) -> None:
    if target is ctx.player:
        raise CommandError(f"You can't {what} yourself.")


def _duration_and_reason(words: list[str]) -> tuple[float | None, str, bool]:
    """([duration] [reason...]) -> (seconds or None for good, reason, whether a duration
    was given)."""
    if words and looks_like_duration(words[0]):
        try:
            seconds = parse_duration(words[0])
        except ModerationError as err:
            raise CommandError(str(err)) from None
        return seconds, " ".join(words[1:]), True
    return None, " ".join(words), False


def _because(reason: str) -> str:
    """ ": the reason." (or just "."), to end a sentence."""
    if not reason:
        return "."
    return f": {reason}" if reason[-1] in ".!?" else f": {reason}."


@command("@boot", category=CATEGORY, role="admin", publishes=NOTHING)
def cmd_boot(ctx: Ctx) -> None:
    """Disconnect a dreamer now; they may log in again.

    Usage:
      @boot <dreamer> [reason]
    Example:
      @boot pell shouting in the Nexus
    """
    name, _, reason = ctx.args.strip().partition(" ")
    if not name:
        raise CommandError("Usage: @boot <dreamer> [reason]")
    target = _dreamer(ctx, name)
    _not_yourself(ctx, target, "boot")
    session = session_of(target)
    if session is None:
        raise CommandError(f"{target.name} isn't connected.")
    reason = reason.strip()
    ctx.world.audit(ctx.player, "boot", f"{target.name}{_because(reason)}")
    session.close(f"|rAn admin has disconnected you{_because(reason)}|n")
    ctx.send(f"You boot {target.name}{_because(reason)}")


@command("@ban", category=CATEGORY, role="admin", publishes=NOTHING)
def cmd_ban(ctx: Ctx) -> None:
    """Ban a dreamer's name, or an address or network, for a while or for good.

    Usage:
      @ban <dreamer> [duration] [reason]        they are told, disconnected, refused at login
      @ban <address or CIDR> [duration] [reason]  new connections refused (silent)
    A duration is 30s, 10m, 2h, 3d, 1w or perm (the default).
    Examples:
      @ban pell 3d spamming the newbie channel
      @ban 203.0.113.0/24 1w
      @ban 2001:db8::/48
    """
    words = ctx.args.split()
    if not words:
        raise CommandError("Usage: @ban <dreamer||address||CIDR> [duration] [reason]")
    target, rest = words[0], words[1:]
    seconds, reason, _ = _duration_and_reason(rest)
    how_long = describe_duration(seconds)
    moderation = ctx.world.moderation
    net = parse_network(target)
    if net is not None:
        _not_your_own_address(ctx, net)
        ban, _seq = moderation.ban("address", str(net), ctx.player.name, reason, seconds)
        ctx.world.audit(ctx.player, "ban", f"address {ban.target} {how_long}{_because(reason)}")
        ctx.send(f"Connections from {ban.target} are refused {how_long} (ban #{ban.id}).")
        return
    player = _dreamer(ctx, target)
    _not_yourself(ctx, player, "ban")
    if player.has_role("admin"):
        raise CommandError(f"{player.name} is an admin; change their role with @role first.")
    ban, _seq = moderation.ban("name", player.key, ctx.player.name, reason, seconds)
    ctx.world.audit(ctx.player, "ban", f"{player.name} {how_long}{_because(reason)}")
    session = session_of(player)
    if session is not None:
        session.close(f"|rAn admin has banned you {how_long}{_because(reason)}|n")
    ctx.send(f"{player.name} is banned {how_long} (ban #{ban.id}).")


@command("@unban", category=CATEGORY, role="admin", publishes=NOTHING)
def cmd_unban(ctx: Ctx) -> None:
    """Lift a ban.

    Usage:
      @unban <dreamer||address||CIDR||#id>
    Example:
      @unban #3
    """
    target = ctx.args.strip()
    if not target:
        raise CommandError("Usage: @unban <dreamer||address||CIDR||#id>")
    found = ctx.world.moderation.bans.matching(target)
    if not found:
        raise CommandError(f"No ban matches '{target}'. Type |w@bans|n for the list.")
    for ban in found:
        ctx.world.moderation.lift(ban)
        ctx.world.audit(ctx.player, "unban", f"{ban.kind} {ban.target} (ban #{ban.id})")
    ctx.send(f"Lifted the ban on {found[0].target}.")


@command("@bans", category=CATEGORY, role="admin", publishes=NOTHING)
def cmd_bans(ctx: Ctx) -> None:
    """List the bans in force: what, by whom, why and for how long."""
    moderation = ctx.world.moderation
    moderation.prune()
    now = time.time()
    bans = sorted(moderation.bans.bans.values(), key=lambda b: b.id)
    if not bans:
        ctx.send("Nobody and nowhere is banned.")
        return
    lines = [f"|wBans ({len(bans)}):|n"]
    for b in bans:
        what = b.target if b.kind == "address" else b.target.capitalize()
        why = f" - {b.reason}" if b.reason else ""
        lines.append(f"  #{b.id} {b.kind} {what}, by {b.by}, {b.remaining(now)}{why}")
    ctx.send("\n".join(lines))


@command("@mute", category=CATEGORY, role="admin", publishes=NOTHING)
def cmd_mute(ctx: Ctx) -> None:
    """Stop a dreamer's words reaching others: talk, mail, title, afk message, descriptions.

    Usage:
      @mute <dreamer> [duration] [reason]     duration 10m, 2h, 1d ... or perm (default 1h)
    Example:
      @mute pell 30m flooding
    """
    words = ctx.args.split()
    if not words:
        raise CommandError("Usage: @mute <dreamer> [duration] [reason]")
    target = _dreamer(ctx, words[0])
    _not_yourself(ctx, target, "mute")
    seconds, reason, given = _duration_and_reason(words[1:])
    if not given:
        seconds = DEFAULT_MUTE
    until = 0 if seconds is None else time.time() + seconds
    ctx.world.set_setting(target, "muted_until", until)
    how_long = describe_duration(seconds)
    ctx.world.audit(ctx.player, "mute", f"{target.name} {how_long}{_because(reason)}")
    target.send(f"|rAn admin has muted you {how_long}{_because(reason)}|n Nobody hears you.")
    ctx.send(f"{target.name} is muted {how_long}.")


DEFAULT_MUTE = 3600.0  # seconds, when @mute is given no duration


@command("@unmute", category=CATEGORY, role="admin", publishes=NOTHING)
def cmd_unmute(ctx: Ctx) -> None:
    """Let a muted dreamer speak again.

    Usage:
      @unmute <dreamer>
    """
    if not ctx.args.strip():
        raise CommandError("Usage: @unmute <dreamer>")
    target = _dreamer(ctx, ctx.args)
    if mute_remaining(target) is None:
        raise CommandError(f"{target.name} isn't muted.")
    ctx.world.clear_setting(target, "muted_until")
    ctx.world.audit(ctx.player, "unmute", target.name)
    target.send("|gAn admin has lifted your mute; you may speak again.|n")
    ctx.send(f"{target.name} may speak again.")


@command("@wall", category=CATEGORY, role="admin", publishes=SPEECH)
def cmd_wall(ctx: Ctx) -> None:
    """Say something to everyone connected, marked as from the admins.

    Usage:
      @wall <text>
    Example:
      @wall The festival starts in the Pavilion in ten minutes!
    """
    text = ctx.args.strip()
    if not text:
        raise CommandError("Usage: @wall <text>")
    ctx.world.audit(ctx.player, "wall", text)
    ctx.app.wall(f"|y[Admins] {ctx.player.name}: {text}|n")


@command("@shutdown", category=CATEGORY, role="admin", publishes=NOTHING)
def cmd_shutdown(ctx: Ctx) -> None:
    """Shut the server down after a countdown, warning everyone; or call it off.

    Usage:
      @shutdown                          whether a shutdown is under way
      @shutdown <minutes> [reason]       warnings at 5 minutes, 1 minute and 10 seconds
      @shutdown now [reason]
      @shutdown cancel
    Example:
      @shutdown 10 moving to the new machine
    """
    timer = ctx.app.shutdown
    word, _, reason = ctx.args.strip().partition(" ")
    reason = reason.strip()
    if not word:
        if timer.pending:
            left = describe_duration(timer.left()).replace("for ", "in ", 1)
            ctx.send(f"A shutdown by {timer.by} is under way: {left}. "
                     "|w@shutdown cancel|n stops it.")  # fmt: skip
        else:
            ctx.send("No shutdown is under way. Usage: |w@shutdown <minutes> [reason]|n")
        return
    if word.lower() == "cancel":
        if not timer.cancel():
            raise CommandError("No shutdown is under way.")
        ctx.world.audit(ctx.player, "shutdown", "cancelled")
        ctx.app.wall(f"|g[Admins] The shutdown is called off by {ctx.player.name}.|n")
        return
    if word.lower() == "now":
        minutes = 0.0
    else:
        try:
            minutes = float(word)
        except ValueError:
            raise CommandError("Usage: @shutdown <minutes> [reason], now, or cancel.") from None
        if not 0 <= minutes <= MAX_SHUTDOWN_MINUTES:
            raise CommandError(f"Give between 0 and {MAX_SHUTDOWN_MINUTES} minutes.")
    ctx.world.audit(ctx.player, "shutdown", f"in {minutes:g} min{_because(reason)}")
    timer.start(minutes * 60, reason, ctx.player.name)


MAX_SHUTDOWN_MINUTES = 24 * 60


@command("@reload", category=CATEGORY, role="admin", publishes=NOTHING)
def cmd_reload(ctx: Ctx) -> None:
    """Start a new engine with the code and content on disk; nobody is disconnected.

    Everyone sees one line before and one after, and is where they were. The scripts the
    new engine would load are checked first: if one is broken, nothing happens and you are
    told what is wrong. (SIGHUP to the server does the same.)

    Usage:
      @reload
    """
    session, world, app, who = ctx.session, ctx.world, ctx.app, ctx.player

    async def reload() -> None:
        problems = await app.request_reload()
        if problems:
            shown = "\n".join(f"  {p}" for p in problems[:10])
            more = f"\n  ... and {len(problems) - 10} more" if len(problems) > 10 else ""
            session.send(f"|rNot reloading: the scripts on disk have problems:|n\n{shown}{more}")
            return
        world.audit(who, "reload", "the engine reloads")

    def prompt() -> None:  # (when it goes ahead, the new engine shows the prompt)
        if session.handler is not None and not session.closed and not app.reloading:
            session.handler.prompt()

    session.run_task(reload(), then=prompt)


@command("@newpassword", category=CATEGORY, role="admin", publishes=NOTHING)
def cmd_newpassword(ctx: Ctx) -> None:
    """Give a dreamer a new random password (shown to you once), e.g. when they lost theirs.

    Usage:
      @newpassword <dreamer>
    """
    if not ctx.args.strip():
        raise CommandError("Usage: @newpassword <dreamer>")
    target = _dreamer(ctx, ctx.args)
    _not_yourself(ctx, target, "reset the password of")
    password = secrets.token_urlsafe(NEW_PASSWORD_BYTES)
    session, world, store = ctx.session, ctx.world, ctx.app.store

    async def reset() -> None:
        hashed = await auth.hash_password(password)
        world.set_password_hash(target, hashed)
        world.audit(ctx.player, "newpassword", target.name)
        await store.durable()
        session.send(f"{target.name}'s new password is |w{password}|n. Tell them privately.")
        target.send("|yAn admin has given you a new password.|n")

    def prompt() -> None:
        if session.handler is not None and not session.closed:
            session.handler.prompt()

    session.run_task(reset(), then=prompt)


@command("@who", category=CATEGORY, role="admin", publishes=NOTHING)
def cmd_admin_who(ctx: Ctx) -> None:
    """Everyone connected, with their address, idle time and how long they have been on."""
    now = time.monotonic()
    sessions = sorted(ctx.app.sessions, key=lambda s: (s.player is None, s.connected_at))
    lines = [f"|wConnections ({len(sessions)}):|n"]
    for s in sessions:
        who = s.player.name if s.player is not None else "(login screen)"
        role = f" {s.player.role}" if s.player is not None and s.player.role != "player" else ""
        idle = _span(now - s.last_input)
        on = _span(now - s.connected_at)
        address = normalise_address(s.address)
        lines.append(f"  {who:<20}{role:<8} {address:<39} idle {idle:>4}  on {on:>4}")
    ctx.send("\n".join(lines))


def _span(seconds: float) -> str:
    if seconds < 60:
        return f"{int(seconds)}s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h"
    return f"{int(seconds // 86400)}d"


def _not_your_own_address(ctx: Ctx, net: IpNetwork) -> None:
    """An admin must not lock themselves out: refuse a ban that covers their own address."""
    if not address_in(ctx.session.address, net):
        return
    if net.num_addresses == 1:
        raise CommandError(f"{net.network_address} is your own address; you can't ban yourself.")
    raise CommandError(f"{net} holds your own address; ban a narrower network that doesn't.")
