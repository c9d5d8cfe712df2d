"""Finding what a builder means: `here`, `me`, `#12`, `item#12`, a name, or a prefix.

Resolution order: the words `here` and `me`; then an id (`#12` may name a room, an exit, an
item and a dreamer at once: things near the builder win, a tie between them is listed, and
with nothing near it means the room; the kind-qualified `item#12` is never ambiguous); then
names near the builder (exits here, items here or in anyone's hands here, dreamers here),
exact before prefix; then rooms and dreamers by name anywhere in the world. More than one
equally good match is an error that lists them.

Characters (NPCs) are found only by commands that ask for them (@tel, @examine, @npc): by
key or name word, near first, then anywhere; by id only as `npc#3`, never by a bare `#3`.

Players' commands (look, examine, get, drop, give) use `match`: what you carry first, then
what is in the room. Everywhere, a word that fits several things equally well lists them in
that order, and `2.thread` picks the second (the numbered choice MUD players know).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from commands.api import CommandError
from world.model import Exit, Item, Player, Room
from world.npcs import Npc
from world.world import World

Thing = Room | Exit | Item | Player | Npc
KINDS: dict[str, type] = {"room": Room, "exit": Exit, "item": Item, "player": Player, "npc": Npc}
ALL_KINDS: tuple[type, ...] = (Room, Exit, Item, Player)  # NPCs only where asked for
MAX_LISTED = 10  # candidates shown when a name is ambiguous
ARTICLES = ("a ", "an ", "the ")
_ID = re.compile(r"^(room|exit|item|player|npc)?#(\d{1,12})$", re.I)
_NUMBERED = re.compile(r"^(\d{1,3})\.(\S.*)$")  # 2.thread

EXACT, PARTIAL = 2, 1


def kind_name(obj: Thing) -> str:
    return "player" if isinstance(obj, Player) else type(obj).__name__.lower()


def ref(obj: Thing) -> str:
    """The unambiguous way to type this object: room#3, item#12."""
    return f"{kind_name(obj)}#{obj.id}"


def label(obj: Thing) -> str:
    """How building commands name an object: 'Festival Grounds' room#12."""
    if isinstance(obj, Exit):
        return f"exit '{obj.name}' of {obj.room.name} ({ref(obj)})"
    return f"{obj.name} ({ref(obj)})"


def _bare(name: str) -> str:
    low = name.lower()
    for art in ARTICLES:
        if low.startswith(art):
            return low[len(art) :]
    return low


def _score(obj: Thing, text: str) -> int:
    if isinstance(obj, Exit):
        if obj.matches(text):
            return EXACT
        return PARTIAL if any(w.startswith(text) for w in obj.words) else 0
    if isinstance(obj, Player):
        return EXACT if obj.key == text else PARTIAL if obj.key.startswith(text) else 0
    if isinstance(obj, Npc):
        if text in obj.keywords or text == obj.name.lower():
            return EXACT
        return PARTIAL if obj.matches(text) or obj.name.lower().startswith(text) else 0
    name = obj.name.lower()
    if text in (name, _bare(name)) or (isinstance(obj, Room) and obj.key == text):
        return EXACT
    if isinstance(obj, Item) and text in obj.keywords:
        return EXACT
    if name.startswith(text) or _bare(name).startswith(text):
        return PARTIAL
    if isinstance(obj, Item) and obj.matches(text):
        return PARTIAL
    return 0


def _best(candidates: Iterable[Thing], text: str) -> list[Thing]:
    scored: dict[int, list[Thing]] = {EXACT: [], PARTIAL: []}
    for obj in candidates:
        s = _score(obj, text)
        if s:
            scored[s].append(obj)
    return scored[EXACT] or scored[PARTIAL]


