"""Playing together: two dreamers talk, walk, trade and ask for help through real sockets."""

from __future__ import annotations

from tests.client import login, said


async def two_players(server, first="Ada", second="Bob"):
    """Both players logged in and standing in the Nexus; `a` has seen `b` arrive."""
    a = await login(server.port, first)
    b = await login(server.port, second)
    await a.expect(f"{second} shimmers into the dreamscape")
    return a, b


# -- talking ------------------------------------------------------------------------------


async def test_say_and_its_shortcuts(server):
    a, b = await two_players(server)

    await a.cmd("say Hello, dreamer.", r'You say, "Hello, dreamer\."')
    await b.expect(r'Ada says, "Hello, dreamer\."')

    await a.cmd("'quick word", r'You say, "quick word"')
    await b.expect(r'Ada says, "quick word"')

    await b.cmd('"double quote too', r'You say, "double quote too"')
    await a.expect(r'Bob says, "double quote too"')

    await a.cmd("say", "Say what?")
    await a.cmd("'", "Say what?")
    assert "Say what" not in await b.quiet(0.2)
    await a.close()
    await b.close()


async def test_emote_and_its_shortcut(server):
    a, b = await two_players(server)

    await a.cmd("emote stretches and yawns.", r"Ada stretches and yawns\.")
    await b.expect(r"Ada stretches and yawns\.")

    await a.cmd(":waves.", r"Ada waves\.")
    await b.expect(r"Ada waves\.")

    await b.cmd("emote 's eyes flutter.", r"Bob's eyes flutter\.")
    await a.expect(r"Bob's eyes flutter\.")

    await a.cmd("emote", "Emote what?")
    await a.close()
    await b.close()


async def test_tell_reaches_only_the_target(server):
    a, b = await two_players(server)
    c = await login(server.port, "Cleo")
    await c.cmd("north", "Sanctuary of Returning Tides")  # anywhere in the world works

    await a.cmd("tell cleo meet me at the festival", r'You tell Cleo, "meet me at the festival"')
    await c.expect(r'Ada tells you, "meet me at the festival"')
    assert "meet me" not in await b.quiet(0.2)

    await c.cmd("page ada on my way", r'You tell Ada, "on my way"')
    await a.expect(r'Cleo tells you, "on my way"')

    await a.cmd("tell cleo", r"Usage: tell <dreamer> <message>")
    await a.cmd("tell ada hello me", "You murmur to yourself")
    await a.close()
    await b.close()
    await c.close()


async def test_tell_to_offline_or_unknown_dreamer_says_so(server):
    a, b = await two_players(server)
    await b.cmd("quit", "May your dreams be gentle")
    await b.wait_closed()
    await a.expect("Bob fades from the dreamscape")

    await a.cmd("tell bob are you there?", r"Bob is asleep, out of the Dreamwave; mail send Bob")
    await a.cmd("tell nobodyhere hi", r"No dreamer called 'nobodyhere' is awake")
    await a.close()


async def test_tell_to_offline_player_is_not_delivered_to_a_namesake(server):
    bob = await login(server.port, "Bob")
    await bob.cmd("quit", "May your dreams be gentle")
    await bob.wait_closed()
    a, bobby = await two_players(server, "Ada", "Bobby")

    out = await said(a, "tell bob the secret is under the stone")
    assert "the secret" not in await bobby.quiet(0.3)
    assert "Bob is asleep" in out
    await a.close()
    await bobby.close()


# -- walking ------------------------------------------------------------------------------


async def test_movement_is_seen_by_others(server):
    a, b = await two_players(server)

    await a.cmd("north", r"(?s)Sanctuary of Returning Tides.*Exits: south, down")
    await b.expect(r"Ada leaves north\.")

    await b.cmd("go north", r"(?s)Sanctuary of Returning Tides.*Ada is here\.")
    await a.expect(r"Bob arrives from the south\.")

    await a.cmd("south", "Dreamwave Nexus")
    await b.expect(r"Ada leaves south\.")
    await b.cmd("s", "Dreamwave Nexus")
    await a.expect(r"Bob arrives from the north\.")
    await a.close()
    await b.close()


