"""In-game building through a real socket: roles, every @ command, the editor, locks, map."""

from __future__ import annotations

import asyncio

from tests.client import Client, login, said
from world.clock import SECONDS_PER_HOUR, WorldClock

PROMPT = r"\n> "


async def builder(server, name: str, role: str = "builder") -> Client:
    c = await login(server.port, name)
    server.world.set_role(server.world.players_by_key[name.lower()], role)
    return c


def snapshot(world) -> tuple:
    rooms = {r.id: (r.name, r.description, dict(r.attrs)) for r in world.rooms.values()}
    exits = {e.id: (e.name, e.dest_id, dict(e.attrs)) for e in world.exits.values()}
    counts = (len(world.items), len(world.zones), len(world.audit_log))
    return rooms, exits, counts


async def test_players_get_you_cant_do_that_and_nothing_changes(server):
    c = await login(server.port, "Pell")
    before = snapshot(server.world)
    for line in [
        "@dig Forbidden Hall = north, south", "@open ne = Festival Grounds", "@link north = #2",
        "@unlink north", "@desc here = scribbles", "@desc here", "@name here = Mine",
        "@create a stolen star", "@destroy north", "@tel me = Festival Grounds",
        "@examine here", "@find lantern", "@set here/dark = yes", "@lock north = role:admin",
        "@unlock north", "@role pell admin", "@audit", "@di Foo", "@nosuchthing",
    ]:  # fmt: skip
        await c.cmd(line, "You can't do that.")
    await c.cmd("look", "Dreamwave Nexus")  # the "editor" never opened
    assert snapshot(server.world) == before
    assert server.world.players_by_key["pell"].role == "player"
    await c.close()


async def test_role_is_admin_only_and_audited(server):
    pell = await login(server.port, "Pell")
    b = await builder(server, "Bex")
    await b.cmd("@role pell admin", "You can't do that.")
    a = await builder(server, "Ash", "admin")
    await a.cmd("@role pell", "Pell is a player.")
    await a.cmd("@role pell builder", "Pell is now a builder")
    await pell.expect("Ash has made you a builder")
    await pell.cmd("@dig Pell's Nook", r"room#\d+")
    await a.cmd("@role pell wizard", "There is no role 'wizard'")
    await a.cmd("@role nobodyhere builder", "There is no dreamer called 'nobodyhere'")
    await a.cmd("@role ash player", "can't change your own role")
    await a.cmd("@role pell player", "Pell is now a player")
    await pell.cmd("@dig Another Nook", "You can't do that.")
    out = await said(a, "@audit")
    assert "Ash role: Pell (player#1): player -> builder" in out
    assert "Pell dig: Pell's Nook" in out
    assert "builder -> player" in out
    for c in (pell, b, a):
        await c.close()


async def test_dig_with_exits_both_ways_and_its_failures(server):
    b = await builder(server, "Bex")
    w = server.world
    out = await said(b, "@dig Hall of Echoes = ne;hall, southwest;out")
    room = next(r for r in w.rooms.values() if r.name == "Hall of Echoes")
    assert f"room#{room.id}" in out and "northeast;hall" in out and "southwest;out" in out
    assert room.zone == "nexus" and room.attrs["owner"] == "Bex"
    await b.cmd("hall", "Hall of Echoes")
    await b.cmd("out", "Dreamwave Nexus")
    out = await said(b, "@dig Loose Room")
    loose = next(r for r in w.rooms.values() if r.name == "Loose Room")
    assert f"#{loose.id}" in out and not any(e.dest_id == loose.id for e in w.exits.values())
    before = snapshot(w)
    await b.cmd("@dig", "Usage: @dig")
    await b.cmd("@dig Other = north", "already has an exit 'north'")
    await b.cmd("@dig Other = look", "'look' is a command")
    await b.cmd("@dig #5 = up2", "can't start with #")
    await b.cmd("@dig " + "x" * 201, "too long")
    assert snapshot(w) == before  # a refused @dig makes nothing, not even the room
    await b.close()


