"""Channels: talking to everyone who tuned in, wherever they are.

A channel has a name (also the word that speaks on it), a description, and two rules in the
lock language (world/locks.py): who may read it and who may speak on it. The shipped ones
are content (world/content/channels.yaml), seeded on the first start; builders add more in
game. A dreamer's subscriptions live in their settings (`channels`: name -> "on" | "muted");
without that key they have the channels marked `default` (public and newbie).

What was said is kept, HISTORY_MAX lines per channel, in memory and in the `channel_line`
table. Every change goes through `Channels` (the World's), which stages the rows; a line is
handed to the World's observer for delivery (`channel_cast`, world/ports.py) only once its
history row is durable (`when_durable`), so nobody hears what a crash could take back. The
engine's delivery (mud/core/channel_feed.py) costs one append per line whatever the audience,
like a room's feed.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from world import locks
from world.model import ROLES, Player
from world.yamlsrc import ContentError, load_yaml, validate

if TYPE_CHECKING:
    from world.ports import ChannelLog, RowKey
    from world.world import World

log = logging.getLogger("dreamwave.channels")

CHANNELS_FILE = Path(__file__).parent / "content" / "channels.yaml"
NAME_PATTERN = r"^[a-z][a-z0-9]{1,19}$"
MAX_DESCRIPTION = 200  # characters
MAX_CHANNELS = 50  # channels in the world; a community needs a handful
HISTORY_MAX = 200  # lines kept per channel (memory and database), newest last
MAX_LINE = 400  # characters of one channel message
SEEDED_META = "channels_seeded"  # meta key: the content channels were created once
ON, MUTED = "on", "muted"


class ChannelError(ValueError):
    """A refusal, as one sentence for the player."""


# -- content ---------------------------------------------------------------------------------
class ChannelSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN)
    description: str = Field(default="", max_length=MAX_DESCRIPTION)
    read: str = "player"  # a role, or a lock rule
    speak: str = "player"
    default: bool = False  # new dreamers are subscribed


class ChannelsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channels: list[ChannelSpec] = []


def load_channel_specs(path: Path | None = None, text: str | None = None) -> list[ChannelSpec]:
    """Parse and check the channels file; ContentError lists every problem as file:line."""
    src = load_yaml(path or CHANNELS_FILE, text)
    spec = validate(ChannelsFile, src)
    problems = []
    seen: set[str] = set()
    for i, ch in enumerate(spec.channels):
        if ch.name in seen:
            problems.append(
                f"{src.where(('channels', i, 'name'))}: channel {ch.name!r} is repeated"
            )
        seen.add(ch.name)
        for field in ("read", "speak"):
            try:
                rule_text(getattr(ch, field))
            except locks.LockError as err:
                problems.append(f"{src.where(('channels', i, field))}: {err}")
    if problems:
        raise ContentError(problems)
    return spec.channels


def rule_text(value: str) -> str:
    """A role name ("builder") or a lock rule, as the canonical rule text that is stored."""
    word = value.strip().lower()
    if word in ROLES:
        return f"role:{word}"
    return locks.normalise(value)


def facts_for(world: World, p: Player) -> locks.Facts:
    return locks.Facts(
        has_role=p.has_role,
        holds=lambda thing: world.holds(p, thing),
        in_loop=lambda: world.in_loop(p),
        phase=lambda: world.clock.phase,
    )


# -- the objects ------------------------------------------------------------------------------
class HistoryLine:
    __slots__ = ("at", "channel", "id", "talker", "text")

    def __init__(self, id: int, channel: str, at: float, talker: str, text: str) -> None:
        self.id, self.channel, self.at, self.talker, self.text = id, channel, at, talker, text

    def to_row(self) -> dict[str, Any]:
        return {
            "id": self.id, "channel": self.channel, "at": self.at, "talker": self.talker,
            "text": self.text,
        }  # fmt: skip


class Channel:
    __slots__ = (
        "auto_join", "created_at", "created_by", "description", "feed", "history", "listeners",
        "name", "read", "speak",
    )  # fmt: skip

    def __init__(
        self, name: str, description: str = "", read: str = "role:player",
        speak: str = "role:player", auto_join: bool = False, created_by: str = "",
        created_at: float = 0.0,
    ) -> None:  # fmt: skip
        self.name = name
        self.description = description
        self.read = read
        self.speak = speak
        self.auto_join = auto_join
        self.created_by = created_by
        self.created_at = created_at
        self.history: deque[HistoryLine] = deque()
        # Connected dreamers who hear it (subscribed, not muted, allowed to read).
        self.listeners: dict[int, Player] = {}
        # The engine's delivery window (mud.core.channel_feed.ChannelFeed), read back there.
        self.feed: ChannelLog | None = None

    def to_row(self) -> dict[str, Any]:
        return {
            "name": self.name, "description": self.description, "read_rule": self.read,
            "speak_rule": self.speak, "auto_join": self.auto_join,
            "created_by": self.created_by, "created_at": self.created_at,
        }  # fmt: skip

    def __repr__(self) -> str:
        return f"<Channel {self.name}>"


def line_markup(channel: str, talker: str, text: str, pose: bool) -> str:
    if pose:
        sep = "" if text[:1] in (",", "'") else " "
        return f"|w[{channel}]|n |c{talker}|n{sep}{text}|n"
    return f"|w[{channel}]|n |c{talker}|n: {text}|n"


class Channels:
    """Every channel, and the one API through which channels and subscriptions change."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.by_name: dict[str, Channel] = {}
        self._next_line = 1

    def _stage(self, table: str, key: RowKey, row: dict[str, Any] | None) -> int:
        return self.world.stage(table, key, row)

    # -- loading and seeding -----------------------------------------------------------------
    def load(self, rows: dict[str, list[dict[str, Any]]]) -> None:
        for r in rows.get("channel", []):
            self.by_name[r["name"]] = Channel(
                r["name"], r["description"], r["read_rule"], r["speak_rule"],
                bool(r["auto_join"]), r["created_by"], r["created_at"],
            )  # fmt: skip
        for r in sorted(rows.get("channel_line", []), key=lambda r: r["id"]):
            self._next_line = max(self._next_line, r["id"] + 1)
            ch = self.by_name.get(r["channel"])
            if ch is None:  # its channel is gone: the line goes too
                self._stage("channel_line", r["id"], None)
                continue
            ch.history.append(HistoryLine(r["id"], r["channel"], r["at"], r["talker"], r["text"]))
            if len(ch.history) > HISTORY_MAX:
                self._stage("channel_line", ch.history.popleft().id, None)

    def seed(self, specs: Iterable[ChannelSpec], meta: list[dict[str, Any]]) -> bool:
        """Create the content's channels on the first start (a builder's later deletions
        stay deleted). Returns True if anything was staged."""
        if any(m["key"] == SEEDED_META for m in meta):
            return False
        for spec in specs:
            if spec.name not in self.by_name:
                ch = Channel(
                    spec.name, spec.description.strip(), rule_text(spec.read),
                    rule_text(spec.speak), spec.default, "content", time.time(),
                )  # fmt: skip
                self.by_name[ch.name] = ch
                self._stage("channel", ch.name, ch.to_row())
        self.world.save_meta(SEEDED_META, str(time.time()))
        return True

    # -- rules ---------------------------------------------------------------------------------
    def may(self, p: Player, rule: str) -> bool:
        try:
            return locks.check(rule, facts_for(self.world, p))
        except locks.LockError:
            log.warning("unreadable channel rule %r; treating it as closed", rule)
            return p.has_role("admin")

    def may_read(self, p: Player, ch: Channel) -> bool:
        return self.may(p, ch.read)

    def may_speak(self, p: Player, ch: Channel) -> bool:
        return self.may(p, ch.speak)

    # -- lookups ---------------------------------------------------------------------------------
    def get(self, name: str) -> Channel | None:
        return self.by_name.get(name.lower().strip())

    def find(self, name: str) -> Channel:
        ch = self.get(name)
        if ch is None:
            raise ChannelError(
                f"There is no channel '{name[:30]}'. Type |wchannels|n for the list."
            )
        return ch

    def subscriptions(self, p: Player) -> dict[str, str]:
        """name -> "on" | "muted", for channels that exist."""
        subs = p.settings.get("channels")
        if not isinstance(subs, dict):
            return {n: ON for n, ch in self.by_name.items() if ch.auto_join}
        return {n: s for n, s in subs.items() if n in self.by_name}

    def _save_subscriptions(self, p: Player, subs: dict[str, str]) -> int:
        return self.world.set_setting(p, "channels", dict(subs))

    # -- presence ---------------------------------------------------------------------------------
    def entered(self, p: Player) -> None:
        """A dreamer connected: they hear the channels they are on."""
        for name, state in self.subscriptions(p).items():
            ch = self.by_name[name]
            if state == ON and self.may_read(p, ch):
                self._listen(ch, p)

    def left(self, p: Player) -> None:
        for ch in self.by_name.values():
            ch.listeners.pop(p.id, None)

    def _listen(self, ch: Channel, p: Player) -> None:
        ch.listeners[p.id] = p
        feed = ch.feed
        if feed is not None:
            feed.joined(p)  # from now on: nothing said before they came

    # -- what dreamers do ---------------------------------------------------------------------
    def join(self, p: Player, ch: Channel) -> int:
        subs = self.subscriptions(p)
        if ch.name in subs:
            raise ChannelError(f"You are already on [{ch.name}].")
        if not self.may_read(p, ch):
            raise ChannelError(f"[{ch.name}] is closed to you.")
        subs[ch.name] = ON
        self._listen(ch, p)
        return self._save_subscriptions(p, subs)

    def leave(self, p: Player, ch: Channel) -> int:
        subs = self.subscriptions(p)
        if ch.name not in subs:
            raise ChannelError(f"You are not on [{ch.name}].")
        del subs[ch.name]
        ch.listeners.pop(p.id, None)
        return self._save_subscriptions(p, subs)

    def mute(self, p: Player, ch: Channel, muted: bool) -> int:
        subs = self.subscriptions(p)
        state = subs.get(ch.name)
        if state is None:
            raise ChannelError(f"You are not on [{ch.name}]; |wchannel join {ch.name}|n first.")
        if (state == MUTED) == muted:
            raise ChannelError(f"[{ch.name}] is already {'muted' if muted else 'unmuted'}.")
        subs[ch.name] = MUTED if muted else ON
        if muted:
            ch.listeners.pop(p.id, None)
        elif self.may_read(p, ch):
            self._listen(ch, p)
        return self._save_subscriptions(p, subs)

    def speak(self, p: Player, ch: Channel, text: str, pose: bool = False) -> int:
        """Say `text` (or pose it) on `ch`: recorded, then heard by every listener once it
        is durable. Returns the staging sequence."""
        state = self.subscriptions(p).get(ch.name)
        if state is None:
            raise ChannelError(f"You are not on [{ch.name}]; |wchannel join {ch.name}|n first.")
        if state == MUTED:
            raise ChannelError(f"You have [{ch.name}] muted; |wchannel unmute {ch.name}|n first.")
        if not self.may_speak(p, ch):
            raise ChannelError(f"You may listen to [{ch.name}] but not speak on it.")
        text = text.strip()
        if not text:
            raise ChannelError(f"Say what on [{ch.name}]?")
        if len(text) > MAX_LINE:
            raise ChannelError(
                f"That is too long for a channel; the most is {MAX_LINE} characters."
            )
        body = line_markup(ch.name, p.name, text, pose)
        seq = self._record(ch, p.name, body)
        # The talker's own line is part of their command's reply (held, like every reply,
        # until the commit); everyone else hears it once it is durable.
        p.send(body)
        p.notify("channel", {"channel": ch.name, "talker": p.name, "text": body})
        ignorers = self.world.comms.ignoring(p)
        exclude = ignorers | {p} if ignorers else frozenset((p,))
        # (delivery and "once committed" are the World's observer's: world/ports.py)
        observer = self.world.observer
        observer.when_durable(seq, lambda: observer.channel_cast(ch, body, p, exclude))
        return seq

    def _record(self, ch: Channel, talker: str, body: str) -> int:
        line = HistoryLine(self._next_line, ch.name, time.time(), talker, body)
        self._next_line += 1
        ch.history.append(line)
        seq = self._stage("channel_line", line.id, line.to_row())
        while len(ch.history) > HISTORY_MAX:
            seq = self._stage("channel_line", ch.history.popleft().id, None)
        return seq

    def history(self, ch: Channel, n: int) -> list[HistoryLine]:
        lines = list(ch.history)
        return lines[-n:] if n > 0 else []

    # -- what builders do ---------------------------------------------------------------------
    def create(self, actor: Player, name: str, description: str = "") -> Channel:
        if name in self.by_name:
            raise ChannelError(f"There already is a channel '{name}'.")
        if len(self.by_name) >= MAX_CHANNELS:
            raise ChannelError(f"There are {MAX_CHANNELS} channels, the most; delete one first.")
        ch = Channel(name, description, created_by=actor.name, created_at=time.time())
        self.by_name[name] = ch
        self._stage("channel", name, ch.to_row())
        return ch

    def delete(self, ch: Channel) -> int:
        self.by_name.pop(ch.name, None)
        ch.listeners.clear()
        for line in ch.history:
            self._stage("channel_line", line.id, None)
        ch.history.clear()
        # Forget it in every subscription list that names it, so a new channel of the same
        # name starts with nobody on it.
        for p in self.world.players.values():
            subs = p.settings.get("channels")
            if isinstance(subs, dict) and ch.name in subs:
                del subs[ch.name]
                self.world.save(p)
        return self._stage("channel", ch.name, None)

    def set_field(self, ch: Channel, field: str, value: str) -> int:
        """Change read, speak or description (value already checked by the caller)."""
        if field == "description":
            ch.description = value
        elif field == "read":
            ch.read = value
            for p in list(ch.listeners.values()):  # who may no longer read stops hearing it
                if not self.may_read(p, ch):
                    del ch.listeners[p.id]
            for p in self.world.online.values():  # who now may, and is on it, hears it
                if p.id in ch.listeners or self.subscriptions(p).get(ch.name) != ON:
                    continue
                if self.may_read(p, ch):
                    self._listen(ch, p)
        elif field == "speak":
            ch.speak = value
        else:
            raise ChannelError("Set read, speak or description.")
        return self._stage("channel", ch.name, ch.to_row())

    # -- for clients ---------------------------------------------------------------------------
    def gmcp_list(self, p: Player) -> list[dict[str, str]]:
        """Comm.Channel.List: the channels this dreamer may read."""
        return [
            {"name": ch.name, "caption": ch.description or ch.name, "command": ch.name}
            for ch in sorted(self.by_name.values(), key=lambda c: c.name)
            if self.may_read(p, ch)
        ]
