"""Building, continued: destroying, teleporting, typed attributes, locks, roles, the audit log."""

from __future__ import annotations

import re
import time

from commands import modal
from commands.api import NOTHING, TEXT, CommandError, Ctx, command
from commands.building import CATEGORY, audit, split_assign, still_there
from commands.items import MAX_CARRIED
from commands.npcs import send_npc
from commands.targets import ALL_KINDS, destination_object, kind_name, label, ref, resolve
from commands.util import a_or_an, render_room
from world import locks
from world.attrs import ATTRIBUTES, parse_value
from world.dreams import plural
from world.model import ROLES, Exit, Item, Player, Room
from world.npcs import Npc
from world.words import capitalise_first

AUDIT_DEFAULT = 20  # entries @audit shows without a number
AUDIT_MAX = 200  # most entries one @audit shows
ZONE_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@command("@destroy", category=CATEGORY, role="builder", publishes=NOTHING)
def cmd_destroy(ctx: Ctx) -> None:
    """Unmake a room, an exit or an item, after you confirm.

    Usage:
      @destroy <target>
    Destroying a room also removes its exits, the exits leading to it and the
    items in it; dreamers inside are sent to the Nexus first. The Nexus and
    dreamers can't be destroyed.
    Example:
      @destroy #14
    """
    if not ctx.args.strip():
        raise CommandError("Usage: @destroy <target>")
    w = ctx.world
    target = resolve(w, ctx.player, ctx.args, (*ALL_KINDS, Npc))
    if isinstance(target, Npc):
        raise CommandError(f"{target.name} is a character; |w@npc delete {target.key}|n does that.")
    if isinstance(target, Player):
        raise CommandError("Dreamers can't be destroyed.")
    if target is w.nexus:
        raise CommandError("The Nexus can't be destroyed; it is where every dreamer wakes.")
    question = f"|yYou are about to destroy {label(target)}.|n"
    if isinstance(target, Room):
        into = [e for e in w.exits.values() if e.dest_id == target.id and e.room is not target]
        people = [p.name for p in target.players.values()]
        question += (
            f"\nThat removes its {plural(len(target.exits), 'exit')}, "
            f"{plural(len(into), 'exit')} leading to it and {plural(len(target.items), 'item')}"
            " in it."
        )
        if people:
            question += f"\n{', '.join(people)} will be sent to the Nexus."

    def destroy() -> None:
        if not still_there(ctx, target):
            raise CommandError("It is already gone.")
        what = label(target)
        if isinstance(target, Room):
            w.destroy_room(target)  # whoever was inside is shown the Nexus (World.landed)
        elif isinstance(target, Exit):
            w.destroy_exit(target)
        else:
            assert isinstance(target, Item)
            w.destroy_item(target)
        audit(ctx, "destroy", what)
        ctx.session.send(f"You destroy {what}.")

    modal.begin(ctx, modal.Confirm(question, destroy))


@command("@tel", aliases=("@teleport",), category=CATEGORY, role="builder", publishes=NOTHING)
def cmd_tel(ctx: Ctx) -> None:
    """Move a dreamer, a character or an item anywhere at once.

    Usage:
      @tel <destination>              yourself
      @tel <dreamer, character or item> = <destination>
    A destination is here, a room's #id or name anywhere, or a dreamer or a
    character (their room; for an item, a dreamer's hands).
    Examples:
      @tel me = Festival Grounds
      @tel pell = here
      @tel lyra = here
      @tel me = ezra
      @tel lantern = #7
    """
    what, where = split_assign(ctx.args, "@tel [<dreamer or item> =] <destination>", False)
    if where is None:
        what, where = "me", what
    w = ctx.world
    target = resolve(w, ctx.player, what, (Player, Npc, Item), "a dreamer, character or item")
    dest = destination_object(w, ctx.player, where)
    if isinstance(dest, Npc):
        if dest.room is None:
            raise CommandError(f"{dest.name} is nowhere at all right now.")
        dest = dest.room
    if isinstance(target, Npc):
        room = dest if isinstance(dest, Room) else dest.room
        if room is None:
            raise CommandError("That dreamer is nowhere at all right now.")
        send_npc(ctx, target, room)
        where_to: Room | Player = room
    elif isinstance(target, Player):
        room = dest if isinstance(dest, Room) else dest.room
        if room is None:
            raise CommandError("That dreamer is nowhere at all right now.")
        if target.room is room:
            raise CommandError(f"{target.name} is already in {room.name}.")
        if target is not ctx.player:  # then the move shows them where (World.landed)
            target.send(f"|y{ctx.player.name} pulls you through the dreamscape.|n")
        w.teleport(target, room, actor=ctx.player)
        if target is ctx.player:
            ctx.send(render_room(ctx, target, room))
        where_to = room
    else:
        assert isinstance(target, Item)
        if target.location is dest:
            raise CommandError("It is already there.")
        if isinstance(dest, Player) and len(dest.inventory) >= MAX_CARRIED:
            raise CommandError(f"{dest.name}'s hands are full.")
        w.teleport(target, dest, actor=ctx.player)
        where_to = dest
    audit(ctx, "tel", f"{label(target)} to {label(where_to)}")
    if target is not ctx.player:
        ctx.send(f"You send {label(target)} to {label(where_to)}.")


