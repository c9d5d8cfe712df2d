"""What an NPC says and does, decided without sockets or timers.

A Brain holds one NPC's script and the little it remembers (whom it greeted and when, which
line it said last, which way it is walking). Its methods answer "what now?" for one input
and return a Line, or None for silence; the runtime (mud/core/npc_runtime.py) owns the clock and
the world and acts on the answer. Everything here is pure apart from the injected `rng`.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from world.words import strip_markup

if TYPE_CHECKING:
    from world.npc_scripts import Condition, NpcScript, ScriptLine, TopicSpec


class EventState(Protocol):
    """What topic variants may depend on (the event runtime provides it)."""

    def world_flag(self, name: str) -> Any: ...
    def event_running(self, name: str) -> bool: ...


SAY, EMOTE = "say", "emote"
MIN_TIMER = 0.01  # seconds: the shortest delay ever scheduled, however small `scale` is
MAX_REMEMBERED = 2000  # dreamers a Brain remembers greeting before it forgets the oldest
MAX_TOPIC_ECHO = 40  # characters of an unknown topic repeated back in the fallback line
# Words that only frame a question ("ask lyra about the festival").
LEADING_FILLER = frozenset({"about", "the", "a", "an", "some", "your", "her", "his", "their"})
# Words that say nothing about the topic when heard in passing ("what do you think of dara").
PRONOUNS = frozenset(
    {"you", "your", "yours", "yourself", "me", "my", "i", "we", "us", "our", "it", "they", "them"}
)
_WORD = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")


@dataclass
class NpcTimings:
    """Every NPC timing in one place. Tests swap in a fast copy (App.npc_director.timings)."""

    greet_delay: float = 0.8  # seconds between a dreamer arriving and the greeting
    greet_cooldown: float = 600.0  # the same NPC greets the same dreamer at most this often
    home_delay: float = 6.0  # seconds after an event lets an NPC go before it heads home
    reply_delay: float = 0.6  # a beat before answering words said in the room
    hear_cooldown: float = 15.0  # a reaction to overheard words, at most this often per NPC
    jitter: float = 0.25  # idle and wander intervals vary by up to ±25%
    scale: float = 1.0  # multiplies the scripts' idle and wander intervals


TIMINGS = NpcTimings()  # the defaults a new runtime copies


@dataclass(frozen=True)
class Line:
    kind: str  # SAY or EMOTE
    text: str


def make_line(raw: str, **fill: str) -> Line:
    """A script line as an action: a leading ':' makes it an emote; {name} and {topic} are
    filled in (plain replacement, so other braces in the text are left alone)."""
    text = raw.strip()
    for key, value in fill.items():
        text = text.replace("{" + key + "}", value)
    if text.startswith(":"):
        return Line(EMOTE, text[1:].strip())
    return Line(SAY, text[:1].upper() + text[1:])  # "{topic}? ..." may start in lowercase


def words(text: str) -> list[str]:
    return _WORD.findall(strip_markup(text).lower())


def singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def topic_key(text: str) -> str:
    """How topic names, aliases and questions are compared: 'The Dreams' -> 'the dream'."""
    return " ".join(singular(w) for w in words(text))


class TopicIndex:
    """Finds which of several named things (topics, overheard keywords) a text is about."""

    def __init__(self, names: Mapping[str, Iterable[str]]) -> None:
        self.phrases: dict[tuple[str, ...], str] = {}
        for name, aliases in names.items():
            for alias in aliases:
                key = tuple(topic_key(alias).split())
                if key:
                    self.phrases.setdefault(key, name)
        # Longer phrases first, so "dream festival" beats "dream" inside a sentence.
        self._multi = sorted((k for k in self.phrases if len(k) > 1), key=len, reverse=True)

    def find(self, text_words: Sequence[str], whole_first: bool = True) -> str | None:
        ws = [singular(w) for w in text_words]
        if whole_first:
            while ws and ws[0] in LEADING_FILLER and tuple(ws) not in self.phrases:
                ws = ws[1:]
            hit = self.phrases.get(tuple(ws))
            if hit is not None:
                return hit
        for phrase in self._multi:
            n = len(phrase)
            if any(tuple(ws[i : i + n]) == phrase for i in range(len(ws) - n + 1)):
                return self.phrases[phrase]
        for w in ws:
            hit = self.phrases.get((w,))
            if hit is not None:
                return hit
        return None


class Brain:
    """One NPC's script plus its short memory."""

    def __init__(self, script: NpcScript, rng: random.Random | None = None) -> None:
        self.script = script
        self.rng = rng or random.Random()
        self.topics = TopicIndex({t: [t, *spec.aliases] for t, spec in script.topics.items()})
        self.heard = TopicIndex({k: k.split(",") for k in script.hears})
        self.names = frozenset(
            {script.key, *words(script.name), *(w for k in script.keywords for w in words(k))}
        )
        self._greeted: dict[int, float] = {}
        self._last_heard = -math.inf
        self._last_pick: dict[str, int] = {}
        self._direction = 1

    # -- choosing lines ---------------------------------------------------------------------
    def _pick(self, pool: str, lines: Sequence[ScriptLine], room: str | None) -> str | None:
        """A line from `lines` that fits `room` (a room key; None for a loop or a dream),
        never the same one twice running when there is a choice. None: nothing fits."""
        fit = [j for j, line in enumerate(lines) if line.fits(room)]
        if not fit:
            return None
        last = self._last_pick.get(pool)
        i = fit[0] if len(fit) == 1 else self.rng.choice([j for j in fit if j != last])
        self._last_pick[pool] = i
        return lines[i].text

    def _line(self, pool: str, lines: Sequence[ScriptLine], room: str | None, **fill: str
              ) -> Line | None:  # fmt: skip
        raw = self._pick(pool, lines, room)
        return None if raw is None else make_line(raw, **fill)

    def topic_lines(self, topic: str, state: EventState | None) -> tuple[str, Sequence[ScriptLine]]:
        """The lines that answer `topic` now: the first variant whose condition holds, else
        the topic's own lines. Returns (a pool name for _pick, the lines)."""
        spec: TopicSpec = self.script.topics[topic]
        if state is not None:
            for i, variant in enumerate(spec.variants):
                if holds(variant.when, state):
                    return f"topic:{topic}:{i}", variant.lines
        return f"topic:{topic}", spec.lines

    def topic_names(self) -> list[str]:
        return list(self.script.topics)

    # -- reactions --------------------------------------------------------------------------
    def greeting(
        self, player_id: int, name: str, now: float, cooldown: float, room: str | None = None
    ) -> Line | None:
        """A greeting for a dreamer who just arrived in `room`, unless this one was greeted
        lately or no greeting fits the room."""
        if not any(line.fits(room) for line in self.script.greetings):
            return None
        last = self._greeted.get(player_id)
        if last is not None and now - last < cooldown:
            return None
        self._greeted.pop(player_id, None)
        self._greeted[player_id] = now  # re-inserted: the dict stays oldest-first
        while len(self._greeted) > MAX_REMEMBERED:
            del self._greeted[next(iter(self._greeted))]
        return self._line("greetings", self.script.greetings, room, name=name)

    def topic_of(self, question: str) -> str | None:
        return self.topics.find(words(question))

    def answer(
        self, question: str, asker: str, room: str | None = None,
        state: EventState | None = None,
    ) -> Line:  # fmt: skip
        """The answer to `ask <npc> about <question>`: a topic's line or the fallback."""
        topic = self.topic_of(question)
        if topic is not None:
            pool, lines = self.topic_lines(topic, state)
            line = self._line(pool, lines, room, name=asker)
            if line is not None:
                return line
        echo = " ".join(words(question))[:MAX_TOPIC_ECHO] or "that"
        line = self._line("unknown", self.script.unknown, room, name=asker, topic=echo)
        return line or make_line(":has nothing to say about that here.")

    def hear(
        self, text: str, speaker: str, now: float, cooldown: float, room: str | None = None,
        state: EventState | None = None,
    ) -> Line | None:  # fmt: skip
        """A reaction to words a dreamer said in the room, or None.

        Speaking to the NPC by name about one of its topics gets that topic's answer; a
        listed keyword gets its reaction (at most once per `cooldown` unless the NPC is
        addressed by name). Everything else passes by unremarked.
        """
        ws = words(text)
        addressed = any(w in self.names for w in ws)
        rest = [w for w in ws if w not in self.names]
        if addressed:
            topic = self.topics.find([w for w in rest if w not in PRONOUNS], whole_first=False)
            if topic is not None:
                pool, lines = self.topic_lines(topic, state)
                line = self._line(pool, lines, room, name=speaker)
                if line is not None:
                    self._last_heard = now
                    return line
        heard = self.heard.find(rest, whole_first=False)
        if heard is not None and (addressed or now - self._last_heard >= cooldown):
            line = self._line(f"hears:{heard}", self.script.hears[heard], room, name=speaker)
            if line is not None:
                self._last_heard = now
            return line
        return None

    # -- on a timer -------------------------------------------------------------------------
    def idle(self, room: str | None = None) -> Line | None:
        """Something to say unprompted at an idle tick (the script's chance decides)."""
        spec = self.script.idle
        if spec is None or self.rng.random() >= spec.chance:
            return None
        return self._line("idle", spec.lines, room)

    def _delay(self, every: float, timings: NpcTimings) -> float:
        j = max(0.0, min(timings.jitter, 0.9))
        return max(MIN_TIMER, every * timings.scale * self.rng.uniform(1 - j, 1 + j))

    def idle_delay(self, timings: NpcTimings) -> float | None:
        spec = self.script.idle
        return None if spec is None else self._delay(spec.every, timings)

    def wander_delay(self, timings: NpcTimings) -> float | None:
        spec = self.script.wander
        return None if spec is None else self._delay(spec.every, timings)

    def next_stop(self, here: str | None) -> str | None:
        """The next room key along the route from `here`; None off the route (the NPC stays
        where an event or a builder put it) or when the script's chance says rest a while."""
        spec = self.script.wander
        if spec is None or here not in spec.route or self.rng.random() >= spec.chance:
            return None
        route = spec.route
        i = route.index(here)
        if spec.circuit:
            return route[(i + 1) % len(route)]
        if not 0 <= i + self._direction < len(route):
            self._direction = -self._direction
        return route[i + self._direction]

    @property
    def home(self) -> str:
        """The script's start room: where the NPC goes back to when an event lets it go."""
        return self.script.room

    def at_home(self, here: str | None) -> bool:
        return here is not None and (here == self.script.room or here in self.route)

    @property
    def route(self) -> list[str]:
        return list(self.script.wander.route) if self.script.wander else []


def holds(when: Condition, state: EventState) -> bool:
    """Does a topic variant's condition hold? Every part given must."""
    if when.flag is not None:
        value = state.world_flag(when.flag)
        if not (bool(value) if when.is_ is None else value == when.is_):
            return False
    if when.event is not None:
        want = True if when.running is None else when.running
        if state.event_running(when.event) != want:
            return False
    return True