async def test_exit_names_aliases_and_abbreviations(server):
    a = await login(server.port, "Ada")

    await a.cmd("n", r"Sanctuary of Returning Tides")
    await a.cmd("d", r"Undertow Grotto")
    await a.cmd("u", r"Sanctuary of Returning Tides")
    await a.cmd("nexus", r"Dreamwave Nexus")  # an exit's alias on its own
    await a.cmd("festival", r"Festival Grounds")
    await a.cmd("pavilion", r"Lyra's Pavilion")
    await a.cmd("walk south", r"Festival Grounds")
    await a.cmd("down", r"Dreamwave Nexus")
    await a.cmd("w", r"Sanctuary of the Listening Grove")
    await a.cmd("path", r"The Quiet Hollow")
    await a.close()


async def test_no_exit_that_way(server):
    a = await login(server.port, "Ada")
    await a.cmd("n", r"Sanctuary of Returning Tides")

    out = await a.cmd("e", r"You can't go that way\.")
    assert "Sanctuary" not in out
    await a.cmd("west", r"You can't go that way\.")
    await a.cmd("northeast", r"You can't go that way\.")
    await a.cmd("go nowhere", r"You can't go that way\.")
    await a.cmd("go", r"Go where\?")
    await a.cmd("look", r"Sanctuary of Returning Tides")  # still here
    await a.close()


async def test_arrival_from_above_or_below_reads_naturally(server):
    a, b = await two_players(server)
    await a.cmd("n", "Sanctuary of Returning Tides")
    await a.cmd("d", "Undertow Grotto")
    await b.cmd("n", "Sanctuary of Returning Tides")
    await b.cmd("d", "Undertow Grotto")
    await a.expect("Bob arrives")
    await a.cmd("u", "Sanctuary of Returning Tides")
    await b.expect(r"Ada leaves up\.")
    await b.cmd("u", "Sanctuary of Returning Tides")
    m = await a.expect(r"Bob arrives[^\r\n]*")
    assert "from the down" not in m.group(0) and "from the up" not in m.group(0)
    await a.close()
    await b.close()


# -- carrying things ------------------------------------------------------------------------


async def test_get_drop_and_inventory(server):
    a, b = await two_players(server)

    await a.cmd("inventory", "You are carrying nothing.")
    await a.cmd("get map", r"You pick up a folded map of the sanctuaries\.")
    await b.expect(r"Ada picks up a folded map of the sanctuaries\.")
    await a.cmd("take stone", r"You pick up a smooth pillowstone\.")
    await b.expect(r"Ada picks up a smooth pillowstone\.")
    await a.cmd(
        "i", r"You are carrying:\r\n  a folded map of the sanctuaries\r\n  a smooth pillowstone"
    )
    out = await b.cmd("look", r"(?s)Exits:.*?> ")
    assert "You see" not in out

    await a.cmd("drop stone", r"You drop a smooth pillowstone\.")
    await b.expect(r"Ada drops a smooth pillowstone\.")
    await b.cmd("look", r"You see a smooth pillowstone\.")
    await a.cmd("inv", r"You are carrying:\r\n  a folded map of the sanctuaries\r\n> ")
    await a.close()
    await b.close()


async def test_get_all_and_drop_all(server):
    a, b = await two_players(server)

    await a.cmd(
        "get all", r"You pick up a folded map of the sanctuaries and a smooth pillowstone\."
    )
    await b.expect(r"Ada picks up a folded map of the sanctuaries and a smooth pillowstone\.")
    await a.cmd("get all", r"There is nothing here to pick up\.")

    await a.cmd("n", "Sanctuary of Returning Tides")
    await a.cmd("drop all", r"You drop a folded map of the sanctuaries and a smooth pillowstone\.")
    await a.cmd("drop all", r"You aren't carrying anything\.")
    await a.cmd(
        "look",
        r"You see a pearl-grey echo shell, a folded map of the sanctuaries and a smooth\s+"
        r"pillowstone\.",
    )
    await a.close()
    await b.close()


