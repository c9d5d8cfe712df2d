"""A world file is the builders' world: a live world where dreamers dream, carry things and
weave loops exports, imports into a new database and exports again to the same file, and
nothing of the players' leaks into it (issue 19, item 1)."""

from __future__ import annotations

from pathlib import Path

from mud.core.app import open_world
from tests.client import login
from tests.test_world_files import run

PROMPT = r"(?s).*?\n> "


async def live_world(make_server, db: Path):
    """Ada shapes a dream; Bob carries the map; Bob and Cyd weave a loop (and stay in it).
    Returns a coroutine function that lets them go and stops the server."""
    server = await make_server(db=f"sqlite:///{db}")
    ada, bob, cyd = [await login(server.port, n) for n in ("Ada", "Bob", "Cyd")]
    await bob.cmd("get map", "You pick up a folded map")
    await ada.cmd("dream", r"(?s)Dream.*?Exits:.*?> ")
    await ada.cmd("dream describe Lamplight pools on a glass floor.", "reshapes")
    await ada.cmd("dream motif a glass bird", "dream a glass bird into being")
    await ada.cmd("dream dig Lamp Room = up, down", "new place")
    await ada.cmd("up", "Lamp Room")
    for c in (bob, cyd):
        await c.cmd("dream", r"(?s)Dream.*?Exits:.*?> ")
    await bob.cmd("merge Cyd", "If they answer")
    await cyd.expect("merge Bob")
    await cyd.cmd("merge Bob", "Loop of")
    await bob.cmd("weave A kite of moths drifts between us.", PROMPT)

    async def done() -> None:
        for c in (ada, bob, cyd):
            await c.close()
        await server.stop()

    return done


PRIVATE = ("Lamp Room", "Lamplight", "glass bird", "Loop of", "kite of moths", "folded map",
           "dream:", "motif", "loop:", "'s Dream")  # fmt: skip


async def test_round_trip_is_exact_and_keeps_dreams_private(make_server, tmp_path):
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    done = await live_world(make_server, a)
    res = run("export-world", str(tmp_path / "a.yaml"), "--db", str(a))  # while they play
    assert res.returncode == 0, res.stderr
    await done()
    text = (tmp_path / "a.yaml").read_text()
    for word in PRIVATE:
        assert word not in text, word

    res = run("import-world", str(tmp_path / "a.yaml"), "--db", str(b))
    assert res.returncode == 0, res.stderr + res.stdout
    assert "problem" not in res.stderr
    res = run("export-world", str(tmp_path / "b.yaml"), "--db", str(b))
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "b.yaml").read_text() == text

    # --replace on the live database: the players' dreams, loop and pockets stay as they were
    res = run("import-world", str(tmp_path / "a.yaml"), "--db", str(a), "--replace")
    assert res.returncode == 0, res.stderr + res.stdout
    assert "warning" not in res.stderr and "Nexus" not in res.stdout
    res = run("export-world", str(tmp_path / "c.yaml"), "--db", str(a))
    assert (tmp_path / "c.yaml").read_text() == text

    server = await make_server(db=f"sqlite:///{a}")
    ada = await login(server.port, "Ada", create=False)
    await ada.cmd("look", "Lamp Room")
    await ada.cmd("inventory", "a glass bird")
    await ada.cmd("down", "Lamplight pools on a glass floor")
    bob = await login(server.port, "Bob", create=False)
    await bob.cmd("look", "Loop of Bob and Cyd")
    await bob.cmd("inventory", "a folded map")
    await ada.close()
    await bob.close()


async def test_import_into_a_world_with_dreams_renumbers_clashing_ids(make_server, tmp_path):
    """A file from elsewhere whose ids a dream here already uses: the dream keeps its ids."""
    a = tmp_path / "a.db"
    await (await live_world(make_server, a))()
    store, w = open_world(str(a))
    lamp = next(r for r in w.rooms.values() if r.name == "Lamp Room")
    store.dispose()
    other = tmp_path / "other.yaml"
    other.write_text(
        f"zones:\n  - key: z\n    name: Zone\nrooms:\n  - id: {lamp.id}\n    key: nexus\n"
        "    name: A Plain Hall\n    zone: z\n"
    )
    res = run("import-world", str(other), "--db", str(a), "--replace")
    assert res.returncode == 0, res.stderr
    assert f"room id {lamp.id} belongs to a dreamer's room here" in res.stderr
    store, w = open_world(str(a))
    store.dispose()
    assert w.rooms[lamp.id].name == "Lamp Room"
    assert w.nexus.name == "A Plain Hall" and w.nexus.id != lamp.id


def test_a_character_hosting_a_loop_is_written_where_the_loop_is_anchored(tmp_path):
    db = tmp_path / "n.db"
    store, w = open_world(str(db))
    lyra = w.npcs_by_key.get("lyra") or w.create_npc("lyra", "Lyra Kinsey")
    pavilion = w.rooms_by_key["festival_pavilion"]
    loop = w.dreams.open_loop([], "The Dream Network Loop", host_id=lyra.id, anchor=pavilion)
    w.move_npc(lyra, w.rooms[loop.room_id])
    store.write_now()
    store.dispose()
    path = tmp_path / "n.yaml"
    assert run("export-world", str(path), "--db", str(db)).returncode == 0
    text = path.read_text()
    assert "The Dream Network Loop" not in text
    assert "{key: lyra, name: Lyra Kinsey, short: Lyra Kinsey, room: festival_pavilion}" in text

    res = run("import-world", str(path), "--db", str(db), "--replace")  # the loop goes on
    assert res.returncode == 0, res.stderr
    store, w = open_world(str(db))
    store.dispose()
    assert w.npcs_by_key["lyra"].room.id == loop.room_id