def is_near(actor: Player, obj: Thing) -> bool:
    room = actor.room
    if isinstance(obj, Room):
        return obj is room
    if isinstance(obj, Exit):
        return obj.room is room
    if isinstance(obj, Item):
        loc = obj.location
        return loc is room or loc is actor or (isinstance(loc, Player) and loc.room is room)
    if isinstance(obj, Npc):
        return obj.room is room
    return obj.room is room and (obj.online or obj is actor)


def _by_id(
    world: World, actor: Player, kind: str | None, nid: int, kinds: tuple[type, ...]
) -> list[Thing]:
    tables: dict[type, Mapping[int, Thing]] = {
        Room: world.rooms, Exit: world.exits, Item: world.items, Player: world.players,
        Npc: world.npcs,
    }  # fmt: skip
    wanted = (KINDS[kind.lower()],) if kind else tuple(k for k in kinds if k is not Npc)
    found = [
        tables[k][nid] for k in wanted
        if k in kinds and nid in tables[k] and not hidden(world, actor, tables[k][nid])
    ]  # fmt: skip
    if len(found) > 1:
        near = [o for o in found if is_near(actor, o)]
        if near:
            return near
        # Nothing by that id is near: mean the room, since rooms are what builders
        # address from afar (look shows their #id); other kinds need item#12 and so on.
        rooms: list[Thing] = [o for o in found if isinstance(o, Room)]
        if rooms:
            return rooms
    return found


def _near(world: World, actor: Player, kinds: tuple[type, ...]) -> list[Thing]:
    room = actor.room
    out: list[Thing] = []
    if room is None:
        return out
    if Item in kinds:
        out.extend(actor.inventory)  # what you carry comes first (and is 1.word)
        out.extend(room.items)
        for other in room.players.values():
            if other is not actor:
                out.extend(other.inventory)
    if Player in kinds:
        out.extend(p for p in room.players.values())
    if Npc in kinds:
        out.extend(room.npcs.values())
    if Exit in kinds:
        out.extend(room.exits)
    return out


def room_of(obj: Thing) -> Room | None:
    if isinstance(obj, Room):
        return obj
    if isinstance(obj, Exit):
        return obj.room
    if isinstance(obj, Item):
        loc = obj.location
        return loc if isinstance(loc, Room) else loc.room if loc is not None else None
    return obj.room


def hidden(world: World, actor: Player, obj: Thing) -> bool:
    """Is `obj` inside a private dream or loop that `actor` may not see into?"""
    return world.dreams.hidden_from(actor, room_of(obj))


def _anywhere(world: World, actor: Player, kinds: tuple[type, ...]) -> list[Thing]:
    out: list[Thing] = []
    if Room in kinds:
        out.extend(r for r in world.rooms.values() if not hidden(world, actor, r))
    if Player in kinds:
        # Dreamers are found anywhere, but a private dream is never a way into it.
        out.extend(world.players.values())
    if Npc in kinds:
        out.extend(n for n in world.npcs.values() if not hidden(world, actor, n))
    return out


def _ambiguous(text: str, found: list[Thing], by_name: bool = False) -> CommandError:
    shown = ", ".join(label(o) for o in found[:MAX_LISTED])
    more = f" and {len(found) - MAX_LISTED} more" if len(found) > MAX_LISTED else ""
    second = f" or 2.{text} (the second, in this order)" if by_name else ""
    return CommandError(
        f"'{text}' could be any of: {shown}{more}. Say which, e.g. {ref(found[0])}{second}."
    )


def numbered(text: str) -> tuple[int | None, str]:
    """'2.thread' -> (2, 'thread'); 'thread' -> (None, 'thread')."""
    text = text.strip()
    m = _NUMBERED.match(text)
    return (int(m.group(1)), m.group(2).strip()) if m else (None, text)


def _nth(found: Sequence[Thing], n: int, word: str) -> Thing:
    if not 1 <= n <= len(found):
        there = "is only one" if len(found) == 1 else f"are only {len(found)}"
        raise CommandError(f"There {there} '{word}' here; |w1.{word}|n is the first.")
    return found[n - 1]


