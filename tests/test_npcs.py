"""Characters in the dreamscape, through real sockets: look, ask, greetings, overheard words,
idle chatter, wandering, the builders' @npc and @tel, and what survives a restart."""

from __future__ import annotations

import asyncio
import re
import time

import pytest

from mud.config import Settings
from mud.core.app import App, open_world
from mud.store import Store
from tests.client import ANSI_RE, login
from world import npc_scripts
from world.npc_behaviour import NpcTimings
from world.npc_scripts import load_npc_scripts
from world.world import World
from world.worldfile import dump, export_data, import_world
from world.yamlsrc import ContentError

PROMPT = r"(?s).*?\n> "
SCRIPTS = load_npc_scripts()
LYRA_GREETS = r"(?s)Lyra Kinsey (says|looks up)[^\n]*?\W+[^\n]*?Ada"


async def run(c, line):
    """Type a line and return everything up to the next prompt (earlier output skipped)."""
    await asyncio.sleep(0.05)
    c.pos = len(c.text)
    return await c.cmd(line, PROMPT)


def flat(text: str) -> str:
    """Screen text with colour and word-wrapping undone, for matching whole script lines."""
    return " ".join(ANSI_RE.sub("", text).split())


def lines_of(key: str, *topics: str) -> list[str]:
    """The first words of every line the script has for these topics (or idle/greetings)."""
    spec = SCRIPTS[key]
    out = []
    for topic in topics:
        if topic == "idle":
            raw = spec.idle.lines
        elif topic == "greetings":
            raw = spec.greetings
        elif topic == "unknown":
            raw = spec.unknown
        else:
            raw = spec.topics[topic].lines
        out += [" ".join(r.text.lstrip(":").replace('"', " ").split()[:5]) for r in raw]
    return out


async def heard(c, fragments: list[str], timeout: float = 5.0) -> str:
    """Wait until one of `fragments` shows up in new output; returns that output, flattened."""
    deadline = time.monotonic() + timeout
    while True:
        text = flat(c.text[c.pos :])
        if any(f in text for f in fragments):
            c.pos = len(c.text)
            return text
        if time.monotonic() > deadline:
            raise AssertionError(f"none of {fragments} arrived; got:\n{text}")
        await asyncio.sleep(0.01)


async def asks(c, line: str, fragments: list[str]) -> str:
    out = flat(await run(c, line))
    assert any(f in out for f in fragments), (fragments, out)
    return out


def fast(server: App, **kw: float) -> None:
    defaults = {"greet_delay": 0.02, "reply_delay": 0.02}
    server.npc_director.timings = NpcTimings(**{**defaults, **kw})


async def builder(server: App, name: str = "Bildo"):
    c = await login(server.port, name)
    server.world.set_role(server.world.players_by_key[name.lower()], "builder")
    return c


async def to_pavilion(c):
    await c.cmd("up", r"(?s)Festival Grounds.*?> ")
    await c.cmd("north", r"(?s)Lyra's Pavilion.*?> ")


# -- seeing and asking ------------------------------------------------------------------------
async def test_npcs_stand_in_their_rooms_and_can_be_looked_at(server):
    w = server.world
    assert {k: n.room.key for k, n in w.npcs_by_key.items()} == {
        "lyra": "festival_pavilion", "ezra": "sanctuary_clockwork",
        "mira": "festival_gallery", "dara": "grove_hollow",
    }  # fmt: skip
    assert server.npc_director.timers == 0  # nobody about: no NPC timer runs at all
    fast(server)
    a = await login(server.port, "Ada")
    await a.cmd("up", "Festival Grounds")
    out = flat(await a.cmd("north", r"(?s)Lyra's Pavilion.*?> "))
    assert "Lyra Kinsey, a Dream Weaver with silver thread wound about her fingers, is here." in out
    out = flat(await run(a, "look lyra"))
    assert out.startswith("Lyra Kinsey A tall woman in a coat stitched")
    out = flat(await run(a, "look kinsey"))
    assert "A tall woman" in out
    await a.cmd("look ezra", "You don't see 'ezra' here.")
    await a.close()


