"""Building: digging rooms, opening and linking exits, naming, describing, creating items.

Every command here needs the builder role (the dispatcher refuses anyone else with "You
can't do that.") and records what it changed in the audit log.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from commands import modal
from commands.api import NOTHING, TEXT, CommandError, Ctx, command
from commands.items import MAX_CARRIED
from commands.targets import ALL_KINDS, destination, label, ref, resolve
from world.model import ABBREVIATION_OF, DIRECTIONS, Exit, Item, Player, Room
from world.npcs import Npc
from world.world import World

CATEGORY = "Building"
MAX_NAME = 200  # characters in a room or item name
MAX_EXIT_WORD = 64  # characters in an exit name or alias
STOPWORDS = {"a", "an", "the", "of", "and", "with", "some"}
_WORD = re.compile(r"[a-z0-9][a-z0-9'-]*")


# -- shared by the building commands ------------------------------------------------------
def audit(ctx: Ctx, action: str, detail: str) -> None:
    ctx.world.audit(ctx.player, action, detail)


def split_assign(args: str, usage: str, need_value: bool = True) -> tuple[str, str | None]:
    """'left = right' -> (left, right); right is None when there is no '='."""
    left, eq, right = args.partition("=")
    left = left.strip()
    if not left or (need_value and not eq):
        raise CommandError(f"Usage: {usage}")
    return left, right.strip() if eq else None


def check_name(name: str, what: str = "name") -> str:
    name = " ".join(name.split())
    if not name:
        raise CommandError(f"The {what} can't be empty.")
    if len(name) > MAX_NAME:
        raise CommandError(f"That {what} is too long; the most is {MAX_NAME} characters.")
    if name.startswith("#"):
        raise CommandError(f"A {what} can't start with #; that is how ids are written.")
    return name


def parse_exit(ctx: Ctx, text: str) -> tuple[str, tuple[str, ...]]:
    """'north;n;hall' -> ('north', ('hall',)). A direction abbreviation becomes the word."""
    parts = [p.strip() for p in text.split(";")]
    name = parts[0]
    if not name:
        raise CommandError("Name the exit, e.g. |wnorth|n or |wnorth;hall|n.")
    name = ABBREVIATION_OF.get(name.lower(), name)
    aliases = tuple(dict.fromkeys(a.lower() for a in parts[1:] if a))
    abbr = DIRECTIONS.get(name.lower())
    aliases = tuple(a for a in aliases if a not in (abbr, name.lower()))
    for word in (name, *aliases):
        if len(word) > MAX_EXIT_WORD or any(c in word for c in "=,#;"):
            raise CommandError(
                f"'{word[:20]}' can't name an exit: keep it under {MAX_EXIT_WORD} characters, "
                "without = , # or ;."
            )
        if ctx.app.registry.exact(word.lower()) is not None:
            raise CommandError(f"'{word}' is a command; choose another exit name.")
    return name, aliases


def check_exit_free(
    room: Room, name: str, aliases: tuple[str, ...], ignore: Exit | None = None
) -> None:
    words = {name.lower(), *aliases}
    abbr = DIRECTIONS.get(name.lower())
    if abbr:
        words.add(abbr)
    for ex in room.exits:
        if ex is not ignore and ex.words & words:
            raise CommandError(f"{room.name} already has an exit '{ex.name}' using that word.")


def same_name_note(world: World, room: Room) -> list[str]:
    """Rooms may share a name (as in tbaMUD and Evennia), but a builder should know: a
    name then finds several rooms, and only the #id tells them apart. Dreams don't count."""
    twins = [
        r for r in world.rooms.values()
        if r is not room and r.name.lower() == room.name.lower()
        and not world.dreams.is_private(r)
    ]  # fmt: skip
    if not twins:
        return []
    refs = ", ".join(ref(r) for r in sorted(twins, key=lambda r: r.id))
    verb = "is" if len(twins) == 1 else "are"
    return [f"|yNote:|n {refs} {verb} already called that; #ids tell them apart (|w@name|n "
            "renames one)."]  # fmt: skip


def exit_words(ex: Exit) -> str:
    return ";".join((ex.name, *ex.aliases))


def keywords_from(name: str) -> tuple[str, ...]:
    words = _WORD.findall(name.lower())
    return tuple(dict.fromkeys(w for w in words if w not in STOPWORDS)) or tuple(words)


