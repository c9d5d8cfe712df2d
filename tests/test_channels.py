"""Channels through real sockets: subscriptions, speaking by name, rules, history, builders.

Delivery runs both quiet (the pump at once) and busy (the pump gathers, one socket per slice),
so the channel feed's catching-up paths carry the text.
"""

from __future__ import annotations

import re

import pytest

import mud.core.output
from tests.client import BINARY, EOR, GMCP, WILL, Client, login, said
from world import channels as channels_mod
from world.channels import load_channel_specs
from world.world import World
from world.yamlsrc import ContentError

UNTHROTTLED = {"commands_per_second": 1000.0, "command_burst": 1000}


@pytest.fixture(params=["quiet", "busy"])
async def chan_server(request, make_server, monkeypatch):
    if request.param == "busy":
        monkeypatch.setattr(mud.core.output, "BUSY_PUMP_SESSIONS", 0)
        monkeypatch.setattr(mud.core.output, "PUMP_SLICE", 1)
    return await make_server(**UNTHROTTLED)


async def as_builder(server, name: str, role: str = "builder") -> Client:
    c = await login(server.port, name)
    server.world.set_role(server.world.players_by_key[name.lower()], role)
    return c


async def test_new_dreamers_are_on_public_and_newbie_and_hear_each_other_anywhere(chan_server):
    ada = await login(chan_server.port, "Ada")
    bob = await login(chan_server.port, "Bob")
    await bob.cmd("north", "Exits:")  # another room: channels are not rooms
    out = await said(ada, "channels")
    assert re.search(r"\[on\]\s+newbie", out) and re.search(r"\[on\]\s+public", out)
    assert re.search(r"\[off\]\s+festival\s.*\(listen only\)", out)
    out = await said(ada, "public hello, dreamers")
    assert "[public] Ada: hello, dreamers" in out  # the talker's own line comes before the prompt
    await bob.expect(r"\[public\] Ada: hello, dreamers")
    await ada.cmd("newbie :waves to the new ones", r"\[newbie\] Ada waves to the new ones")
    await bob.expect(r"\[newbie\] Ada waves to the new ones")
    await ada.cmd("public", r"Say what on \[public\]\?")
    await ada.cmd("channel who public", r"Listening to \[public\] \(2\):.*Ada, Bob")
    for c in (ada, bob):
        await c.close()


async def test_lines_arrive_in_order_and_once(chan_server):
    ada = await login(chan_server.port, "Ada")
    bob = await login(chan_server.port, "Bob")
    for i in range(5):
        await ada.cmd(f"public line {i}", f"line {i}")
    await bob.expect(r"(?s)line 0.*line 1.*line 2.*line 3.*line 4")
    await bob.quiet(0.2)
    assert bob.plain().count("Ada: line 3") == 1
    # the talker's line came with their reply; nothing more follows it, not even a blank line
    await said(ada, "public last one")
    assert await ada.quiet(0.3) == ""
    assert ada.plain().count("Ada: line 3") == 1
    for c in (ada, bob):
        await c.close()


async def test_join_leave_mute_unmute_and_who(chan_server):
    ada = await login(chan_server.port, "Ada")
    bob = await login(chan_server.port, "Bob")
    await bob.cmd("channel mute public", r"\[public\] is muted")
    await ada.cmd("public can anyone hear me", "can anyone hear me")
    await ada.cmd("channel who public", r"Listening to \[public\] \(1\): Ada\.")
    await bob.cmd("public hi", r"You have \[public\] muted; channel unmute public first")
    await bob.cmd("channel mute public", "already muted")
    await bob.cmd("channel unmute public", r"\[public\] is unmuted")
    await ada.cmd("public now?", "now")
    await bob.expect(r"\[public\] Ada: now\?")
    assert "can anyone hear me" not in bob.text  # nothing said while muted arrives later
    await bob.cmd("channel leave newbie", r"You leave \[newbie\]")
    await bob.cmd("newbie hello", r"You are not on \[newbie\]; channel join newbie first")
    await bob.cmd("channel leave newbie", r"You are not on \[newbie\]")
    await bob.cmd("channel join newbie", r"You join \[newbie\]")
    await bob.cmd("channel join newbie", r"already on \[newbie\]")
    await bob.cmd("channel join nosuch", "There is no channel 'nosuch'")
    await bob.cmd("channel dance public", "Usage: channel join")
    await bob.cmd("channel", "Usage: channel join")
    for c in (ada, bob):
        await c.close()


