"""Looking after yourself: password, description, title, away, finger, exits and the message
of the day, typed through real sockets."""

from __future__ import annotations

from tests.client import ECHO, WILL, WONT, Client, login


async def connect(port: int, name: str, password: str) -> Client:
    c = await Client.connect(port)
    await c.expect("Name: ")
    c.send(f"connect {name} {password}")
    return c


def last_echo(c: Client) -> tuple[int, int]:
    return [cmd for cmd in c.commands if cmd[1] == ECHO][-1]


# -- password ---------------------------------------------------------------------------------


async def test_password_is_changed_with_every_answer_hidden(server):
    a = await login(server.port, "Ada", "oldsecret1")
    await a.cmd("password", "Your current password: ")
    assert (WILL, ECHO) in a.commands  # the client stops echoing what is typed
    await a.cmd("oldsecret1", "Your new password")
    await a.cmd("newsecret2", "The new password again: ")
    await a.cmd("newsecret2", r"(?s)Your password is changed\..*?\r\n> ")
    assert last_echo(a) == (WONT, ECHO)  # echo is back on
    assert a.commands.count((WILL, ECHO)) == 3  # hidden for each answer, shown between
    assert "newsecret2" not in a.text and "oldsecret1" not in a.text
    await a.cmd("look", "Dreamwave Nexus")
    await a.cmd("quit", "May your dreams be gentle")
    await a.wait_closed()

    old = await connect(server.port, "Ada", "oldsecret1")
    await old.expect("don't match")
    await old.close()
    new = await connect(server.port, "Ada", "newsecret2")
    await new.expect("You drift into the Dreamwave, Ada")
    await new.close()


async def test_a_wrong_old_password_changes_nothing(server):
    a = await login(server.port, "Ada", "oldsecret1")
    hash_before = server.world.players_by_key["ada"].password_hash
    await a.cmd("password", "Your current password: ")
    await a.cmd("not-my-password", r"(?s)That isn't your password; nothing was changed\..*?> ")
    assert last_echo(a) == (WONT, ECHO)
    assert server.world.players_by_key["ada"].password_hash == hash_before
    await a.cmd("look", "Dreamwave Nexus")  # back at the ordinary prompt

    await a.cmd("password", "Your current password: ")
    await a.cmd("oldsecret1", "Your new password")
    await a.cmd("short", r"at least 8 characters\. Your password is unchanged\.")
    await a.cmd("password", "Your current password: ")
    await a.cmd("oldsecret1", "Your new password")
    await a.cmd("newsecret2", "again")
    await a.cmd("different3", "didn't match; your password is unchanged")
    assert server.world.players_by_key["ada"].password_hash == hash_before
    await a.cmd("password now", "Type just password")
    await a.close()


# -- describe me, title ---------------------------------------------------------------------


async def test_describe_me_is_what_others_see(server):
    a = await login(server.port, "Ada")
    b = await login(server.port, "Bob")
    await a.cmd("describe me A tall dreamer with lantern-light in her hair.", "description is set")
    await b.cmd("look ada", "A tall dreamer with lantern-light in her hair")
    await a.cmd("describe me", r"Your description:\r\nA tall dreamer")
    await a.cmd("describe bob Mean things.", "Usage: describe me <text>")
    await b.cmd("look ada", "lantern-light")  # unchanged
    await a.cmd("describe me " + "x" * 4001, "That is too long")
    await a.cmd("describe me clear", "Your description is cleared")
    assert server.world.players_by_key["ada"].description == ""
    await a.close()
    await b.close()


async def test_title_shows_in_who_and_finger_and_is_plain_text(server):
    a = await login(server.port, "Ada")
    await a.cmd("title the lantern-bearer", "You are now Ada the lantern-bearer")
    await a.cmd("who", r"Ada the lantern-bearer")
    await a.cmd("finger ada", r"Ada the lantern-bearer")
    await a.cmd("title " + "y" * 41, "at most 40 characters")
    await a.cmd("title |rred", "You are now Ada red")  # colour codes don't stay in titles
    await a.cmd("title clear", "Your title is cleared")
    out = await a.cmd("who", r"Dreamers in the Dreamwave.*\r\n.*Ada.*\r\n")
    assert "red" not in out
    await a.close()


