"""What players type. Importing this package registers every command."""

from commands import general, items, movement, system  # noqa: F401
