"""Helpers shared by command modules: target matching and room rendering."""

from __future__ import annotations

from typing import TYPE_CHECKING

from commands.api import CommandError, Ctx
from world.dreams import plural
from world.model import Item, Player, Room
from world.words import capitalise_first, list_words

if TYPE_CHECKING:
    from world.npcs import Npc

MAX_NAMES_SHOWN = 12  # dreamers named in a room before the rest are counted
MAX_ECHOES_SHOWN = 3  # a loop's motif echoes named before the rest are counted


def match_player_here(room: Room, word: str, exclude: Player | None = None) -> Player | None:
    low = word.lower()
    players = [p for p in room.players.values() if p is not exclude]
    for p in players:
        if p.key == low:
            return p
    starts = [p for p in players if p.key.startswith(low)]
    return starts[0] if len(starts) == 1 else None


def a_or_an(word: str) -> str:
    """'a room', 'an exit', 'an item', 'an admin' (and 'an NPC', said en-pee-see)."""
    low = word.lower()
    return f"an {word}" if low[:1] in "aeiou" or low == "npc" else f"a {word}"


def require(args: str, usage: str) -> str:
    if not args:
        raise CommandError(f"Usage: {usage}")
    return args


def room_view(ctx: Ctx, room: Room, walking: bool = False) -> str:
    """`walking`: arriving on foot, where `config brief` leaves the description out."""
    brief = walking and bool(ctx.player.settings.get("brief"))
    return render_room(ctx, ctx.player, room, brief)


def render_room(ctx: Ctx, p: Player, room: Room, brief: bool = False) -> str:
    """What `p` sees on looking around `room` (also sent after a teleport)."""
    ctx.app.txs.viewed(p, room)  # a mover who shows the room needn't have it shown again
    world = ctx.world
    dreams = world.dreams
    notes = dreams.take_admin_visits(p)
    title = "".join(f"|y[{note}]|n\n" for note in notes) + f"|h|c{room.name}|n"
    if p.has_role("builder"):
        title += f" |X[#{room.id}]|n"
    lines = [title]
    if room.description and not brief:
        lines.append(room.description)
    if room.exits:
        # a way an event has severed is still there to see, marked so nobody walks into it
        names = [f"{ex.name} |r(severed)|n" if ex.attrs.get("severed") else ex.name
                 for ex in room.exits]  # fmt: skip
        lines.append("|gExits:|n " + ", ".join(names))
    else:
        lines.append("|gExits:|n none")
    if room.items:
        lines.append("|wYou see|n " + list_words([it.name for it in room.items]) + ".")
    echoes = dreams.echoes(room)
    if echoes:
        if len(echoes) > MAX_ECHOES_SHOWN + 1:  # "and 1 more echo" would save no space
            more = len(echoes) - MAX_ECHOES_SHOWN
            echoes = [*echoes[:MAX_ECHOES_SHOWN], f"{more} more echoes"]
        lines.append("|mEchoes drift here:|n " + list_words(echoes) + ".")
    for npc in room.npcs.values():
        lines.append(f"|y{presence(npc.short)}|n is here.")
    count = len(room.players) - (1 if p.id in room.players else 0)
    if count:
        # A crowd is summed up rather than listed: a festival of 500 would be a wall of names.
        shown = []
        for q in room.players.values():
            if q is not p:
                shown.append(q.name)
                if len(shown) == MAX_NAMES_SHOWN:
                    break
        if count > len(shown):
            shown.append(plural(count - len(shown), "other dreamer"))
        verb = "is" if count == 1 else "are"
        lines.append(f"|c{list_words(shown)}|n {verb} here.")
    return "\n".join(lines)


def presence(short: str) -> str:
    """'Lyra Kinsey, a Dream Weaver' -> 'Lyra Kinsey, a Dream Weaver,' (before 'is here'):
    an appositive opened with a comma is closed with one."""
    short = capitalise_first(short.strip())
    return short + "," if "," in short and not short.endswith(",") else short


def item_view(ctx: Ctx, item: Item) -> str:
    text = f"|w{capitalise_first(item.name)}|n"
    if ctx.player.has_role("builder"):
        text += f" |X[#{item.id}]|n"
    return text + "\n" + (item.description or "You see nothing special about it.")


def npc_view(ctx: Ctx, npc: Npc) -> str:
    title = f"|y{npc.name}|n"
    if ctx.player.has_role("builder"):
        title += f" |X[npc#{npc.id}]|n"
    return title + "\n" + (npc.description or f"{npc.short}.")


def player_view(ctx: Ctx, target: Player) -> str:
    lines = [f"|c{target.name}|n, a dreamer."]
    if target.description:
        lines.append(target.description)
    if target.inventory:
        lines.append(
            f"{target.name} is carrying " + list_words([i.name for i in target.inventory]) + "."
        )
    return "\n".join(lines)