# -- commands -----------------------------------------------------------------------------
@command("@dig", category=CATEGORY, role="builder", publishes=TEXT)
def cmd_dig(ctx: Ctx) -> None:
    """Make a new room, optionally linked both ways from here.

    Usage:
      @dig <room name>
      @dig <room name> = <exit there>[;alias...]
      @dig <room name> = <exit there>[;alias...], <exit back>[;alias...]
    Example:
      @dig Hall of Echoes = north;hall, south;out
    The new room is in the same zone as this one. Its #id is printed; if you
    dug it without exits, |w@tel #id|n takes you there.
    """
    name, links = split_assign(ctx.args, "@dig <room name> [= <exit there>[, <exit back>]]", False)
    name = check_name(name, "room name")
    here = ctx.player.room
    assert here is not None
    there = back = None
    if links:
        there_text, _, back_text = links.partition(",")
        there = parse_exit(ctx, there_text)
        check_exit_free(here, *there)
        if back_text.strip():
            back = parse_exit(ctx, back_text)
    w = ctx.world
    room = w.create_room(name, zone=here.zone, attrs={"owner": ctx.player.name})
    lines = [f"You dig |c{room.name}|n ({ref(room)}), a new room in zone '{room.zone}'."]
    lines += same_name_note(w, room)
    if there:
        ex = w.create_exit(here, there[0], room, there[1], attrs={"owner": ctx.player.name})
        lines.append(f"Exit |w{exit_words(ex)}|n ({ref(ex)}) leads there from here.")
    if back:
        ex = w.create_exit(room, back[0], here, back[1], attrs={"owner": ctx.player.name})
        lines.append(f"Exit |w{exit_words(ex)}|n ({ref(ex)}) leads back here.")
    audit(ctx, "dig", f"{label(room)} from {label(here)}" + (f" via {there[0]}" if there else ""))
    ctx.send("\n".join(lines))


@command("@open", category=CATEGORY, role="builder", publishes=TEXT)
def cmd_open(ctx: Ctx) -> None:
    """Open a one-way exit from here to a room.

    Usage:
      @open <exit>[;alias...] = <room>
    The room may be here, an #id, or a room's name anywhere.
    Example:
      @open east;gallery = The White Gallery
    """
    words, target = split_assign(ctx.args, "@open <exit>[;alias...] = <room>")
    here = ctx.player.room
    assert here is not None and target is not None
    name, aliases = parse_exit(ctx, words)
    check_exit_free(here, name, aliases)
    dest = destination(ctx.world, ctx.player, target)
    ex = ctx.world.create_exit(here, name, dest, aliases, attrs={"owner": ctx.player.name})
    audit(ctx, "open", f"{label(ex)} to {label(dest)}")
    ctx.send(f"You open exit |w{exit_words(ex)}|n ({ref(ex)}) from here to |c{dest.name}|n.")


@command("@link", category=CATEGORY, role="builder", publishes=NOTHING)
def cmd_link(ctx: Ctx) -> None:
    """Point an existing exit at a different room.

    Usage:
      @link <exit> = <room>
    Example:
      @link north = #14
    """
    which, target = split_assign(ctx.args, "@link <exit> = <room>")
    assert target is not None
    ex = resolve(ctx.world, ctx.player, which, (Exit,), "an exit")
    assert isinstance(ex, Exit)
    dest = destination(ctx.world, ctx.player, target)
    ctx.world.link(ex, dest)
    audit(ctx, "link", f"{label(ex)} to {label(dest)}")
    ctx.send(f"Exit |w{ex.name}|n ({ref(ex)}) now leads to |c{dest.name}|n ({ref(dest)}).")


@command("@unlink", category=CATEGORY, role="builder", publishes=NOTHING)
def cmd_unlink(ctx: Ctx) -> None:
    """Make an exit lead nowhere (it stays, and can be linked again).

    Usage:
      @unlink <exit>
    Example:
      @unlink north
    """
    if not ctx.args.strip():
        raise CommandError("Usage: @unlink <exit>")
    ex = resolve(ctx.world, ctx.player, ctx.args, (Exit,), "an exit")
    assert isinstance(ex, Exit)
    if ex.dest_id is None:
        raise CommandError(f"Exit '{ex.name}' already leads nowhere.")
    ctx.world.link(ex, None)
    audit(ctx, "unlink", label(ex))
    ctx.send(f"Exit |w{ex.name}|n ({ref(ex)}) now leads nowhere.")