async def test_ask_answers_topics_aliases_and_unknowns_for_the_whole_room(server):
    fast(server)
    a = await login(server.port, "Ada")
    b = await login(server.port, "Bob")
    for c in (a, b):
        await to_pavilion(c)
    await asyncio.sleep(0.1)  # greetings
    b.pos = len(b.text)
    await asks(a, "ask lyra about the loops", lines_of("lyra", "loops"))
    out = await heard(b, lines_of("lyra", "loops"))
    assert "Ada asks Lyra Kinsey about the loops." in out
    await asks(a, "ask lyra about loop", lines_of("lyra", "loops"))  # an alias, singular
    await asks(a, "ask Lyra Kinsey about Dara Nox", lines_of("lyra", "dara"))
    await asks(a, "ask lyra yourself", lines_of("lyra", "yourself"))  # 'about' may go
    out = await asks(a, "ask lyra about the price of turnips", ["the price of turnips"])
    assert "I don't have a thread for that" in out or "isn't woven into anything" in out
    out = flat(await run(a, "ask lyra"))
    assert "Lyra might talk about: festival, dreamwave, loops" in out
    await a.cmd("ask ezra about time", r"Ezra Rourke isn't here\.")
    await a.cmd("ask bob about hats", "Dreamers answer for themselves")
    await a.cmd("ask nobody about x", "There is nobody called 'nobody' here to ask.")
    await a.cmd("ask", "Ask whom?")
    for c in (a, b):
        await c.close()


# -- reactions --------------------------------------------------------------------------------
async def test_npcs_greet_arrivals_once_per_cooldown(server):
    fast(server)
    a = await login(server.port, "Ada")
    await to_pavilion(a)
    await a.expect(LYRA_GREETS, timeout=2)
    await a.cmd("south", "Festival Grounds")
    await a.cmd("north", "Lyra's Pavilion")
    out = await a.quiet(0.3)
    assert not re.search(LYRA_GREETS, out)  # walked straight back in: no second welcome
    server.npc_director.timings.greet_cooldown = 0
    await a.cmd("south", "Festival Grounds")
    await a.cmd("north", "Lyra's Pavilion")
    await a.expect(LYRA_GREETS, timeout=2)
    await a.close()
    mira_greets = [f.replace("{name}", "Bob") for f in lines_of("mira", "greetings")]
    b = await login(server.port, "Bob")
    server.world.move(server.world.players_by_key["bob"], server.world.npcs_by_key["mira"].room)
    await heard(b, mira_greets)
    await b.close()
    b = await login(server.port, "Bob", create=False)  # waking up beside an NPC counts too
    await heard(b, mira_greets)
    await b.close()


async def test_words_said_in_the_room_get_answers_but_npcs_ignore_npcs(server):
    fast(server, hear_cooldown=0)
    a = await login(server.port, "Ada")
    await to_pavilion(a)
    await a.expect(LYRA_GREETS, timeout=2)
    await a.cmd("say hello, everyone", "You say")
    await heard(
        a,
        [
            "Hello, Ada. The pavilion",
            "waves a hand trailing silver thread at Ada",
            "Hello, Ada. I'm glad you found your way here",
        ],
    )
    await a.cmd("say Lyra, what is a loop, really?", "You say")
    await heard(a, lines_of("lyra", "loops"))
    await run(a, "'the weather is fine")
    assert "Lyra Kinsey" not in await a.quiet(0.2)
    # Mira joins; NPC speech never sets off another NPC (no endless conversations).
    w = server.world
    w.move_npc(w.npcs_by_key["mira"], w.rooms_by_key["festival_pavilion"])
    await a.expect("Mira Albright arrives")
    await heard(a, [f.replace("{name}", "Ada") for f in lines_of("mira", "greetings")])
    w.say(w.npcs_by_key["lyra"], "Hello Mira, the mirror is lovely, and hello Lyra.")
    out = await a.quiet(0.3)
    assert out.count("Mira Albright") == 0 and out.count("Lyra Kinsey says") == 1
    await a.close()