async def test_open_link_and_unlink(server):
    b = await builder(server, "Bex")
    w = server.world
    await b.cmd("@open northeast;garden = Festival Grounds", r"exit northeast;garden \(exit#\d+\)")
    await b.cmd("garden", "Festival Grounds")
    await b.cmd("@tel here", "already in Festival Grounds")
    await b.cmd("down", "Dreamwave Nexus")
    gallery = next(r for r in w.rooms.values() if r.name == "The White Gallery")
    await b.cmd(f"@link garden = #{gallery.id}", "now leads to The White Gallery")
    await b.cmd("ne", "The White Gallery")
    await b.cmd("@tel me = nexus", "Dreamwave Nexus")
    await b.cmd("@unlink ne", "now leads nowhere")
    await b.cmd("ne", "leads nowhere now")
    await b.cmd("@unlink ne", "already leads nowhere")
    await b.cmd("@open sw = Nowhere Land", "can't find 'Nowhere Land'")
    await b.cmd("@open sw = sanctuary", "could be any of")
    await b.cmd("@open north = Festival Grounds", "already has an exit")
    await b.cmd("@open sw", "Usage: @open")
    await b.cmd("@link nosuchexit = here", "can't find 'nosuchexit'")
    await b.cmd("@link north = item#1", "Nothing with the id item#1")
    await b.close()


async def test_desc_in_one_line_and_in_the_editor(server):
    b = await builder(server, "Bex")
    watcher = await login(server.port, "Wren")
    await b.cmd("@desc here = A round room of |cblue|n light.", "Description of Dreamwave Nexus")
    await watcher.cmd("look", "A round room of blue light.")
    await b.cmd("@desc me", "Editing the description of Bex")
    await b.expect("edit> ")
    b.send("A tall dreamer")
    b.send("with ink-stained fingers.")
    await b.cmd(".p", r"1 A tall dreamer\r\n\s+2 with ink-stained fingers\.")
    await b.cmd("look", "edit> ")  # inside the editor, 'look' is just text
    await b.cmd(".c", "The text is cleared.")
    b.send("A tall dreamer")
    await b.cmd("with ink-stained fingers.", "edit> ")
    await b.cmd(".", "Description of Bex")
    await b.expect(PROMPT)
    assert server.world.players_by_key["bex"].description == (
        "A tall dreamer\nwith ink-stained fingers."
    )
    await watcher.cmd("look bex", "with ink-stained fingers")
    await b.cmd("@desc north", "Editing the description of exit 'north'")
    await b.cmd("This will be thrown away.", "edit> ")
    await b.cmd(".q", "nothing was changed")
    await b.cmd("look north", "The way north leads to")  # still no description
    assert server.world.exits[1].description == ""
    await b.cmd("@desc north = Salt air blows through the arch.", "saved")
    await watcher.cmd("look north", "Salt air blows through the arch.")
    await b.cmd("@desc wren = Shady.", "Only admins may describe other dreamers.")
    await b.cmd("@desc nothinghere = x", "can't find")
    await b.close()
    await watcher.close()


async def test_editor_closing_connection_still_leaves_the_world(server):
    b = await builder(server, "Bex")
    await b.cmd("@desc here", "edit> ")
    await b.close()
    for _ in range(100):
        if not server.world.online:
            break
        await asyncio.sleep(0.02)
    assert not server.world.online


async def test_name_and_create(server):
    b = await builder(server, "Bex")
    w = server.world
    out = await said(b, "@create a jar of bottled thunder")
    jar = next(i for i in w.items.values() if "thunder" in i.name)
    assert f"item#{jar.id}" in out and jar.location is w.players_by_key["bex"]
    assert jar.keywords == ("jar", "bottled", "thunder")
    await b.cmd("inventory", "a jar of bottled thunder")
    await b.cmd("@name jar = a jar of quiet thunder", "Renamed item#")
    await b.cmd("look jar", "A jar of quiet thunder")
    await b.cmd("@name north = north;tides;sea", "Renamed exit#1")
    await b.cmd("sea", "Sanctuary of Returning Tides")
    await b.cmd("@name here = Tidewater Shallows", "to Tidewater Shallows")
    await b.cmd("look", "Tidewater Shallows")
    await b.cmd("@name south = down", "already has an exit 'down'")
    await b.cmd("@name me = Bexter", "can't be changed here")
    await b.cmd("@name here =", "can't be empty")
    await b.cmd("@create", "can't be empty")
    await b.close()


