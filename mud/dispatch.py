"""Command registry and dispatch: parse a line, find the command, check the role, call it.

A command is a plain function registered with `@command(...)`; its docstring is the in-game
help (first line: the summary shown in the list). Lookup order for the first word:
an exact command name or alias, then an exit of the current room, then a word that is
the world's data rather than code (a channel or a social: see `Registry.add_late`), then a
unique command prefix (`inv` -> inventory). Prefix answers are cached, so dispatch is a
couple of dict hits.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mud.text import escape_stray_pipes
from world.dreams import DreamError
from world.model import ABBREVIATION_OF, DIRECTIONS

if TYPE_CHECKING:
    from mud.session import Session
    from world.model import Player
    from world.world import World

log = logging.getLogger("dreamwave.dispatch")

# Single-character shortcuts that need no space: 'hello  :waves
SHORTCUTS = {"'": "say", '"': "say", ":": "emote", ";": "emote"}


class CommandError(Exception):
    """Raised by a command to tell the player, in one sentence, what to do instead."""


@dataclass
class Ctx:
    """Everything a command may use. Commands change the world only through `world`."""

    player: Player
    session: Session
    world: World
    app: Any
    cmd: Command
    args: str
    word: str

    def send(self, text: str) -> None:
        self.session.send(text)


@dataclass
class Command:
    key: str
    func: Callable[[Ctx], None]
    aliases: tuple[str, ...] = ()
    category: str = "General"
    role: str = "player"
    hidden: bool = False
    help_text: str = ""
    summary: str = field(init=False)

    def __post_init__(self) -> None:
        doc = inspect.cleandoc(self.help_text or self.func.__doc__ or "")
        self.help_text = doc
        self.summary = doc.splitlines()[0] if doc else ""


class Registry:
    def __init__(self) -> None:
        self.commands: dict[str, Command] = {}  # key -> command
        self._exact: dict[str, Command] = {}  # key or alias -> command
        self._prefix_cache: dict[str, Command | None] = {}
        self._late: list[Callable[[Any, str], Command | None]] = []

    def add(self, cmd: Command) -> Command:
        self.commands[cmd.key] = cmd
        for word in (cmd.key, *cmd.aliases):
            self._exact[word] = cmd
        self._prefix_cache.clear()
        return cmd

    def add_late(self, lookup: Callable[[Any, str], Command | None]) -> None:
        """`lookup(world, word)` names a command for a word no command or exit took (channel
        names, socials): asked only on that path, so ordinary commands never pay for it."""
        if lookup not in self._late:
            self._late.append(lookup)

    def late(self, world: Any, word: str) -> Command | None:
        for lookup in self._late:
            cmd = lookup(world, word)
            if cmd is not None:
                return cmd
        return None

    def words(self) -> set[str]:
        return set(self._exact)

    def exact(self, word: str) -> Command | None:
        return self._exact.get(word)

    def by_prefix(self, word: str) -> Command | None:
        try:
            return self._prefix_cache[word]
        except KeyError:
            pass
        found = {
            cmd.key: cmd for name, cmd in self._exact.items()
            if name.startswith(word) and not cmd.hidden
        }  # fmt: skip
        result = next(iter(found.values())) if len(found) == 1 else None
        if len(self._prefix_cache) < 10_000:
            self._prefix_cache[word] = result
        return result

    def candidates(self, word: str, player: Player) -> list[str]:
        return sorted(
            {
                c.key
                for n, c in self._exact.items()
                if n.startswith(word) and player.has_role(c.role)
            }
        )


REGISTRY = Registry()


def command(
    key: str,
    aliases: tuple[str, ...] | list[str] = (),
    category: str = "General",
    role: str = "player",
    hidden: bool = False,
) -> Callable[[Callable[[Ctx], None]], Callable[[Ctx], None]]:
    def deco(func: Callable[[Ctx], None]) -> Callable[[Ctx], None]:
        REGISTRY.add(Command(key, func, tuple(aliases), category, role, hidden))
        return func

    return deco


class Dispatcher:
    """The handler for a logged-in player: every line they type comes here."""

    def __init__(self, app: Any, session: Session, player: Player) -> None:
        self.app = app
        self.session = session
        self.player = player
        self.registry: Registry = app.registry

    def prompt(self) -> None:
        self.session.send_prompt()

    def on_close(self) -> None:
        self.app.player_left(self.player, self.session)

    def on_line(self, line: str) -> None:
        if not line:
            self.prompt()
            return
        self.run(escape_stray_pipes(line))
        # A command that went on in the background (session.run_task) prompts when done.
        if self.session.handler is self and not self.session.busy:
            self.prompt()

    def run(self, line: str) -> None:
        first = line[0]
        if first in SHORTCUTS:
            word, args = SHORTCUTS[first], line[1:].strip()
        else:
            word, _, args = line.partition(" ")
            args = args.strip()
        low = word.lower()
        player = self.player
        cmd = self.registry.exact(low)
        if cmd is None:
            room = player.room
            ex = room.find_exit(low) if room is not None else None
            if ex is not None:
                cmd = self.registry.exact("go")
                args = ex.name
            elif low in DIRECTIONS or low in ABBREVIATION_OF:
                self.session.send("You can't go that way.")
                return
            else:
                cmd = self.registry.late(self.app.world, low) or self.registry.by_prefix(low)
        if cmd is None or not player.has_role(cmd.role):
            self._unknown(low, cmd)
            return
        ctx = Ctx(player, self.session, self.app.world, self.app, cmd, args, word)
        try:
            cmd.func(ctx)
        except (CommandError, DreamError) as err:
            self.session.send(str(err))

    def _unknown(self, word: str, cmd: Command | None) -> None:
        if cmd is not None:  # exists, but above this player's role
            self.session.send("You can't do that.")
            return
        options = self.registry.candidates(word, self.player)
        if word.startswith("@") and not self.player.has_role("builder"):
            self.session.send("You can't do that.")
        elif len(options) > 1:
            self.session.send(f"Did you mean: {', '.join(options[:8])}?")
        else:
            self.session.send(
                f"Unknown command '{word[:30]}'. Type |whelp|n for a list of commands."
            )
