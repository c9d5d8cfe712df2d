"""What players type. Importing this package registers every command."""

from commands import (  # noqa: F401
    building,
    building_admin,
    building_info,
    channels,
    client,
    comms,
    dreams,
    events,
    general,
    items,
    movement,
    npcs,
    orientation,
    socials,
    system,
)
