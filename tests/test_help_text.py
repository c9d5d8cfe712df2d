"""Help and usage text reads as written: a `|` meant as "or" never eats the letter after it.

Markup is `|` and a letter, so `join|leave|mute` would lose the m of mute. These tests read
every command's help through a real connection and compare it with its docstring read the
way its author meant it: `||` is a pipe, a code is markup only where a `|n` closes it on the
same line, and any other `|` is a pipe.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from commands.api import REGISTRY
from mud.core.text import ANSI
from tests.client import login, said

COMMANDS_DIR = Path(__file__).resolve().parent.parent / "commands"
_TOKEN = re.compile(r"\|\||\|(.)")


def as_meant(text: str) -> str:
    """`text` without its markup, read as its author meant (see the module docstring), not
    as the renderer does: where the two differ, a letter was eaten."""
    out = []
    for line in text.split("\n"):
        pieces, pos = [], 0
        for m in _TOKEN.finditer(line):
            pieces.append(line[pos : m.start()])
            pos = m.end()
            code = m.group(1)
            closed = "|n" in line[m.end() :].replace("||", "")
            if code is None:
                pieces.append("|")
            elif code not in "n[]" and not (code in ANSI and closed):
                pieces.append(m.group(0))  # a pipe, and what follows it
        pieces.append(line[pos:])
        out.append("".join(pieces))
    return "\n".join(out)


def words(text: str) -> list[str]:
    return text.split()


async def test_every_commands_help_shows_every_letter_of_it(make_server):
    server = await make_server(command_burst=1000)  # (a help page for each of ~80 commands)
    ada = await login(server.port, "Ada")
    server.world.set_role(server.world.players_by_key["ada"], "admin")
    for cmd in sorted(REGISTRY.commands.values(), key=lambda c: c.key):
        out = await said(ada, f"help {cmd.key}")
        names = ", ".join((cmd.key, *cmd.aliases))
        expected = as_meant(f"|w{names}|n\n{cmd.help_text}")
        assert words(out)[:-1] == words(expected), f"help {cmd.key}:\n{out}"
    await ada.close()


async def test_usage_lines_keep_their_alternatives(server):
    ada = await login(server.port, "Ada")
    server.world.set_role(server.world.players_by_key["ada"], "admin")
    for line, usage in [
        ("channel", "Usage: channel join|leave|mute|unmute|history|who|say <name>"),
        ("@ban", "Usage: @ban <dreamer|address|CIDR> [duration] [reason]"),
        ("@unban", "Usage: @unban <dreamer|address|CIDR|#id>"),
        ("help @unban", "@unban <dreamer|address|CIDR|#id>"),
    ]:
        out = await said(ada, line)
        assert usage in out, f"{line}: {out!r}"
    await ada.close()


def _usage_strings() -> list[tuple[str, str]]:
    """(where, text) for every string in commands/ that holds a usage line (the literal
    parts of f-strings included)."""
    found = []
    for path in sorted(COMMANDS_DIR.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
                if "Usage:" in text or "usage:" in text:
                    found.append((f"{path.name}:{node.lineno}", text))
    return found


def test_no_usage_string_in_the_commands_eats_a_letter():
    from mud.core.text import strip_markup

    checked = _usage_strings()
    assert len(checked) > 20
    for where, text in checked:
        assert strip_markup(text) == as_meant(text), f"{where}: {text!r}"


async def test_a_plain_player_sees_no_building_commands_in_help(server):
    ada = await login(server.port, "Ada")
    out = await said(ada, "help")
    assert "Building" not in out and "draft" in out
    out = await said(ada, "help draft")
    assert "Show the draft kept" in out
    await ada.close()