@command("@set", category=CATEGORY, role="builder", publishes=TEXT)
def cmd_set(ctx: Ctx) -> None:
    """Set a typed attribute on a room, an exit or an item.

    Usage:
      @set <target>                      list the attributes and their values
      @set <target>/<attribute>          show one
      @set <target>/<attribute> = <value>
      @set <target>/<attribute> =        clear it
    Rooms: dark (yes/no), no_dream (yes/no), zone (a zone key; a new key
    makes a new zone). Exits: fail (what the lock tells those it refuses).
    Items: keywords.
    Examples:
      @set here/dark = yes
      @set north/fail = The archive door is bolted from the inside.
    """
    left, value = split_assign(ctx.args, "@set <target>/<attribute> [= <value>]", False)
    which, slash, name = left.rpartition("/")
    if not slash:
        which, name = left, ""
    target = resolve(ctx.world, ctx.player, which, (Room, Exit, Item))
    assert isinstance(target, (Room, Exit, Item))  # (the kinds asked for)
    kind = kind_name(target)
    specs = ATTRIBUTES[kind]
    name = name.strip().lower()
    if not name:
        ctx.send(f"|wAttributes of {label(target)}:|n\n" + attr_lines(target))
        return
    spec = specs.get(name)
    if spec is None:
        raise CommandError(
            f"{capitalise_first(a_or_an(kind))} has no attribute '{name}'; "
            f"it has {', '.join(specs)}."
        )
    if value is None:
        ctx.send(f"{ref(target)}/{name} = {escape(show_value(current(target, name)))}")
        return
    if not spec.settable:
        how = "with |w@lock|n" if name == "lock" else "by the server"
        raise CommandError(f"{name} is set {how}, not with @set.")
    try:
        parsed = parse_value(spec, value) if value else None
    except ValueError as err:
        raise CommandError(str(err)) from None
    w = ctx.world
    note = ""
    if name == "zone":
        assert isinstance(target, Room)
        if not parsed or not ZONE_KEY.match(str(parsed)):
            raise CommandError("A zone key is lowercase letters, digits and _, like festival.")
        if parsed not in w.zones:
            w.create_zone(str(parsed), str(parsed).replace("_", " ").title())
            note = " (a new zone)"
        w.set_zone(target, str(parsed))
    elif name == "keywords":
        assert isinstance(target, Item)
        w.set_keywords(target, tuple(str(parsed or "").lower().split()))
    else:
        w.set_attr(target, name, parsed)
    shown = show_value(current(target, name))
    audit(ctx, "set", f"{ref(target)}/{name} = {shown}")
    ctx.send(f"{ref(target)}/{name} = {escape(shown)}{note}")


def current(obj: Room | Exit | Item | Player, name: str) -> object:
    if name == "zone" and isinstance(obj, Room):
        return obj.zone
    if name == "keywords" and isinstance(obj, Item):
        return " ".join(obj.keywords)
    return getattr(obj, "attrs", {}).get(name)


def show_value(value: object) -> str:
    if value is None or value == "":
        return "(not set)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def attr_lines(obj: Room | Exit | Item) -> str:
    specs = ATTRIBUTES[kind_name(obj)]
    return "\n".join(
        f"  |w{n:<9}|n {escape(show_value(current(obj, n))):<12} |x{s.help}|n"
        for n, s in specs.items()
    )


def escape(text: str) -> str:
    """Stored text shown as typed: colour codes visible, not applied."""
    return text.replace("|", "||")


