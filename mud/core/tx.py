"""A command's unit of work: what it shows is released once what it changed is durable.

Nobody is told of a change before it is durable: not the dreamer who typed the command, not
the bystanders, not the listeners of a channel, not whoever it moved. A `CommandTx` stands for
one typed command (or a modal's action, or a background task's continuation) while it runs,
and collects everything the command showed:

- its actor's reply (the actor's own output, held as a whole);
- other sessions it wrote to privately (`give`, `tell`, a landing): held like the reply;
- the room-feed lines it posted (mud/core/feed.py): gated on its commit, in order with the
  lines before them;
- the channel lines it spoke (World.channels' `when_durable` port): cast once durable;
- whoever it moved (World's `landed` port): shown where they landed after the command's
  messages (`show_landings`, at the end of the command's body), held with the rest.

At the end (`end`) it reads the Store's staged sequence once. Nothing staged and nobody
reading held lines: everything is released now (room lines still wait for earlier gates, in
order). Otherwise ONE `Store.when_durable` callback releases everything of this command, in
this order: channel lines, room gates, other sessions, then the actor (whose release runs
the next line they typed).

Work outside any command (NPC steps, events, timers, a dropped connection) keeps its own
path: room lines are shown at once but after anything still waiting for a commit, private
lines at once; only a move outside a command gets a small unit of its own
(`Transactions.landed`), so "you are here" is shown once being there survives a crash.

Release order relies on the Store calling `when_durable` callbacks in the order they were
registered: units end in order, so the last unit holding a session is the last to release it
(`OutputBuffer.held_by`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar, cast

from commands.api import CommandError, CommandSession

if TYPE_CHECKING:
    from mud.core.feed import RoomFeed
    from mud.core.session import Session
    from mud.store import Store
    from world.model import Player, Room

# Shows a moved dreamer the room they are in, then (if True) their handler's prompt.
ShowLanding = Callable[["Player", bool], None]


class CommandTx:
    """One command's unit of work (see the module docstring). Begun with
    `Transactions.begin`, ended once with `end`."""

    __slots__ = (
        "actor", "before", "feeds", "host", "later", "moved", "need", "others", "outer",
        "shown",
    )  # fmt: skip

    # The unit under way (the engine runs one thing at a time on its loop): the output
    # pump, the feeds and OutputBuffer.write_line read it on every delivery.
    current: ClassVar[CommandTx | None] = None

    def __init__(self, host: Transactions, actor: Session | None) -> None:
        self.host = host
        self.actor = actor  # whose command this is (None: a move outside a command)
        self.before = host.store.staged_seq
        self.need = 0  # a sequence waited for besides the command's own staging (landings)
        # Each made when first needed (most commands need none: a unit begins per line typed)
        self.feeds: list[RoomFeed] | None = None  # room feeds it posted to (gated at the end)
        self.others: set[Session] | None = None  # others it wrote to (held like its reply)
        self.later: list[Callable[[], None]] | None = None  # channel lines: cast once durable
        self.moved: dict[int, tuple[Player, int]] | None = None  # id -> (player, staging seq)
        self.shown: dict[int, Room] | None = None  # player id -> the room the command showed
        self.outer: CommandTx | None = None

    # -- while the command runs ---------------------------------------------------------------
    def posted(self, feed: RoomFeed) -> None:
        """A line went into `feed`: it is gated when the command ends."""
        feeds = self.feeds
        if feeds is None:
            self.feeds = [feed]
        elif feed not in feeds:
            feeds.append(feed)

    def told(self, session: Session) -> None:
        """Another's command wrote to `session` privately: held like the command's reply,
        and it reads the room's held lines first (so the order stays the order of events)."""
        if session is not self.actor:
            self.other(session)
            session.out.read_held(True)

    def other(self, session: Session) -> None:
        """Another session this command wrote to (held like its reply)."""
        others = self.others
        if others is None:
            self.others = {session}
        else:
            others.add(session)

    def show_landings(self, actor: Player | None) -> None:
        """The command's body is done: whoever it moved (and didn't show the room itself)
        sees the room they landed in, after the command's messages; all but `actor` see
        their prompt too (the actor's handler prompts once the command is done)."""
        moved, shown = self.moved, self.shown
        self.moved = self.shown = None
        if not moved:  # nearly every command: nobody was moved
            return
        show = self.host.show_landing
        for pid, (p, _seq) in moved.items():
            if p.room is not None and (shown is None or shown.get(pid) is not p.room):
                show(p, p is not actor)

    # -- the end: one wait for the commit -------------------------------------------------------
    def end(self) -> None:
        """The command is done: gate, hold and register what it showed on its commit (one
        `when_durable`), or release it now if it staged nothing that anyone waits for."""
        try:
            if self.moved:  # moves made outside a command's body (show_landings): shown now
                self.show_landings(None)
        finally:
            CommandTx.current = self.outer
        store = self.host.store
        staged = store.staged_seq != self.before
        seq = store.staged_seq if staged else 0
        committed = store.committed_seq
        for feed in self.feeds or ():
            feed.gate(seq, committed)  # (opens at once when there is nothing to wait for)
        actor = self.actor
        wait = base = max(seq, self.need)
        held: list[Session] = []
        for other in self.others or ():
            out = other.out
            out.read_held(False)
            if out.closed:
                continue
            need = base
            room = out.feed
            if room is not None and out.feed_pos > room.end:  # it read held room lines too
                need = max(need, room.last_seq())
            if need > committed:
                held.append(other)
                wait = max(wait, need)
        if staged and actor is not None and not actor.closed:
            held.append(actor)  # last: its release runs the next line it typed
        if wait <= committed:  # nothing to wait for (nearly every command that staged nothing)
            if self.later:
                self._run_later()
            return
        for s in held:
            s.hold(self, own=s is actor and staged)
        self.need = wait
        store.when_durable(wait, self._release)

    def _run_later(self) -> None:
        later, self.later = self.later, None
        for callback in later or ():
            callback()

    def _release(self) -> None:
        """Everything the command changed is durable: channel lines, room lines, then the
        sessions it held (others first, the actor last)."""
        if self.later:
            self._run_later()
        committed = self.host.store.committed_seq
        for feed in self.feeds or ():
            feed.advance(committed)
        actor = self.actor
        for other in self.others or ():
            if other is not actor:
                other.release(self)
        if actor is not None:
            actor.release(self)


