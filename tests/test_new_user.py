"""What a new user hit: each rough edge from the issue, typed through a real socket."""

from __future__ import annotations

import asyncio

from tests.client import Client, login

PROMPT = r"\n> "
ROOM_THEN_PROMPT = r"(?s)Exits:[^\n]*\n.*?\n> "


async def said(c: Client, line: str) -> str:
    """Everything one command printed, up to its prompt (earlier output skipped)."""
    await asyncio.sleep(0.05)
    c.pos = len(c.text)
    return await c.cmd(line, PROMPT)


async def builder(server, name: str, role: str = "builder") -> Client:
    c = await login(server.port, name)
    server.world.set_role(server.world.players_by_key[name.lower()], role)
    return c


async def dreaming(server, *names: str) -> list[Client]:
    clients = []
    for name in names:
        c = await login(server.port, name)
        await c.cmd("dream", r"(?s)Dream.*?Exits:.*?> ")
        clients.append(c)
    return clients


async def merged(a: Client, b: Client) -> None:
    await a.cmd("merge bob", "If they answer")
    await b.expect("merge Ada")
    await b.cmd("merge ada", r"(?s)Loop of.*?> ")


# -- bug 1: the proposer of a merge sees the loop ---------------------------------------------


async def test_both_dreamers_of_a_merge_see_the_loop_room_and_a_prompt(server):
    a, b = await dreaming(server, "Ada", "Bob")
    await merged(a, b)
    out = (await a.expect(r"(?s)Your dream merges into a shared loop with Bob\..*?\n> ")).group(0)
    assert "Loop of Ada and Bob" in out and "Exits:" in out and "Bob is here." in out
    await a.cmd("look", "Loop of")  # and Ada can go on typing
    await a.close()
    await b.close()


# -- bug 4: the description editor starts from the text ---------------------------------------


async def test_desc_editor_starts_from_the_text_and_never_wipes_it_unasked(server):
    b = await builder(server, "Bex")
    room = server.world.players_by_key["bex"].room
    await b.cmd("@desc here = Silver light pools here.", "saved")
    out = await b.cmd("@desc here", "edit> ")
    assert "1 Silver light pools here." in out
    await b.cmd(".", "unchanged; nothing was saved")
    assert room.description == "Silver light pools here."
    # a lone . after clearing asks first; anything but yes keeps the text
    await b.cmd("@desc here", "edit> ")
    await b.cmd(".c", "cleared")
    await b.cmd(".", "Clear the text\\? Type yes")
    await b.cmd("no", "Nothing was changed")
    assert room.description == "Silver light pools here."
    await b.cmd("look", "Silver light pools here.")
    # adding a line keeps the first
    await b.cmd("@desc here", "edit> ")
    await b.cmd("Moths circle the lamps.", "edit> ")
    await b.cmd(".p", r"2 Moths circle the lamps\.")
    await b.cmd(".", "saved")
    assert room.description == "Silver light pools here.\nMoths circle the lamps."
    await b.cmd("@desc here", "edit> ")
    await b.cmd(".d 1", "Deleted line 1")
    await b.cmd(".", "saved")
    assert room.description == "Moths circle the lamps."
    # and clearing on purpose still works, after a yes
    await b.cmd("@desc here", "edit> ")
    await b.cmd(".c", "cleared")
    await b.cmd(".", "Clear the text")
    await b.cmd("yes", "saved")
    assert room.description == ""
    await b.close()


# -- bug 9: grammar -----------------------------------------------------------------------------


async def test_articles_directions_counts_and_appositive_commas(server):
    b = await builder(server, "Bex", "admin")
    await b.cmd("@set north/colour = red", r"An exit has no attribute 'colour'")
    await b.cmd("@set here/colour = red", r"A room has no attribute 'colour'")
    await b.cmd("@create a pebble", "in your hands")
    await b.cmd("@set pebble/colour = red", r"An item has no attribute 'colour'")
    pell = await login(server.port, "Pell")
    await b.cmd("@role pell admin", r"Pell is now an admin \(was player\)\.")
    await pell.expect(r"Bex has made you an admin\.")
    await b.cmd("@role pell", r"Pell is an admin\.")
    # a character's presence line closes its appositive
    lyra = server.world.npcs_by_key["lyra"]
    await b.cmd(f"@tel me = #{lyra.room.id}", "Exits:")
    out = await said(b, "look")
    assert "Lyra Kinsey, a Dream Weaver with silver thread wound about her fingers, is here." in out
    # a dream's rooms: above / below, and the limit counted plainly
    await b.cmd("dream", "Exits:")
    await b.cmd("dream dig Attic = up, down", r"a new place, Attic, above here\.")
    await b.cmd("dream dig Cellar = d, u", r"a new place, Cellar, below here\.")
    await b.cmd("dream dig Garden = east, west", r"a new place, Garden, east of here\.")
    await b.cmd("dream dig Nook = nook, out", r"Nook, through the way nook from here\.")
    await b.cmd("d", "Cellar")  # 'd' was made the word 'down'
    await b.cmd("u", "Bex's Dream")
    server.world.dreams.limits.max_extra_rooms = 4
    await b.cmd("dream dig Fifth = north, south", r"at most 4 added rooms; you have 4\.")
    server.world.dreams.limits.max_motifs = 1
    await b.cmd("dream motif a moth", "into being")
    await b.cmd("dream motif a moth", r"already holds 1 motif, as many as it can\.")
    await b.close()
    await pell.close()


