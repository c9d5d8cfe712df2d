"""What players type. Importing this package registers every command."""

from commands import (  # noqa: F401
    admin,
    building,
    building_admin,
    building_info,
    client,
    dreams,
    events,
    general,
    items,
    moderation,
    movement,
    npcs,
    orientation,
    system,
)
