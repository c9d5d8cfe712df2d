"""Moderation through real sockets: boot, ban (names, addresses, networks), mute, wall,
shutdown with its countdown, a new password and @who — each audited, each target told."""

from __future__ import annotations

import asyncio
import subprocess
import sys

from tests.client import Client, login, said
from tests.conftest import ROOT, server_env, spawn_server
from world.moderation import Ban, BanList, normalise_address, parse_duration, parse_network

PROMPT = r"\n> "


async def admin(server, name: str = "Ash") -> Client:
    c = await login(server.port, name)
    server.world.set_role(server.world.players_by_key[name.lower()], "admin")
    return c


def audit_lines(server) -> list[str]:
    return [f"{e.actor_name} {e.action}: {e.detail}" for e in server.world.audit_log]


async def test_boot_disconnects_with_the_reason_and_is_audited(server):
    ash = await admin(server)
    pell = await login(server.port, "Pell")
    await ash.cmd("@boot pell shouting in the Nexus", "You boot Pell: shouting in the Nexus.")
    await pell.expect("An admin has disconnected you: shouting in the Nexus.")
    await pell.wait_closed()
    assert "Ash boot: Pell: shouting in the Nexus." in audit_lines(server)
    await ash.cmd("@boot pell", "Pell isn't connected.")
    await ash.cmd("@boot nobody", "There is no dreamer called 'nobody'.")
    await ash.cmd("@boot ash", "You can't boot yourself.")
    again = await login(server.port, "Pell", create=False)  # booting is not banning
    await again.close()
    await ash.close()


async def test_a_name_ban_survives_a_restart_until_lifted(make_server, tmp_path):
    db = f"sqlite:///{tmp_path / 'bans.db'}"
    server = await make_server(db)
    ash = await admin(server)
    pell = await login(server.port, "Pell")
    await ash.cmd(
        "@ban pell 3d spamming the newbie channel", r"Pell is banned for 3 days \(ban #1\)"
    )
    await pell.expect("An admin has banned you for 3 days: spamming the newbie channel.")
    await pell.wait_closed()
    await ash.cmd("@ban ash", "You can't ban yourself.")
    await ash.cmd("@ban pell 3 days", "'3' is not a duration: use e.g. 30s")  # changes nothing
    out = await said(ash, "@bans")
    assert "#1 name Pell, by Ash, for 3 days - spamming the newbie channel" in out
    await ash.close()
    await server.stop()

    server = await make_server(db)
    refused = await Client.connect(server.port)
    await refused.expect("Name: ")
    refused.send("connect Pell secretpass")
    await refused.expect("Pell is banned for 3 days: spamming the newbie channel.")
    await refused.wait_closed()
    ash = await login(server.port, "Ash", create=False)
    await ash.cmd("@unban pell", "Lifted the ban on pell.")
    await ash.cmd("@unban pell", "No ban matches 'pell'.")
    assert "Ash unban: name pell (ban #1)" in audit_lines(server)
    pell = await login(server.port, "Pell", create=False)
    await pell.close()
    await ash.close()


async def test_an_address_ban_refuses_new_connections_silently(server):
    ash = await admin(server)
    await ash.cmd("@ban 127.0.0.0/8", "holds your own address; ban a narrower network")
    await ash.cmd("@ban 127.0.0.2 1h", r"Connections from 127.0.0.2/32 are refused for 1 hour")
    await ash.cmd("@ban 2001:db8::/48", r"Connections from 2001:db8::/48 are refused for good")
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", server.port, local_addr=("127.0.0.2", 0)
    )
    banned = Client(reader, writer)
    await banned.expect("Connections from your address are not accepted here.")
    await banned.wait_closed()
    assert "Name:" not in banned.text
    other = await login(server.port, "Pell")  # 127.0.0.1 still gets in
    await ash.cmd("@unban 127.0.0.2", "Lifted the ban")
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", server.port, local_addr=("127.0.0.2", 0)
    )
    welcome = Client(reader, writer)
    await welcome.expect("Name: ")
    for c in (welcome, other, ash):
        await c.close()


async def test_mute_silences_every_kind_of_talk_until_lifted(server):
    ash = await admin(server)
    pell = await login(server.port, "Pell")
    bob = await login(server.port, "Bob")
    await ash.cmd("@mute pell 30m flooding", "Pell is muted for 30 minutes.")
    await pell.expect("An admin has muted you for 30 minutes: flooding. Nobody hears you.")
    for line in ("say hello?", "'anyone?", ":waves", "emote waves", "tell bob psst",
                 "whisper bob psst", "shout hey", "public hello all", "channel say public hi",
                 "smile", "wave bob"):  # fmt: skip
        await pell.cmd(line, r"You have been muted by the admins \(for another 30 minutes\)")
    await pell.cmd("look", "Dreamwave Nexus")  # everything else still works
    heard = bob.text
    assert "Pell says" not in heard and "waves" not in heard and "psst" not in heard
    assert "Pell shouts" not in heard and "Pell smiles" not in heard and "hello all" not in heard
    await ash.cmd("@unmute pell", "Pell may speak again.")
    await pell.expect("An admin has lifted your mute")
    await pell.cmd("say I'm back", "You say")
    await bob.expect('Pell says, "I\'m back"')
    await ash.cmd("@unmute pell", "Pell isn't muted.")
    assert "Ash mute: Pell for 30 minutes: flooding." in audit_lines(server)
    for c in (ash, pell, bob):
        await c.close()