# -- bug 13: whoever is moved by someone else sees where they landed --------------------------


async def test_shown_out_of_a_dream_sees_the_waking_room(server):
    a, b = await dreaming(server, "Ada", "Bob")
    await a.cmd("dream invite bob", "You invite Bob")
    await b.cmd("dream visit ada", "Ada's Dream")
    await asyncio.sleep(0.1)
    b.pos = len(b.text)
    await a.cmd("dream uninvite bob", "has been shown out")
    out = (await b.expect(r"(?s)returned to the waking world\..*?Exits:.*?\n> ")).group(0)
    assert "Dreamwave Nexus" in out
    await a.close()
    await b.close()


async def test_teleported_and_destroyed_out_see_where_they_landed(server):
    bex = await builder(server, "Bex")
    pell = await login(server.port, "Pell")
    await bex.cmd("@dig Shed = shed, west", "You dig")
    await bex.cmd("@tel pell = Shed", "You send Pell")
    out = (await pell.expect(r"(?s)Bex pulls you through the dreamscape\..*?\n> ")).group(0)
    assert "Shed" in out and "Exits: west" in out
    await bex.cmd("shed", "Pell is here")
    await bex.cmd("@destroy here", "Type yes")
    pell.pos = len(pell.text)
    out = await said(bex, "yes")
    assert "You destroy" in out and "Dreamwave Nexus" in out  # the builder too
    out = (await pell.expect(r"(?s)drift back to the Nexus\..*?\n> ")).group(0)
    assert "Dreamwave Nexus" in out and "Exits:" in out
    await bex.close()
    await pell.close()


async def test_a_loop_ending_or_collapsing_shows_everyone_where_they_woke(server):
    a, b = await dreaming(server, "Ada", "Bob")
    await merged(a, b)
    await a.expect(r"(?s)Loop of.*?\n> ")
    ds = server.world.dreams
    loop = ds.loop_of(server.world.players_by_key["ada"])
    ds.adjust_stability(loop, -100, "A test tears it.")  # as an event step would
    for c, name in ((a, "Ada"), (b, "Bob")):
        out = (await c.expect(r"(?s)The loop collapsed\..*?\n> ")).group(0)
        assert f"{name}'s Dream" in out and "Exits:" in out
    await merged(a, b)
    loop = ds.loop_of(server.world.players_by_key["ada"])
    await asyncio.sleep(0.1)
    a.pos = len(a.text)
    ds.end_loop(loop)  # an event's close_loop
    out = (await a.expect(r"(?s)The loop unwinds around you.*?\n> ")).group(0)
    assert "Dreamwave Nexus" in out and "Exits:" in out
    await a.close()
    await b.close()


# -- bug 16: which thread? ------------------------------------------------------------------


async def test_an_ambiguous_word_lists_the_candidates_and_takes_a_number(server):
    a = await login(server.port, "Ada")
    w = server.world
    ada = w.players_by_key["ada"]
    w.create_item("a silver thread", ("silver", "thread"), "It glints in your hands.", ada)
    w.create_item("a spool of thread", ("spool", "thread"), "Wound tight.", ada.room)
    out = await said(a, "look thread")
    assert "Which 'thread'? 1. a silver thread (in your hands); 2. a spool of thread (here)" in out
    assert "look 2.thread" in out
    await a.cmd("look 2.thread", "Wound tight.")
    await a.cmd("l 1.thread", "It glints in your hands.")
    await a.cmd("look 3.thread", r"There are only 2 'thread' here")
    await a.cmd("look silver", "It glints")  # one match needs no number
    await a.cmd("get thread", "You pick up a spool of thread")  # only the room's
    await a.cmd("drop 2.thread", "You drop a spool of thread")
    await a.close()


async def test_builder_targets_take_a_number_too(server):
    b = await builder(server, "Bex")
    await b.cmd("@create a red lantern", "in your hands")
    await b.cmd("drop lantern", "You drop")
    await b.cmd("@create a blue lantern", "in your hands")
    out = await said(b, "@name lantern = a lamp")
    assert "could be any of: a blue lantern" in out and "2.lantern (the second" in out
    await b.cmd("@name 2.lantern = a green lamp", "Renamed")
    names = sorted(it.name for it in server.world.items.values() if "lamp" in it.name)
    assert names == ["a green lamp"]
    inv = [it.name for it in server.world.players_by_key["bex"].inventory]
    assert inv == ["a blue lantern"]  # what you carry is 1., the room's 2.
    await b.close()