async def test_get_and_drop_failures(server):
    a = await login(server.port, "Ada")

    await a.cmd("get unicorn", r"You don't see 'unicorn' here\.")
    await a.cmd("get shell", r"You don't see 'shell' here\.")  # it is in another room
    await a.cmd("drop map", r"You aren't carrying 'map'\.")
    await a.cmd("get", r"Usage: get <item>")
    await a.cmd("drop", r"Usage: drop <item>")
    await a.cmd("inventory", "You are carrying nothing.")
    await a.cmd("look", r"You see a folded map of the sanctuaries and a smooth pillowstone\.")
    await a.close()


async def test_give(server):
    a, b = await two_players(server)
    c = await login(server.port, "Cleo")
    await a.expect("Cleo shimmers")
    await b.expect("Cleo shimmers")

    await a.cmd("get map", "You pick up")
    await a.cmd("give map to bob", r"You give a folded map of the sanctuaries to Bob\.")
    await b.expect(r"Ada gives you a folded map of the sanctuaries\.")
    await c.expect(r"Ada gives a folded map of the sanctuaries to Bob\.")
    await b.cmd("inventory", r"You are carrying:\r\n  a folded map of the sanctuaries")
    await a.cmd("inventory", "You are carrying nothing.")

    await a.cmd("give map to bob", r"You aren't carrying 'map'\.")
    await a.cmd("give map", r"Usage: give <item> to <dreamer>")
    await a.close()
    await b.close()
    await c.close()


async def test_give_to_someone_not_here(server):
    a, b = await two_players(server)
    await a.cmd("get stone", "You pick up a smooth pillowstone")
    await b.cmd("north", "Sanctuary of Returning Tides")

    await a.cmd("give stone to bob", r"There is no dreamer called 'bob' here\.")
    await a.cmd("give stone to nobodyatall", r"There is no dreamer called 'nobodyatall' here\.")
    await a.cmd("give stone to ada", r"There is no dreamer called 'ada' here\.")
    await a.cmd("inventory", r"You are carrying:\r\n  a smooth pillowstone")
    assert "gives you" not in await b.quiet(0.2)
    await a.close()
    await b.close()


# -- looking ------------------------------------------------------------------------------


async def test_look_at_things(server):
    a, b = await two_players(server)

    await a.cmd("look", r"(?s)Dreamwave Nexus\r\nYou surface.*Exits: north, east, south, west, up")
    await a.cmd("l", r"Bob is here\.")
    await a.cmd("look map", r"A folded map of the sanctuaries\r\nA square of soft paper")
    await a.cmd("look at stone", r"A smooth pillowstone\r\nA palm-sized grey pebble")
    await a.cmd("look bob", r"Bob, a dreamer\.")
    await a.cmd("look north", r"The way north leads to Sanctuary of Returning Tides\.")
    await a.cmd("look up", r"The way up leads to Festival Grounds\.")
    await a.cmd("look me", r"Ada, a dreamer\.")
    await a.cmd("look unicorn", r"You don't see 'unicorn' here\.")

    await b.cmd("get map", "You pick up")
    await a.cmd("look bob", r"Bob, a dreamer\.\r\nBob is carrying a folded map of the")
    await b.cmd("look map", r"A folded map of the sanctuaries")  # in hand works too
    await a.close()
    await b.close()


async def test_examine(server):
    a, b = await two_players(server)

    await a.cmd("examine pillowstone", r"A smooth pillowstone\r\nA palm-sized grey pebble")
    await a.cmd("ex map", r"A folded map of the sanctuaries")
    await a.cmd("exa bob", r"Bob, a dreamer\.")
    await a.cmd("examine west", r"The way west leads to Sanctuary of the Listening Grove\.")
    await a.cmd("examine", r"Usage: examine <thing>")
    await a.cmd("examine unicorn", r"You don't see 'unicorn' here\.")
    await a.close()
    await b.close()


# -- help, parsing, who, quit ---------------------------------------------------------------