async def test_wall_reaches_everyone_marked_as_from_the_admins(server):
    ash = await admin(server)
    pell = await login(server.port, "Pell")
    bob = await login(server.port, "Bob")
    await bob.cmd("dream", "own dream")  # even someone dreaming alone
    await ash.cmd("@wall The festival starts soon!", r"\[Admins\] Ash: The festival starts soon!")
    for c in (pell, bob):
        await c.expect(r"\[Admins\] Ash: The festival starts soon!")
    await ash.cmd("@wall", "Usage: @wall <text>")
    for c in (ash, pell, bob):
        await c.close()


async def test_shutdown_counts_down_and_can_be_called_off(server):
    ash = await admin(server)
    pell = await login(server.port, "Pell")
    await ash.cmd("@shutdown", "No shutdown is under way.")
    await ash.cmd("@shutdown soon", r"Usage: @shutdown <minutes> \[reason\], now, or cancel.")
    await ash.cmd("@shutdown 10 moving house", PROMPT)
    await pell.expect(r"\[Admins\] The dreamscape will shut down in 10 minutes \(moving house\)")
    await ash.cmd("@shutdown", "A shutdown by Ash is under way: in 10 minutes")
    await ash.cmd("@shutdown cancel", "The shutdown is called off by Ash.")
    await pell.expect("The shutdown is called off by Ash.")
    await ash.cmd("@shutdown cancel", "No shutdown is under way.")
    await ash.cmd("@shutdown 0.05", r"shut down in 3 seconds")
    await asyncio.wait_for(server.stop_requested.wait(), 10)
    assert "Ash shutdown: cancelled" in audit_lines(server)
    for c in (ash, pell):
        await c.close()


async def test_shutdown_warns_at_ten_seconds_and_the_process_exits_cleanly(tmp_path):
    db = tmp_path / "shutdown.db"
    made = subprocess.run(
        [sys.executable, str(ROOT / "server.py"), "create-admin", "Ash", "--password-stdin",
         "--db", str(db)],
        input="a-long-password\n", capture_output=True, text=True, env=server_env(), timeout=60,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    sp = await spawn_server(db)
    try:
        ash = await login(sp.port, "Ash", "a-long-password", create=False)
        await ash.cmd("@shutdown 0.2 a short test", r"shut down in 12 seconds \(a short test\)")
        await ash.expect(r"shut down in 10 seconds \(a short test\)", timeout=10)
        await ash.expect("The dreamscape is fading", timeout=30)
        await ash.wait_closed()
        code = await asyncio.get_running_loop().run_in_executor(None, sp.proc.wait, 30)
        assert code == 0
        assert "shutdown complete" in sp.log
    finally:
        sp.kill_hard()


async def test_newpassword_is_shown_once_and_replaces_the_old(server):
    ash = await admin(server)
    pell = await login(server.port, "Pell")
    out = await ash.cmd("@newpassword pell", r"Pell's new password is (\S+)\. Tell them")
    password = out.split("new password is ")[1].split(".")[0]
    password = __import__("re").sub(r"\x1b\[[0-9;]*m", "", password)
    await pell.expect("An admin has given you a new password.")
    await pell.close()
    old = await Client.connect(server.port)
    await old.expect("Name: ")
    old.send("connect Pell secretpass")
    await old.expect("don't match")
    await old.close()
    again = await login(server.port, "Pell", password, create=False)
    assert password not in " ".join(audit_lines(server))
    assert "Ash newpassword: Pell" in audit_lines(server)
    await again.close()
    await ash.close()


async def test_admin_who_shows_addresses_and_idle_times(server):
    ash = await admin(server)
    pell = await login(server.port, "Pell")
    lurker = await Client.connect(server.port)
    await lurker.expect("Name: ")
    out = await said(ash, "@who")
    assert "Connections (3):" in out
    assert "Pell" in out and "127.0.0.1" in out and "(login screen)" in out and "idle" in out
    out = await said(pell, "who")
    assert "127.0.0.1" not in out  # only admins see addresses
    for c in (ash, pell, lurker):
        await c.close()


def test_durations_networks_and_mapped_addresses():
    assert parse_duration("30s") == 30 and parse_duration("2h") == 7200
    assert parse_duration("perm") is None
    assert normalise_address("::ffff:203.0.113.9") == "203.0.113.9"
    assert str(parse_network("::ffff:203.0.113.0/120")) == "203.0.113.0/24"
    bans = BanList()
    bans.add(Ban(1, "address", "2001:db8::/48", "Ash", "", 0.0, None))
    bans.add(Ban(2, "address", "203.0.113.0/24", "Ash", "", 0.0, 10.0))
    assert bans.for_address("2001:db8:0:1::5", now=5.0).id == 1
    assert bans.for_address("2001:db9::1", now=5.0) is None
    assert bans.for_address("::ffff:203.0.113.77", now=5.0).id == 2
    assert bans.for_address("203.0.113.77", now=11.0) is None  # ran out