async def test_destroy_a_room_with_a_dreamer_in_it(server):
    b = await builder(server, "Bex")
    p = await login(server.port, "Pell")
    w = server.world
    await said(b, "@dig Doomed Den = northeast;den, southwest")
    den = next(r for r in w.rooms.values() if r.name == "Doomed Den")
    await b.cmd("up", "Festival Grounds")
    await b.cmd("@open den2 = Doomed Den", "exit den2")  # a second way in, from elsewhere
    await b.cmd("@create a doomed teacup", "teacup")
    await b.cmd("@tel teacup = Doomed Den", "to Doomed Den")
    await b.cmd("down", "Dreamwave Nexus")
    await p.cmd("den", "Doomed Den")
    await b.cmd(f"@destroy #{den.id}", "Pell will be sent to the Nexus")
    await b.cmd("no", "Cancelled; nothing was changed.")
    assert den.id in w.rooms
    await b.cmd(f"@destroy room#{den.id}", "yes")
    await b.cmd("yes", "You destroy Doomed Den")
    await p.expect("The dream around you dissolves")
    await p.expect("The way northeast fades away.")  # the way in, seen from the Nexus
    await p.expect("Dreamwave Nexus")
    assert den.id not in w.rooms
    assert not any(e.dest_id == den.id or e.room is den for e in w.exits.values())
    assert not any("teacup" in i.name for i in w.items.values())
    assert w.players_by_key["pell"].room is w.nexus
    await p.cmd("den", "Unknown command 'den'")
    assert not any(e.name == "den2" for e in w.exits.values())
    await b.cmd(f"@examine room#{den.id}", "Nothing with the id")
    await b.cmd("@destroy here", "The Nexus can't be destroyed")
    await b.cmd("@destroy pell", "Dreamers can't be destroyed")
    await b.cmd("@destroy", "Usage: @destroy")
    await b.close()
    await p.close()


async def test_destroy_exits_and_items_and_a_vanished_target(server):
    b = await builder(server, "Bex")
    w = server.world
    watcher = await login(server.port, "Wren")
    await b.cmd("@destroy pillowstone", "destroy a smooth pillowstone")
    await b.cmd("yes", "You destroy a smooth pillowstone")
    await watcher.expect("A smooth pillowstone dissolves into dream-dust.")
    await b.cmd("look", "You see a folded map of the sanctuaries.")
    await b.cmd("@destroy north", "exit 'north'")
    await b.cmd("yes", "You destroy exit 'north'")
    await b.cmd("north", "You can't go that way")
    assert all(e.name != "north" or e.room is not w.nexus for e in w.exits.values())
    # someone else destroys the thing while the question is open
    await b.cmd("@destroy folded map", "Type yes")
    w.destroy_item(next(i for i in w.items.values() if "folded map" in i.name))
    await b.cmd("yes", "It is already gone.")
    await b.close()
    await watcher.close()


async def test_tel_dreamers_items_and_failures(server):
    b = await builder(server, "Bex")
    p = await login(server.port, "Pell")
    w = server.world
    await b.cmd("@tel me = Festival Grounds", "Festival Grounds")
    await p.expect("Bex vanishes")
    await b.cmd("@tel pell = here", "You send Pell")
    await p.expect("Bex pulls you through the dreamscape")
    await p.expect("Festival Grounds")
    assert w.players_by_key["pell"].room.name == "Festival Grounds"
    await b.cmd("@tel ribbon = pell", "You send a ribbon festival pass")
    await p.expect("A ribbon festival pass appears in your hands.")
    await b.cmd("@tel pass = #1", "to Dreamwave Nexus")
    await p.expect("vanishes from your hands")
    await b.cmd("@tel Dreamwave Nexus", "Dreamwave Nexus")  # one argument: yourself
    await b.cmd("look", r"ribbon\s+festival pass")
    await b.cmd("@tel me = Nowhere Land", "can't find 'Nowhere Land'")
    await b.cmd("@tel north = here", "can't find 'north'")  # exits can't be teleported
    await b.close()
    await p.close()


