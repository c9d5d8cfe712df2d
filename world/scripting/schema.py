"""The event-script vocabulary: triggers and steps as pydantic models.

Every model forbids unknown fields, and both unions are discriminated by one plain word
(`when:` for a trigger, `do:` for a step), so a typo becomes one precise message with the
file and line. Nothing here can name Python: a script is data, safe to hand to builders.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    field_validator,
    model_validator,
)

from world.clock import PHASES, phase_key

KEY_PATTERN = r"^[a-z][a-z0-9_]*$"
WORD_PATTERN = r"^[a-z][a-z0-9_-]*$"
MAX_TEXT = 1000  # characters in one line of text a step shows
MAX_DURATION = 30 * 86_400.0  # game seconds: no wait or timed sever longer than 30 game days
MAX_GATHERED = 50  # woven lines one gather step may copy
PLACEHOLDERS = ("actor", "stability", "joined", "woven", "players")
# Real-time minimums for waits dreamers must answer, whatever --time-scale says: a question
# stays open at least PROMPT_MIN_REAL real seconds, a goal ("weave three lines") GOAL_MIN_REAL.
PROMPT_MIN_REAL = 45.0
GOAL_MIN_REAL = 90.0
MAX_MIN_REAL = 900.0  # real seconds: the longest real-time minimum a step may ask for

Key = Annotated[str, StringConstraints(pattern=KEY_PATTERN, max_length=64)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT)]

_DURATION = re.compile(r"^\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?\s*(?:(\d+)\s*s)?\s*$")
DURATION_HELP = "a game-time duration such as 45m, 2h, 1h30m or 1d"


def parse_duration(value: Any) -> float:
    """'1h30m' -> 5400.0 game seconds. Bare numbers are refused: the unit must be said."""
    m = _DURATION.match(value) if isinstance(value, str) else None
    if m is None or not any(m.groups()):
        raise ValueError(f"expected {DURATION_HELP}")
    d, h, mins, s = (int(g or 0) for g in m.groups())
    total = float(((d * 24 + h) * 60 + mins) * 60 + s)
    if not 0 < total <= MAX_DURATION:
        raise ValueError(f"expected {DURATION_HELP}, longer than 0s and at most 30d")
    return total


def parse_real(value: Any) -> float:
    """A real-time minimum ('45s', '1m30s'): the same units, but in real seconds."""
    try:
        total = parse_duration(value)
    except ValueError:
        raise ValueError("expected a real-time duration such as 45s, 90s or 1m30s") from None
    if total > MAX_MIN_REAL:
        raise ValueError(f"expected a real-time duration of at most {MAX_MIN_REAL:.0f}s")
    return total


def format_real(seconds: float) -> str:
    """Real seconds for players: '45 seconds', '1 minute 30 seconds'."""
    seconds = max(1, round(seconds))
    m, s = divmod(seconds, 60)
    parts = [f"{m} minute{'s' if m != 1 else ''}" if m else "",
             f"{s} second{'s' if s != 1 else ''}" if s else ""]  # fmt: skip
    return " ".join(p for p in parts if p)


def format_duration(seconds: float) -> str:
    """5400 -> '1h30m' (game time, to the minute; seconds only when under a minute)."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes = round(seconds / 60)
    d, rest = divmod(minutes, 1440)
    h, m = divmod(rest, 60)
    parts = [f"{d}d" if d else "", f"{h}h" if h else "", f"{m}m" if m else ""]
    return "".join(parts)


def _phase(value: Any) -> Any:
    if isinstance(value, str):
        key = phase_key(value)
        if key is None:
            raise ValueError(f"expected a phase of the dream-day: one of {list(PHASES)}")
        return key
    return value


def _clock_time(value: Any) -> float:
    m = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", value) if isinstance(value, str) else None
    if m is None or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise ValueError('expected a time of the dream-day as "HH:MM", e.g. "19:30"')
    return int(m.group(1)) + int(m.group(2)) / 60


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