# -- frictions ---------------------------------------------------------------------------------


async def test_a_typo_gets_the_nearest_commands(server):
    a = await login(server.port, "Ada")
    await a.cmd("lok", r"Unknown command 'lok'\. Did you mean look\?")
    await a.cmd("xyzzyq", r"Unknown command 'xyzzyq'\. Type help for a list")
    out = await said(a, "destory")
    assert "@destroy" not in out  # never a command your role can't use
    b = await builder(server, "Bex")
    await b.cmd("destory", r"Did you mean @destroy\?")
    await a.close()
    await b.close()


async def test_give_without_to(server):
    a = await login(server.port, "Ada")
    bob = await login(server.port, "Bob")
    await a.cmd("get map", "You pick up")
    await a.cmd("give map bob", r"You give a folded map of the sanctuaries to Bob\.")
    await bob.expect("Ada gives you a folded map")
    await bob.cmd("give folded map ada", r"You give a folded map of the sanctuaries to Ada\.")
    await a.cmd("give map", r"Usage: give <item> to <dreamer> \(or give <item> <dreamer>\)")
    await a.close()
    await bob.close()


async def test_home_from_anywhere(server):
    a = await builder(server, "Ada")
    await a.cmd("@dig Sealed Cell", r"room#(\d+)")
    cell = next(r for r in server.world.rooms.values() if r.name == "Sealed Cell")
    await a.cmd(f"@tel me = #{cell.id}", "Exits: none")
    out = await said(a, "home")
    assert "Dreamwave Nexus" in out and "Exits:" in out
    await a.cmd("home", "You are already in the Nexus.")
    await a.cmd("dream", "Ada's Dream")
    await a.cmd("dream dig Attic = up, down", "above here")
    await a.cmd("up", "Attic")
    await a.cmd("home", r"(?s)think of home.*?Ada's Dream")
    await a.cmd("home", "already at the entrance of this dream")
    bob = (await dreaming(server, "Bob"))[0]
    await a.cmd("merge bob", "If they answer")
    await bob.cmd("merge ada", "Loop of")
    await a.expect(r"(?s)Loop of.*?\n> ")
    await a.cmd("home", r"You are woven into a loop; unmerge returns you")
    await a.cmd("help home", "Go home at once")
    await a.close()
    await bob.close()


async def test_motifs_stay_in_the_dream(server):
    (a,) = await dreaming(server, "Ada")
    await a.cmd("dream motif a glass bird", "into being")
    await a.cmd("look bird", "lives only in dreams")
    out = await said(a, "wake")
    assert "A glass bird fades from your hands; it stays in the dream." in out
    await a.cmd("inventory", "You are carrying nothing.")
    await a.cmd("drop bird", "You aren't carrying 'bird'")
    assert all(
        server.world.dreams.is_private(it.location) for it in server.world.dreams.motifs_of(1)
    )
    await a.cmd("dream", "You see a glass bird")
    await a.cmd("get bird", "You pick up a glass bird")
    await a.close()


async def test_many_echoes_are_summed_up(server):
    a, b = await dreaming(server, "Ada", "Bob")
    ds = server.world.dreams
    ada = server.world.players_by_key["ada"]
    for i in range(12):
        ds.add_motif(ada, f"a paper crane {i}")
    await merged(a, b)
    out = await said(b, "look")
    flat = " ".join(out.split())  # the line wraps at 80 columns
    assert "Echoes drift here: an echo of Ada's paper crane 0, an echo of" in flat
    assert flat.count("an echo of") == 3 and "crane 2 and 9 more echoes." in flat
    await a.close()
    await b.close()


# -- the pure pieces ----------------------------------------------------------------------------


def test_words_and_numbers():
    from commands.api import REGISTRY
    from commands.targets import numbered
    from commands.util import a_or_an, presence
    from world.dreams import plural
    from world.model import Player

    assert numbered("2.thread") == (2, "thread")
    assert numbered("thread") == (None, "thread")
    assert numbered("2.") == (None, "2.")
    words = [a_or_an(w) for w in ("exit", "item", "room", "admin", "npc")]
    assert words == ["an exit", "an item", "a room", "an admin", "an npc"]
    assert presence("lyra Kinsey, a Dream Weaver") == "Lyra Kinsey, a Dream Weaver,"
    assert presence("a moth") == "A moth"
    assert (plural(1, "motif"), plural(5, "added room")) == ("1 motif", "5 added rooms")
    import commands  # noqa: F401  (registers every command)

    pell = Player(1, "Pell", "x")
    assert REGISTRY.nearest("lok", pell)[0] == "look"
    assert all(not w.startswith("@") for w in REGISTRY.nearest("destory", pell))