async def test_examine_and_find(server):
    b = await builder(server, "Bex")
    await b.cmd("@lock north = role:builder", "locked")
    out = await said(b, "@examine")
    for part in ("Room room#1", "key: nexus", "Zone: nexus", "Owner: none", "Attrs: {}",
                 "exit#1 north (tides) -> Sanctuary of Returning Tides (room#2)\r\n"
                 "      lock: role:builder",
                 "Items: a folded map", "Bex (player#1)", "||cpale blue light||n"):  # fmt: skip
        assert part.replace("||", "|") in out, part
    out = await said(b, "@examine north")
    assert "Lock: role:builder" in out and "From: Dreamwave Nexus (room#1)" in out
    await b.cmd("@examine pillowstone", r"Keywords: pillowstone stone")
    await b.cmd("@examine me", "role: builder")
    await b.cmd("@examine nosuchthing", "I can't find 'nosuchthing'")
    await b.cmd("@examine #1", "could be any of")  # room, exit, item and dreamer #1 all here
    out = await said(b, "@find lan")
    assert "room#6" in out and "Sanctuary of Lanterns" in out
    assert "a flat-folded paper lantern" in out
    await b.cmd("@find bex", r"Dreamers \(1\)")
    await b.cmd("@find zzzz", "Nothing in the world is called anything like 'zzzz'")
    await b.cmd("@find", "Usage: @find")
    await b.close()


async def test_set_typed_attributes(server):
    b = await builder(server, "Bex")
    w = server.world
    await b.cmd("@set here/dark = yes", "room#1/dark = yes")
    assert w.nexus.attrs["dark"] is True
    await b.cmd("@set here/dark", "room#1/dark = yes")
    await b.cmd("@set here/dark = perhaps", "dark is yes or no")
    await b.cmd("@set here/dark =", r"room#1/dark = \(not set\)")
    assert "dark" not in w.nexus.attrs
    await b.cmd("@set here/no_dream = on", "no_dream = yes")
    await b.cmd("@set here/colour = blue", "has no attribute 'colour'")
    await b.cmd("@set here/owner = me", "set by the server")
    await b.cmd("@set north/lock = inloop", "with @lock")
    await b.cmd("@set here/zone = dream_halls", r"zone = dream_halls \(a new zone\)")
    assert w.nexus.zone == "dream_halls" and "dream_halls" in w.zones
    await b.cmd("@set here/zone = Bad Zone!", "A zone key is")
    await b.cmd("@set pillowstone/keywords = pebble rock", "keywords = pebble rock")
    await b.cmd("get pebble", "You pick up a smooth pillowstone")
    await b.cmd("@set north/fail = The tide is too high.", "fail = The tide is too high.")
    await b.cmd("@set here", "no_dream")
    await b.cmd("@set me/dark = yes", "can't find 'me'")
    await b.close()


async def test_locks_with_each_rule_kind(server):
    b = await builder(server, "Bex")
    p = await login(server.port, "Pell")
    w = server.world
    now = [0.0]
    w.clock = WorldClock(now=lambda: now[0], start=12 * SECONDS_PER_HOUR)  # noon: day

    await b.cmd("@lock north = role:builder", "is locked: role:builder")
    await p.cmd("north", "The way north is sealed.")
    assert w.players_by_key["pell"].room is w.nexus
    await b.cmd("north", "Sanctuary of Returning Tides")
    await b.cmd("south", "Dreamwave Nexus")

    await b.cmd("@lock north = holds:pillowstone", "holds:pillowstone")
    await p.cmd("north", "sealed")
    await p.cmd("get pillowstone", "You pick up")
    await p.cmd("north", "Sanctuary of Returning Tides")
    await p.cmd("south", "Dreamwave Nexus")

    await b.cmd("@lock north = phase:day", "phase:day")
    await p.cmd("north", "Sanctuary of Returning Tides")
    await p.cmd("south", "Dreamwave Nexus")
    await b.cmd("@lock north = phase:dusk or phase:deep_night", "phase:dusk or phase:night")
    await p.cmd("north", "sealed")
    await p.cmd("time", "12:00 in the Dreamwave: day")
    now[0] += 7 * SECONDS_PER_HOUR / 12  # seven game hours later: 19:00, dusk
    await p.cmd("time", "19:00 in the Dreamwave: dusk")
    await p.cmd("north", "Sanctuary of Returning Tides")
    await p.cmd("south", "Dreamwave Nexus")

    await b.cmd("@lock north = inloop", "is locked: inloop")  # nobody is in a loop yet
    await b.cmd("north", "sealed")
    await b.cmd("@lock north = not inloop and not role:admin", "not inloop and not role:admin")
    await p.cmd("north", "Sanctuary of Returning Tides")
    await p.cmd("south", "Dreamwave Nexus")

    await b.cmd("@set north/fail = The tide is too high to wade.", "fail =")
    await b.cmd("@lock north = role:admin", "role:admin")
    await p.cmd("north", "The tide is too high to wade.")
    await b.cmd("@lock north", "is locked: role:admin")
    await b.cmd("@lock north = role:builder and (holds:lantern", "never closed")
    await b.cmd("@lock north = role:wizard", "There is no role 'wizard'")
    assert w.nexus.find_exit("north").attrs["lock"] == "role:admin"  # unchanged
    await b.cmd("@unlock north", "is unlocked")
    await p.cmd("north", "Sanctuary of Returning Tides")
    await b.cmd("@unlock north", "isn't locked")
    await b.cmd("@lock pillowstone = inloop", "can't find 'pillowstone'")
    await b.close()
    await p.close()


