"""Private dreams and shared loops, through real sockets with two and three dreamers."""

from __future__ import annotations

import asyncio

from tests.client import login

PROMPT = r"(?s).*?\n> "


async def run(c, line):
    """Type a line and return everything up to the next prompt (earlier output skipped)."""
    await asyncio.sleep(0.05)
    c.pos = len(c.text)
    return await c.cmd(line, PROMPT)


async def dreaming(server, *names):
    """Log in each name and put them in their own dream."""
    clients = []
    for name in names:
        c = await login(server.port, name)
        await c.cmd("dream", r"(?s)Dream.*?Exits:.*?> ")
        clients.append(c)
    return clients


async def merged(server, a, b, a_name, b_name):
    await a.cmd(f"merge {b_name}", "If they answer")
    await b.expect(f"merge {a_name}")
    await b.cmd(f"merge {a_name}", "Loop of")
    await a.expect("merges into a shared loop")


async def test_own_dream_shape_and_wake(server):
    (a,) = await dreaming(server, "Ada")
    out = await run(a, "look")
    assert "Ada's Dream" in out and "Soft grey mist" in out
    await a.cmd("dream describe A garden of glass birds sings softly.", "reshapes")
    await a.cmd("dream name The Glass Garden", "now called")
    await a.cmd("dream motif a glass bird", "dream a glass bird into being")
    out = await run(a, "look")
    assert "The Glass Garden" in out and "glass birds sings" in out
    await a.cmd("dream dig The Orchard = east, west", "new place")
    await a.cmd("east", "The Orchard")
    await a.cmd("west", "The Glass Garden")
    await a.cmd("dream", "already in your own dream")
    # limits
    server.world.dreams.limits.max_motifs = 1
    await a.cmd("dream motif a second bird", "already holds 1 motif, as many as it can")
    server.world.dreams.limits.max_extra_rooms = 1
    await a.cmd("dream dig Too Many = north, south", r"at most 1 added room; you have 1\.")
    await a.cmd("wake", "you wake")
    await a.expect("Dreamwave Nexus")
    await a.cmd("wake", "already awake")
    await a.cmd("dream describe nope", "only shape your own dream from inside it")
    # the dream is still there, as it was
    await a.cmd("sleep", "The Glass Garden")
    await a.close()


async def test_privacy_refusals_and_who(server):
    a, b = await dreaming(server, "Ada", "Bob")
    builder = await login(server.port, "Bildo")
    server.world.set_role(server.world.players_by_key["bildo"], "builder")
    dream_room = server.world.players_by_key["ada"].room
    await b.cmd("dream visit ada", "haven't been invited into Ada's dream")
    out = await run(builder, "who")
    assert "dreaming" in out and "Ada's Dream" not in out
    await builder.cmd(f"@tel me = #{dream_room.id}", "can be used here")
    await builder.cmd("@tel me = ada", "private dream")
    out = await run(builder, "@find dream")
    assert "Dreamwave Nexus" in out and "Ada's Dream" not in out
    out = await run(builder, "@examine ada")
    assert "a private dream" in out and f"#{dream_room.id}" not in out
    await builder.cmd(f"@examine room#{dream_room.id}", "can be used here|can't find")
    assert server.world.players_by_key["bildo"].room is not dream_room
    for c in (a, b, builder):
        await c.close()


async def test_invite_visit_guests_and_eject(server):
    a, b = await dreaming(server, "Ada", "Bob")
    await a.cmd("dream invite bob", "You invite Bob")
    await b.expect("invites you into their dream")
    await a.cmd("dream guests", "Invited into your dream: Bob")
    await b.cmd("dream visit ada", "Ada's Dream")
    await a.expect("Bob.* steps into the dream as an invited guest")
    await b.cmd("say lovely", "You say")
    await a.expect('Bob.* says, "lovely')
    await a.cmd("dream uninvite bob", "shown out")
    await b.expect("returned to the waking world")
    await b.cmd("look", "Dreamwave Nexus")  # where Bob fell asleep first
    await b.cmd("dream visit ada", "haven't been invited")
    await a.cmd("dream guests", "Nobody is invited")
    await a.cmd("dream uninvite bob", "isn't on your guest list")
    for c in (a, b):
        await c.close()


