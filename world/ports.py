"""The World's ports: what the domain needs from whoever runs it, as typed protocols.

The World never reaches up into the engine. It is given a `WorldObserver` when it is built
and tells it what happened that people should see (a line in a room, a dreamer coming or
going, a move made durable later, a channel line); the engine's observer delivers through its
feeds and output pump (mud/core/world_port.py). A world loaded without an engine (the CLI's
tools, world files, tests) gets `DirectDelivery`: every line goes straight to each listener,
at once. A dreamer's connection is, to the world, only a `Listener`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol, TypedDict

if TYPE_CHECKING:
    from world.channels import Channel
    from world.model import Player, Room


# The World's seam to the Store: each changed row is staged, and the staging sequence that
# makes it durable comes back. A row is a table's columns by name (plain values and JSON);
# None deletes the row with that key.
RowKey = int | str  # a row's primary key: an id, or a name (a channel, a meta key...)
Stage = Callable[[str, RowKey, "dict[str, Any] | None"], int]


class Speech(TypedDict):
    """What marks a line as speech (a say, an emote, a channel line): clients that take
    out-of-band data also get it as GMCP Comm.Channel.Text, with the line's text added."""

    channel: str  # "say", "emote", "weave", or the channel's name
    talker: str  # who spoke


class ChannelLog(Protocol):
    """What the world needs of the engine's delivery window of a channel (Channel.feed)."""

    def joined(self, p: Player) -> None: ...  # a listener came in: nothing said before


class Listener(Protocol):
    """What the world needs from a connection: somewhere to send text."""

    @property
    def wants_oob(self) -> bool: ...  # True if the client takes out-of-band data (GMCP)

    def send(self, text: str) -> None: ...
    def notify(self, kind: str, data: dict[str, Any] | None = None) -> None: ...


class WorldObserver(Protocol):
    """Everything the World tells whoever runs it. Each is called once per event, never
    once per recipient: delivering to everyone concerned is the observer's job."""

    def fanout(self, listeners: Iterable[Listener], text: str) -> None:
        """Send one line to many connections (an announcement, a shout)."""
        ...

    def room_cast(
        self,
        room: Room,
        text: str,
        exclude: tuple[Player, ...] | None,
        channel: Speech | None,
    ) -> None:
        """Everyone connected in `room` but `exclude` sees `text`; `channel` marks speech,
        which clients also get out of band (GMCP Comm.Channel.Text)."""
        ...

    def room_joined(self, player: Player, room: Room) -> None:
        """A connected dreamer is now in `room` (they came online or moved in)."""
        ...

    def room_left(self, player: Player, room: Room) -> None:
        """A connected dreamer is no longer in `room`."""
        ...

    def landed(self, player: Player, seq: int) -> None:
        """A connected dreamer was moved; the move is durable at staging sequence `seq`
        (whoever was moved by someone else is shown where they landed)."""
        ...

    def channel_cast(
        self, channel: Channel, text: str, speaker: Player | None, exclude: frozenset[Player] | None
    ) -> None:
        """Every listener of `channel` but `exclude` hears `text`."""
        ...

    def when_durable(self, seq: int, callback: Callable[[], None]) -> None:
        """Call `callback` once staging sequence `seq` is committed."""
        ...


class DirectDelivery:
    """The observer of a world without an engine (tools, tests): every line goes straight
    to each listener, durability is immediate, and nobody needs to be shown a landing."""

    def fanout(self, listeners: Iterable[Listener], text: str) -> None:
        for listener in listeners:
            listener.send(text)

    def room_cast(
        self,
        room: Room,
        text: str,
        exclude: tuple[Player, ...] | None,
        channel: Speech | None,
    ) -> None:
        # room.players holds only connected dreamers, so every one has a session.
        targets = [
            q.session
            for q in room.players.values()
            if q.session is not None and (exclude is None or q not in exclude)
        ]
        if targets:
            self.fanout(targets, text)
            if channel is not None:
                data = {**channel, "text": text}
                for listener in targets:
                    if listener.wants_oob:
                        listener.notify("channel", data)

    def room_joined(self, player: Player, room: Room) -> None:
        pass

    def room_left(self, player: Player, room: Room) -> None:
        pass

    def landed(self, player: Player, seq: int) -> None:
        pass

    def channel_cast(
        self, channel: Channel, text: str, speaker: Player | None, exclude: frozenset[Player] | None
    ) -> None:
        for p in channel.listeners.values():
            if exclude is None or p not in exclude:
                p.send(text)

    def when_durable(self, seq: int, callback: Callable[[], None]) -> None:
        callback()