async def test_map_and_time_for_everyone(server):
    p = await login(server.port, "Pell")
    out = await said(p, "map")
    assert "[*^]" in out and "Dreamwave Nexus (you are here) [up]" in out
    assert "Sanctuary of Returning Tides [down]" in out
    assert "Chrono-Agency Archive" in out  # two steps east
    assert all(len(line) <= 80 for line in out.splitlines())
    await p.cmd("north", "Sanctuary of Returning Tides")
    await p.cmd("map", r"\[\*v\]")
    await p.cmd("time", r"It is \d\d:\d\d in the Dreamwave: (dusk|deep night|dawn|day)\.")
    await p.close()


async def test_audit_keeps_the_latest_entries(server):
    b = await builder(server, "Bex")
    await b.cmd("@audit", "Nothing has been built yet.")
    await said(b, "@create a first pebble")
    await said(b, "@create a second pebble")
    await said(b, "@create a third pebble")
    out = await said(b, "@audit 2")
    assert "second pebble" in out and "third pebble" in out and "first pebble" not in out
    await b.cmd("@audit lots", "Usage: @audit")
    await b.close()


async def test_building_survives_a_restart(make_server):
    app = await make_server()
    b = await builder(app, "Bex")
    await said(b, "@dig Lasting Loft = up2;loft, down2")
    await b.cmd("loft", "Lasting Loft")
    await b.cmd("@desc here = Rafters hum with stored dreams.", "saved")
    await b.cmd("@set here/dark = yes", "dark = yes")
    await b.cmd("@lock down2 = role:admin", "locked")
    await b.cmd("@set down2/fail = The hatch is stuck.", "fail")
    await said(b, "@create a coil of rope")
    await b.cmd("@desc rope = Frayed at one end.", "saved")
    await b.cmd("@desc me = Dusty from the rafters.", "saved")
    await b.cmd("@destroy rope", "Type yes")
    await b.cmd("no", "Cancelled")
    await b.cmd("quit", "May your dreams be gentle")
    await app.stop()

    app2 = await make_server()
    w = app2.world
    loft = next(r for r in w.rooms.values() if r.name == "Lasting Loft")
    assert loft.description == "Rafters hum with stored dreams." and loft.attrs["dark"] is True
    down = loft.find_exit("down2")
    assert down.attrs["lock"] == "role:admin" and down.attrs["fail"] == "The hatch is stuck."
    assert [e.name for e in w.nexus.exits][-1] == "up2"
    bex = w.players_by_key["bex"]
    assert bex.description == "Dusty from the rafters."
    assert [i.name for i in bex.inventory] == ["a coil of rope"]
    assert bex.inventory[0].description == "Frayed at one end."
    assert [e.action for e in w.audit_log][:3] == ["dig", "desc", "set"]
    b = await login(app2.port, "Bex", create=False)
    await b.cmd("look", "Rafters hum with stored dreams.")
    await b.cmd("down2", "The hatch is stuck.")
    out = await said(b, "@audit")
    assert "Bex dig: Lasting Loft" in out
    await b.cmd("@dig Newer Nook", r"room#\d+")  # ids carry on after a restart
    assert len({r.id for r in w.rooms.values()}) == len(w.rooms)
    await b.close()
