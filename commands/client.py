"""What the server knows about your client, and overriding it."""

from __future__ import annotations

from commands.api import NOTHING, CommandError, Ctx, command


@command("client", category="Settings", publishes=NOTHING)
def cmd_client(ctx: Ctx) -> None:
    """Show what the server knows about your MUD client, or set your charset.

    Usage:
      client                    name, screen size, colours, charset and telnet options
      client charset <name>     force a charset (utf-8, latin-1, ascii, cp437, ...)
      client charset auto       go back to what your client negotiated
      client screenreader on    plain output for screen readers: no decoration, maps
                                as sentences (off, or auto: what your client says)
    """
    s = ctx.session
    words = ctx.args.split()
    if words and words[0].lower() == "charset":
        if len(words) != 2:
            raise CommandError("Usage: client charset <name>|auto")
        name = words[1]
        if name.lower() == "auto":
            ctx.world.set_setting(ctx.player, "charset", None)
            s.decide_capabilities()
            ctx.send(f"Charset is back to what your client negotiated: {s.encoding}.")
            return
        if not s.set_encoding(name):
            raise CommandError(
                f"I can't use '{name}' as a charset (it must be a text encoding that keeps "
                "plain ASCII as it is). Try utf-8, latin-1 or ascii."
            )
        ctx.world.set_setting(ctx.player, "charset", s.encoding)
        ctx.send(f"Charset set to {s.encoding}.")
        return
    if words and words[0].lower() in ("screenreader", "screen-reader", "reader"):
        choice = words[1].lower() if len(words) == 2 else ""
        if choice not in ("on", "off", "auto"):
            raise CommandError("Usage: client screenreader on|off|auto")
        if choice == "auto":
            ctx.world.clear_setting(ctx.player, "screenreader")
        else:
            ctx.world.set_setting(ctx.player, "screenreader", choice)  # as `config screenreader`
        s.decide_capabilities()
        if s.screen_reader:
            ctx.send("Screen-reader mode is on: plain text, no decoration, maps as sentences.")
        else:
            ctx.send("Screen-reader mode is off: decorated text and drawn maps.")
        return
    if words:
        raise CommandError("Usage: client, client charset <name>, or client screenreader on|off")
    info = s.client
    options = info.options
    gmcp = ", ".join(sorted(info.gmcp_packages)) or "none"
    lines = [
        "|wYour client|n",
        f"  name:          {info.name or 'unknown'}"
        + (f" (GMCP: {info.gmcp_client} {info.gmcp_version})".rstrip() if info.gmcp_client else ""),
        f"  terminal:      {info.terminal or 'unknown'}"
        + (f"  MTTS {info.mtts}" if info.mtts is not None else ""),
        f"  screen:        {s.width} x {s.height}",
        f"  colours:       {info.colour}{' (shown)' if s.colour else ' (off)'}",
        f"  charset:       {s.encoding}",
        f"  screen reader: {'yes' if info.screen_reader else 'no'}"
        + (
            f" (plain output {'on' if s.screen_reader else 'off'})"
            if s.screen_reader != info.screen_reader
            else ""
        ),
        f"  options on:    {', '.join(options) or 'none'}",
        f"  GMCP packages: {gmcp}",
    ]
    ctx.send("\n".join(lines))
