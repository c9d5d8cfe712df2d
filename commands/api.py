"""What a command may use, and nothing else: the one module every command imports.

A command is a plain function registered with `@command(...)`; it gets a `Ctx` (the dreamer,
their connection, the world, the engine's services) and answers through it. Its docstring is
the in-game help (first line: the summary shown in the list).

The engine and the connection are seen here only as Protocols (`Engine`, `CommandSession`),
written down from what commands really use, so mypy checks every command against them and
`commands/` imports nothing from `mud/` (an import-linter contract in pyproject.toml). The
engine implements them (mud/core/app.py App, mud/core/session.py Session) and runs commands
(mud/core/dispatch.py Dispatcher); `import commands` registers them all in `REGISTRY`.

Modes: whatever has a connection's input is a `Mode`. The base one is the login flow, then
the dispatcher; a question, an editor, the pager, `afk` or a password change borrows the
input by `session.push_mode(mode)` and gives it back with `session.pop_mode(mode)`. The
session owns that stack and tells every mode on it when the connection closes.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Collection, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from world.model import Player, Room
    from world.npc_behaviour import Brain
    from world.npcs import Npc
    from world.scripting.runtime import EventRuntime
    from world.world import World

SUGGESTIONS = 3  # commands suggested for a word that matches none
# A typo's hint: command words within this many edits of the word typed (an edit is a letter
# added, dropped, changed, or two side by side swapped: `sya` is one from `say`) ...
TYPO_EDITS = 1
TYPO_EDITS_LONG = 2  # ... or this many, for a word of at least TYPO_LONG_WORD letters
TYPO_LONG_WORD = 6
TYPO_MIN_WORD = 3  # shorter words get no hint: one edit away from them is half the commands

MIN_PAGE_LINES = 5  # the smallest page `config pager` accepts (and the pager uses)
MAX_PAGE_LINES = 200  # ... and the largest


class CommandError(Exception):
    """Raised by a command to tell the player, in one sentence, what to do instead."""


# -- modes ------------------------------------------------------------------------------------
class Mode:
    """Whatever has a connection's input (see the module docstring). `on_line` and `prompt`
    are its own; the hooks are no-ops unless a mode needs them."""

    def on_line(self, line: str) -> None:
        """A line the dreamer typed (decoded, sanitised, stripped)."""
        raise NotImplementedError

    def prompt(self) -> None:
        """Show this mode's prompt."""
        raise NotImplementedError

    def on_closing(self) -> None:
        """The connection is about to close: put back what this mode changed (echo)."""

    def on_close(self) -> None:
        """The connection closed (every mode on the stack hears it, the top one first)."""

    def draft(self) -> tuple[str, str] | None:
        """What a reload would lose of what the dreamer typed here: (title, text), or None.
        The engine keeps the first one on the stack as the dreamer's draft."""
        return None


# -- what a command may use of the engine -------------------------------------------------------
class ClientFacts(Protocol):
    """What the client said about itself, as its edge found out (mud/protocol ClientCaps)."""

    @property
    def name(self) -> str: ...
    @property
    def terminal(self) -> str: ...
    @property
    def mtts(self) -> int | None: ...
    @property
    def colour(self) -> str: ...
    @property
    def screen_reader(self) -> bool: ...
    @property
    def options(self) -> Sequence[str]: ...  # telnet options on
    @property
    def gmcp_client(self) -> str: ...  # its GMCP Core.Hello
    @property
    def gmcp_version(self) -> str: ...
    @property
    def gmcp_packages(self) -> Collection[str]: ...  # GMCP packages it enabled


class CommandSession(Protocol):
    """A dreamer's connection, as commands and modes use it (mud.core.session.Session)."""

    @property
    def player(self) -> Player | None: ...
    @property
    def closed(self) -> bool: ...
    @property
    def address(self) -> str: ...
    @property
    def connected_at(self) -> float: ...  # time.monotonic()
    @property
    def last_input(self) -> float: ...  # time.monotonic()
    @property
    def screen_reader(self) -> bool: ...
    @property
    def colour(self) -> bool: ...
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def encoding(self) -> str: ...
    @property
    def out_key(self) -> int: ...  # equal for sessions whose rendered bytes are equal
    @property
    def client(self) -> ClientFacts: ...

    # input: the mode stack
    @property
    def mode(self) -> Mode | None: ...  # whatever has the input now (None: none any more)
    def push_mode(self, mode: Mode) -> None: ...
    def pop_mode(self, mode: Mode, prompt: bool = True) -> bool: ...
    def run_task(
        self, coro: Coroutine[Any, Any, None], then: Callable[[], None] | None = None
    ) -> None: ...

    # output
    def send(self, text: str) -> None: ...
    def page(self, text: str) -> None: ...  # like send, a screen at a time when longer
    def page_lines(self) -> int: ...  # lines per page (0: no paging)
    def send_prompt(self, text: str | None = None) -> None: ...
    def render(self, text: str) -> str: ...  # markup as this client sees it
    def write_rendered(self, text: str) -> None: ...
    def write_raw(self, data: bytes) -> None: ...  # text bytes that bypass rendering
    def set_echo(self, off: bool) -> None: ...  # the client stops (or resumes) echoing input
    def close(self, farewell: str | None = None) -> None: ...

    # what the client is shown as
    def set_colour(self, on: bool) -> None: ...
    def set_encoding(self, name: str) -> bool: ...
    def decide_capabilities(self) -> None: ...