async def test_help_lists_commands_by_category(server):
    a = await login(server.port, "Ada")
    out = await a.cmd("help", r"(?s)Commands.*?\r\n> ")
    lines = out.split("\r\n")
    headers = [ln for ln in lines if ln and not ln.startswith(" ") and ln not in ("help", "> ")]
    cats = [h for h in headers if h in ("General", "Movement", "Communication", "Items")]
    assert cats == ["General", "Movement", "Communication", "Items"]

    def section(cat):
        start = lines.index(cat) + 1
        rest = lines[start:]
        end = next((i for i, ln in enumerate(rest) if ln and not ln.startswith("  ")), len(rest))
        return [ln.split()[0] for ln in rest[:end] if ln.strip()]

    assert {"look", "examine"} <= set(section("General"))
    assert "go" in section("Movement")
    assert {"say", "emote", "tell", "who"} <= set(section("Communication"))
    assert {"get", "drop", "give", "inventory"} <= set(section("Items"))
    assert {"help", "quit"} <= set(section("System"))
    assert "  say          Speak aloud to everyone in the room." in lines
    await a.close()


async def test_help_for_one_command(server):
    a = await login(server.port, "Ada")

    await a.cmd("help say", r"(?s)say\r\nSpeak aloud to everyone in the room\..*Usage:")
    await a.cmd("help inv", r"inventory, i, inv\r\nList what you are carrying\.")
    await a.cmd("help exam", r"examine, ex, exa\r\nStudy something closely\.")
    await a.cmd("? get", r"(?s)get, take\r\nPick something up\..*get all")
    await a.cmd("help frobnicate", r"There is no help for 'frobnicate'\. Type help for the list\.")
    await a.close()


async def test_unambiguous_prefixes_run_the_command(server):
    a = await login(server.port, "Ada")
    await a.cmd("get map", "You pick up")

    for word in ("inv", "inve", "invent", "INVENTORY"):
        await a.cmd(word, r"You are carrying:\r\n  a folded map of the sanctuaries")
    await a.cmd("exam map", r"A folded map of the sanctuaries\r\nA square")
    await a.cmd("sa prefixes work", r'You say, "prefixes work"')
    await a.close()


async def test_ambiguous_and_unknown_input_get_a_hint(server):
    a = await login(server.port, "Ada")

    await a.cmd("g", r"Did you mean: get, give, go\?")
    await a.cmd("xyzzy", r"Unknown command 'xyzzy'\. Type help for a list of commands\.")
    await a.cmd("@dig", r"You can't do that\.")  # builder commands are not for players
    await a.cmd("look", "Dreamwave Nexus")  # nothing else happened
    await a.close()


async def test_who_lists_everyone_online(server):
    a, b = await two_players(server)
    a.send("who")
    m = await a.expect(r"(?s)Dreamers in the Dreamwave \(2\):(.*?)> ")
    assert m.group(1).split()[::4] == ["Ada", "Bob"]  # name, state, "idle", time

    await b.cmd("quit", "May your dreams be gentle")
    await b.wait_closed()
    a.send("who")
    m = await a.expect(r"(?s)Dreamers in the Dreamwave \(1\):(.*?)> ")
    assert m.group(1).split()[::4] == ["Ada"]
    await a.close()


async def test_who_with_a_crowd_lists_the_first_by_name_and_finds_the_rest(server, monkeypatch):
    import commands.general

    monkeypatch.setattr(commands.general, "WHO_MOST", 2)  # (a hundred, with a real crowd)
    a, b = await two_players(server)
    c = await login(server.port, "Cyd")
    a.send("who")
    m = await a.expect(r"(?s)Dreamers in the Dreamwave \(3\):(.*?)> ")
    assert m.group(1).split()[:8:4] == ["Ada", "Bob"]
    said = " ".join(m.group(1).split())
    assert "... and 1 more: type who and the first letters of a name to find one of them." in said
    assert "Cyd" not in m.group(1)

    out = await a.cmd("who cy", r"(?s)Dreamers whose names begin with 'cy' \(1\):(.*?)> ")
    assert "Cyd" in out and "Bob" not in out and "more" not in out
    await a.cmd("who zz", r"No dreamer online has a name beginning with 'zz'\.")
    for p in (a, b, c):
        await p.close()


async def test_quit_says_goodbye_and_others_see_it(server):
    a, b = await two_players(server)

    await a.cmd("quit", r"You slip out of the Dreamwave\. May your dreams be gentle\.")
    await a.wait_closed()
    await b.expect(r"Ada fades from the dreamscape\.")
    out = await b.cmd("look", r"(?s)Exits:.*?> ")
    assert "Ada" not in out
    await b.close()
