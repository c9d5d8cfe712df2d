"""What players type. Importing this package registers every command."""

from commands import (  # noqa: F401
    admin,
    building,
    building_admin,
    building_info,
    channels,
    client,
    comms,
    config_cmd,
    dreams,
    events,
    general,
    items,
    mail,
    moderation,
    movement,
    npcs,
    orientation,
    selfservice,
    socials,
    system,
)
