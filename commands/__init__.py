"""What players type. Importing this package registers every command."""

from commands import client, general, items, movement, system  # noqa: F401