@command("@name", category=CATEGORY, role="builder", publishes=TEXT)
def cmd_name(ctx: Ctx) -> None:
    """Rename a room, an exit, an item or an NPC.

    Usage:
      @name <target> = <new name>
      @name <exit> = <name>[;alias...]     (an exit's aliases are replaced too)
    Examples:
      @name here = The Quiet Hollow
      @name #12 = a chipped porcelain cup
    """
    which, new = split_assign(ctx.args, "@name <target> = <new name>")
    assert new is not None
    target = resolve(ctx.world, ctx.player, which, (*ALL_KINDS, Npc))
    if isinstance(target, Player):
        raise CommandError("A dreamer's name is their account; it can't be changed here.")
    old = target.name
    if isinstance(target, Npc):
        ctx.world.rename_npc(target, check_name(new))
    elif isinstance(target, Exit):
        name, aliases = parse_exit(ctx, new)
        check_exit_free(target.room, name, aliases, ignore=target)
        ctx.world.rename(target, name, aliases)
    else:
        ctx.world.rename(target, check_name(new))
    audit(ctx, "name", f"{ref(target)} '{old}' -> '{target.name}'")
    ctx.send(f"Renamed {ref(target)} from '{old}' to |w{target.name}|n.")


@command("@desc", aliases=("@describe",), category=CATEGORY, role="builder", publishes=TEXT)
def cmd_desc(ctx: Ctx) -> None:
    """Describe a room, an exit, an item, an NPC or yourself.

    Usage:
      @desc <target> = <text>   set it in one line (empty text clears it)
      @desc <target>            open the editor on the current text: lines you
                                type are added, |w.|n alone saves, |w.q|n quits
                                without saving, |w.p|n shows it numbered, |w.d <n>|n
                                deletes line n, |w.c|n clears it to start afresh
                                (saving an empty text asks first)
    Targets: here, me, an exit, an item, or an #id.
    Example:
      @desc here = Lanterns sway over a floor of warm sand.
    """
    which, text = split_assign(ctx.args, "@desc <target> [= <text>]", False)
    target = resolve(ctx.world, ctx.player, which, (*ALL_KINDS, Npc))
    if isinstance(target, Player) and target is not ctx.player and not ctx.player.has_role("admin"):
        raise CommandError("Only admins may describe other dreamers.")

    def save(new: str) -> None:
        if len(new) > modal.MAX_DESCRIPTION_CHARS:
            raise CommandError(
                f"That is too long; a description has at most {modal.MAX_DESCRIPTION_CHARS} "
                "characters."
            )
        if not still_there(ctx, target):
            raise CommandError("It is gone; nothing was changed.")
        if isinstance(target, Npc):
            ctx.world.set_npc_text(target, "description", new)
        else:
            ctx.world.set_description(target, new)
        audit(ctx, "desc", f"{ref(target)} ({len(new)} characters)")
        ctx.session.send(f"Description of {label(target)} saved.")

    if text is None:
        title = f"the description of {label(target)}"
        modal.begin(ctx, modal.Editor(title, target.description, save))
        return
    save(text)


def still_there(ctx: Ctx, obj: Room | Exit | Item | Player | Npc) -> bool:
    """Is the object still part of the world (another builder may have destroyed it)?"""
    w = ctx.world
    table: Mapping[int, object] = (
        w.rooms if isinstance(obj, Room) else w.exits if isinstance(obj, Exit)
        else w.items if isinstance(obj, Item) else w.npcs if isinstance(obj, Npc)
        else w.players
    )  # fmt: skip
    return table.get(obj.id) is obj


@command("@create", category=CATEGORY, role="builder", publishes=TEXT)
def cmd_create(ctx: Ctx) -> None:
    """Make a new item, in your hands.

    Usage:
      @create <item name>
    Example:
      @create a jar of bottled thunder
    Its keywords come from the name's words; change them with
    |w@set <item>/keywords = <words>|n.
    """
    name = check_name(ctx.args, "item name")
    p = ctx.player
    if len(p.inventory) >= MAX_CARRIED:
        raise CommandError(f"Your hands are full; you can carry at most {MAX_CARRIED} things.")
    item = ctx.world.create_item(name, keywords_from(name), "", p, attrs={"owner": p.name})
    audit(ctx, "create", label(item))
    ctx.send(f"You shape |w{item.name}|n ({ref(item)}) out of dream-stuff. It is in your hands.")
