"""Mail: letters written in the line editor, waiting in a bounded mailbox, kept across a
restart, and announced at login or at once."""

from __future__ import annotations

import world.mail
from tests.client import login


async def write(c, to: str, lines: list[str], subject: str = "") -> str:
    line = f"mail send {to}" + (f" = {subject}" if subject else "")
    await c.cmd(line, r"(?s)Writing a letter to .*?edit> ")
    for text in lines:
        await c.cmd(text, "edit> ")
    return await c.cmd(".", r"(?s)Your letter to \w+ is sent\..*?> ")


async def test_a_letter_waits_for_an_offline_dreamer_and_survives_a_restart(make_server, tmp_path):
    db = f"sqlite:///{tmp_path / 'mail.db'}"
    server = await make_server(db)
    bob = await login(server.port, "Bob")
    await bob.cmd("quit", "May your dreams be gentle")
    await bob.wait_closed()
    ada = await login(server.port, "Ada")
    await write(ada, "bob", ["Meet me by the lanterns.", "Bring |rred|n ribbon."], "the walk")
    await write(ada, "Bob", ["A second thought."])
    await ada.close()
    await server.stop()

    server = await make_server(db)
    bob = await login(server.port, "Bob", create=False)
    welcome = bob.text.split("You drift into the Dreamwave, Bob.")[1]
    assert "You have 2 unread letters; type mail." in welcome
    out = await bob.cmd("mail", r"(?s)Your letters.*mail read <n>.*?> ")
    assert "(2, 2 unread; newest last)" in out
    first, second = out.index("1. (new,"), out.index("2. (new,")
    assert first < second and "from Ada: the walk" in out and "(no subject)" in out

    out = await bob.cmd("mail read 1", r"(?s)From: Ada.*Subject: the walk.*lanterns\..*?> ")
    assert "Bring |rred|n ribbon." in out  # a letter shows as it was typed, never as colour
    out = await bob.cmd("mail", r"(?s)Your letters.*?> ")
    assert "(2, 1 unread" in out and "1. (2" in out
    await bob.cmd("mail delete 1", r"Letter from Ada \(the walk\) thrown away")
    await bob.cmd("mail read 2", "You have no letter 2; your letters are numbered 1 to 1")
    await bob.cmd("mail read one", "Usage: mail read <n>")
    await bob.cmd("mail delete 1", "thrown away")
    await bob.cmd("mail", "Your mailbox is empty")
    await bob.cmd("mail burn 1", "Usage: mail, mail read")
    await bob.close()
    await server.stop()

    server = await make_server(db)
    assert server.world.mail.box(server.world.players_by_key["bob"]) == []


async def test_an_online_dreamer_hears_of_a_letter_at_once(server):
    ada = await login(server.port, "Ada")
    bob = await login(server.port, "Bob")
    await bob.cmd("north", "Sanctuary")
    await write(ada, "bob", ["Hello from the Nexus."], "hi")
    await bob.expect(r"A letter arrives from Ada: hi \(type mail to read it\)\.")
    assert server.world.mail.unread(server.world.players_by_key["bob"]) == 1
    await ada.close()
    await bob.close()


async def test_aborting_unknown_dreamers_and_empty_letters_send_nothing(server):
    ada = await login(server.port, "Ada")
    bob_client = await login(server.port, "Bob")
    bob = server.world.players_by_key["bob"]
    await ada.cmd("mail send nobodyhere", "There is no dreamer called 'nobodyhere'")
    await ada.cmd("mail send", r"Usage: mail send <dreamer> \[= <subject>\]")
    await ada.cmd("mail send bob = " + "s" * 81, "A subject is at most 80 characters")
    await ada.cmd("mail send bob", "edit> ")
    await ada.cmd("never mind", "edit> ")
    await ada.cmd(".q", "You put the letter away; nothing was sent")
    await ada.cmd("mail send bob", "edit> ")
    await ada.cmd(".", "An empty letter wasn't sent")
    assert server.world.mail.box(bob) == []
    await ada.cmd("look", "Dreamwave Nexus")  # the editor gave the prompt back
    await ada.close()
    await bob_client.close()


async def test_mailboxes_and_letters_are_bounded(server, monkeypatch):
    monkeypatch.setattr(world.mail, "MAX_LETTERS", 2)
    ada = await login(server.port, "Ada")
    bob_client = await login(server.port, "Bob")
    await write(ada, "bob", ["one"])
    await write(ada, "bob", ["two"])
    await ada.cmd("mail send bob", r"Bob's mailbox is full \(2 letters\); nothing was sent")
    assert len(server.world.mail.box(server.world.players_by_key["bob"])) == 2

    monkeypatch.setattr(world.mail, "MAX_LETTERS", 100)
    await ada.cmd("mail send bob", "edit> ")
    line = "z" * 4000
    await ada.cmd(line, "edit> ")
    await ada.cmd(line, "edit> ")
    await ada.cmd(line, "That would pass 8192 characters; not added")
    await ada.cmd(".", "is sent")
    letters = server.world.mail.box(server.world.players_by_key["bob"])
    assert len(letters) == 3 and len(letters[-1].body) == 8001
    await ada.close()
    await bob_client.close()
