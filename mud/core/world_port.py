"""The engine's side of the World's ports (world/ports.py).

`EngineObserver` is what the engine hands the World when it builds it: each port is the
engine's own bound method (the output pump's room feeds and fan-out, the channel pump, the
units of work's landings and "once committed", mud/core/tx.py), so a broadcast costs no
extra call on the way.

`session_of` is the one place the engine turns a dreamer's connection, which the world knows
only as a `Listener`, back into the engine's `Session`: every connection the engine attaches
to a dreamer is one (SessionLifecycle.enter_game, World.enter_game).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from mud.core.output import OutputPump
    from mud.core.session import Session
    from mud.core.tx import Transactions
    from world.channels import Channel
    from world.model import Player, Room
    from world.ports import Listener, Speech

    class Connected(Player):
        """A dreamer as the engine sees one in a room or on a channel: connected, through a
        Session. (For type checking only: hot loops cast a whole collection once, e.g.
        `cast("dict[int, Connected]", room.players)`, where session_of per dreamer would
        cost a call per recipient.)"""

        session: Session


def session_of(p: Player) -> Session | None:
    """The engine's Session of a dreamer (None: offline)."""
    return cast("Session | None", p.session)


class EngineObserver:
    """The World's observer in the engine (world.ports.WorldObserver)."""

    __slots__ = (
        "channel_cast", "fanout", "landed", "room_cast", "room_joined", "room_left",
        "when_durable",
    )  # fmt: skip

    def __init__(self, output: OutputPump, txs: Transactions) -> None:
        self.fanout: Callable[[Iterable[Listener], str], None] = output.fanout
        self.room_cast: Callable[[Room, str, tuple[Player, ...] | None, Speech | None], None] = (
            output.room_cast
        )
        self.room_joined: Callable[[Player, Room], None] = output.room_joined
        self.room_left: Callable[[Player, Room], None] = output.room_left
        self.landed: Callable[[Player, int], None] = txs.landed
        self.channel_cast: Callable[
            [Channel, str, Player | None, frozenset[Player] | None], None
        ] = output.channel_pump.cast
        self.when_durable: Callable[[int, Callable[[], None]], None] = (
            txs.when_durable
        )  # (in a command: with its unit)