@command("@lock", category=CATEGORY, role="builder", publishes=NOTHING)
def cmd_lock(ctx: Ctx) -> None:
    """Decide who may pass through an exit.

    Usage:
      @lock <exit>                 show the exit's lock
      @lock <exit> = <rule>
    Rules:
      role:<role>       player, builder or admin (that role or higher)
      holds:<item>      carries an item by that keyword (or holds:#12)
      inloop            is inside a shared loop
      phase:<phase>     dusk, night, dawn or day on the world clock
    combined with not, and, or and parentheses.
    Example:
      @lock north = role:builder and (holds:lantern or not phase:day) or inloop
    |w@set <exit>/fail = <text>|n sets what a refused dreamer is told;
    |w@unlock <exit>|n removes the lock.
    """
    which, rule = split_assign(ctx.args, "@lock <exit> [= <rule>]", False)
    ex = exit_to_lock(ctx, which)
    if rule is None:
        lock = ex.attrs.get("lock")
        ctx.send(f"Exit '{ex.name}' ({ref(ex)}) is " + (f"locked: {lock}" if lock else "unlocked."))
        return
    try:
        text = locks.normalise(rule)
    except locks.LockError as err:
        raise CommandError(str(err)) from None
    ctx.world.set_attr(ex, "lock", text)
    audit(ctx, "lock", f"{label(ex)}: {text}")
    ctx.send(f"Exit '{ex.name}' ({ref(ex)}) is locked: {text}")


@command("@unlock", category=CATEGORY, role="builder", publishes=NOTHING)
def cmd_unlock(ctx: Ctx) -> None:
    """Remove an exit's lock, so anyone may pass.

    Usage:
      @unlock <exit>
    """
    if not ctx.args.strip():
        raise CommandError("Usage: @unlock <exit>")
    ex = exit_to_lock(ctx, ctx.args)
    if "lock" not in ex.attrs:
        raise CommandError(f"Exit '{ex.name}' isn't locked.")
    ctx.world.set_attr(ex, "lock", None)
    audit(ctx, "unlock", label(ex))
    ctx.send(f"Exit '{ex.name}' ({ref(ex)}) is unlocked.")


@command("@role", category=CATEGORY, role="admin", publishes=NOTHING)
def cmd_role(ctx: Ctx) -> None:
    """Make a dreamer a player, a builder or an admin.

    Usage:
      @role <dreamer>            show their role
      @role <dreamer> <role>     roles: player, builder, admin
    Example:
      @role pell builder
    """
    words = ctx.args.split()
    if not words or len(words) > 2:
        raise CommandError("Usage: @role <dreamer> <role> (player, builder or admin)")
    target = ctx.world.players_by_key.get(words[0].lower())
    if target is None:
        raise CommandError(f"There is no dreamer called '{words[0]}'.")
    if len(words) == 1:
        ctx.send(f"{target.name} is {a_or_an(target.role)}.")
        return
    role = words[1].lower()
    if role not in ROLES:
        raise CommandError(f"There is no role '{role}'; roles are {', '.join(ROLES)}.")
    if target is ctx.player:
        raise CommandError("You can't change your own role; ask another admin.")
    if target.role == role:
        raise CommandError(f"{target.name} is already {a_or_an(role)}.")
    old = target.role
    ctx.world.set_role(target, role)
    audit(ctx, "role", f"{target.name} ({ref(target)}): {old} -> {role}")
    target.send(f"|y{ctx.player.name} has made you {a_or_an(role)}.|n")
    ctx.send(f"{target.name} is now {a_or_an(role)} (was {old}).")


@command("@audit", category=CATEGORY, role="builder", publishes=NOTHING)
def cmd_audit(ctx: Ctx) -> None:
    """Show the latest building and moderation changes: who did what, when.

    Usage:
      @audit          the last 20
      @audit <n>      the last n (at most 200)
    """
    arg = ctx.args.strip()
    if arg and not arg.isdigit():
        raise CommandError("Usage: @audit [number of entries]")
    n = min(AUDIT_MAX, int(arg)) if arg else AUDIT_DEFAULT
    entries = list(ctx.world.audit_log)[-n:] if n else []
    if not entries:
        ctx.send("Nothing has been built yet.")
        return
    lines = [f"|wThe last {plural(len(entries), 'change')}, oldest first:|n"]
    for e in entries:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(e.at))
        detail = e.detail.replace("|", "||")
        lines.append(f"  |x{stamp}|n |c{e.actor_name}|n {e.action}: {detail}")
    ctx.page("\n".join(lines))


def exit_to_lock(ctx: Ctx, which: str) -> Exit:
    """The exit `which` names; a room, item or dreamer gets told that only exits lock."""
    try:
        ex = resolve(ctx.world, ctx.player, which, (Exit,), "an exit")
    except CommandError:
        try:
            other = resolve(ctx.world, ctx.player, which)
        except CommandError:
            other = None
        if other is None or isinstance(other, Exit):
            raise
        what = f"{label(other)} is {a_or_an(kind_name(other))}"
        if isinstance(other, Room):
            what += ": lock one of its exits, as in |w@lock north = role:builder|n"
        raise CommandError(f"Only exits can be locked, and {what}.") from None
    assert isinstance(ex, Exit)
    return ex
