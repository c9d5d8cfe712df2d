"""The privilege table: every privileged command and subcommand, generated from the registry.

Each form comes from the command's own help text (its `Usage:` lines), with placeholders filled
in. A player typing any of them, and a builder typing an admin-only one, is refused and the world
is unchanged — so a new `@` command, or a new subcommand in a help text, can't be missed.
"""

from __future__ import annotations

import re

import commands  # noqa: F401  (registers every command)
from commands.api import REGISTRY, Command
from tests.client import Client, login

UNTHROTTLED = {"commands_per_second": 1000.0, "command_burst": 1000}  # the table is typed fast
ROLE_RANK = {"player": 0, "builder": 1, "admin": 2}
# What a placeholder in a usage line becomes when the table types it.
FILL = {
    "n": "5",
    "name": "dream_festival",
    "room": "#1",
    "destination": "#1",
    "text": "scribbled over",
    "value": "yes",
    "new name": "Mine",
    "role": "admin",
    "dreamer": "pell",
}
PLACEHOLDER = re.compile(r"<([^<>]+)>")
ADMIN_ONLY = re.compile(r"\(admins?\)|\badmins? only\b", re.IGNORECASE)


def _fill(form: str) -> str:
    form = re.sub(r"\[([^\[\]]*)\]", r"\1", form)  # optional parts are typed too
    form = PLACEHOLDER.sub(lambda m: FILL.get(m.group(1).split(" or ")[0].strip(), "here"), form)
    return " ".join(form.split())


def usage_forms(cmd: Command) -> list[tuple[str, str]]:
    """(typed line, least role) for every usage line of a command's help text."""
    forms: list[tuple[str, str]] = [(cmd.key, cmd.role)]
    for line in cmd.help_text.splitlines():
        stripped = line.strip()
        if not stripped.startswith(cmd.key + " ") and stripped != cmd.key:
            continue
        usage = re.split(r"\s{2,}", stripped, maxsplit=1)
        role = "admin" if ADMIN_ONLY.search(stripped) else cmd.role
        forms.append((_fill(usage[0]), role))
    return list(dict.fromkeys(forms))


def privilege_table() -> list[tuple[str, str]]:
    return [
        form
        for cmd in sorted(REGISTRY.commands.values(), key=lambda c: c.key)
        if cmd.key.startswith("@") or cmd.role != "player"
        for form in usage_forms(cmd)
    ]


def snapshot(world) -> tuple:
    rooms = {r.id: (r.name, r.description, dict(r.attrs)) for r in world.rooms.values()}
    exits = {e.id: (e.name, e.dest_id, dict(e.attrs)) for e in world.exits.values()}
    items = {i.id: (i.name, i.description) for i in world.items.values()}
    npcs = {n.id: (n.name, n.description, n.room.id if n.room else None)
            for n in world.npcs.values()}  # fmt: skip
    roles = {p.name: p.role for p in world.players.values()}
    return rooms, exits, items, npcs, roles, len(world.audit_log)


def running_events(server) -> set[str]:
    return set(server.events.runtime.running)


def test_the_table_covers_every_privileged_command_and_its_subcommands():
    table = privilege_table()
    typed = {line.split()[0] for line, _ in table}
    privileged = {c.key for c in REGISTRY.commands.values() if c.role != "player"}
    assert privileged <= typed
    open_to_players = [c.key for c in REGISTRY.commands.values()
                       if c.key.startswith("@") and c.role == "player"]  # fmt: skip
    assert not open_to_players, f"@ commands must be for builders or admins: {open_to_players}"
    # subcommands are read from the help: e.g. @event's admin-only ones
    assert ("@event start dream_festival", "admin") in table
    assert any(line.startswith("@npc edit") for line, _ in table)


async def _refused_all(server, client: Client, rank: int) -> list[str]:
    refused = []
    for line, role in privilege_table():
        if ROLE_RANK[role] <= rank:
            continue
        client.pos = len(client.text)
        out = await client.cmd(line, r"\n> ")
        assert re.search(r"can't|only admins|may not", out, re.IGNORECASE), (line, out)
        if "yes/no" in out or "(y/n)" in out:  # a confirmation must never be reached
            raise AssertionError(f"{line!r} asked to confirm: {out}")
        refused.append(line)
    return refused


async def test_a_player_is_refused_every_privileged_form_and_nothing_changes(make_server):
    server = await make_server(**UNTHROTTLED)
    pell = await login(server.port, "Pell")
    before = snapshot(server.world)
    refused = await _refused_all(server, pell, ROLE_RANK["player"])
    assert len(refused) == len(privilege_table())
    await pell.cmd("look", "Dreamwave Nexus")  # no editor or pager left open
    assert snapshot(server.world) == before
    await pell.close()


async def test_a_builder_is_refused_every_admin_form_and_nothing_changes(make_server):
    server = await make_server(**UNTHROTTLED)
    bex = await login(server.port, "Bex")
    server.world.set_role(server.world.players_by_key["bex"], "builder")
    await login(server.port, "Pell")
    before, events_before = snapshot(server.world), running_events(server)
    refused = await _refused_all(server, bex, ROLE_RANK["builder"])
    assert "@role pell admin" in refused and "@event start dream_festival" in refused
    await bex.cmd("look", "Dreamwave Nexus")
    assert snapshot(server.world) == before
    assert running_events(server) == events_before
    await bex.close()
