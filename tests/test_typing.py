"""What a dreamer types that isn't quite a command: typos, exit names with words after them,
and a tell to someone asleep."""

from __future__ import annotations

import re

from commands.api import REGISTRY, edits
from tests.client import login, said
from world.model import Player


async def test_a_typo_of_any_kind_gets_its_command_as_a_hint(server):
    ada = await login(server.port, "Ada")
    for typed, meant in [
        ("sya hi", "say"),  # two letters swapped
        ("lok", "look"),  # one dropped
        ("emtoe waves", "emote"),
        ("inventroy", "inventory"),
        ("lookk", "look"),  # one added
        ("whp", "who"),  # one changed
    ]:
        word = typed.split()[0]
        out = await said(ada, typed)
        assert re.search(rf"Unknown command '{word}'\. Did you mean [^?]*\b{meant}\b", out), out
    for word in ("xyzzyq", "z"):  # (one letter is one edit from every one-letter alias)
        out = await said(ada, word)
        assert f"Unknown command '{word}'. Type help for a list of commands." in out
    await ada.close()


def test_one_rule_for_every_command_and_alias():
    """Any command word a player may use, with two neighbouring letters swapped (or one
    dropped), is suggested back (an unambiguous prefix runs instead, so those are skipped)."""
    player = Player(1, "Ada", "x")
    words = REGISTRY.words()
    checked = 0
    for name in sorted(words):
        cmd = REGISTRY.exact(name)
        if cmd is None or cmd.hidden or cmd.role != "player" or len(name) < 3:
            continue
        for typo in (name[1] + name[0] + name[2:], name[:-1]):
            if typo in words or any(w.startswith(typo) for w in words):
                continue
            assert name in REGISTRY.nearest(typo, player) or any(
                REGISTRY.exact(w) is cmd for w in REGISTRY.nearest(typo, player)
            ), (typo, name, REGISTRY.nearest(typo, player))
            checked += 1
    assert checked > 30
    assert edits("sya", "say", 2) == 1 and edits("abc", "xyz", 1) == 2


async def test_an_exit_name_with_words_after_it_speaks_on_the_channel(server):
    ada = await login(server.port, "Ada")
    bob = await login(server.port, "Bob")
    server.world.set_role(server.world.players_by_key["ada"], "builder")  # (who may speak)
    await said(ada, "channel join festival")
    await said(bob, "channel join festival")
    out = await said(ada, "festival hello?")  # `festival` is also the way up, here
    assert "[festival] Ada: hello?" in out and "Festival Grounds" not in out
    await bob.expect(r"\[festival\] Ada: hello\?")
    out = await said(ada, "look")
    assert "Dreamwave Nexus" in out  # nobody walked anywhere
    # no channel of that name: how to do either, and nothing else happens
    out = " ".join((await said(ada, "north quickly now")).split())
    assert (
        "'north' is a way out of here; to go that way, type north alone, and to speak, "
        "say and your words." in out
    )
    assert "Dreamwave Nexus" in await said(ada, "look")
    out = " ".join((await said(ada, "tides are turning")).split())  # (an exit's other name)
    assert "'tides' is a way out of here; to go that way, type tides alone" in out
    # the name alone still walks
    assert "Festival Grounds" in await said(ada, "festival")
    await ada.close()
    await bob.close()


async def test_a_tell_to_someone_asleep_offers_a_letter(server):
    ada = await login(server.port, "Ada")
    bob = await login(server.port, "Bob")
    await bob.cmd("quit", "May your dreams be gentle")
    await bob.wait_closed()
    out = await said(ada, "tell bob are you there?")
    assert "Bob is asleep, out of the Dreamwave; mail send Bob leaves them a letter." in out
    out = await said(ada, "tell nobodyhere hi")
    assert "No dreamer called 'nobodyhere' is awake in the Dreamwave right now." in out
    await ada.cmd("mail send Bob = hello", r"(?s)\.q throws it away.*")
    await ada.close()
