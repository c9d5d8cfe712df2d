"""The mute table: every form of every command that puts a dreamer's own words where others
read them, generated from the registry (each command declares what it publishes), typed by a
muted dreamer over a real socket. Each is refused in one sentence and nothing changes; what
publishes nothing (reading, clearing a title) still works."""

from __future__ import annotations

import commands  # noqa: F401  (registers every command)
from commands.api import REGISTRY, Command
from commands.channels import CHANNEL_WORD
from commands.socials import SOCIAL_WORD
from tests.client import Client, login, said

UNTHROTTLED = {"commands_per_second": 1000.0, "command_burst": 1000}  # the table is typed fast
SAMPLE = "scribbled over"  # the words a muted dreamer tries to publish
REFUSED = r"You have been muted by the admins \(for another 30 minutes\); nobody hears you\."
# The holes found in play (issues 19.4 and 20.10): each must be in the table.
HOLES = (
    "mail send Ash", "title the loud", "afk gone shouting", "afk clear", "weave a line",
    "ask lyra about x",
    "describe me loud", "dream name Loud", "dream describe loud", "dream motif a loud bell",
    "dream dig Loud Hall = in, out", "@channel create loud", "channel say public hi",
    "@motd loud", "@desc here = loud", "@npc create Loud", "say hi", "tell ash hi",
)  # fmt: skip
# Forms that publish nothing: a muted dreamer may still use them.
STILL_ALLOWED = (
    ("title", "You have no title"), ("title clear", "Your title is cleared"),
    ("describe me", "description"),
    ("mail", "Your mailbox is empty"), ("who", "Dreamers in the Dreamwave"),
    ("channel history public", "public"), ("look", "Dreamwave Nexus"),
)  # fmt: skip


def every_command() -> list[Command]:
    return [*REGISTRY.commands.values(), SOCIAL_WORD, CHANNEL_WORD]


def mute_table() -> list[str]:
    """Every publishing form, from each command's own declaration."""
    lines = [
        line
        for cmd in sorted(REGISTRY.commands.values(), key=lambda c: c.key)
        for line in cmd.publishes.forms(cmd.key, SAMPLE)  # type: ignore[union-attr]
    ]
    return [*lines, "smile", f"wave {SAMPLE}", f"public {SAMPLE}"]  # socials, a channel word


def publishes(line: str) -> bool:
    word, _, args = line.partition(" ")
    cmd = REGISTRY.exact(word)
    assert cmd is not None and cmd.publishes is not None, line
    return cmd.publishes.covers(args)


def snapshot(world) -> tuple:
    rooms = {r.id: (r.name, r.description, dict(r.attrs)) for r in world.rooms.values()}
    exits = {e.id: (e.name, e.dest_id) for e in world.exits.values()}
    items = {i.id: (i.name, i.description) for i in world.items.values()}
    npcs = {n.id: (n.name, n.description) for n in world.npcs.values()}
    players = {p.name: (p.role, repr(sorted(p.settings.items()))) for p in world.players.values()}
    mail = {k: len(v) for k, v in world.mail.boxes.items()}
    channels = {c.name: (c.description, len(c.history)) for c in world.channels.by_name.values()}
    return rooms, exits, items, npcs, players, mail, channels, dict(world.meta)


def test_every_command_declares_what_it_publishes():
    undeclared = [c.key for c in every_command() if c.publishes is None]
    assert not undeclared, f"declare publishes= for: {undeclared}"
    assert all(publishes(line) for line in HOLES)
    assert not any(publishes(line) for line, _ in STILL_ALLOWED)


async def muted_admin(server) -> tuple[Client, Client]:
    """Ash, an admin, mutes Pell, an admin too (so every builder and admin form is reached)."""
    ash = await login(server.port, "Ash")
    pell = await login(server.port, "Pell")
    for name in ("ash", "pell"):
        server.world.set_role(server.world.players_by_key[name], "admin")
    await ash.cmd("@mute pell 30m flooding", "Pell is muted for 30 minutes.")
    await pell.expect("Nobody hears you.")
    return ash, pell


async def test_a_muted_dreamer_is_refused_every_publishing_form(make_server):
    server = await make_server(**UNTHROTTLED)
    ash, pell = await muted_admin(server)
    before = snapshot(server.world)
    for line in mute_table():
        out = await said(pell, line)
        assert "You have been muted by the admins" in out, (line, out)
        assert "(y/n)" not in out and "yes/no" not in out, (line, out)
    assert snapshot(server.world) == before
    assert SAMPLE not in ash.text
    await ash.cmd("who", "Dreamers in the Dreamwave")
    await pell.close()
    await ash.close()


async def test_the_holes_found_in_play_are_closed_and_reading_still_works(make_server):
    server = await make_server(**UNTHROTTLED)
    ash, pell = await muted_admin(server)
    before = snapshot(server.world)
    for line in HOLES:
        await pell.cmd(line, REFUSED)
    for line, answer in STILL_ALLOWED:
        out = await pell.cmd(line, answer)
        assert "muted" not in out, (line, out)
    await pell.cmd("afk", "You are away")  # away, without a message, is fine
    await ash.cmd("tell pell are you there?", "You tell Pell")
    assert snapshot(server.world) == before
    assert "loud" not in ash.text.lower()
    await pell.close()
    await ash.close()


async def test_a_letter_begun_before_the_mute_is_not_sent_after_it(make_server):
    server = await make_server(**UNTHROTTLED)
    ash = await login(server.port, "Ash")
    server.world.set_role(server.world.players_by_key["ash"], "admin")
    pell = await login(server.port, "Pell")
    await pell.cmd("mail send ash = hello", "Writing a letter to Ash")
    await ash.cmd("@mute pell 30m flooding", "Pell is muted for 30 minutes.")
    pell.send("something loud")
    await pell.cmd(".", REFUSED)
    assert server.world.mail.box(server.world.players_by_key["ash"]) == []
    await pell.close()
    await ash.close()