async def test_idle_chatter_runs_only_while_someone_listens(server):
    fast(server, scale=0.001, jitter=0)
    a = await login(server.port, "Ada")
    await to_pavilion(a)
    await heard(a, lines_of("lyra", "idle"), timeout=3)
    await heard(a, lines_of("lyra", "idle"), timeout=3)  # it keeps going
    await a.cmd("south", "Festival Grounds")
    await asyncio.sleep(0.2)  # the next tick finds the pavilion empty and lapses
    assert server.npc_director.timers == 0
    await a.close()


async def test_wanderers_keep_to_their_route_and_still_stops_them(server):
    fast(server, scale=0.001, jitter=0)
    w = server.world
    ezra = w.npcs_by_key["ezra"]
    a = await login(server.port, "Ada")
    await a.cmd("east", "Sanctuary of Measured Hours")
    await a.expect(r"Ezra Rourke leaves east\.", timeout=5)
    assert ezra.room.key == "chrono_archive"
    await a.expect(r"Ezra Rourke arrives from the east\.", timeout=5)
    rooms = set()
    for _ in range(20):
        await asyncio.sleep(0.03)
        rooms.add(ezra.room.key)
    assert rooms <= {"sanctuary_clockwork", "chrono_archive"}
    w.set_npc_flag(ezra, "still", True)
    await asyncio.sleep(0.05)
    where = ezra.room
    await asyncio.sleep(0.6)  # several ticks
    assert ezra.room is where
    await a.close()


# -- building -----------------------------------------------------------------------------------
async def test_players_may_not_use_npc_building_commands(server):
    a = await login(server.port, "Ada")
    for line in ("@npc list", "@npc create Tamsin", "@npc edit lyra/short = x", "@tel lyra = here"):
        await a.cmd(line, "You can't do that.")
    assert server.world.npcs_by_key["lyra"].short.startswith("Lyra Kinsey, a Dream Weaver")
    await a.close()


async def test_npc_create_edit_list_and_delete(server):
    b = await builder(server)
    a = await login(server.port, "Ada")
    out = flat(await run(b, "@npc create Tamsin Vale"))
    assert "You shape Tamsin Vale (npc#5, key tamsin)" in out
    await a.expect("Tamsin Vale takes shape out of the dream-stuff.")
    out = flat(await run(a, "look"))
    assert "Tamsin Vale is here." in out
    await a.cmd("ask tamsin about lamps", "doesn't seem to hear you")
    await b.cmd("@npc create Ada Two", "There is a dreamer called Ada")
    await b.cmd("@npc create Look Sharp", "'look' is a command")
    await b.cmd("@npc create Lyra Other", r"key lyra2\)")
    await b.cmd("@npc edit tamsin/short = Tamsin Vale, trimming a lamp", r"npc#5/short = Tamsin")
    await b.cmd("@npc edit tamsin/desc = She smells of lamp oil.", "npc#5/description = She")
    await b.cmd("@npc edit tamsin/name = Tamsin Lamplight", "to Tamsin Lamplight")
    await b.cmd("@npc edit lamplight/flag.silent = yes", r"npc#5/flag.silent = yes")
    await b.cmd("@npc edit tamsin/flag.mood = 3", r"flag.mood = 3")
    await b.cmd("@npc edit tamsin/flag.mood =", r"flag.mood = \(not set\)")
    await b.cmd("@npc edit tamsin/colour = red", "has no field 'colour'")
    await b.cmd("@npc edit tamsin/room = Festival Grounds", "now in Festival Grounds")
    await a.expect("Tamsin Lamplight is drawn away")
    tamsin = server.world.npcs_by_key["tamsin"]
    assert (tamsin.short, tamsin.description) == ("Tamsin Vale, trimming a lamp",
                                                  "She smells of lamp oil.")  # fmt: skip
    assert tamsin.flags == {"silent": True} and tamsin.room.key == "festival_grounds"
    out = flat(await run(b, "@npc list"))
    assert "Characters (6):" in out and "npc#1 dara Dara Nox" in out
    assert "npc#5 tamsin Tamsin Lamplight Festival Grounds (room#" in out
    assert "(no script) [silent=yes]" in out
    await b.cmd("@npc delete lyra2", "You are about to delete Lyra Other")
    await b.cmd("no", "Cancelled")
    await b.cmd("@npc delete lyra2", "about to delete")
    await b.cmd("yes", r"You unmake Lyra Other \(npc#6\)")
    assert "lyra2" not in server.world.npcs_by_key
    out = flat(await run(b, "@audit 20"))
    for action in ("npc create: Tamsin Vale", "npc edit: npc#5/flag.silent = yes",
                   "npc delete: Lyra Other (npc#6)"):  # fmt: skip
        assert action in out
    for c in (a, b):
        await c.close()


