"""The durable schema. World objects in memory are the truth at run time; these rows are
their copy on disk, written only by the Store's writer thread.

There are no foreign-key constraints: the single writer applies each batch in table order
and the world API keeps references consistent, so a batch never has to be reordered.
Structured extras (`attrs`, `settings`) are JSON text so new typed attributes need no
migration, while everything queried or joined on has its own column.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Table, inspect
from sqlmodel import Field, SQLModel


class Meta(SQLModel, table=True):
    key: str = Field(primary_key=True, max_length=64)
    value: str = ""


class Zone(SQLModel, table=True):
    id: int = Field(primary_key=True)
    key: str = Field(index=True, unique=True, max_length=64)
    name: str = Field(max_length=200)


class Account(SQLModel, table=True):
    id: int = Field(primary_key=True)
    name: str = Field(max_length=40)
    name_key: str = Field(index=True, unique=True, max_length=40)
    password_hash: str = Field(max_length=255)
    role: str = Field(default="player", max_length=16)
    room_id: int | None = None
    settings: str = "{}"
    created_at: float = 0.0
    last_login: float = 0.0
    description: str = ""


class Room(SQLModel, table=True):
    id: int = Field(primary_key=True)
    key: str | None = Field(default=None, index=True, max_length=64)
    name: str = Field(max_length=200)
    description: str = ""
    zone: str = Field(default="", max_length=64)
    attrs: str = "{}"


class Exit(SQLModel, table=True):
    id: int = Field(primary_key=True)
    room_id: int = Field(index=True)
    name: str = Field(max_length=64)
    aliases: str = ""
    dest_id: int | None = None
    attrs: str = "{}"
    description: str = ""


class Item(SQLModel, table=True):
    id: int = Field(primary_key=True)
    name: str = Field(max_length=200)
    keywords: str = ""
    description: str = ""
    room_id: int | None = Field(default=None, index=True)
    holder_id: int | None = Field(default=None, index=True)
    attrs: str = "{}"


class Audit(SQLModel, table=True):
    """Every building change: who, what, when. Append-only."""

    id: int = Field(primary_key=True)
    at: float = Field(index=True)
    actor_id: int | None = None
    actor_name: str = Field(max_length=40)
    action: str = Field(max_length=32)
    detail: str = ""


class Dream(SQLModel, table=True):
    """A dreamer's private dream: its rooms, guests and where its owner fell asleep."""

    owner_id: int = Field(primary_key=True)
    room_id: int
    rooms: str = "[]"  # JSON list of room ids, the home room first
    wake_room_id: int | None = None
    guests: str = "[]"  # JSON list of account ids
    created_at: float = 0.0
    admin_visits: str = "[]"  # JSON list of notes for the owner's next look


class Loop(SQLModel, table=True):
    """A shared loop; archived loops stay for every former participant's journal."""

    id: int = Field(primary_key=True)
    room_id: int | None = None
    started_at: float = 0.0
    participants: str = "[]"
    former: str = "[]"
    stability: int = 100
    state: str = Field(default="active", max_length=16)
    ended_at: float | None = None
    end_reason: str = Field(default="", max_length=32)
    title: str = Field(default="", max_length=200)
    host_id: int | None = None  # the NPC hosting it (a festival loop), if any
    invited: str = "[]"  # JSON list of account ids a host NPC invited in
    anchor_id: int | None = None  # the room a hosted loop was opened from


class Narrative(SQLModel, table=True):
    """One woven line of a loop's shared story."""

    id: int = Field(primary_key=True)
    loop_id: int = Field(index=True)
    at: float = 0.0
    author_id: int | None = None
    author: str = Field(max_length=60)
    text: str = ""


class Npc(SQLModel, table=True):
    """A non-player character; its behaviour is script data, only the entity lives here."""

    id: int = Field(primary_key=True)
    key: str = Field(index=True, unique=True, max_length=40)
    name: str = Field(max_length=80)
    short: str = ""
    description: str = ""
    room_id: int | None = None
    flags: str = "{}"


