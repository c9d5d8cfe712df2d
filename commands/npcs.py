"""The dreamscape's characters: asking them things, and the builders' @npc."""

from __future__ import annotations

import re

from commands import modal
from commands.api import SPEECH, CommandError, Ctx, command, text_after
from commands.building import CATEGORY, audit, check_name, split_assign
from commands.targets import destination, label, ref, resolve
from world.model import Room
from world.npc_scripts import MAX_NAME
from world.npcs import Npc

MAX_TOPIC = 100  # characters of a question
MAX_KEY = 40  # characters in an NPC key (the npc table's limit)
MAX_KEY_SUFFIX = 99  # lyra2 ... lyra99 before a name is refused as too common
MAX_LISTED_TOPICS = 16
TEXT_FIELDS = {"short": "short", "description": "description", "desc": "description"}
FLAG_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
TRUE_WORDS, FALSE_WORDS = ("yes", "true", "on"), ("no", "false", "off")


def _split_question(text: str) -> tuple[str, str]:
    """'lyra kinsey about the loops' -> ('lyra kinsey', 'the loops'); 'lyra loops' works too."""
    low = text.lower()
    at = low.find(" about ")
    if at >= 0:
        return text[:at].strip(), text[at + 7 :].strip()
    if low.endswith(" about"):
        return text[:-6].strip(), ""
    who, _, topic = text.partition(" ")
    return who, topic.strip()


@command("ask", category="Communication", publishes=SPEECH)
def cmd_ask(ctx: Ctx) -> None:
    """Ask a character here about something; everyone nearby hears the answer.

    Usage:
      ask <someone> about <topic>
      ask <someone>                 what they might talk about
    Examples:
      ask lyra about the festival
      ask ezra about loops
    """
    text = ctx.args.strip()
    if not text:
        raise CommandError("Ask whom? For example: ask lyra about the festival.")
    who, topic = _split_question(text)
    room = ctx.player.room
    w = ctx.world
    npc = w.find_npc(who, room) if room is not None else None
    if npc is None:
        elsewhere = w.find_npc(who)
        if elsewhere is not None:
            raise CommandError(f"{elsewhere.name} isn't here. Characters answer only in person.")
        if room is not None and any(p.key.startswith(who.lower()) for p in room.players.values()):
            raise CommandError("Dreamers answer for themselves; try |wsay|n or |wtell|n.")
        raise CommandError(f"There is nobody called '{who[:30]}' here to ask.")
    director = ctx.app.npc_director
    brain = director.brain(npc)
    if brain is None:
        raise CommandError(f"{npc.name} doesn't seem to hear you; their thoughts are elsewhere.")
    if not topic:
        names = brain.topic_names()[:MAX_LISTED_TOPICS]
        hint = ", ".join(names) if names else "nothing in particular"
        ctx.send(f"Ask {npc.name} about something: |wask {npc.key} about <topic>|n.\n"
                 f"{npc.first_name} might talk about: {hint}.")  # fmt: skip
        return
    topic = topic[:MAX_TOPIC]
    assert room is not None  # (the NPC was found in it)
    ctx.send(f"You ask |y{npc.name}|n about {topic}.")
    w.broadcast(room, f"|c{ctx.player.name}|n asks |y{npc.name}|n about {topic}.",
                exclude=ctx.player)  # fmt: skip
    director.answer(npc, topic, ctx.player)


# -- building -----------------------------------------------------------------------------
def send_npc(ctx: Ctx, npc: Npc, room: Room) -> None:
    """Move a character somewhere at a builder's word (@tel, @npc edit .../room)."""
    if npc.room is room:
        raise CommandError(f"{npc.name} is already in {room.name}.")
    if ctx.world.dreams.is_private(room):
        raise CommandError("Characters can't be sent into private dreams or loops.")
    name = f"|y{npc.name}|n"
    ctx.world.move_npc(
        npc, room, f"{name} is drawn away through the dreamscape.",
        f"{name} steps out of the air as though it were a curtain.",
    )  # fmt: skip


def _find(ctx: Ctx, text: str) -> Npc:
    npc = resolve(ctx.world, ctx.player, text, (Npc,), "a character")
    assert isinstance(npc, Npc)
    return npc