def display(obj: Thing) -> str:
    """How players see a thing named in a list: 'a silver thread', 'Ada', 'the way north'."""
    return f"the way {obj.name}" if isinstance(obj, Exit) else obj.name


def match(
    text: str, places: Sequence[tuple[str, Iterable[Thing]]], example: str = "{}"
) -> Thing | None:
    """The one thing `text` means among `places` ((where, things), searched in order: what
    you carry, then the room), or None if nothing fits.

    Whole-word matches beat prefixes; `2.thread` takes the second of the best matches; if
    several different things fit equally well, a CommandError lists them, numbered, with how
    to pick one (`example` shows the command: 'look {}' -> 'look 2.thread')."""
    n, word = numbered(text)
    low = word.lower()
    if not low:
        return None
    best: list[tuple[Thing, str]] = []
    top = 0
    for where, things in places:
        for obj in things:
            score = _score(obj, low)
            if score > top:
                best, top = [(obj, where)], score
            elif score and score == top:
                best.append((obj, where))
    if not best:
        return None
    if n is not None:
        return _nth([obj for obj, _ in best], n, word)
    first, where0 = best[0]
    if all(where == where0 and obj.name == first.name for obj, where in best):
        return first  # alike as two drops of dream: any will do
    shown = [f"{i}. {display(obj)} ({where})" for i, (obj, where) in enumerate(best, 1)]
    more = f" and {len(best) - MAX_LISTED} more" if len(best) > MAX_LISTED else ""
    pick = example.format(f"2.{word}")
    raise CommandError(
        f"Which '{word}'? {'; '.join(shown[:MAX_LISTED])}{more}. Type |w{pick}|n, for example."
    )


def resolve(
    world: World, actor: Player, text: str, kinds: tuple[type, ...] = ALL_KINDS, what: str = ""
) -> Thing:
    """The one object `text` means, or a CommandError saying why not."""
    text = text.strip()
    low = text.lower()
    if not text:
        raise CommandError(f"Name {what or 'a target'}: here, me, a name or an #id.")
    if low == "here" and Room in kinds and actor.room is not None:
        return actor.room
    if low in ("me", "self") and Player in kinds:
        return actor
    m = _ID.match(low)
    if m:
        found = _by_id(world, actor, m.group(1), int(m.group(2)), kinds)
        if len(found) == 1:
            return found[0]
        if found:
            raise _ambiguous(text, found)
        raise CommandError(f"Nothing with the id {text} can be used here. |w@find|n lists ids.")
    n, word = numbered(low)
    found = _best(_near(world, actor, kinds), word) or _best(_anywhere(world, actor, kinds), word)
    if n is not None and found:
        return _nth(found, n, word)
    if len(found) == 1:
        return found[0]
    if found:
        raise _ambiguous(text, found, by_name=True)
    raise CommandError(f"I can't find '{text}'. Try an #id; |w@find {text}|n lists them.")


def destination_object(world: World, actor: Player, text: str) -> Room | Player | Npc:
    """A room (here, an #id, a room's name anywhere), or a dreamer or character anywhere."""
    m = _ID.match(text.strip())
    # A bare #id in a destination is a room's; player#id names a dreamer, npc#id a character.
    kinds = (Room,) if m and m.group(1) in (None, "room") else (Room, Player, Npc)
    target = resolve(world, actor, text, kinds, "a destination")
    assert isinstance(target, Room | Player | Npc)
    return target


def destination(world: World, actor: Player, text: str) -> Room:
    """A room; naming a dreamer or a character means the room they are in."""
    target = destination_object(world, actor, text)
    if isinstance(target, Npc):
        if target.room is None:
            raise CommandError(f"{target.name} is nowhere at all right now.")
        return target.room
    if isinstance(target, Player):
        if target.room is None:
            raise CommandError(f"{target.name} is nowhere at all right now.")
        if hidden(world, actor, target.room):
            raise CommandError(f"{target.name} is dreaming privately.")
        return target.room
    return target
