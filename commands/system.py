"""Help and leaving."""

from __future__ import annotations

from commands.api import NOTHING, CommandError, Ctx, command

CATEGORY_ORDER = ["General", "Movement", "Communication", "Items", "Settings", "System"]


@command("help", aliases=("?",), category="System", publishes=NOTHING)
def cmd_help(ctx: Ctx) -> None:
    """List the commands, or read about one.

    Usage:
      help              every command you can use, by category
      help <command>    how one command works
    """
    registry = ctx.app.registry
    p = ctx.player
    word = ctx.args.strip().lower()
    if word:
        cmd = registry.exact(word) or registry.by_prefix(word)
        if cmd is None or not p.has_role(cmd.role):
            raise CommandError(f"There is no help for '{word}'. Type |whelp|n for the list.")
        names = ", ".join((cmd.key, *cmd.aliases))
        ctx.page(f"|w{names}|n\n{cmd.help_text}")
        return
    one_column = ctx.session.screen_reader  # no padding to line things up, no indent
    groups: dict[str, list[str]] = {}
    for cmd in registry.commands.values():
        if cmd.hidden or not p.has_role(cmd.role):
            continue
        entry = f"{cmd.key}: {cmd.summary}" if one_column else f"  |w{cmd.key:<12}|n {cmd.summary}"
        groups.setdefault(cmd.category, []).append(entry)
    order = CATEGORY_ORDER + sorted(set(groups) - set(CATEGORY_ORDER))
    if one_column:
        lines = ["Commands, by category. Type help and a command's name for details."]
    else:
        lines = ["|cCommands|n (type |whelp <command>|n for details):"]
    for cat in order:
        if cat in groups:
            lines.append(f"{cat} commands:" if one_column else f"|y{cat}|n")
            lines.extend(sorted(groups[cat]))
    ctx.page("\n".join(lines))


@command("quit", category="System", publishes=NOTHING)
def cmd_quit(ctx: Ctx) -> None:
    """Leave the Dreamwave. Your dreamer stays where you left them.

    Type it in full: a stray |wq|n (meant for a --More-- that had already ended) doesn't
    drop you out of the dream.
    """
    if ctx.word.lower() != "quit":
        raise CommandError("To leave the Dreamwave, type |wquit|n in full.")
    ctx.session.close("|cYou slip out of the Dreamwave. May your dreams be gentle.|n")
