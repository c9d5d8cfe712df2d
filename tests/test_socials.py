"""Socials through real sockets: alone, at someone, at yourself, at a character; as data."""

from __future__ import annotations

import pytest

import commands  # noqa: F401  (registers every command)
from commands.api import REGISTRY
from tests.client import login, said
from world.socials import load_socials, read_socials
from world.yamlsrc import ContentError


async def test_a_social_alone_at_someone_and_at_yourself(server):
    ada = await login(server.port, "Ada")
    bob = await login(server.port, "Bob")
    cy = await login(server.port, "Cyra")
    await ada.cmd("smile", "You smile.")
    await bob.expect("Ada smiles.")
    await cy.expect("Ada smiles.")
    await ada.cmd("smile bob", "You smile at Bob.")
    await bob.expect("Ada smiles at you.")
    await cy.expect("Ada smiles at Bob.")
    await ada.cmd("smile me", "You smile to yourself.")
    await bob.expect("Ada smiles at some private thought.")
    await ada.cmd("hug cy", "You hug Cyra.")  # a unique start of a name will do
    await cy.expect("Ada hugs you.")
    await bob.expect("Ada hugs Cyra.")
    # the actor never sees the third-person line, nor the target the room's
    await bob.quiet(0.1)
    assert "Ada smiles at Bob." not in bob.plain()
    assert "Ada smiles." not in ada.plain()
    for c in (ada, bob, cy):
        await c.close()


async def test_socials_refuse_what_they_cannot_do(server):
    ada = await login(server.port, "Ada")
    await ada.cmd("bow me", "You can't bow at yourself; try bow alone.")
    await ada.cmd("stretch ada", "You can.t stretch at yourself")  # your own name is "me"
    await ada.cmd("snore bob", "Snore takes nobody; type snore alone.")
    await ada.cmd("wave nobody", "You don't see 'nobody' here.")
    await ada.close()


async def test_socials_reach_characters(server):
    ada = await login(server.port, "Ada")
    await ada.cmd("east", "Measured Hours")
    await ada.cmd("bow ezra", "You bow before Ezra.")
    await ada.close()


async def test_the_socials_list_and_help(server):
    ada = await login(server.port, "Ada")
    out = await said(ada, "socials")
    for name in ("smile", "nod", "bow", "wave", "hug", "laugh", "sigh"):
        assert name in out
    assert "Socials (36)" in out
    out = await said(ada, "help")
    assert "socials" in out and "\n  smile" not in out  # one command lists them all
    await ada.cmd("help socials", "bow ada")
    await ada.close()


async def test_exits_and_commands_win_over_socials(server):
    bex = await login(server.port, "Bex")
    server.world.set_role(server.world.players_by_key["bex"], "builder")
    await bex.cmd("@dig Wave Pool = wave, back", "leads there from here")
    await bex.cmd("wave", "Wave Pool")  # the exit here, not the social
    await bex.cmd("wave", "You wave.")  # no such exit in the Wave Pool: the social
    await bex.close()


def test_at_least_thirty_socials_and_none_shadows_or_hides_a_command():
    socials = load_socials()
    assert len(socials) >= 30
    words = REGISTRY.words()
    for name in socials:
        assert name not in words
        assert not any(w.startswith(name) for w in words), name  # would hide a prefix


def test_social_content_errors_name_file_and_line():
    bad = "\n".join(
        [
            "socials:",
            "  - name: smile",
            "    alone: You smile.",
            "    alone_room: '{actor} smiles at {target}.'",
            "  - name: smile",
            "    alone: x",
            "    alone_room: y",
            "    actor: You wave at {target}.",
            "  - name: grin",
            "    alone: 'You {grin'",
            "    alone_room: x",
        ]
    )
    with pytest.raises(ContentError) as err:
        read_socials(path="soc.yaml", text=bad)  # type: ignore[arg-type]
    problems = err.value.problems
    assert any(p.startswith("soc.yaml:5:") and "actor, target and room" in p for p in problems)
    with pytest.raises(ContentError) as err:
        read_socials(path="soc.yaml", text="\n".join(bad.splitlines()[:4]))  # type: ignore
    assert err.value.problems == ["soc.yaml:4: alone_room uses {target}; this line may use {actor}"]
    grin = "\n".join(["socials:", *bad.splitlines()[8:]])
    with pytest.raises(ContentError) as err:
        read_socials(path="soc.yaml", text=grin)  # type: ignore[arg-type]
    assert err.value.problems[0].startswith("soc.yaml:3: alone: can't read the placeholders")