async def test_tel_find_and_examine_know_npcs(server):
    fast(server)
    b = await builder(server)
    w = server.world
    out = await b.cmd("@tel lyra = here", r"You send Lyra Kinsey \(npc#\d\) to Dreamwave Nexus")
    assert "Lyra Kinsey steps out of the air" in out
    assert w.npcs_by_key["lyra"].room is w.nexus
    await b.cmd("@tel lyra = here", "already in Dreamwave Nexus")
    await b.cmd("@tel me = ezra", "Sanctuary of Measured Hours")
    assert w.players_by_key["bildo"].room is w.npcs_by_key["ezra"].room
    await b.cmd("@tel lyra = Lyra's Pavilion", "to Lyra's Pavilion")
    await b.cmd("@tel me = npc#1", "The Quiet Hollow")  # dara's id
    out = flat(await run(b, "@find lyra"))
    assert "Rooms (1):" in out and "Characters (1): npc#" in out and "Lyra Kinsey in" in out
    out = flat(await run(b, "@examine lyra"))
    assert "Character npc#" in out and "key: lyra" in out and "Room: Lyra's Pavilion" in out
    assert "Script: world/npcs/lyra.yaml" in out and "16 topic(s)" in out
    out = flat(await run(b, "@examine ezra"))
    assert "wanders every ~150s along sanctuary_clockwork -> chrono_archive" in out
    out = flat(await run(b, "@examine here"))
    assert "Characters: Dara Nox (npc#1)" in out
    await b.cmd("@destroy dara", r"Dara Nox is a character; @npc delete dara does that\.")
    await b.close()


# -- persistence and world files ---------------------------------------------------------------
async def test_restart_keeps_npc_places_edits_and_deletions(make_server, tmp_path):
    db = f"sqlite:///{tmp_path / 'npc.db'}"
    app = await make_server(db=db)
    b = await builder(app)
    await b.cmd("@tel lyra = here", "You send Lyra")
    await b.cmd("@npc edit mira/short = Mira Albright, arms folded", "npc#")
    await b.cmd("@npc edit ezra/flag.still = yes", "flag.still = yes")
    await b.cmd("@npc delete dara", "about to delete")
    await b.cmd("yes", "You unmake Dara Nox")
    await app.stop()
    await b.wait_closed()

    app = await make_server(db=db)
    w = app.world
    assert sorted(w.npcs_by_key) == ["ezra", "lyra", "mira"]  # Dara stays unmade
    assert w.npcs_by_key["lyra"].room is w.nexus
    assert w.npcs_by_key["mira"].short == "Mira Albright, arms folded"
    assert w.npcs_by_key["ezra"].flags == {"still": True}
    assert app.npc_director.running
    await app.stop()
    assert not app.npc_director.running and app.npc_director.timers == 0