# -- afk --------------------------------------------------------------------------------------


async def test_afk_shows_in_who_answers_tells_and_ends_with_the_next_command(server):
    a = await login(server.port, "Ada")
    b = await login(server.port, "Bob")
    await a.cmd("afk making tea", r"You are away: making tea\. The next command .*\r\n> ")
    await b.cmd("who", r"Ada\s+away .*\[making tea\]")
    await b.cmd("tell ada are you there?", r"Ada is away: making tea")
    await a.expect(r'Bob tells you, "are you there\?"')
    await b.cmd("finger ada", "Away: making tea")

    a.send("")  # pressing Enter alone isn't a command: still away
    await b.cmd("who", r"Ada\s+away")
    await a.cmd("look", r"You are back; your away message is cleared\.\r\n.*Dreamwave Nexus")
    out = await b.cmd("tell ada hello", r'You tell Ada, "hello"')
    assert "away" not in await b.quiet(0.2) + out
    out = await b.cmd("who", r"Ada.*\r\n")
    assert "away" not in out
    await a.close()
    await b.close()


# -- finger -----------------------------------------------------------------------------------


async def test_finger_never_tells_the_address_or_the_dream(server):
    a = await login(server.port, "Ada")
    b = await login(server.port, "Bob")
    await a.cmd("describe me Quiet, watchful.", "description is set")
    await a.cmd("dream", r"(?s)your own dream gathers.*Exits:.*> ")
    await a.cmd("dream name The Secret Orchard", "now called The Secret Orchard")
    out = await b.cmd("whois ada", r"Quiet, watchful\.")
    assert "Role: player." in out and "Online now, dreaming." in out
    assert "127.0.0.1" not in out and "Orchard" not in out
    await a.cmd("quit", "May your dreams be gentle")
    await a.wait_closed()
    await b.cmd("finger ada", r"Last seen \d{4}-\d\d-\d\d \d\d:\d\d UTC\.")
    await b.cmd("finger nobodyhere", "There is no dreamer called 'nobodyhere'")
    await b.cmd("finger", "Usage: finger <dreamer>")
    await b.close()


# -- exits ------------------------------------------------------------------------------------


async def test_exits_lists_each_way_and_where_it_leads(server):
    a = await login(server.port, "Ada")
    out = await a.cmd("exits", r"Ways out of Dreamwave Nexus:(\r\n  .*)+\r\n> ")
    world = server.world
    nexus = world.nexus
    for ex in nexus.exits:
        dest = world.exit_destination(ex)
        assert f"{ex.name}" in out and dest is not None and dest.name in out
    body = [ln for ln in out.split("\r\n") if ln.startswith("  ")]
    assert len(body) == len(nexus.exits)  # one per line
    await a.close()


# -- the message of the day -----------------------------------------------------------------


async def test_motd_set_by_a_builder_is_shown_at_login_and_kept(make_server, tmp_path):
    db = f"sqlite:///{tmp_path / 'motd.db'}"
    server = await make_server(db)
    pell = await login(server.port, "Pell")
    await pell.cmd("@motd The festival starts at dusk!", "You can't do that.")
    await pell.cmd("motd", "There is no message of the day.")
    bex = await login(server.port, "Bex")
    server.world.set_role(server.world.players_by_key["bex"], "builder")
    await bex.cmd("@motd The festival starts at dusk!", "message of the day is now")
    await bex.cmd("@motd", r"The message of the day:\r\nThe festival starts at dusk!")
    await pell.cmd("motd", "The festival starts at dusk!")
    assert server.world.audit_log[-1].action == "motd"
    await server.stop()

    server = await make_server(db)
    c = await login(server.port, "Cleo")
    welcome = c.text.split("You drift into the Dreamwave, Cleo.")[1]
    assert welcome.lstrip("\r\n").startswith("The festival starts at dusk!")
    await bex.close()
    bex = await login(server.port, "Bex", create=False)
    await bex.cmd("@motd clear", "message of the day is cleared")
    await c.cmd("motd", "There is no message of the day.")
    await c.close()
    await bex.close()
    await pell.close()