async def test_subscriptions_and_history_survive_a_restart(make_server, tmp_path):
    db = f"sqlite:///{tmp_path / 'chan.db'}"
    app = await make_server(db=db, **UNTHROTTLED)
    ada = await login(app.port, "Ada")
    await ada.cmd("channel join festival", r"You join \[festival\]")
    await ada.cmd("channel leave newbie", r"You leave \[newbie\]")
    for i in range(3):
        await ada.cmd(f"public remembered {i}", f"remembered {i}")
    await ada.close()
    await app.stop()
    app = await make_server(db=db, **UNTHROTTLED)
    ada = await login(app.port, "Ada", create=False)
    out = await said(ada, "channels")
    assert re.search(r"\[on\]\s+festival", out) and re.search(r"\[off\]\s+newbie", out)
    assert re.search(r"\[on\]\s+public", out)
    out = await said(ada, "channel history public")
    assert "The last 3 on [public]" in out
    assert out.index("remembered 0") < out.index("remembered 1") < out.index("remembered 2")
    out = await said(ada, "channel history public 1")
    assert "remembered 2" in out and "remembered 1" not in out
    await ada.cmd("channel history public 0", "Give a number of lines from 1 to 200")
    await ada.cmd("channel history public lots", "Give a number of lines from 1 to 200")
    await ada.cmd("channel history newbie", r"Nothing has been said on \[newbie\] yet")
    await ada.close()


async def test_speak_rule_listen_only_and_read_rule(make_server):
    server = await make_server(**UNTHROTTLED)
    pell = await login(server.port, "Pell")
    bex = await as_builder(server, "Bex")
    await pell.cmd("channel join festival", r"You join \[festival\]")
    await bex.cmd("channel join festival", r"You join \[festival\]")
    # (the Nexus has an exit called festival: there the word walks, `channel say` speaks)
    await pell.cmd(
        "channel say festival me too", r"You may listen to \[festival\] but not speak on it"
    )
    await bex.cmd("channel say festival fireworks at dusk", "fireworks at dusk")
    await pell.expect(r"\[festival\] Bex: fireworks at dusk")
    # closing the channel to players: Pell stops hearing it and can't join it again
    await bex.cmd("@channel set festival/read = builder", r"\[festival\] read is now role:builder")
    await bex.cmd("channel say festival :only builders now", r"\[festival\] Bex only builders")
    await pell.cmd("channel leave festival", r"You leave \[festival\]")
    await pell.cmd("channel join festival", r"\[festival\] is closed to you")
    out = await said(pell, "channels")
    assert "festival" not in out
    assert "only builders now" not in pell.text
    await bex.cmd("@channel set festival/read = role:wizard", "There is no role 'wizard'")
    await bex.cmd("@channel set festival/read = holds:", "needs a value after the colon")
    await bex.cmd("@channel set festival/colour = red", "Usage: @channel set")
    await bex.cmd("@channel set festival/read", "Usage: @channel set")
    for c in (pell, bex):
        await c.close()


async def test_builders_create_describe_and_delete_channels_audited(make_server):
    server = await make_server(**UNTHROTTLED)
    bex = await as_builder(server, "Bex")
    pell = await login(server.port, "Pell")
    await bex.cmd(
        "@channel create lore = Stories of the old Dreamwave", r"create the channel \[lore\]"
    )
    await bex.cmd("@channel create lore", "There already is a channel 'lore'")
    await bex.cmd("@channel create look", "is a command")
    await bex.cmd("@channel create inv", "is a command")  # would hide `inv` for inventory
    await bex.cmd("@channel create smile", "is a social")
    await bex.cmd("@channel create north", "is a direction")
    await bex.cmd("@channel create Bad-Name!", "A channel name is 2 to 20")
    await pell.cmd("channels", "Stories of the old Dreamwave")
    await pell.cmd("channel join lore", r"You join \[lore\]")
    await pell.cmd("lore once upon a time", r"\[lore\] Pell: once upon a time")
    await bex.cmd("@channel set lore/description = Old tales", "description is now")
    await pell.cmd("channels", "Old tales")
    await bex.cmd("@channel delete lore", "Type yes to go ahead")
    await bex.cmd("no", "Cancelled; nothing was changed.")
    assert "lore" in server.world.channels.by_name
    await bex.cmd("@channel delete lore", "1 line")
    await bex.cmd("yes", r"You delete the channel \[lore\]")
    assert "lore" not in server.world.channels.by_name
    await pell.cmd("lore still there?", "Unknown command 'lore'")
    await bex.cmd("@channel delete lore", "There is no channel 'lore'")
    actions = [(e.actor_name, e.action) for e in server.world.audit_log]
    assert ("Bex", "channel create") in actions
    assert ("Bex", "channel set") in actions
    assert ("Bex", "channel delete") in actions
    # a new channel of the same name starts with nobody on it
    await bex.cmd("@channel create lore", r"create the channel \[lore\] and are on it")
    await pell.cmd("lore hello", r"You are not on \[lore\]")
    await bex.cmd("lore hello", r"\[lore\] Bex: hello")
    for c in (bex, pell):
        await c.close()


