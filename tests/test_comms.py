"""Person to person through real sockets: reply, whisper, shout, and ignoring someone."""

from __future__ import annotations

from tests.client import login, said
from world.comms import ignores

UNTHROTTLED = {"commands_per_second": 1000.0, "command_burst": 1000}


async def test_reply_answers_the_last_tell(server):
    ada = await login(server.port, "Ada")
    bob = await login(server.port, "Bob")
    cy = await login(server.port, "Cyra")
    await ada.cmd("reply anyone?", "Nobody has told you anything yet")
    await bob.cmd("tell ada are you coming?", "You tell Ada")
    await ada.expect('Bob tells you, "are you coming\\?"')
    await cy.cmd("tell ada me too", "You tell Ada")
    await ada.cmd("reply yes, soon", 'You tell Cyra, "yes, soon"')  # the last one who told
    await cy.expect('Ada tells you, "yes, soon"')
    await ada.cmd("reply", "Usage: reply <message>")
    await cy.close()
    await ada.cmd("reply still there?", "Cyra is not awake in the Dreamwave right now.")
    for c in (ada, bob):
        await c.close()


async def test_whisper_is_heard_by_one_and_seen_by_the_room(server):
    ada = await login(server.port, "Ada")
    bob = await login(server.port, "Bob")
    cy = await login(server.port, "Cyra")
    await ada.cmd(
        "whisper bob the lanterns go out at midnight", 'You whisper to Bob, "the lanterns'
    )
    await bob.expect('Ada whispers to you, "the lanterns go out at midnight"')
    await cy.expect("Ada whispers something to Bob.")
    await cy.quiet(0.1)
    assert "midnight" not in cy.text
    await ada.cmd("whisper me hello", "You whisper to yourself")
    await ada.cmd("whisper bob", "Usage: whisper <dreamer> <message>")
    await bob.cmd("north", "Exits:")
    await ada.cmd("whisper bob still there?", "There is no dreamer called 'bob' here")
    for c in (ada, bob, cy):
        await c.close()


async def test_shout_reaches_the_zone_and_is_rate_limited(server):
    ada = await login(server.port, "Ada")
    bob = await login(server.port, "Bob")
    cy = await login(server.port, "Cyra")
    dee = await login(server.port, "Deeble")
    await ada.cmd("north", "Returning Tides")  # the sanctuaries
    await bob.cmd("east", "Measured Hours")  # the sanctuaries too
    await dee.cmd("west", "Listening Grove")
    await dee.cmd("dream", "Exits:")  # asleep in a private dream: hears no shouts
    # Cyra stays in the Nexus, another zone
    await ada.cmd("shout the tide is turning!", 'You shout, "the tide is turning!"')
    await bob.expect('Ada shouts, "the tide is turning!"')
    await ada.cmd("shout again!", r"Your voice needs a rest; you can shout again in \d+s")
    await dee.cmd("shout hello?", "Your shout is swallowed by the dream")
    await cy.quiet(0.2)
    await dee.quiet(0.1)
    assert "tide is turning" not in cy.text and "tide is turning" not in dee.text
    assert "again!" not in bob.text
    for c in (ada, bob, cy, dee):
        await c.close()


async def test_ignore_silences_tells_whispers_channels_socials_and_shouts(make_server):
    server = await make_server(**UNTHROTTLED)
    ada = await login(server.port, "Ada")
    bob = await login(server.port, "Bob")
    cy = await login(server.port, "Cyra")
    await ada.cmd("ignore", "You are not ignoring anyone.")
    await ada.cmd("ignore bob", "You are now ignoring Bob.")
    await ada.cmd("ignore bob", "You are already ignoring Bob.")
    await ada.cmd("ignore ada", "You can't ignore yourself.")
    await ada.cmd("ignore nobodyatall", "There is no dreamer called 'nobodyatall'")
    await ada.cmd("ignore", r"You are ignoring \(1\): Bob\.")
    await bob.cmd("tell ada hello?", "Ada isn't listening to you.")
    await bob.cmd("whisper ada psst", "Ada isn't listening to you.")
    await bob.cmd("smile ada", "Ada isn't paying attention to you.")
    await bob.cmd("public hello all", r"\[public\] Bob: hello all")
    await cy.expect(r"\[public\] Bob: hello all")
    await bob.cmd("wave", "You wave.")
    await cy.expect("Bob waves.")
    await bob.cmd("whisper cyra hi", "You whisper to Cyra")
    await cy.expect("whispers to you")
    await ada.cmd("north", "Returning Tides")
    await bob.cmd("north", "Returning Tides")
    await bob.cmd("shout hear me", "You shout")
    await bob.cmd("say out loud", "You say")  # plain speech in a room is not covered
    await ada.expect('Bob says, "out loud"')
    assert "hello all" not in ada.text and "Bob waves" not in ada.text
    assert "whispers something" not in ada.text and "hear me" not in ada.text
    # unignoring hears them again
    await ada.cmd("unignore bob", "You hear Bob again.")
    await ada.cmd("unignore bob", "You are not ignoring Bob.")
    await ada.cmd("unignore", "Usage: unignore <dreamer>")
    await bob.cmd("tell ada sorry", "You tell Ada")
    await ada.expect('Bob tells you, "sorry"')
    for c in (ada, bob, cy):
        await c.close()


async def test_an_ignore_list_survives_a_restart(make_server, tmp_path):
    db = f"sqlite:///{tmp_path / 'ignore.db'}"
    app = await make_server(db=db)
    ada = await login(app.port, "Ada")
    bob = await login(app.port, "Bob")
    await ada.cmd("ignore bob", "You are now ignoring Bob.")
    for c in (ada, bob):
        await c.close()
    await app.stop()
    app = await make_server(db=db)
    w = app.world
    assert ignores(w.players_by_key["ada"], w.players_by_key["bob"])
    ada = await login(app.port, "Ada", create=False)
    bob = await login(app.port, "Bob", create=False)
    await ada.cmd("ignore", r"You are ignoring \(1\): Bob\.")
    await bob.cmd("public still here", "still here")  # the index is rebuilt at start-up
    await ada.quiet(0.2)
    assert "still here" not in ada.text
    for c in (ada, bob):
        await c.close()


async def test_help_lists_every_talking_command(server):
    ada = await login(server.port, "Ada")
    out = await said(ada, "help")
    for word in (
        "channels",
        "channel",
        "socials",
        "reply",
        "whisper",
        "shout",
        "ignore",
        "unignore",
    ):
        assert f"  {word} " in out, word
    for word in ("channel", "reply", "whisper", "shout", "ignore", "unignore", "socials"):
        await ada.cmd(f"help {word}", "Usage:")
    await ada.cmd("help shout", "once every 10 seconds")
    await ada.close()