class Durability(Protocol):
    """The Store, as commands use it: tell of a change only once it is durable."""

    async def durable(self, seq: int | None = None) -> None: ...  # None: all staged
    def when_durable(self, seq: int, callback: Callable[[], None]) -> None: ...


class Events(Protocol):
    """Event scripts (@event)."""

    @property
    def runtime(self) -> EventRuntime: ...
    @property
    def problems(self) -> list[str]: ...
    async def reload_async(self) -> list[str]: ...


class NpcScripts(Protocol):
    """Scripted NPCs (@npc, ask)."""

    def brain(self, npc: Npc) -> Brain | None: ...
    def answer(self, npc: Npc, question: str, asker: Player) -> bool: ...


class Shutdown(Protocol):
    """The @shutdown countdown."""

    @property
    def pending(self) -> bool: ...
    @property
    def by(self) -> str: ...
    def left(self) -> float: ...
    def start(self, seconds: float, reason: str, by: str) -> None: ...
    def cancel(self) -> bool: ...


class Lockout(Protocol):
    @property
    def kind(self) -> str: ...  # "address" or "account"
    @property
    def key(self) -> str: ...
    @property
    def locked_for(self) -> float: ...  # seconds left, 0 when only counting failures
    @property
    def failures(self) -> int: ...


class Lockouts(Protocol):
    """Login lockouts after wrong passwords (@lockouts)."""

    def entries(self) -> Sequence[Lockout]: ...
    def clear(self, key: str) -> bool: ...


class Passwords(Protocol):
    """Password rules and hashing (the module mud.core.auth is the implementation)."""

    def check_password(self, password: str) -> str | None: ...  # what is wrong, or None
    def hash_password(self, password: str) -> Awaitable[str]: ...
    def verify_password(self, stored: str | None, password: str) -> Awaitable[bool]: ...


class Units(Protocol):
    """A command's unit of work (mud/core/tx.py): what it shows is released once what it
    changed is durable, and whoever it moves is shown where they landed."""

    def run(self, session: CommandSession, action: Callable[[], None]) -> None:
        """Run `action` as a command's body (a modal's answer): in the unit of the line that
        asked for it, else its own; a CommandError it raises is told to `session`."""

    def viewed(self, p: Player, room: Room) -> None:
        """The command showed `p` the room itself: no landing shown again."""


class Engine(Protocol):
    """The engine's services a command may use besides the world (`Ctx.app`; the App is the
    one implementation)."""

    @property
    def world(self) -> World: ...
    @property
    def registry(self) -> Registry: ...  # the commands (help, @privileges)
    @property
    def store(self) -> Durability: ...
    @property
    def events(self) -> Events: ...
    @property
    def npc_director(self) -> NpcScripts: ...
    @property
    def shutdown(self) -> Shutdown: ...
    @property
    def throttle(self) -> Lockouts: ...
    @property
    def passwords(self) -> Passwords: ...
    @property
    def txs(self) -> Units: ...
    @property
    def sessions(self) -> Collection[CommandSession]: ...  # every connection (@who)
    @property
    def reloading(self) -> bool: ...  # a reload is under way (@reload)

    def session_of(self, p: Player) -> CommandSession | None: ...  # a dreamer's connection
    def wall(self, text: str) -> None: ...
    async def request_reload(self) -> list[str]: ...


# -- a command and its context ------------------------------------------------------------------
@dataclass
class Ctx:
    """Everything a command may use. Commands change the world only through `world`."""

    player: Player
    session: CommandSession
    world: World
    app: Engine
    cmd: Command
    args: str
    word: str

    def send(self, text: str) -> None:
        self.session.send(text)

    def page(self, text: str) -> None:
        """Like send, but a screen at a time when it is longer (mud.core.pager)."""
        self.session.page(text)


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
    """Every command by name and alias; the dispatcher's lookups (mud/core/dispatch.py)."""

    def __init__(self) -> None:
        self.commands: dict[str, Command] = {}  # key -> command
        self._exact: dict[str, Command] = {}  # key or alias -> command
        self._prefix_cache: dict[str, Command | None] = {}
        self._late: list[Callable[[World, str], Command | None]] = []

    def add(self, cmd: Command) -> Command:
        self.commands[cmd.key] = cmd
        for word in (cmd.key, *cmd.aliases):
            self._exact[word] = cmd
        self._prefix_cache.clear()
        return cmd

    def add_late(self, lookup: Callable[[World, str], Command | None]) -> None:
        """`lookup(world, word)` names a command for a word no command or exit took (channel
        names, socials): asked only on that path, so ordinary commands never pay for it."""
        if lookup not in self._late:
            self._late.append(lookup)

    def late(self, world: World, word: str) -> Command | None:
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