def open_unseeded(db):
    store = Store(f"sqlite:///{db}")
    store.migrate()
    w = World(store.stage)
    w.load(store.load())
    return store, w


def test_world_files_carry_npc_placement(tmp_path):
    store, w = open_world(str(tmp_path / "a.db"), SCRIPTS)
    lyra = w.npcs_by_key["lyra"]
    w.move_npc(lyra, w.nexus)
    w.set_npc_text(w.npcs_by_key["mira"], "short", "Mira, counting faces")
    w.set_npc_flag(w.npcs_by_key["ezra"], "still", True)
    data = export_data(w)
    store.write_now()
    store.dispose()
    assert {n["key"]: n.get("room") for n in data["npcs"]}["lyra"] == "nexus"
    path = tmp_path / "world.yaml"
    path.write_text(dump(data))
    # Into an empty database: the characters come from the file, placed as they were.
    store, copy = open_unseeded(tmp_path / "b.db")
    import_world(copy, path)
    store.write_now()
    store.dispose()
    store, copy = open_world(str(tmp_path / "b.db"), SCRIPTS)
    store.dispose()
    shape = {n.key: (n.name, n.short, n.room.key, n.flags) for n in copy.npcs.values()}
    assert shape == {n.key: (n.name, n.short, n.room.key, n.flags) for n in w.npcs.values()}
    # Replacing a world whose file leaves an NPC out: it keeps its room, or goes to the Nexus.
    data["npcs"] = [n for n in data["npcs"] if n["key"] != "dara"]
    data["rooms"] = [r for r in data["rooms"] if r["key"] != "grove_hollow"]
    for r in data["rooms"]:
        r["exits"] = [e for e in r.get("exits", []) if e.get("to") != "grove_hollow"]
    data["items"] = [i for i in data["items"] if i.get("room") != "grove_hollow"]
    path.write_text(dump(data))
    store, copy = open_world(str(tmp_path / "b.db"), SCRIPTS)
    import_world(copy, path, replace=True)
    assert copy.npcs_by_key["dara"].room is copy.nexus
    assert copy.npcs_by_key["lyra"].room is copy.nexus
    assert copy.npcs_by_key["mira"].room.key == "festival_gallery"
    store.dispose()


async def test_a_broken_script_stops_the_start_with_file_and_line(tmp_path, monkeypatch):
    (tmp_path / "npcs").mkdir()
    (tmp_path / "npcs" / "wren.yaml").write_text("key: wren\nname: Wren\nshort: [x\n")
    monkeypatch.setattr(npc_scripts, "NPC_SCRIPT_DIR", tmp_path / "npcs")
    app = App(Settings(port=0, db=f"sqlite:///{tmp_path / 'x.db'}"))
    with pytest.raises(ContentError) as err:
        await app.start()
    assert "wren.yaml:3: not valid YAML" in str(err.value) or "wren.yaml:4" in str(err.value)
    assert not (tmp_path / "x.db").exists()  # refused before the database was touched


async def test_builders_name_and_describe_npcs(server):
    b = await login(server.port, "Bildo")
    server.world.set_role(server.world.players_by_key["bildo"], "builder")
    pavilion = server.world.rooms_by_key["festival_pavilion"]
    before = pavilion.description
    await b.cmd("@desc lyra = A weaver with thread-scarred fingers.", "saved")
    lyra = server.world.npcs_by_key["lyra"]
    assert lyra.description == "A weaver with thread-scarred fingers."
    assert pavilion.description == before  # not the room whose name starts with Lyra
    await b.cmd("@name lyra = Lyra Kinsey the Elder", "Renamed")
    assert lyra.name == "Lyra Kinsey the Elder"
    await b.close()
