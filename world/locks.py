"""The lock language: who may pass an exit, as data that is parsed, never eval()'d.

    rule   := or
    or     := and ("or" and)*
    and    := not ("and" not)*
    not    := "not" not | "(" or ")" | term
    term   := role:<role> | holds:<item> | inloop | phase:<phase>

`role:builder` is true for builders and admins; `holds:lantern` for anyone carrying an item
with that keyword or name word (or `holds:#12`, that very item); `inloop` while the dreamer
is inside a shared loop; `phase:dusk` during that phase of the world clock. Parsing is pure
and cached; evaluation asks a `Facts` for only what the rule needs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from world.clock import PHASES, phase_key
from world.model import ROLES

MAX_LOCK_CHARS = 300  # longer rules are refused; a lock is a sentence, not a program
RULE_HELP = (
    "Rules are role:<role>, holds:<item>, inloop and phase:<phase>, "
    "joined with and, or, not and parentheses."
)
_TOKEN = re.compile(r"\(|\)|[^\s()]+")


class LockError(ValueError):
    """A rule that can't be understood; the message says what to write instead."""


@dataclass(frozen=True)
class Term:
    kind: str  # role | holds | inloop | phase
    value: str = ""

    def __str__(self) -> str:
        return self.kind if self.kind == "inloop" else f"{self.kind}:{self.value}"


@dataclass(frozen=True)
class Not:
    node: Node

    def __str__(self) -> str:
        inner = str(self.node)
        return f"not ({inner})" if isinstance(self.node, And | Or) else f"not {inner}"


@dataclass(frozen=True)
class And:
    nodes: tuple[Node, ...]

    def __str__(self) -> str:
        return " and ".join(f"({n})" if isinstance(n, Or) else str(n) for n in self.nodes)


@dataclass(frozen=True)
class Or:
    nodes: tuple[Node, ...]

    def __str__(self) -> str:
        return " or ".join(str(n) for n in self.nodes)


Node = Term | Not | And | Or


@dataclass
class Facts:
    """What a rule may ask about the dreamer trying to pass. Each is asked only if needed."""

    has_role: Callable[[str], bool]
    holds: Callable[[str], bool]
    in_loop: Callable[[], bool]
    phase: Callable[[], str]


def _term(word: str) -> Term:
    low = word.lower()
    if low == "inloop":
        return Term("inloop")
    kind, colon, value = low.partition(":")
    if not colon or kind not in ("role", "holds", "phase"):
        raise LockError(f"I don't know the rule '{word}'. {RULE_HELP}")
    if not value:
        raise LockError(f"'{word}' needs a value after the colon, e.g. {kind}:{_EXAMPLE[kind]}.")
    if kind == "role" and value not in ROLES:
        raise LockError(f"There is no role '{value}'; roles are {', '.join(ROLES)}.")
    if kind == "phase":
        key = phase_key(value)
        if key is None:
            raise LockError(f"There is no phase '{value}'; phases are {', '.join(PHASES)}.")
        value = key
    return Term(kind, value)


_EXAMPLE = {"role": "builder", "holds": "lantern", "phase": "dusk"}


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens: list[str] = _TOKEN.findall(text)
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos].lower() if self.pos < len(self.tokens) else None

    def take(self) -> str:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def parse(self) -> Node:
        node = self.parse_or()
        if self.pos < len(self.tokens):
            tok = self.tokens[self.pos]
            if tok == ")":
                raise LockError("There is a ')' without a matching '('.")
            raise LockError(f"I expected 'and' or 'or' before '{tok}'.")
        return node

    def parse_or(self) -> Node:
        nodes = [self.parse_and()]
        while self.peek() == "or":
            self.take()
            nodes.append(self.parse_and())
        return nodes[0] if len(nodes) == 1 else Or(tuple(nodes))

    def parse_and(self) -> Node:
        nodes = [self.parse_not()]
        while self.peek() == "and":
            self.take()
            nodes.append(self.parse_not())
        return nodes[0] if len(nodes) == 1 else And(tuple(nodes))

    def parse_not(self) -> Node:
        tok = self.peek()
        if tok is None:
            after = f" after '{self.tokens[-1]}'" if self.tokens else ""
            raise LockError(f"The rule ends too soon{after}; add a rule such as role:builder.")
        if tok == "not":
            self.take()
            return Not(self.parse_not())
        if tok == "(":
            self.take()
            node = self.parse_or()
            if self.peek() != ")":
                raise LockError("A '(' is never closed; add a ')'.")
            self.take()
            return node
        if tok in (")", "and", "or"):
            raise LockError(f"I expected a rule where '{self.take()}' is.")
        return _term(self.take())


@lru_cache(maxsize=1024)
def parse(text: str) -> Node:
    """Parse a rule. Raises LockError with a player-facing sentence."""
    if len(text) > MAX_LOCK_CHARS:
        raise LockError(f"That rule is too long; keep it under {MAX_LOCK_CHARS} characters.")
    if not text.strip():
        raise LockError(f"The rule is empty. {RULE_HELP}")
    return _Parser(text).parse()


def normalise(text: str) -> str:
    """The canonical text of a rule (what is stored and shown)."""
    return str(parse(text))


def evaluate(node: Node, facts: Facts) -> bool:
    if isinstance(node, Term):
        if node.kind == "role":
            return facts.has_role(node.value)
        if node.kind == "holds":
            return facts.holds(node.value)
        if node.kind == "phase":
            return facts.phase() == node.value
        return facts.in_loop()
    if isinstance(node, Not):
        return not evaluate(node.node, facts)
    if isinstance(node, And):
        return all(evaluate(n, facts) for n in node.nodes)
    return any(evaluate(n, facts) for n in node.nodes)


def check(text: str, facts: Facts) -> bool:
    """Parse (cached) and evaluate a stored rule."""
    return evaluate(parse(text), facts)