def _check_npc_name(ctx: Ctx, text: str) -> str:
    name = check_name(text, "name")
    if len(name) > MAX_NAME:
        raise CommandError(f"That name is too long; the most is {MAX_NAME} characters.")
    if not name[0].isalpha():
        raise CommandError("A character's name starts with a letter.")
    first = name.split()[0].lower()
    if first in ctx.world.players_by_key:
        raise CommandError(f"There is a dreamer called {first.capitalize()}; choose another name.")
    if ctx.app.registry.exact(first) is not None:
        raise CommandError(f"'{first}' is a command; choose another name.")
    return name


def _new_key(ctx: Ctx, name: str) -> str:
    base = re.sub(r"[^a-z0-9]", "", name.split()[0].lower())[: MAX_KEY - 2]
    if not base or not base[0].isalpha():
        raise CommandError("A character's first name needs letters, like Tamsin.")
    if base not in ctx.world.npcs_by_key:
        return base
    for n in range(2, MAX_KEY_SUFFIX + 1):
        if f"{base}{n}" not in ctx.world.npcs_by_key:
            return f"{base}{n}"
    raise CommandError("Too many characters share that first name; choose another.")


def _flag_value(text: str) -> object:
    low = text.strip().lower()
    if not low:
        return None
    if low in TRUE_WORDS:
        return True
    if low in FALSE_WORDS:
        return False
    try:
        return int(low)
    except ValueError:
        pass
    try:
        return float(low)
    except ValueError:
        return text.strip()


def _show(value: object) -> str:
    if value is None or value == "":
        return "(not set)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value).replace("|", "||")


def _where(npc: Npc) -> str:
    return label(npc.room) if npc.room is not None else "nowhere"


def npc_create(ctx: Ctx, rest: str) -> None:
    name = _check_npc_name(ctx, rest)
    key = _new_key(ctx, name)
    room = ctx.player.room
    npc = ctx.world.create_npc(key, name, name, "", room)
    scripted = ctx.app.npc_director.brain(npc) is not None
    if room is not None:
        ctx.world.broadcast(room, f"|y{npc.name}|n takes shape out of the dream-stuff.",
                            exclude=ctx.player)  # fmt: skip
    audit(ctx, "npc create", f"{label(npc)} key {key} in {_where(npc)}")
    ctx.send(
        f"You shape |y{npc.name}|n ({ref(npc)}, key |w{key}|n) out of dream-stuff; they stand "
        "here. " + (f"They speak as their script world/npcs/{key}.yaml says."
                    if scripted else "Give them a short line and a description with "
                    f"|w@npc edit {key}/short = ...|n and |w@npc edit {key}/description|n.")
    )  # fmt: skip


def npc_edit(ctx: Ctx, rest: str) -> None:
    left, value = split_assign(rest, "@npc edit <npc>/<field> = <value>", False)
    who, slash, field = left.rpartition("/")
    if not slash or not who.strip():
        raise CommandError("Usage: @npc edit <npc>/<field> = <value>  (fields: name, short, "
                           "description, room, flag.<name>)")  # fmt: skip
    npc = _find(ctx, who)
    field = field.strip().lower()
    w = ctx.world
    if field in TEXT_FIELDS:
        attr = TEXT_FIELDS[field]

        def save(text: str) -> None:
            if w.npcs.get(npc.id) is not npc:
                raise CommandError("They are gone; nothing was changed.")
            if len(text) > modal.MAX_DESCRIPTION_CHARS:
                raise CommandError(f"That is too long; at most {modal.MAX_DESCRIPTION_CHARS} "
                                   "characters.")  # fmt: skip
            w.set_npc_text(npc, attr, text.strip())
            audit(ctx, "npc edit", f"{ref(npc)}/{attr} ({len(text)} characters)")
            ctx.session.send(f"{ref(npc)}/{attr} = {_show(getattr(npc, attr))}")

        if value is None and attr == "description":
            modal.begin(ctx, modal.Editor(f"the description of {label(npc)}", npc.description,
                                          save))  # fmt: skip
        elif value is None:
            ctx.send(f"{ref(npc)}/{attr} = {_show(getattr(npc, attr))}")
        else:
            save(value)
        return
    if field == "name":
        if value is None:
            ctx.send(f"{ref(npc)}/name = {_show(npc.name)}")
            return
        old = npc.name
        w.rename_npc(npc, _check_npc_name(ctx, value))
        audit(ctx, "npc edit", f"{ref(npc)} name '{old}' -> '{npc.name}'")
        ctx.send(f"Renamed {ref(npc)} from '{old}' to |y{npc.name}|n (key {npc.key}).")
        return
    if field == "room":
        if value is None:
            ctx.send(f"{ref(npc)}/room = {_where(npc)}")
            return
        room = destination(w, ctx.player, value)
        send_npc(ctx, npc, room)
        audit(ctx, "npc edit", f"{ref(npc)}/room = {label(room)}")
        ctx.send(f"{npc.name} is now in {label(room)}.")
        return
    if field.startswith("flag."):
        flag = field[5:]
        if not FLAG_NAME.match(flag):
            raise CommandError("A flag name is lowercase letters, digits and _, like still.")
        if value is None:
            ctx.send(f"{ref(npc)}/flag.{flag} = {_show(npc.flags.get(flag))}")
            return
        w.set_npc_flag(npc, flag, _flag_value(value))
        shown = _show(npc.flags.get(flag))
        audit(ctx, "npc edit", f"{ref(npc)}/flag.{flag} = {shown}")
        ctx.send(f"{ref(npc)}/flag.{flag} = {shown}")
        return
    raise CommandError(f"A character has no field '{field[:20]}'; fields are name, short, "
                       "description, room and flag.<name>.")  # fmt: skip


