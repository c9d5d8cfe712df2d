"""The output path: room feeds, one line fanned out to many, and the output pump.

What happens in a room is one append to its feed (mud/core/feed.py), what a channel carries one
append to the channel's (mud/core/channel_feed.py); the pump writes every session with waiting
output, a slice of sockets per loop iteration. What a typed command shows others waits for
that command's changes to be durable, as its own reply does (its unit of work, mud/core/tx.py).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING, cast

from mud.core.channel_feed import ChannelPump
from mud.core.feed import RoomFeed
from mud.core.outbuf import OutputBuffer
from mud.core.session import Session
from mud.core.text import render
from mud.core.tx import CommandTx

if TYPE_CHECKING:
    from mud.core.world_port import Connected
    from mud.store import Store
    from world.model import Player, Room
    from world.ports import Listener, Speech

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
        self._dirty: deque[OutputBuffer] = deque()
        self._dirty_feeds: deque[RoomFeed] = deque()
        self.channel_pump = ChannelPump(self.wake_pump)
        self._run_dirty: deque[OutputBuffer] = deque()  # the pump run under way: still to write
        self._run_feeds: deque[RoomFeed] = deque()
        self._pump_scheduled = False
        self._pump_written = 0  # sockets written so far by the pump run under way
        self._last_pump_size = 0  # ... and by the last complete run

    # -- rooms: one feed per room that everyone there reads (mud.core.feed) -----------------------
    def room_cast(
        self,
        room: Room,
        text: str,
        exclude: tuple[Player, ...] | None,
        channel: Speech | None,
    ) -> None:
        if not room.players:
            return
        # (room.feed is this module's RoomFeed: the world only keeps it, world/model.py)
        feed = cast("RoomFeed | None", room.feed) or self._new_feed(room)
        tx = CommandTx.current
        if tx is not None:  # gated on the command's commit when it is done (tx.end)
            actor = tx.actor
            me = actor.player if actor is not None else None
            if (
                actor is not None
                and actor.out.feed is feed
                and me is not None
                and (not exclude or me not in exclude)
            ):
                # The actor's own copy (an emote) is part of its reply, which is held as a
                # whole: it goes straight to them, before their prompt.
                actor.send(text)
                if channel is not None and actor.out.wants_oob:
                    actor.notify("channel", {**channel, "text": text})
                exclude = (*exclude, me) if exclude else (me,)
            if feed.post(text, exclude, channel):
                tx.posted(feed)
            return
        # Outside a command (NPCs, events, a dropped connection): shown at once, but after
        # any line still waiting for a commit (their private lines aren't held either).
        if feed.post(text, exclude, channel):
            feed.gate(0, self.store.committed_seq)

    def _feed_opened(self, feed: RoomFeed) -> None:
        if not feed.queued:
            feed.queued = True
            self._dirty_feeds.append(feed)
            if not self._pump_scheduled:
                self._schedule_pump()

    def _new_feed(self, room: Room) -> RoomFeed:
        feed = room.feed = RoomFeed(room, self._feed_opened)
        return feed

    def read_feed(self, session: Session, room: Room) -> None:
        session.out.read_room(
            cast("RoomFeed | None", room.feed) or self._new_feed(room)
        )  # (from its top from now on)

    def room_joined(self, player: Player, room: Room) -> None:
        session = player.session
        if isinstance(session, Session):
            self.read_feed(session, room)
            out = session.out
            feed = out.feed
            assert feed is not None
            if feed.watchers:
                who = {"name": player.name, "fullname": player.name}
                for w in feed.watchers:
                    w.out.oob("Room.AddPlayer", who)
            if out.wants_oob and out.caps.wants("Room.Players"):
                feed.watchers.add(session)

    def room_left(self, player: Player, room: Room) -> None:
        session = player.session
        if isinstance(session, Session):
            out = session.out
            if out.catch_up():  # all they saw before they went
                out.schedule_flush()
            feed = out.feed
            if feed is not None:
                feed.watchers.discard(session)
                for w in feed.watchers:
                    w.out.oob("Room.RemovePlayer", {"name": player.name})
            out.read_room(None)

    def fanout(self, listeners: Iterable[Listener], text: str) -> None:
        """Send one message to many: render and encode once per kind of client (colour,
        width, charset), not once per recipient. (Every listener the engine gives the world
        is a Session, world_port.session_of.)"""
        sessions = cast("Iterable[Session]", listeners)
        # The hottest loop in the server (one pass per recipient of every say): it does
        # OutputBuffer.write_line's work inline, and most rooms hold one kind of client.
        cache: dict[int, bytes] = {}
        key = -1
        data = b""
        tx = CommandTx.current
        if tx is not None:  # held until the command's changes are durable (tx.told, inline)
            sessions = list(sessions)
            others, actor = tx.others, tx.actor
            if others is None:
                others = tx.others = set()
            for s in sessions:
                if s is not actor:
                    others.add(s)
                    s.out.read_held(True)
        for s in sessions:
            o = s.out
            if o.out_key != key:
                key = o.out_key
                got = cache.get(key)
                if got is None:
                    try:
                        got = cache[key] = o.encode_line(render(text, *o.render_key))
                    except Exception:  # one connection's trouble stays its own
                        o.output_failed()
                        key = -1
                        continue
                data = got
            if o.closed:
                continue
            try:
                o.catch_up()  # the room's earlier lines first
            except Exception:
                o.output_failed()
                continue
            o.add_line(data)

    # -- output pump: one callback per loop iteration flushes every session with output ----
    def want_flush(self, out: OutputBuffer) -> None:
        self._dirty.append(out)
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
            players = cast("dict[int, Connected]", feed.room.players)
            for player in list(players.values()):
                o = player.session.out
                if o.feed_pos < end:
                    try:
                        o.read_feed(feed, player)
                        if o.held_by is None:
                            o.flush()
                            written += 1
                    except Exception:  # one connection's trouble stays its own
                        o.output_failed()
            if feed.end == end:
                feed.reset()
            else:  # a line came in meanwhile (e.g. "X fades" for a dropped client)
                feeds.append(feed)
        written = self.channel_pump.pump(written, PUMP_SLICE)
        dirty = self._run_dirty
        while dirty and written < PUMP_SLICE:
            o = dirty.popleft()
            try:
                o.flush()
            except Exception:
                o.output_failed()
            written += 1
        self._pump_written += written
        if feeds or dirty or self.channel_pump.running:
            self._pump_scheduled = True
            self.loop.call_soon(self._pump)
            return
        self._last_pump_size, self._pump_written = self._pump_written, 0
        if self._dirty_feeds or self._dirty or self.channel_pump.waiting:
            self._schedule_pump()
