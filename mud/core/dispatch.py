"""Command registry and dispatch: parse a line, find the command, check the role, call it.

A command is a plain function registered with `@command(...)`; its docstring is the in-game
help (first line: the summary shown in the list). Lookup order for the first word:
an exact command name or alias, then an exit of the current room (alone: words after it
are speech, for a channel of that name, never a walk that drops them), then a word that
is the world's data rather than code (a channel or a social: see `Registry.add_late`),
then a unique command prefix (`inv` -> inventory). Prefix answers are cached, so dispatch
is a couple of dict hits. A word that matches nothing gets the nearest commands as a hint (by
one edit-distance rule, `edits`), worked out only then.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from mud.core.text import escape_stray_pipes
from mud.core.tx import CommandTx
from world.dreams import DreamError
from world.model import ABBREVIATION_OF, DIRECTIONS
from world.moderation import MUTE_KEY, muted_message

if TYPE_CHECKING:
    from mud.core.auth import FailureThrottle
    from mud.core.events import EventService
    from mud.core.lifecycle import SessionLifecycle
    from mud.core.npc_runtime import NpcDirector
    from mud.core.session import Session
    from mud.core.shutdown import ShutdownTimer
    from mud.store import Store
    from world.model import Player
    from world.world import World

log = logging.getLogger("dreamwave.dispatch")

# Single-character shortcuts that need no space: 'hello  :waves
SHORTCUTS = {"'": "say", '"': "say", ":": "emote", ";": "emote"}
SUGGESTIONS = 3  # commands suggested for a word that matches none
# A typo's hint: command words within this many edits of the word typed (an edit is a letter
# added, dropped, changed, or two side by side swapped: `sya` is one from `say`) ...
TYPO_EDITS = 1
TYPO_EDITS_LONG = 2  # ... or this many, for a word of at least TYPO_LONG_WORD letters
TYPO_LONG_WORD = 6
TYPO_MIN_WORD = 3  # shorter words get no hint: one edit away from them is half the commands


class CommandError(Exception):
    """Raised by a command to tell the player, in one sentence, what to do instead."""


class Engine(Protocol):
    """The engine's services a command may use besides the world (`Ctx.app`; the App is
    the one implementation). Written down so the boundary is checked, not `Any`."""

    world: World
    registry: Registry  # the commands (help, @privileges)
    store: Store  # durability: `await store.durable()` before saying a change is saved
    events: EventService  # event scripts (@event)
    npc_director: NpcDirector  # NPC scripts (@npc)
    shutdown: ShutdownTimer  # @shutdown
    throttle: FailureThrottle  # login lockouts (@lockout)
    sessions: set[Session]  # every connection (@who)
    reloading: bool  # a reload is under way (@reload)

    def wall(self, text: str) -> None: ...
    async def request_reload(self) -> list[str]: ...
    @property
    def lifecycle(self) -> SessionLifecycle: ...  # (the dispatcher's: a dreamer leaves)


@dataclass
class Ctx:
    """Everything a command may use. Commands change the world only through `world`."""

    player: Player
    session: Session
    world: World
    app: Engine
    cmd: Command
    args: str
    word: str

    def send(self, text: str) -> None:
        self.session.send(text)

    def page(self, text: str) -> None:
        """Like send, but a screen at a time when it is longer (mud.core.pager)."""
        from mud.core.pager import page

        page(self.session, text)


@dataclass(frozen=True)
class Publishes:
    """Which of a command's forms put words its typer wrote where another dreamer can read
    them: said or shouted, mailed, shown in `who`, stored on a room, an item or a dream that
    others look at. A muted dreamer is refused those forms (and only those) before the
    command runs. Every command declares one (tests/test_mute_rules.py walks the registry),
    so a new command can't forget the mute."""

    always: bool = False  # every use: the line itself is heard (say, a social)
    text: bool = False  # the words typed after the command, or after a subcommand in `after`
    after: tuple[str, ...] = ()  # the subcommands that publish what follows (mail send ...)
    keeps: tuple[str, ...] = ("clear",)  # what removes the text instead: allowed

    def covers(self, args: str) -> bool:
        """Whether typing the command with `args` publishes something its typer wrote."""
        if self.always:
            return True
        if not self.text:
            return False
        written = args.strip()
        if self.after:
            sub, _, written = written.partition(" ")
            if sub.lower() not in self.after:
                return False
        written = written.strip().lower()
        return bool(written) and written not in self.keeps

    def forms(self, key: str, sample: str) -> list[str]:
        """Lines that publish `sample` with this command (the mute table types them)."""
        if not (self.always or self.text):
            return []
        return [f"{key} {sub} {sample}" for sub in self.after] or [f"{key} {sample}"]


NOTHING = Publishes()  # reads, moves, settings only its owner sees
SPEECH = Publishes(always=True)
TEXT = Publishes(text=True)


def text_after(*subcommands: str) -> Publishes:
    """The words typed after one of `subcommands` are published (`mail send`, `dream name`)."""
    return Publishes(text=True, after=subcommands)


