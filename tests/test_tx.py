"""A command's unit of work (mud.core.tx.CommandTx): what it shows waits for ONE commit.

Whatever a staged command shows (its reply, the room's line, a private line to someone,
a channel line, a landing) is released from a single `Store.when_durable` registration, and
a command that stages nothing registers none.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.client import login


@pytest.fixture
async def counted(make_server, monkeypatch):
    """A server whose store counts its `when_durable` registrations."""
    app = await make_server(commands_per_second=1000, command_burst=1000)
    store = app.store
    calls: list[int] = []
    real = store.when_durable

    def counting(seq, callback):
        calls.append(seq)
        real(seq, callback)

    monkeypatch.setattr(store, "when_durable", counting)
    app.waits = calls  # type: ignore[attr-defined]
    return app


async def _waits_for(app, client, line: str, expect: str) -> int:
    await asyncio.sleep(0.2)  # earlier output (arrivals) is out of the way
    before = len(app.waits)
    await client.cmd(line, expect)
    return len(app.waits) - before


async def test_a_staged_move_waits_for_its_commit_once(counted):
    ada = await login(counted.port, "Ada")
    bob = await login(counted.port, "Bob")
    assert await _waits_for(counted, ada, "north", "Sanctuary of Returning Tides") == 1
    await bob.expect(r"Ada leaves north\.")
    await ada.close()
    await bob.close()


async def test_a_say_waits_for_nothing(counted):
    ada = await login(counted.port, "Ada")
    bob = await login(counted.port, "Bob")
    assert await _waits_for(counted, ada, "say hello", r'You say, "hello"') == 0
    await bob.expect(r'Ada says, "hello"')
    await ada.close()
    await bob.close()


async def test_a_give_holds_reply_room_and_recipient_on_one_wait(counted):
    ada = await login(counted.port, "Ada")
    bob = await login(counted.port, "Bob")
    cyra = await login(counted.port, "Cyra")
    await ada.cmd("get stone", r"You pick up a smooth pillowstone\.")
    assert await _waits_for(counted, ada, "give stone to bob", r"You give") == 1
    await bob.expect(r"Ada gives you a smooth pillowstone")
    await cyra.expect(r"Ada gives .*Bob")
    for c in (ada, bob, cyra):
        await c.close()


async def test_a_channel_line_waits_with_its_command(counted):
    ada = await login(counted.port, "Ada")
    bob = await login(counted.port, "Bob")
    await bob.cmd("north", "Sanctuary of Returning Tides")
    assert await _waits_for(counted, ada, "public hello all", r"\[public\] Ada: hello all") == 1
    await bob.expect(r"\[public\] Ada: hello all")
    await ada.close()
    await bob.close()


async def test_a_letter_and_its_arrival_notice_wait_for_one_commit(counted):
    ada = await login(counted.port, "Ada")
    bob = await login(counted.port, "Bob")
    await bob.cmd("north", "Sanctuary")
    await ada.cmd("mail send bob = hi", r"(?s)Writing a letter to .*?edit> ")
    await ada.cmd("Hello from the Nexus.", "edit> ")
    assert await _waits_for(counted, ada, ".", r"Your letter to Bob is sent\.") == 1
    await bob.expect(r"A letter arrives from Ada: hi \(type mail to read it\)\.")
    await ada.close()
    await bob.close()


def test_room_lines_open_in_order_behind_a_pending_gate():
    """A line that waits for nothing, posted behind one that waits for a commit, is shown
    with it; the gate opens once its unit of work says the commit is durable."""
    from types import SimpleNamespace

    from mud.core.feed import RoomFeed

    opened: list[int] = []
    feed = RoomFeed(SimpleNamespace(id=1), lambda f: opened.append(f.end))  # type: ignore[arg-type]
    feed.post("Ada drops a token.", None, None)
    feed.gate(10, committed=5)  # a command that staged 10
    assert feed.end == 0 and opened == []
    feed.post("Bob says hi.", None, None)
    feed.gate(0, committed=5)  # outside a command, or a command that staged nothing
    assert feed.end == 0 and feed.last_seq() == 10
    feed.advance(10)  # the command's single commit callback
    assert feed.end == 2 and opened == [2]
    feed.post("Cyra waves.", None, None)
    feed.gate(0, committed=10)  # nothing pending: at once
    assert feed.end == 3 and opened == [2, 3]