def npc_list(ctx: Ctx, rest: str) -> None:
    npcs = sorted(ctx.world.npcs.values(), key=lambda n: n.id)
    if not npcs:
        ctx.send("There are no characters yet. |w@npc create <name>|n makes one here.")
        return
    director = ctx.app.npc_director
    lines = [f"|wCharacters ({len(npcs)}):|n"]
    for npc in npcs:
        script = "" if director.brain(npc) is not None else "  |x(no script)|n"
        flags = " ".join(f"{k}={_show(v)}" for k, v in sorted(npc.flags.items()))
        lines.append(f"  {ref(npc):<8} {npc.key:<10} |y{npc.name:<20}|n {_where(npc)}{script}"
                     + (f"  |x[{flags}]|n" if flags else ""))  # fmt: skip
    ctx.send("\n".join(lines))


def npc_delete(ctx: Ctx, rest: str) -> None:
    if not rest.strip():
        raise CommandError("Usage: @npc delete <npc>")
    npc = _find(ctx, rest)
    w = ctx.world
    question = f"|yYou are about to delete {label(npc)} for good.|n"
    if ctx.app.npc_director.brain(npc) is not None:
        question += (f"\nTheir script stays; |w@npc create {npc.name}|n would bring them back "
                     "with its voice.")  # fmt: skip

    def delete() -> None:
        if w.npcs.get(npc.id) is not npc:
            raise CommandError("They are already gone.")
        what = label(npc)
        w.destroy_npc(npc)
        audit(ctx, "npc delete", what)
        ctx.session.send(f"You unmake {what}.")

    modal.begin(ctx, modal.Confirm(question, delete))


SUBCOMMANDS = {"create": npc_create, "edit": npc_edit, "list": npc_list, "delete": npc_delete}


@command("@npc", category=CATEGORY, role="builder", publishes=text_after("create", "edit"))
def cmd_npc(ctx: Ctx) -> None:
    """Make, change, list and remove characters (NPCs).

    Usage:
      @npc list
      @npc create <name>                   a new character, here
      @npc edit <npc>/<field> = <value>
      @npc edit <npc>/description          (opens the editor)
      @npc delete <npc>
    Fields: name, short (how they appear in a room), description (on look),
    room (here, a room, a dreamer or another character), flag.<name> (yes, no,
    a number or text; nothing after = clears it). The server knows two flags:
    silent (no greetings or chatter) and still (no wandering).
    A character whose key has a script in world/npcs/ talks as it says.
    Examples:
      @npc create Tamsin Vale
      @npc edit tamsin/short = Tamsin Vale, humming as she trims a lamp
      @npc edit lyra/room = here
      @npc edit ezra/flag.still = yes
    """
    verb, _, rest = ctx.args.strip().partition(" ")
    sub = SUBCOMMANDS.get(verb.lower())
    if sub is None:
        raise CommandError("Usage: @npc list | create <name> | edit <npc>/<field> = <value> | "
                           "delete <npc>  (help @npc for more)")  # fmt: skip
    sub(ctx, rest.strip())
