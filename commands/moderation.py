"""Moderation (admins): the login lockouts, seen and lifted in game."""

from __future__ import annotations

from commands.api import NOTHING, CommandError, Ctx, Lockouts, command
from commands.building import audit

CATEGORY = "Moderation"
MAX_SHOWN = 50  # lockout lines one @lockouts shows


def _throttle(ctx: Ctx) -> Lockouts:
    return ctx.app.throttle


def _left(seconds: float) -> str:
    minutes, secs = divmod(int(seconds + 0.999), 60)
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


@command("@lockouts", category=CATEGORY, role="admin", publishes=NOTHING)
def cmd_lockouts(ctx: Ctx) -> None:
    """List the addresses and names locked out after wrong passwords.

    Usage:
      @lockouts
    Each line shows the time left on a lockout, or the recent wrong passwords
    of an address or name not locked (yet). @lockout clear lifts one.
    """
    entries = _throttle(ctx).entries()
    if not entries:
        ctx.send("Nobody is locked out, and no failed logins are being counted.")
        return
    shown = entries[:MAX_SHOWN]
    width = max(len(e.key) for e in shown)
    lines = ["|wLogin lockouts|n"]
    for e in shown:
        state = [f"|rlocked, {_left(e.locked_for)} left|n"] if e.locked_for > 0 else []
        if e.failures:
            state.append(f"{e.failures} recent failure{'s' if e.failures != 1 else ''}")
        lines.append(f"  {e.kind:<8} {e.key:<{width}}  {', '.join(state)}")
    if len(entries) > MAX_SHOWN:
        lines.append(f"  ... and {len(entries) - MAX_SHOWN} more.")
    ctx.send("\n".join(lines))


@command("@lockout", category=CATEGORY, role="admin", publishes=NOTHING)
def cmd_lockout(ctx: Ctx) -> None:
    """Lift a login lockout on an address or a name, and forget its failures.

    Usage:
      @lockout clear <address or name>
    Example:
      @lockout clear 203.0.113.7
      @lockout clear ada
    @lockouts lists them.
    """
    words = ctx.args.split()
    if len(words) != 2 or words[0].lower() != "clear":
        raise CommandError("Usage: @lockout clear <address or name> (@lockouts lists them)")
    target = words[1]
    if not _throttle(ctx).clear(target):
        raise CommandError(f"No lockout or failed logins for '{target[:40]}'; see @lockouts.")
    audit(ctx, "lockout", f"cleared {target[:40]}")
    ctx.send(f"Lifted the login lockout on {target[:40]}.")
