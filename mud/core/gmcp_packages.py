"""The GMCP packages Dreamwave sends, built from world state.

Char.Name, Char.Status, Room.Info (the shape Mudlet's mapper reads), Room.Players (who is
here; then Room.AddPlayer / Room.RemovePlayer as dreamers come and go, from the room's feed:
mud/core/output.py), Comm.Channel.Text and our own Dreamwave.Status. The session sends each only if
the client enabled it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from mud.core.text import strip_markup
from world.clock import PHASE_STARTS
from world.dreams import DREAM_AREA, DREAM_ZONE

if TYPE_CHECKING:
    from mud.core.session import Session
    from world.clock import WorldClock
    from world.model import Player

# What we send is JSON we build here (json.dumps'd at once: OutputBuffer.oob), never read
# back: a payload is an `object`. (What a client sends is arbitrary JSON: `Any`.)
Payload = dict[str, object]


def char_name(p: Player) -> Payload:
    return {"name": p.name, "fullname": p.name}


def char_status(session: Session, p: Player) -> Payload:
    world = session.app.world
    room = p.room
    return {
        "name": p.name,
        "role": p.role,
        "state": world.dream_state(p),
        "location": room.name if room else "",
        "room": room.id if room else None,
    }


def room_info(session: Session, p: Player) -> Payload:
    world = session.app.world
    room = p.room
    if room is None:
        return {}
    zone = world.zones.get(room.zone)
    return {
        "num": room.id,
        "name": strip_markup(room.name),
        "area": zone.name if zone else DREAM_AREA if room.zone == DREAM_ZONE else room.zone,
        "environment": str(room.attrs.get("environment", room.zone or "dream")),
        "exits": {ex.name: ex.dest_id for ex in room.exits if ex.dest_id is not None},
    }


def room_players(p: Player) -> list[Payload]:
    """Who else is here: the dreamers, then the NPCs (marked)."""
    room = p.room
    if room is None:
        return []
    here: list[Payload] = [
        {"name": o.name, "fullname": o.name} for o in room.players.values() if o is not p
    ]
    here += [{"name": n.name, "fullname": n.name, "npc": True} for n in room.npcs.values()]
    return here


def dreamwave_status(session: Session, p: Player) -> Payload:
    world = session.app.world
    status: Payload = {"state": world.dream_state(p)}
    # the account's own settings the client may mirror (the web page's toggles)
    status["screenreader"] = session.screen_reader
    status["brief"] = bool(p.settings.get("brief", False))
    status.update(world.dream_details(p))
    clock = getattr(world, "clock", None)
    if clock is not None:
        status["clock"] = clock_status(clock)
    return status


def clock_status(clock: WorldClock) -> Payload:
    """The clock now, and what a client needs to run it on by itself between updates: game
    seconds since day 1 began, game seconds per real second, and the hours phases begin."""
    return {
        "day": clock.day,
        "time": clock.clock_text(),
        "phase": clock.phase,
        "seconds": round(clock.game_seconds(), 1),
        "rate": clock.game_delay(1.0),
        "phases": [[hour, key] for key, hour in PHASE_STARTS],
    }


def for_event(session: Session, kind: str, data: dict[str, Any]) -> Iterator[tuple[str, object]]:
    p = session.player
    if p is None:
        return
    if kind == "login":
        yield "Char.Name", char_name(p)
        yield "Char.Status", char_status(session, p)
        yield "Room.Info", room_info(session, p)
        yield "Room.Players", room_players(p)
        yield "Dreamwave.Status", dreamwave_status(session, p)
    elif kind == "room":
        yield "Room.Info", room_info(session, p)
        yield "Room.Players", room_players(p)
        yield "Char.Status", char_status(session, p)
        yield "Dreamwave.Status", dreamwave_status(session, p)
    elif kind == "status":
        yield "Char.Status", char_status(session, p)
        yield "Dreamwave.Status", dreamwave_status(session, p)
    elif kind == "channel":
        yield (
            "Comm.Channel.Text",
            {
                "channel": data.get("channel", "say"),
                "talker": data.get("talker", ""),
                "text": strip_markup(data.get("text", "")),
            },
        )
    elif kind == "channel_list":  # Comm.Channel.List: only when the client asks for it
        yield "Comm.Channel.List", session.app.world.channels.gmcp_list(p)


def received(session: Session, package: str, data: Any) -> None:
    """A GMCP message for the engine (the gateway answered Core.* itself and told us the
    packages in the caps before this)."""
    if package.lower().startswith("core.supports") and session.player is not None:
        session.notify("login")  # the packages it just enabled, filled in
    elif package.lower() == "comm.channel.list" and session.player is not None:
        session.notify("channel_list")  # the client asks which channels there are