@dataclass
class Command:
    key: str
    func: Callable[[Ctx], None]
    aliases: tuple[str, ...] = ()
    category: str = "General"
    role: str = "player"
    hidden: bool = False
    help_text: str = ""
    publishes: Publishes | None = None  # what others read of its typer's words (None: undeclared)
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

    def nearest(self, word: str, player: Player) -> list[str]:
        """Commands this player may use whose names are close to `word` (a typo's hint).
        Only on the miss path: it compares against every command word."""
        usable = {
            name: cmd for name, cmd in self._exact.items()
            if not cmd.hidden and player.has_role(cmd.role)
        }  # fmt: skip
        if len(word) < TYPO_MIN_WORD:
            return []
        most = TYPO_EDITS_LONG if len(word) >= TYPO_LONG_WORD else TYPO_EDITS
        near = [(edits(word, name, most), name) for name in usable]
        out: dict[str, str] = {}  # command key -> the word to suggest (what was typed nearest)
        for n, name in sorted(near):
            if n <= most:
                out.setdefault(usable[name].key, name)
        return list(out.values())[:SUGGESTIONS]

    def candidates(self, word: str, player: Player) -> list[str]:
        return sorted(
            {
                c.key
                for n, c in self._exact.items()
                if n.startswith(word) and player.has_role(c.role)
            }
        )


def edits(a: str, b: str, most: int) -> int:
    """The edits that turn `a` into `b`: letters added, dropped or changed, and two letters
    side by side swapped (the optimal string alignment distance); any answer above `most`
    is `most + 1`, found without comparing the rest."""
    if abs(len(a) - len(b)) > most:
        return most + 1
    before: list[int] = []
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, before, row = before, row, [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            row[j] = min(before[j] + 1, row[j - 1] + 1, before[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                row[j] = min(row[j], prev[j - 2] + 1)
        if min(row) > most:
            return most + 1
    return min(row[-1], most + 1)


REGISTRY = Registry()


def show_landing(p: Player, prompt: bool) -> None:
    """Show `p` the room they are in, as `look` does, then (if `prompt`) the prompt of
    whatever has their input (the dispatcher, or an editor or question they are in). What
    it shows waits for the move's commit with the rest of the unit of work that moved them
    (mud/core/tx.py: "you are here" only once being here survives a crash)."""
    session: Any = p.session
    handler = getattr(session, "handler", None)
    dispatcher = handler
    while dispatcher is not None and not isinstance(dispatcher, Dispatcher):
        dispatcher = getattr(dispatcher, "parent", None)
    if dispatcher is None or session.closed:
        return
    look = dispatcher.registry.exact("look")
    if look is None:
        return
    ctx = Ctx(p, session, dispatcher.app.world, dispatcher.app, look, "", "look")
    try:
        look.func(ctx)
    except CommandError as err:
        session.send(str(err))
    if prompt and handler is not None:  # (it is: the dispatcher was found through it)
        handler.prompt()


def command(
    key: str,
    aliases: tuple[str, ...] | list[str] = (),
    category: str = "General",
    role: str = "player",
    hidden: bool = False,
    publishes: Publishes | None = None,
) -> Callable[[Callable[[Ctx], None]], Callable[[Ctx], None]]:
    def deco(func: Callable[[Ctx], None]) -> Callable[[Ctx], None]:
        cmd = Command(key, func, tuple(aliases), category, role, hidden, publishes=publishes)
        REGISTRY.add(cmd)
        return func

    return deco


class Dispatcher:
    """The handler for a logged-in player: every line they type comes here."""

    def __init__(self, app: Engine, session: Session, player: Player) -> None:
        self.app = app
        self.session = session
        self.player = player
        self.registry: Registry = app.registry

    def prompt(self) -> None:
        self.session.send_prompt()

    def on_close(self) -> None:
        self.app.lifecycle.player_left(self.player, self.session)

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
            if ex is not None and args:  # words after it: speech, not a walk (a channel's)
                cmd = self.registry.late(self.app.world, low)
                if cmd is None:
                    self.session.send(_walk_or_speak(low))
                    return
            elif ex is not None:
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
        if player.settings.get(MUTE_KEY) is not None and self._muted(cmd, args):
            return
        ctx = Ctx(player, self.session, self.app.world, self.app, cmd, args, word)
        try:
            cmd.func(ctx)
        except (CommandError, DreamError) as err:
            self.session.send(str(err))
        finally:
            tx = CommandTx.current  # whoever it moved sees where they landed, after its messages
            if tx is not None:
                tx.show_landings(player)

    def _muted(self, cmd: Command, args: str) -> bool:
        """Refuse, in one sentence, a muted dreamer's command that would publish their words."""
        if cmd.publishes is None or not cmd.publishes.covers(args):
            return False
        refusal = muted_message(self.player)
        if refusal is not None:
            self.session.send(refusal)
        return refusal is not None

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
            near = self.registry.nearest(word[:30], self.player)
            hint = (
                f"Did you mean {_either(near)}?" if near
                else "Type |whelp|n for a list of commands."
            )  # fmt: skip
            self.session.send(f"Unknown command '{word[:30]}'. {hint}")


def _walk_or_speak(way: str) -> str:
    """The answer to an exit's name (as typed) with words after it, where no channel has
    that name."""
    return (
        f"'{way}' is a way out of here; to go that way, type |w{way}|n alone, "
        f"and to speak, |wsay|n and your words."
    )


def _either(words: list[str]) -> str:
    """'look', 'look or lock', 'look, lock or loop' (as typed commands)."""
    shown = [f"|w{w}|n" for w in words]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]
