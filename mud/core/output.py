"""The output path: room feeds, one line fanned out to many, and the output pump.

What happens in a room is one append to its feed (mud/core/feed.py), what a channel carries one
append to the channel's (mud/core/channel_feed.py); the pump writes every session with waiting
output, a slice of sockets per loop iteration. What a typed command shows others waits for
that command's changes to be durable, as its own reply does (`command_began`/`command_done`).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from mud.core.channel_feed import ChannelPump
from mud.core.feed import PENDING, RoomFeed
from mud.core.session import Session
from mud.core.text import render

if TYPE_CHECKING:
    from mud.store import Store
    from world.model import Player, Room

BUSY_PUMP_SESSIONS = 32  # sessions written by one output pump that count as "busy"
# When busy, other players' lines gather for a while so each socket gets one write carrying
# several lines: a send() costs several microseconds (on loopback it runs the receiver's
# TCP stack too), and at 2,000 players they were half the event loop. The wait grows with
# the number of sockets the last pump wrote, keeping these writes near a budget per second,
# between the two bounds. A player's reply to their own command never waits (Session).
BUSY_FLUSH_DELAY = 0.025  # seconds at least
BUSY_FLUSH_DELAY_MAX = 0.1  # seconds at most
FLUSH_WRITES_PER_SECOND = 20_000  # the budget
PUMP_SLICE = 64  # sockets the output pump writes before it lets the loop read input


class OutputPump:
    def __init__(self, loop: asyncio.AbstractEventLoop, store: Store) -> None:
        self.loop = loop
        self.store = store
        self._dirty: deque[Session] = deque()
        self._dirty_feeds: deque[RoomFeed] = deque()
        self.channel_pump = ChannelPump(self.wake_pump)
        self._run_dirty: deque[Session] = deque()  # the pump run under way: still to write
        self._run_feeds: deque[RoomFeed] = deque()
        self._pump_scheduled = False
        self._pump_written = 0  # sockets written so far by the pump run under way
        self._last_pump_size = 0  # ... and by the last complete run
        # the typed command running now (Session._process), and what it showed others
        self.cmd_session: Session | None = None
        self._cmd_feeds: list[RoomFeed] = []
        self.cmd_others: set[Session] = set()

    # -- rooms: one feed per room that everyone there reads (mud.core.feed) -----------------------
    def room_cast(
        self,
        room: Room,
        text: str,
        exclude: tuple[Player, ...] | None,
        channel: dict[str, Any] | None,
    ) -> None:
        if not room.players:
            return
        feed = room.feed or self._new_feed(room)
        store = self.store
        actor = self.cmd_session
        if actor is not None:  # its gate is known when the command is done
            me = actor.player
            if actor.feed is feed and me is not None and (not exclude or me not in exclude):
                # The actor's own copy (an emote) is part of its reply, which is held as a
                # whole: it goes straight to them, before their prompt.
                actor.send(text)
                if channel is not None and actor.wants_oob:
                    actor.notify("channel", {**channel, "text": text})
                exclude = (*exclude, me) if exclude else (me,)
            if not feed.post(text, exclude, channel, PENDING):
                return
            if feed not in self._cmd_feeds:
                self._cmd_feeds.append(feed)
            return
        # Outside a command (NPCs, events, a dropped connection): shown at once, but after
        # any line still waiting for a commit (their private lines aren't held either).
        feed.post(text, exclude, channel, 0, store.committed_seq)
        if feed.end != feed.base:  # something to read (it may still wait for a commit)
            self._feed_opened(feed)

    def _feed_opened(self, feed: RoomFeed) -> None:
        if not feed.queued:
            feed.queued = True
            self._dirty_feeds.append(feed)
            if not self._pump_scheduled:
                self._schedule_pump()

    def _new_feed(self, room: Room) -> RoomFeed:
        room.feed = RoomFeed(room, self.store.when_durable, self._feed_opened)
        return room.feed

    def read_feed(self, session: Session, room: Room) -> None:
        feed = room.feed or self._new_feed(room)
        session.feed = feed
        session.feed_pos = feed.top  # from now on: nothing said before they came

    # -- a command's effect on others waits for its commit, as its reply does ----------------
    def command_began(self, session: Session) -> Session | None:
        """A typed command starts: lines it makes others see are held (see command_done)."""
        outer = self.cmd_session
        self.cmd_session = session
        return outer

    def command_done(self, session: Session, staged: bool, outer: Session | None) -> None:
        """Gate what the command showed others on its changes: room lines on the staging
        sequence it reached (or only on the lines before them, if it staged nothing), and
        other dreamers' private output (`give`) by holding it like the actor's reply."""
        self.cmd_session = outer
        store = self.store
        seq = store.staged_seq if staged else 0
        feeds, self._cmd_feeds = self._cmd_feeds, []
        for feed in feeds:
            feed.seal(seq, store.committed_seq)  # (queues the feed once its lines may be read)
        others, self.cmd_others = self.cmd_others, set()
        for other in others:
            other.feed_all = False
            if other.closed or (other is session and staged):  # (its reply is held: _process)
                continue
            wait = seq if other is not session else 0
            feed = other.feed
            if feed is not None and other.feed_pos > feed.end:  # it read held room lines too
                wait = max(wait, feed.last_seq())
            if wait > store.committed_seq:
                other.hold_until(wait, own=False)

    def room_joined(self, player: Player, room: Room) -> None:
        session = player.session
        if isinstance(session, Session):
            self.read_feed(session, room)
            feed = session.feed
            assert feed is not None
            if feed.watchers:
                who = {"name": player.name, "fullname": player.name}
                for w in feed.watchers:
                    w.send_gmcp("Room.AddPlayer", who)
            if session.wants_oob and session.caps.wants("Room.Players"):
                feed.watchers.add(session)

    def room_left(self, player: Player, room: Room) -> None:
        session = player.session
        if isinstance(session, Session):
            if session.catch_up():  # all they saw before they went
                session.flush_soon()
            feed = session.feed
            if feed is not None:
                feed.watchers.discard(session)
                for w in feed.watchers:
                    w.send_gmcp("Room.RemovePlayer", {"name": player.name})
            session.feed = None

    def fanout(self, sessions: Iterable[Any], text: str) -> None:
        """Send one message to many: render and encode once per kind of client (colour,
        width, charset), not once per recipient."""
        # The hottest loop in the server (one pass per recipient of every say): it does
        # Session.write_line_bytes's work inline, and most rooms hold one kind of client.
        cache: dict[int, bytes] = {}
        key = -1
        data = b""
        if self.cmd_session is not None:  # held until the command's changes are durable
            sessions = list(sessions)
            self.cmd_others.update(sessions)
            for s in sessions:
                if s is not self.cmd_session:
                    s.feed_all = True
        for s in sessions:
            if s.out_key != key:
                key = s.out_key
                got = cache.get(key)
                if got is None:
                    try:
                        got = cache[key] = s.encode_line(render(text, *s.render_key))
                    except Exception:  # one connection's trouble stays its own
                        s.output_failed()
                        key = -1
                        continue
                data = got
            if s.closed:
                continue
            try:
                s.catch_up()  # the room's earlier lines first
            except Exception:
                s.output_failed()
                continue
            s.add_line(data)

    # -- output pump: one callback per loop iteration flushes every session with output ----
    def want_flush(self, session: Session) -> None:
        self._dirty.append(session)
        if not self._pump_scheduled:
            self._schedule_pump()

    def wake_pump(self) -> None:
        if not self._pump_scheduled:
            self._schedule_pump()

    def _schedule_pump(self) -> None:
        self._pump_scheduled = True
        # Busy (the last pump wrote to many sessions): wait a few ms so each socket gets one
        # write carrying several lines instead of a write per line. Quiet: at once.
        size = self._last_pump_size
        if size >= BUSY_PUMP_SESSIONS:
            delay = min(BUSY_FLUSH_DELAY_MAX, max(BUSY_FLUSH_DELAY, size / FLUSH_WRITES_PER_SECOND))
            self.loop.call_later(delay, self._pump)
        else:
            self.loop.call_soon(self._pump)

    def _pump(self) -> None:
        """Write out what is waiting, PUMP_SLICE sockets per loop iteration: between slices
        the loop reads input, so a pump over thousands of sockets doesn't stall commands."""
        self._pump_scheduled = False
        if not self._run_feeds and not self._run_dirty:
            # A new run takes what has gathered; what comes while it runs waits for the next.
            self._run_feeds, self._dirty_feeds = self._dirty_feeds, self._run_feeds
            self._run_dirty, self._dirty = self._dirty, self._run_dirty
        written = 0
        feeds = self._run_feeds
        while feeds and written < PUMP_SLICE:
            feed = feeds.popleft()
            # everyone in the room catches up on the window, then it starts empty again
            end = feed.end
            # (a copy: a write can drop a client that stopped reading, who then leaves)
            for player in list(feed.room.players.values()):
                s = player.session
                if s.feed_pos < end:
                    try:
                        feed.drain(s)
                        if not s.held:
                            s.flush()
                            written += 1
                    except Exception:  # one connection's trouble stays its own
                        s.output_failed()
            if feed.end == end:
                feed.reset()
            else:  # a line came in meanwhile (e.g. "X fades" for a dropped client)
                feeds.append(feed)
        written = self.channel_pump.pump(written, PUMP_SLICE)
        dirty = self._run_dirty
        while dirty and written < PUMP_SLICE:
            s = dirty.popleft()
            try:
                s.flush()
            except Exception:
                s.output_failed()
            written += 1
        self._pump_written += written
        if feeds or dirty or self.channel_pump.running:
            self._pump_scheduled = True
            self.loop.call_soon(self._pump)
            return
        self._last_pump_size, self._pump_written = self._pump_written, 0
        if self._dirty_feeds or self._dirty or self.channel_pump.waiting:
            self._schedule_pump()