async def test_players_cant_manage_channels_and_nothing_changes(server):
    pell = await login(server.port, "Pell")
    before = {n: (c.read, c.speak, c.description) for n, c in server.world.channels.by_name.items()}
    for line in [
        "@channel create mine", "@channel delete public", "@channel set public/speak = admin",
        "@channel",
    ]:  # fmt: skip
        await pell.cmd(line, "You can't do that.")
    after = {n: (c.read, c.speak, c.description) for n, c in server.world.channels.by_name.items()}
    assert after == before
    await pell.close()


async def test_exits_and_commands_win_over_channel_names(server):
    bex = await as_builder(server, "Bex")
    await bex.cmd("@dig Public Garden = public, back", "leads there from here")
    await bex.cmd("public", "Public Garden")  # the exit, not the channel
    await bex.cmd("back", "Dreamwave Nexus")
    await bex.cmd("newbie still a channel", r"\[newbie\] Bex: still a channel")
    await bex.close()


async def test_gmcp_channel_text_and_list(server):
    c = await login(server.port, "Mapper", agree={BINARY, EOR, GMCP})
    other = await login(server.port, "Talker")
    await c.expect_command(WILL, GMCP)
    c.send_gmcp("Core.Supports.Set", ["Comm.Channel 1"])
    await c.cmd("look", "Exits:")
    c.send_gmcp("Comm.Channel.List")
    listing = await c.expect_gmcp("Comm.Channel.List")
    names = [entry["name"] for entry in listing]
    assert names == ["festival", "newbie", "public"]
    assert all(entry["command"] == entry["name"] and entry["caption"] for entry in listing)
    await other.cmd("public over the wire", "over the wire")
    text = await c.expect_gmcp("Comm.Channel.Text")
    assert text == {
        "channel": "public", "talker": "Talker", "text": "[public] Talker: over the wire",
    }  # fmt: skip
    await c.expect(r"\[public\] Talker: over the wire")  # and in the text, as for everyone
    for x in (c, other):
        await x.close()


# -- pure logic ---------------------------------------------------------------------------------
def _world() -> tuple[World, list[tuple[str, object, object]]]:
    staged: list[tuple[str, object, object]] = []

    def stage(table: str, key: object, row: object) -> int:
        staged.append((table, key, row))
        return len(staged)

    w = World(stage)
    w.load({})
    w.create_room("Dreamwave Nexus", key="nexus")
    w.channels.seed(load_channel_specs(), [])
    return w, staged


def test_history_is_bounded_per_channel_and_the_oldest_rows_are_deleted(monkeypatch):
    monkeypatch.setattr(channels_mod, "HISTORY_MAX", 3)
    w, staged = _world()
    p = w.create_player("Ada", "x")
    ch = w.channels.by_name["public"]
    for i in range(5):
        w.channels.speak(p, ch, f"n{i}")
    assert [line.text.split(": ")[1] for line in ch.history] == ["n2|n", "n3|n", "n4|n"]
    deleted = [key for table, key, row in staged if table == "channel_line" and row is None]
    assert len(deleted) == 2
    # a start-up with more rows than the bound keeps the newest and deletes the rest
    rows = {
        "channel": [ch.to_row()],
        "channel_line": [{"id": i, "channel": "public", "at": 0.0, "talker": "A", "text": f"t{i}"}
                         for i in range(1, 6)],
    }  # fmt: skip
    staged2: list[tuple[str, object, object]] = []
    w2 = World(lambda table, key, row: staged2.append((table, key, row)) or 1)  # type: ignore
    w2.channels.load(rows)
    assert [line.text for line in w2.channels.by_name["public"].history] == ["t3", "t4", "t5"]
    assert [k for _t, k, r in staged2 if r is None] == [1, 2]


def test_channel_content_errors_name_file_and_line():
    bad = "\n".join(
        [
            "channels:",
            "  - name: lore",
            "    read: role:wizard",
            "  - name: lore",
            '    speak: "holds: and"',
        ]
    )
    with pytest.raises(ContentError) as err:
        load_channel_specs(path="chan.yaml", text=bad)  # type: ignore[arg-type]
    problems = err.value.problems
    assert any(p.startswith("chan.yaml:3:") and "no role 'wizard'" in p for p in problems)
    assert any(p.startswith("chan.yaml:4:") and "repeated" in p for p in problems)
    assert any(p.startswith("chan.yaml:5:") for p in problems)
    with pytest.raises(ContentError) as err:
        load_channel_specs(path="chan.yaml", text="channels:\n  - name: x\n")  # type: ignore
    assert err.value.problems[0].startswith("chan.yaml:2:")
    with pytest.raises(ContentError) as err:
        load_channel_specs(path="chan.yaml", text="channels:\n  - name: ok\n    colour: red\n")  # type: ignore
    assert err.value.problems[0].startswith("chan.yaml:3:")