class EventState(SQLModel, table=True):
    """A running event script (resumed after a restart) or a set of script flags.

    `key` is `run:<event>` for a running instance, `flags` for the world's flags and
    `flags:<account id>` for one dreamer's; `restores` lists severed exits to heal later.
    """

    __tablename__ = "event_state"
    key: str = Field(primary_key=True, max_length=100)
    name: str = Field(default="", max_length=64)
    step: int = 0
    state: str = Field(default="", max_length=16)
    flags: str = "{}"
    data: str = "{}"
    wake_at: float | None = None  # game seconds
    updated_at: float = 0.0


class Ban(SQLModel, table=True):
    """A ban in force: of a dreamer's name, or of an address or network (CIDR)."""

    id: int = Field(primary_key=True)
    kind: str = Field(max_length=16)  # "name" or "address"
    target: str = Field(max_length=64, index=True)
    by: str = Field(max_length=40)
    reason: str = Field(default="", max_length=200)
    created_at: float = 0.0
    expires_at: float | None = None  # None: until lifted


# The order the writer applies upserts in (deletes run first, in reverse).
TABLE_ORDER: list[type[SQLModel]] = [
    Meta, Zone, Account, Room, Exit, Item, Audit, Dream, Loop, Narrative, Npc, EventState,
    Ban,
]  # fmt: skip
# Tables that grow without bound: start-up loads only their newest rows (by id).
LOAD_RECENT = {"audit": 1000}


def table_of(model: type[SQLModel]) -> Table:
    """A table model's Table (SQLModel gives it one as `__table__`, but does not declare it)."""
    table = inspect(model).local_table
    assert isinstance(table, Table)
    return table


def by_name(models: Iterable[type[SQLModel]]) -> dict[str, Table]:
    return {table.name: table for table in map(table_of, models)}


# Every table by name, in TABLE_ORDER (the writer applies a batch in this dict's order).
TABLES = by_name(TABLE_ORDER)


# -- channels (migration 0006) --------------------------------------------------------------
class Channel(SQLModel, table=True):
    """A channel: who may read it and speak on it (lock rules), and who made it."""

    name: str = Field(primary_key=True, max_length=20)
    description: str = ""
    read_rule: str = Field(default="role:player", max_length=300)
    speak_rule: str = Field(default="role:player", max_length=300)
    auto_join: bool = False  # new dreamers are on it
    created_by: str = Field(default="", max_length=40)
    created_at: float = 0.0


class ChannelLine(SQLModel, table=True):
    """One line said on a channel; the World keeps the newest HISTORY_MAX per channel."""

    __tablename__ = "channel_line"
    id: int = Field(primary_key=True)
    channel: str = Field(index=True, max_length=20)
    at: float = 0.0
    talker: str = Field(default="", max_length=40)
    text: str = ""


TABLE_ORDER.extend([Channel, ChannelLine])
TABLES.update(by_name([Channel, ChannelLine]))


class Mail(SQLModel, table=True):
    """A letter in a dreamer's mailbox (world/mail.py bounds how many and how long)."""

    id: int = Field(primary_key=True)
    to_id: int = Field(index=True)
    from_id: int | None = None
    from_name: str = Field(max_length=40)
    subject: str = Field(default="", max_length=80)
    body: str = ""
    sent_at: float = 0.0
    read: bool = False


TABLE_ORDER.append(Mail)
TABLES.update(by_name([Mail]))


# -- id high-water marks (migration 0009) ---------------------------------------------------
class IdMark(SQLModel, table=True):
    """The next id of one id space (room, exit, item, ...), so a destroyed object's id is
    never handed out again, across reloads and crashes: the world stages the mark with the
    row that takes the id, and loading starts above both the mark and every row."""

    __tablename__ = "id_mark"
    space: str = Field(primary_key=True, max_length=16)
    next_id: int = 1


TABLE_ORDER.append(IdMark)
TABLES.update(by_name([IdMark]))
assert list(TABLES) == [table_of(model).name for model in TABLE_ORDER]