Duration = Annotated[float, BeforeValidator(parse_duration)]
RealDuration = Annotated[float, BeforeValidator(parse_real)]
Phase = Annotated[Literal["dusk", "night", "dawn", "day"], BeforeValidator(_phase)]
ClockHour = Annotated[float, BeforeValidator(_clock_time)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


def _one_of(model: BaseModel, names: tuple[str, ...], *, required: bool = True) -> None:
    given = [n for n in names if getattr(model, n) not in (None, False)]
    if len(given) > 1 or (required and not given):
        raise ValueError(
            f"give {'exactly' if required else 'at most'} one of {', '.join(names)}"
            + (f" (found {', '.join(given)})" if given else "")
        )


# -- triggers ---------------------------------------------------------------------------------
class ManualTrigger(_Strict):
    """Only `@event start` or another event's `start` step begins it."""

    when: Literal["manual"]


class ScheduleTrigger(_Strict):
    """On the world clock: each time a phase begins, daily at a time, or every so long."""

    when: Literal["schedule"]
    phase: Phase | None = None
    at: ClockHour | None = None
    every: Duration | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ScheduleTrigger:
        _one_of(self, ("phase", "at", "every"))
        return self


class EnterTrigger(_Strict):
    """A dreamer walks (or is brought) into a room."""

    when: Literal["enter"]
    room: Key


class SayTrigger(_Strict):
    """A dreamer says one of the keywords aloud (in `room`, or anywhere)."""

    when: Literal["say"]
    keywords: Annotated[list[Text], BeforeValidator(_as_list), Field(min_length=1)]
    room: Key | None = None


class StepTrigger(_Strict):
    """Another event reaches the step labelled `step`."""

    when: Literal["step"]
    event: Key
    step: Key


class StabilityTrigger(_Strict):
    """A loop's stability falls below, or rises above, a threshold."""

    when: Literal["stability"]
    below: int | None = Field(default=None, ge=1, le=100)
    above: int | None = Field(default=None, ge=0, le=99)
    host: Key | None = None  # only loops this NPC hosts

    @model_validator(mode="after")
    def _exactly_one(self) -> StabilityTrigger:
        _one_of(self, ("below", "above"))
        return self


def _trigger_shorthand(value: Any) -> Any:
    return {"when": value} if isinstance(value, str) else value


Trigger = Annotated[
    ManualTrigger | ScheduleTrigger | EnterTrigger | SayTrigger | StepTrigger | StabilityTrigger,
    Field(discriminator="when"),
]
TRIGGER_KINDS = ("manual", "schedule", "enter", "say", "step", "stability")

# -- steps ------------------------------------------------------------------------------------
Scope = Literal["event", "world", "actor", "present", "joined"]
Players = Literal["actor", "present", "joined"]
CountOf = Literal["players", "participants", "joined", "woven", "stability"]
FlagValue = bool | int | Annotated[str, StringConstraints(max_length=200)]


class _Step(_Strict):
    id: Key | None = None  # a label: for goto, branches and `when: step` triggers
    act: Text | None = None  # the act this step begins (shown by @event status)


class Say(_Step):
    do: Literal["say"]
    npc: Key
    text: Text


class Emote(_Step):
    do: Literal["emote"]
    npc: Key
    text: Text


class Move(_Step):
    do: Literal["move"]
    npc: Key
    to: Key  # a room key, or `loop`: into the event's loop
    leave: Text | None = None
    arrive: Text | None = None


class Announce(_Step):
    do: Literal["announce"]
    text: Text
    room: Key | None = None
    zone: Key | None = None
    everyone: bool = False
    actor: bool = False  # only the dreamer who set the event off

    @model_validator(mode="after")
    def _at_most_one(self) -> Announce:
        _one_of(self, ("room", "zone", "everyone", "actor"), required=False)
        return self


class Wait(_Step):
    do: Literal["wait"]
    for_: Duration = Field(alias="for")
    min_real: RealDuration | None = None  # at least this much real time (dreamers walking)


class SetFlag(_Step):
    do: Literal["set"]
    flag: Key
    value: FlagValue = True
    scope: Scope = "event"


class ClearFlag(_Step):
    do: Literal["clear"]
    flag: Key
    scope: Scope = "event"


class If(_Step):
    do: Literal["if"]
    flag: Key | None = None
    scope: Literal["event", "world", "actor"] = "event"
    is_: FlagValue | None = Field(default=None, alias="is")
    count: CountOf | None = None
    event: Key | None = None  # true while that event is running
    room: Key | None = None  # for count: players (default: the event's room)
    at_least: int | None = None
    at_most: int | None = None
    then: Key | None = None  # label to go to when true (default: the next step)
    else_: Key | None = Field(default=None, alias="else")  # when false (default: next step)

    @model_validator(mode="after")
    def _condition(self) -> If:
        _one_of(self, ("flag", "count", "event"))
        if self.count is not None and self.at_least is None and self.at_most is None:
            raise ValueError("a count needs at_least, at_most or both")
        if self.flag is not None and (self.at_least is not None or self.at_most is not None):
            raise ValueError("at_least and at_most go with count, not flag")
        if self.event is not None and (self.at_least is not None or self.at_most is not None):
            raise ValueError("at_least and at_most go with count, not event")
        if self.then is None and self.else_ is None:
            raise ValueError("give then, else or both: the label to go to")
        return self


class Goto(_Step):
    do: Literal["goto"]
    to: Key


class End(_Step):
    do: Literal["end"]


def _yes_no(value: Any) -> Any:
    """YAML reads a bare yes or no as true or false; an answer word means the word."""
    return {True: "yes", False: "no"}.get(value, value) if isinstance(value, bool) else value


class Option(_Strict):
    word: Annotated[
        str, BeforeValidator(_yes_no), StringConstraints(pattern=WORD_PATTERN, max_length=30)
    ]
    text: Text | None = None  # shown beside the word
    goto: Key | None = None  # default: the step after the prompt


class Prompt(_Step):
    do: Literal["prompt"]
    text: Text
    options: list[Option] = Field(min_length=2, max_length=9)
    wait: Duration
    min_real: RealDuration = PROMPT_MIN_REAL  # open at least this long in real time
    default: Annotated[str, BeforeValidator(_yes_no)] | None = None  # else the first option
    room: Key | None = None  # where it is offered (default: the event's room; `loop` works)
    flag: Key | None = None  # an event flag that keeps the winning word

    @model_validator(mode="after")
    def _options(self) -> Prompt:
        words = [o.word for o in self.options]
        if len(set(words)) != len(words):
            raise ValueError("each option needs a different word")
        if self.default is not None and self.default not in words:
            raise ValueError(f"default {self.default!r} is not one of the options {words}")
        return self


class Goal(_Step):
    """Asks the dreamers to do something ("weave three lines") and waits until the count
    reaches `at_least` or the time is up (`wait` game time, at least `min_real` real)."""

    do: Literal["goal"]
    text: Text  # what they are asked to do; the time they have is added
    count: CountOf
    at_least: int = Field(ge=1, le=10_000)
    wait: Duration
    min_real: RealDuration = GOAL_MIN_REAL
    room: Key | None = None  # where it is announced (default: the event's room; `loop` works)
    then: Key | None = None  # reached (default: the next step)
    else_: Key | None = Field(default=None, alias="else")  # time ran out (default: next step)


class Sever(_Step):
    do: Literal["sever"]
    room: Key
    exit: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    for_: Duration | None = Field(default=None, alias="for")  # restore by itself after this
    one_way: bool = False  # leave the way back open
    message: Text | None = None  # what a dreamer trying to pass is told


class Restore(_Step):
    do: Literal["restore"]
    room: Key | None = None
    exit: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    all: bool = False  # every link this event severed

    @model_validator(mode="after")
    def _what(self) -> Restore:
        if self.all == (self.room is not None or self.exit is not None):
            raise ValueError("give room and exit, or all: true")
        if not self.all and (self.room is None or self.exit is None):
            raise ValueError("give both room and exit")
        return self


class OpenLoop(_Step):
    do: Literal["open_loop"]
    npc: Key  # the host
    title: Text
    room: Key | None = None  # whose dreamers are invited (default: where the host is)
    stability: int = Field(default=100, ge=1, le=100)
    invite: bool = True


class Invite(_Step):
    do: Literal["invite"]
    room: Key | None = None  # default: the event's room


class Stability(_Step):
    do: Literal["stability"]
    change: int = Field(ge=-100, le=100)
    reason: Text | None = None

    @model_validator(mode="after")
    def _nonzero(self) -> Stability:
        if self.change == 0:
            raise ValueError("change must raise (+) or lower (-) the stability")
        return self


class CloseLoop(_Step):
    do: Literal["close_loop"]
    text: Text | None = None


class _ItemFields(_Step):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    keywords: list[Annotated[str, StringConstraints(pattern=WORD_PATTERN, max_length=40)]] = Field(
        min_length=1
    )
    description: Text


class Give(_ItemFields):
    do: Literal["give"]
    to: Players = "present"


class Place(_ItemFields):
    do: Literal["place"]
    room: Key


class Gather(_Step):
    do: Literal["gather"]
    room: Key
    item: Annotated[str, StringConstraints(min_length=1, max_length=40)]  # a keyword
    heading: Text | None = None
    max_lines: int = Field(default=12, ge=1, le=MAX_GATHERED)


class StartEvent(_Step):
    do: Literal["start"]
    event: Key


class StopEvent(_Step):
    do: Literal["stop"]
    event: Key


Step = Annotated[
    Say | Emote | Move | Announce | Wait | SetFlag | ClearFlag | If | Goto | End | Prompt
    | Goal | Sever | Restore | OpenLoop | Invite | Stability | CloseLoop | Give | Place | Gather
    | StartEvent | StopEvent,
    Field(discriminator="do"),
]  # fmt: skip
STEP_KINDS = (
    "say", "emote", "move", "announce", "wait", "set", "clear", "if", "goto", "end", "prompt",
    "goal", "sever", "restore", "open_loop", "invite", "stability", "close_loop", "give", "place",
    "gather", "start", "stop",
)  # fmt: skip
# Steps that act on the event's loop: an event using them must be able to have one.
LOOP_STEPS = (Invite, Stability, CloseLoop)


class EventSpec(_Strict):
    name: Key
    title: Text
    room: Key | None = None  # where the event happens: prompts, counts, announcements
    description: str = ""  # notes for builders
    triggers: list[Trigger] = []
    steps: list[Step] = Field(min_length=1)

    @field_validator("triggers", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        """`- manual` is short for `- when: manual`."""
        return [_trigger_shorthand(t) for t in value] if isinstance(value, list) else value

    # Where it was read from, for run-time errors that point at the step's line.
    _file: str = PrivateAttr(default="")
    _lines: tuple[int, ...] = PrivateAttr(default=())

    def where(self, index: int) -> str:
        line = self._lines[index] if index < len(self._lines) else 1
        return f"{self._file or self.name}:{line}"

    def label_index(self) -> dict[str, int]:
        return {s.id: i for i, s in enumerate(self.steps) if s.id is not None}

    def trigger_text(self) -> str:
        return ", ".join(describe_trigger(t) for t in self.triggers) or "manual"


def describe_trigger(t: Trigger) -> str:
    """A trigger in a few words, for @event list."""
    if isinstance(t, ScheduleTrigger):
        if t.phase is not None:
            return f"each {t.phase}"
        if t.at is not None:
            return f"daily at {int(t.at):02d}:{round(t.at % 1 * 60):02d}"
        return f"every {format_duration(t.every or 0)}"
    if isinstance(t, EnterTrigger):
        return f"enter {t.room}"
    if isinstance(t, SayTrigger):
        where = f" in {t.room}" if t.room else ""
        return f"say {'/'.join(t.keywords)}{where}"
    if isinstance(t, StepTrigger):
        return f"{t.event} reaches {t.step}"
    if isinstance(t, StabilityTrigger):
        return f"stability {'below ' + str(t.below) if t.below else 'above ' + str(t.above)}"
    return "manual"