async def test_merge_handshake_and_expiry(server):
    a, b = await dreaming(server, "Ada", "Bob")
    awake = await login(server.port, "Cyd")
    await awake.cmd("merge ada", "must be in your own dream")
    await a.cmd("merge cyd", "isn't in their own dream")
    await a.cmd("merge ada", "can't merge with yourself")
    server.world.dreams.limits.proposal_ttl = 0.3
    await a.cmd("merge bob", "If they answer")
    await b.expect("hoping to merge")
    await b.cmd("merge", "Ada asks you to merge dreams")
    await asyncio.sleep(0.4)
    await b.cmd("merge", "No merge proposals are waiting")
    # Bob's own merge now is a new proposal, not an acceptance
    await b.cmd("merge ada", "If they answer")
    server.world.dreams.limits.proposal_ttl = 300
    await b.cmd("merge ada", "If they answer")
    await a.cmd("merge bob", "Loop of")
    out = await run(a, "look")
    assert "Bob" in out and "braid together" in out
    assert server.world.dream_state(server.world.players_by_key["ada"]) == "in loop"
    for c in (a, b, awake):
        await c.close()


async def test_weave_narrative_paging_and_stability(server):
    a, b = await dreaming(server, "Ada", "Bob")
    await a.cmd("weave nothing", "aren't in a loop")
    await merged(server, a, b, "Ada", "Bob")
    loop = server.world.dreams.loop_of(server.world.players_by_key["ada"])
    server.world.dreams.adjust_stability(loop, -50, "A test tremor.")
    await a.expect("stability 50")
    await a.cmd("weave Once there was a lantern.", "Ada weaves:.*Once there was a lantern")
    await b.expect("Ada weaves:.*Once there was a lantern")
    await b.cmd("weave It remembered every sleeper.", "Bob weaves")
    await a.expect("steadies \\(stability 52\\)")  # answered by another dreamer: +2
    await a.cmd("weave Ada goes on alone.", "Ada weaves")
    await a.cmd("weave and on.", "Ada weaves")
    assert loop.stability == 54  # Ada answered Bob (+2), then Ada after Ada (+0)
    server.world.dreams.limits.narrative_page = 2
    out = await a.cmd("narrative", "page 2 of 2.*")
    out = await run(a, "narrative")
    assert "Ada goes on alone" in out and "and on." in out and "lantern" not in out
    out = await run(a, "narrative 1")
    assert "lantern" in out and "sleeper" in out
    out = await run(b, "loop")
    assert "2 dreamers: Ada and Bob" in out and "stability 54/100" in out and "and on." in out
    await a.cmd("weave " + "x" * 500, "under 400 characters")
    for c in (a, b):
        await c.close()


async def test_third_dreamer_invite_unmerge_dissolve_and_journal(server):
    a, b, c = await dreaming(server, "Ada", "Bob", "Cyd")
    await merged(server, a, b, "Ada", "Bob")
    await b.cmd("loop invite cyd", "You invite Cyd")
    await c.expect("invites you into a shared loop")
    await c.cmd("merge bob", "You merge into the loop. Here with you: Ada and Bob")
    await a.expect("Cyd.*'s dream merges into the loop")
    await c.cmd("weave Three threads now.", "Cyd weaves")
    await a.cmd("unmerge", "return to your own")
    await b.expect("Ada.* unravels from the loop")
    await b.cmd("unmerge", "return to your own")
    await c.cmd("loop", "2 dreamers|1 dreamer: Cyd")
    await c.cmd("unmerge", "return to your own")
    loops = server.world.dreams.loops
    assert [lp.state for lp in loops.values()] == ["archived"]
    out = await run(a, "dream journal")
    assert "dissolved" in out and "Ada, Bob and Cyd" in out
    out = await run(a, "dream journal 1")
    assert "Cyd: Three threads now." in out
    await a.cmd("dream journal 2", "Choose an entry from 1 to 1")
    outsider = await login(server.port, "Eve")
    await outsider.cmd("dream journal", "journal is empty")
    for cl in (a, b, c, outsider):
        await cl.close()


