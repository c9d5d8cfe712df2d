"""Your settings in one place: `config` lists them, `config <name> <value>` changes one.

Each setting is remembered for your dreamer (Player.settings, saved through the World API).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from commands.api import (
    MAX_PAGE_LINES,
    MIN_PAGE_LINES,
    NOTHING,
    CommandError,
    CommandSession,
    Ctx,
    command,
)

MAX_PROMPT_CHARS = 60  # a dreamer's own prompt (config prompt), before its tokens expand
CLEAR = object()  # "forget my choice, use the default"
ON_OFF = {"on": True, "off": False, "yes": True, "no": False}


@dataclass(frozen=True)
class Setting:
    name: str
    summary: str
    values: str  # what may be typed, for the usage line
    parse: Callable[[str], Any]  # typed text -> stored value, CLEAR, or CommandError
    show: Callable[[CommandSession, bool], str]  # the value in effect, in words (bool: at length)


def _on_off(name: str) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        word = text.lower()
        if word not in ON_OFF:
            raise CommandError(f"Usage: config {name} on|off")
        return ON_OFF[word]

    return parse


def _flag(session: CommandSession, key: str, default: bool) -> bool:
    player = session.player
    return bool(player.settings.get(key, default)) if player is not None else default


def _parse_pager(text: str) -> Any:
    word = text.lower()
    if word == "auto":
        return CLEAR
    if word == "off":
        return 0
    if not word.isdigit() or not (int(word) == 0 or MIN_PAGE_LINES <= int(word) <= MAX_PAGE_LINES):
        raise CommandError(
            f"Usage: config pager <lines>|off|auto (0 or off turns it off; "
            f"{MIN_PAGE_LINES} to {MAX_PAGE_LINES} lines)."
        )
    return int(word)


def _show_pager(session: CommandSession, long: bool) -> str:
    lines = session.page_lines()
    chosen = session.player is not None and "pager" in session.player.settings
    value = f"{lines} lines" if lines else "off"
    if chosen:
        return value
    if not long:
        return f"{value} (auto)"
    why = "your window's height" if lines else "your client didn't tell us its height"
    return f"{value} (auto: {why})"


def _parse_screenreader(text: str) -> Any:
    word = text.lower()
    if word == "auto":
        return CLEAR
    if word not in ("on", "off"):
        raise CommandError("Usage: config screenreader on|off|auto")
    return word


def _show_screenreader(session: CommandSession, long: bool) -> str:
    player = session.player
    choice = player.settings.get("screenreader") if player is not None else None
    if choice in ("on", "off"):
        return str(choice)
    now = "on" if session.screen_reader else "off"
    if not long:
        return f"auto ({now})"
    said = "says" if session.client.screen_reader else "doesn't say"
    return f"auto ({now}: your client {said} it reads aloud)"


def escape_markup(text: str) -> str:
    """Every `|` typed shows as typed: no colour codes in it."""
    return text.replace("||", "\0").replace("|", "||").replace("\0", "||")


def _parse_prompt(text: str) -> Any:
    if text.lower() == "default":
        return CLEAR
    raw = text.replace("||", "|")
    if len(raw) > MAX_PROMPT_CHARS:
        raise CommandError(f"A prompt is at most {MAX_PROMPT_CHARS} characters; not changed.")
    return escape_markup(raw)


def _show_prompt(session: CommandSession, long: bool) -> str:
    player = session.player
    own = player.settings.get("prompt") if player is not None else None
    return f'"{own}"' if own else '"> " (the default)'


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        Setting(
            "colour", "colour in what you see", "on|off",
            _on_off("colour"), lambda s, _long: "on" if s.colour else "off",
        ),
        Setting(
            "brief", "room names only, as you walk", "on|off",
            _on_off("brief"), lambda s, _long: "on" if _flag(s, "brief", False) else "off",
        ),
        Setting(
            "pager", "lines per page before --More--", "<lines>|off|auto",
            _parse_pager, _show_pager,
        ),
        Setting(
            "screenreader", "one column, no decoration", "on|off|auto",
            _parse_screenreader, _show_screenreader,
        ),
        Setting(
            "prompt", "%n name, %s awake or dreaming, %r room", "<text>|default",
            _parse_prompt, _show_prompt,
        ),
        Setting(
            "echo", 'see "You say ..." for your own speech', "on|off",
            _on_off("echo"), lambda s, _long: "on" if _flag(s, "echo", True) else "off",
        ),
    )
}  # fmt: skip


def config_listing(ctx: Ctx) -> str:
    session = ctx.session
    if session.screen_reader:
        lines = ["Your settings:"]
        for s in SETTINGS.values():
            lines.append(f"{s.name}: {s.show(session, False)}. {s.summary}.")
    else:
        lines = ["|wYour settings|n (|wconfig <name> <value>|n changes one):"]
        for s in SETTINGS.values():
            lines.append(f"  |w{s.name:<13}|n {s.show(session, False):<16} {s.summary}")
    if session.screen_reader:
        lines.append("Type config, a name and a value to change one.")
    return "\n".join(lines)


@command("config", aliases=("settings",), category="Settings", publishes=NOTHING)
def cmd_config(ctx: Ctx) -> None:
    """See and change your settings, remembered for your dreamer.

    Usage:
      config                   every setting and its value
      config <name>            one setting and what it may be
      config <name> <value>    change one
    Settings:
      colour on|off            colour (the same as |wcolour on|n)
      brief on|off             room names only, without descriptions, as you walk
      pager <lines>|off|auto   pause long text a screen at a time (auto: your window)
      screenreader on|off|auto one-column text without decoration (auto: your client says)
      prompt <text>|default    your prompt; %n your name, %s awake/dreaming, %r the room
      echo on|off              whether you see "You say ..." for your own speech
    Example:
      config prompt %n (%s) >
    """
    name, _, value = ctx.args.strip().partition(" ")
    name, value = name.lower(), value.strip()
    if not name:
        ctx.send(config_listing(ctx))
        return
    if name == "color":
        name = "colour"
    setting = SETTINGS.get(name)
    if setting is None:
        raise CommandError(f"There is no setting '{name[:20]}'; |wconfig|n lists them.")
    if not value:
        ctx.send(f"{setting.name}: {setting.show(ctx.session, True)}. Change it with "
                 f"|wconfig {setting.name} {setting.values}|n.")  # fmt: skip
        return
    stored = setting.parse(value)
    apply_setting(ctx, setting.name, stored)
    ctx.send(f"{setting.name} is now {setting.show(ctx.session, True)}.")


def apply_setting(ctx: Ctx, name: str, stored: Any) -> None:
    """Remember a parsed value (or forget it: CLEAR) and make it take effect now."""
    if stored is CLEAR:
        ctx.world.clear_setting(ctx.player, name)
    else:
        ctx.world.set_setting(ctx.player, name, stored)
    if name == "colour":
        ctx.session.set_colour(bool(stored))
    elif name == "screenreader":
        ctx.session.decide_capabilities()
