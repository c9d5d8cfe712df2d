"""Small things a builder and an admin hit (issue 19, item 17), through real sockets: locking
a room, banning one's own single address, digging a name that exists; and the README's
festival length, measured on the event simulator's clock."""

from __future__ import annotations

import re

from tests.client import login, said
from tests.conftest import ROOT
from tests.test_festival import festival_sim


async def admin(server, name: str = "Keeper"):
    c = await login(server.port, name)
    server.world.set_role(server.world.players_by_key[name.lower()], "admin")
    return c


async def test_only_exits_lock_and_a_room_is_told_so(server):
    c = await admin(server)
    out = await said(c, "@lock here = role:builder")
    assert "Only exits can be locked, and Dreamwave Nexus (room#1) is a room" in out, out
    assert "@lock north = role:builder" in out
    out = await said(c, "@unlock here")
    assert "Only exits can be locked" in out
    out = await said(c, "@lock nowhere-at-all = role:builder")
    assert "I can't find 'nowhere-at-all'" in out
    await c.cmd("@lock north = role:builder", "is locked: role:builder")
    assert server.world.rooms[1].attrs.get("lock") is None


async def test_banning_your_own_address_says_so_plainly(server):
    c = await admin(server)
    out = await said(c, "@ban 127.0.0.1")
    assert "127.0.0.1 is your own address; you can't ban yourself." in out, out
    assert "narrower" not in out
    out = await said(c, "@ban 127.0.0.0/8")
    assert "127.0.0.0/8 holds your own address; ban a narrower network" in out, out
    assert not server.world.moderation.bans.matching("127.0.0.1")
    await c.cmd("@ban 203.0.113.7", "Connections from 203.0.113.7/32 are refused")


async def test_digging_a_name_that_exists_warns_and_digs(server):
    c = await admin(server)
    first = await said(c, "@dig Hall of Echoes")
    assert "Note" not in first
    out = await said(c, "@dig hall of echoes")
    (old,) = re.findall(r"You dig Hall of Echoes \(room#(\d+)\)", first)
    assert re.search(r"You dig hall of echoes \(room#\d+\)", out), out
    assert f"Note: room#{old} is already called that; #ids tell them apart" in out
    halls = [r for r in server.world.rooms.values() if r.name.lower() == "hall of echoes"]
    assert len(halls) == 2


def test_the_readme_says_how_long_the_festival_takes_at_30x(tmp_path):
    """Two quick dreamers through the whole story, one real second at a time at 30x."""
    sim = festival_sim(tmp_path)
    w, ds = sim.world, sim.world.dreams
    w.clock.set_time_scale(30)
    ada, ear = sim.dreamer("Ada", "festival_grounds")
    bob, _ = sim.dreamer("Bob", "festival_grounds")
    sim.rt.start("dream_festival")
    seconds, heard = 0, ""
    while "dream_festival" in sim.rt.running and seconds < 3600:
        heard += ear.heard()
        if "about to open" in heard and ada.room.key == "festival_grounds":
            for p in (ada, bob):
                w.move(p, w.rooms_by_key["festival_pavilion"])
        if ds.hosted_invitations(ada):
            for p in (ada, bob):
                ds.join_hosted(p, ds.hosted_invitations(p)[0])
        if "Weave three lines" in heard and not ds.loop_of(ada).narrative:
            for p in (ada, bob, ada):
                ds.weave(p, f"{p.name} answers.")
        if sim.rt.prompt_here(ada.room) is not None:
            for p in (ada, bob):
                sim.rt.choose(p, "both")
        sim.later(w.clock.game_delay(1.0))
        seconds += 1
    assert sim.rt.flags["festival_outcome"] == "held"
    assert 90 <= seconds <= 150, seconds  # about two minutes
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert "two people, about two minutes at `--time-scale 30`" in readme