class Transactions:
    """The engine's units of work: begins them, and is the World's port for what has to wait
    for a commit while a command runs (a move's landing, a channel line)."""

    def __init__(self, store: Store, show_landing: ShowLanding) -> None:
        self.store = store
        self.show_landing = show_landing

    def begin(self, actor: Session | None) -> CommandTx:
        """A unit of work starts: until its `end`, what is shown to anyone is collected."""
        tx = CommandTx(self, actor)
        tx.outer = CommandTx.current
        CommandTx.current = tx
        return tx

    # -- for commands (commands/api.py Units) -------------------------------------------------
    def run(self, session: CommandSession, action: Callable[[], None]) -> None:
        """Run `action` as a command's body (a modal's answer): in the unit of the line that
        asked for it, else its own; a CommandError it raises is told to `session`."""
        tx = CommandTx.current
        own = tx is None
        if tx is None:  # (a command's session is always one of this engine's Sessions)
            tx = self.begin(cast("Session", session))
        try:
            action()
        except CommandError as err:
            session.send(str(err))
        finally:
            tx.show_landings(session.player)
            if own:
                tx.end()

    def viewed(self, p: Player, room: Room) -> None:
        """The command showed `p` the room itself (render_room): no landing shown again."""
        tx = CommandTx.current
        if tx is not None:
            if tx.shown is None:
                tx.shown = {}
            tx.shown[p.id] = room

    # -- the World's ports ------------------------------------------------------------------
    def landed(self, p: Player, seq: int) -> None:
        """World.landed: `p` was moved (staging sequence `seq`). In a command: shown where
        they landed when its body is done. Outside one (an event, a timer): shown now, held
        until the move is durable."""
        tx = CommandTx.current
        if tx is None:
            tx = self.begin(None)
            try:
                tx.need = seq
                self.show_landing(p, True)
            finally:
                tx.end()
            return
        if tx.moved is None:
            tx.moved = {}
        tx.moved[p.id] = (p, seq)
        if seq > tx.need:
            tx.need = seq

    def when_durable(self, seq: int, callback: Callable[[], None]) -> None:
        """World.channels.when_durable: `callback` once `seq` is durable; in a command, with
        the rest of what the command shows (one wait)."""
        tx = CommandTx.current
        if tx is None:
            self.store.when_durable(seq, callback)
            return
        if tx.later is None:
            tx.later = []
        tx.later.append(callback)
        if seq > tx.need:
            tx.need = seq
