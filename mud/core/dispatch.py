"""Running commands: parse a line, find the command, check the role, call it.

The commands themselves, their registry and what they may use (`Ctx`) are in
commands/api.py; this is the engine's side. Lookup order for the first word:
an exact command name or alias, then an exit of the current room (alone: words after it
are speech, for a channel of that name, never a walk that drops them), then a word that
is the world's data rather than code (a channel or a social: see `Registry.add_late`),
then a unique command prefix (`inv` -> inventory). Prefix answers are cached, so dispatch
is a couple of dict hits. A word that matches nothing gets the nearest commands as a hint (by
one edit-distance rule, `commands.api.edits`), worked out only then.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from commands.api import Command, CommandError, Ctx, Mode, Registry
from mud.core.session import Session
from mud.core.text import escape_stray_pipes
from mud.core.tx import CommandTx
from mud.core.world_port import session_of
from world.dreams import DreamError
from world.model import ABBREVIATION_OF, DIRECTIONS
from world.moderation import MUTE_KEY, muted_message

if TYPE_CHECKING:
    from mud.core.app import App
    from world.model import Player

log = logging.getLogger("dreamwave.dispatch")

# Single-character shortcuts that need no space: 'hello  :waves
SHORTCUTS = {"'": "say", '"': "say", ":": "emote", ";": "emote"}


def show_landing(p: Player, prompt: bool) -> None:
    """Show `p` the room they are in, as `look` does, then (if `prompt`) the prompt of
    whatever has their input (the dispatcher, or an editor or question they are in). What
    it shows waits for the move's commit with the rest of the unit of work that moved them
    (mud/core/tx.py: "you are here" only once being here survives a crash)."""
    session = session_of(p)
    if session is None or session.closed:
        return
    dispatcher = session.base_mode
    if not isinstance(dispatcher, Dispatcher):
        return
    look = dispatcher.registry.exact("look")
    if look is None:
        return
    ctx = Ctx(p, session, dispatcher.app.world, dispatcher.app, look, "", "look")
    try:
        look.func(ctx)
    except CommandError as err:
        session.send(str(err))
    mode = session.mode
    if prompt and mode is not None:
        mode.prompt()


class Dispatcher(Mode):
    """The base mode of a logged-in player: every line they type comes here (unless a mode
    pushed over it borrows the input)."""

    def __init__(self, app: App, session: Session, player: Player) -> None:
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
        if self.session.mode is self and not self.session.busy:
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