async def test_collapse_at_zero_and_weave_after_collapse(server):
    a, b = await dreaming(server, "Ada", "Bob")
    await merged(server, a, b, "Ada", "Bob")
    ds = server.world.dreams
    loop = ds.loop_of(server.world.players_by_key["ada"])
    ds.adjust_stability(loop, -100, "Dara's static floods the loop.")
    await a.expect("loop collapsed")
    await b.expect("loop collapsed")
    await a.cmd("look", "Ada's Dream")
    assert loop.state == "archived" and loop.end_reason == "collapsed"
    # a weave that arrives after the collapse finds no loop, and changes nothing
    await b.cmd("weave too late", "aren't in a loop")
    assert ds.journal(server.world.players_by_key["bob"])[0].narrative == []
    await b.cmd("dream journal", "collapsed")
    for c in (a, b):
        await c.close()


async def test_races_leave_consistent_state(server):
    a, b, c = await dreaming(server, "Ada", "Bob", "Cyd")
    ds = server.world.dreams
    # two merges racing for the same dreamer: Ada and Bob both propose to Cyd
    await a.cmd("merge cyd", "If they answer")
    await b.cmd("merge cyd", "If they answer")
    c.send("merge ada")
    c.send("merge bob")
    await c.expect("Loop of")
    await c.expect("must be in your own dream to accept")
    await b.cmd("look", "Bob's Dream")
    loop = ds.loop_of(server.world.players_by_key["cyd"])
    assert sorted(server.world.players[i].name for i in loop.participants) == ["Ada", "Cyd"]
    # an unmerge during a merge: Cyd proposes to Bob from a loop? No: Ada leaves and
    # proposes to Bob, then wakes before Bob accepts
    await a.cmd("unmerge", "return to your own")
    await a.cmd("merge bob", "If they answer")
    await a.cmd("wake", "you wake")
    await b.cmd("merge ada", "no longer in their own dream")
    assert ds.loop_of(server.world.players_by_key["bob"]) is None
    # a collapse during a weave: the same tick collapses and weaves
    await c.cmd("unmerge", "return to your own")
    await a.cmd("dream", "Ada's Dream")
    await merged(server, a, b, "Ada", "Bob")
    loop = ds.loop_of(server.world.players_by_key["ada"])
    a.send("weave racing the collapse")
    ds.adjust_stability(loop, -100)
    await a.expect("aren't in a loop|loop collapsed")
    assert loop.state == "archived"
    assert all(ds.loop_of(p) is None for p in server.world.players.values())
    for cl in (a, b, c):
        await cl.close()


async def test_admin_teleport_into_dream_is_audited_and_told(server):
    (a,) = await dreaming(server, "Ada")
    admin = await login(server.port, "Warden")
    server.world.set_role(server.world.players_by_key["warden"], "admin")
    await admin.cmd("@tel me = ada", "Ada's Dream")
    await a.expect("Warden.* arrives")
    out = await run(admin, "@audit 3")
    assert "tel" in out and "Warden" in out
    await admin.cmd("@tel me = #1", "Dreamwave Nexus")
    out = await run(a, "look")
    assert "Warden (admin) entered your dream" in out
    out = await run(a, "look")
    assert "entered your dream" not in out  # told once
    for c in (a, admin):
        await c.close()


async def test_restart_with_a_live_loop(make_server, tmp_path):
    db = f"sqlite:///{tmp_path / 'dreams.db'}"
    app = await make_server(db=db)
    a, b = await dreaming(app, "Ada", "Bob")
    await a.cmd("dream motif a glass bird", "into being")
    await merged(app, a, b, "Ada", "Bob")
    await a.cmd("weave Before the restart.", "Ada weaves")
    loop = app.world.dreams.loop_of(app.world.players_by_key["ada"])
    app.world.dreams.adjust_stability(loop, -30)
    await a.expect("stability 70")
    await a.close()
    await b.close()
    await app.stop()

    app2 = await make_server(db=db)
    a = await login(app2.port, "ada", create=False)
    assert "Loop of" in a.text.split("You drift into")[-1]
    out = await run(a, "loop")
    assert "Ada and Bob" in out and "stability 70/100" in out and "Before the restart." in out
    out = await run(a, "look")
    assert "echo of Ada's glass bird" in out
    await a.cmd("weave After it.", "Ada weaves")
    await a.cmd("narrative", "Before the restart.*\\r\\n.*After it.")
    await a.close()
