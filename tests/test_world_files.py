"""export-world / import-world: the built world round-trips through YAML, all or nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mud.core.app import open_world
from tests.conftest import ROOT, server_env
from world.content import read_world_file
from world.world import World
from world.worldfile import ContentError, ImportRefused, export_data, import_world


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "server.py"), *args, "--log-level", "WARNING"],
        input=stdin, capture_output=True, text=True, env=server_env(), timeout=60, check=False,
    )  # fmt: skip


def build_sample(db: Path) -> None:
    """The default world plus the things builders add: keyless rooms, locks, attrs, holders."""
    store, w = open_world(str(db))
    pell = w.create_player("Pell", "x")
    loft = w.create_room("Lasting Loft", "Rafters hum.\nDust drifts.", "festival",
                         attrs={"dark": True, "owner": "Pell"})  # fmt: skip
    up = w.create_exit(w.nexus, "northeast", loft, ("loft",), attrs={"owner": "Pell"})
    w.set_attr(up, "lock", "role:builder and (holds:rope or not phase:day) or inloop")
    w.set_attr(up, "fail", "The ladder is |rup|n.")
    w.set_description(up, "A rope ladder.")
    w.create_exit(loft, "southwest", w.nexus)
    w.create_exit(loft, "hatch", None)  # leads nowhere
    w.create_item("a coil of rope", ("rope", "coil"), "Frayed.", loft)
    w.create_item("a brass key", ("key",), "", pell, attrs={"owner": "Pell"})
    w.destroy_item(w.items[2])  # a gap in the item ids
    store.write_now()
    store.dispose()


def load(db: Path) -> World:
    store, w = open_world(str(db))
    store.dispose()
    return w


def world_shape(w: World) -> dict:
    return {
        "rooms": {r.id: (r.key, r.name, r.description, r.zone, r.attrs) for r in w.rooms.values()},
        "exits": {
            e.id: (e.room.id, e.name, e.aliases, e.dest_id, e.attrs, e.description)
            for e in w.exits.values()
        },
        "items": {
            i.id: (
                i.name,
                i.keywords,
                i.description,
                i.attrs,
                type(i.location).__name__,
                i.location.id if i.location else None,
            )
            for i in w.items.values()
        },
        "zones": {z.key: z.name for z in w.zones.values()},
    }


def test_round_trip_through_the_command_line(tmp_path):
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    build_sample(a)
    res = run("export-world", str(tmp_path / "a.yaml"), "--db", str(a))
    assert res.returncode == 0, res.stderr
    assert "Exported 12 rooms, 23 exits and 10 items" in res.stdout
    text = (tmp_path / "a.yaml").read_text()
    assert "key: room_12" in text and "lock: role:builder and (holds:rope" in text
    assert "brass key" not in text and "holder:" not in text  # what dreamers carry is theirs

    res = run("import-world", str(tmp_path / "a.yaml"), "--db", str(b))
    assert res.returncode == 0, res.stderr
    assert "Imported 3 zones, 12 rooms, 23 exits and 10 items" in res.stdout
    assert not res.stderr
    source, copy = world_shape(load(a)), world_shape(load(b))
    key_id = next(i for i, v in source["items"].items() if v[0] == "a brass key")
    assert source["items"].pop(key_id)[4:] == ("Player", 1)
    assert copy == source
    assert load(b).rooms[12].key is None  # the generated key is not kept

    res = run("export-world", "-", "--db", str(b))
    assert res.returncode == 0 and res.stdout.count("- id:") > 40


def test_a_bad_file_reports_every_problem_and_imports_nothing(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "zones:\n"
        "  - key: z\n"
        "    name: Zone\n"
        "rooms:\n"
        "  - id: 1\n"
        "    key: one\n"
        "    name: One\n"
        "    zone: z\n"
        "    attrs: {dark: perhaps, colour: blue}\n"
        "    exits:\n"
        "      - name: north\n"
        "        to: nowhere\n"
        "        lock: role:wizard\n"
        "  - id: 1\n"
        "    key: two\n"
        "    name: Two\n"
        "    zone: elsewhere\n"
        "items:\n"
        "  - name: a kite\n"
        "    room: two-ish\n"
    )
    db = tmp_path / "c.db"
    res = run("import-world", str(bad), "--db", str(db))
    assert res.returncode == 1
    err = res.stderr
    for expected in (
        f"{bad}:9: room attribute 'dark': dark must be true or false",
        f"{bad}:9: room attribute 'colour': unknown room attribute",
        f"{bad}:12: exit 'north' leads to unknown room 'nowhere'",
        f"{bad}:13: There is no role 'wizard'",
        f"{bad}:14: room id 1 is repeated",
        f"{bad}:17: unknown zone 'elsewhere'",
        f"{bad}:20: unknown room 'two-ish'",
    ):
        assert expected in err, expected
    assert "nothing was imported" in err
    w = load_without_seeding(db)  # the failed import wrote nothing
    assert not w.rooms and not w.audit_log


def load_without_seeding(db: Path) -> World:
    from mud.store import Store

    store = Store(f"sqlite:///{db}")
    store.migrate()
    w = World(store.stage)
    w.load(store.load())
    store.dispose()
    return w


def test_pydantic_errors_come_with_lines(tmp_path):
    bad = tmp_path / "shape.yaml"
    bad.write_text(
        "rooms:\n  - key: Not A Key\n    name: ''\n    zone: z\n    exits: nope\n"
        "items:\n  - name: kite\n    room: one\n    holder: Pell\n"
    )
    with pytest.raises(ContentError) as err:
        read_world_file(bad)
    text = "\n".join(err.value.problems)
    assert f"{bad}:2: rooms.0.key" in text
    assert f"{bad}:3: rooms.0.name" in text
    assert f"{bad}:5: rooms.0.exits" in text
    assert f"{bad}:7: items.0: Value error, an item needs exactly one of room or holder" in text


def test_replace_keeps_accounts_and_sends_the_homeless_to_the_nexus(tmp_path):
    a = tmp_path / "a.db"
    build_sample(a)
    path = tmp_path / "a.yaml"
    assert run("export-world", str(path), "--db", str(a)).returncode == 0

    store, w = open_world(str(a))
    pell = w.players_by_key["pell"]
    pell.room = w.rooms_by_key["festival_grounds"]
    w.save(pell)
    lost = w.create_player("Lost", "x")
    stray = w.create_room("Stray Room", zone="festival")
    lost.room = stray
    w.save(lost)
    w.create_item("a stray sock", ("sock",), "", stray)
    store.write_now()

    with pytest.raises(ImportRefused):
        import_world(w, path)
    assert "Stray Room" in [r.name for r in w.rooms.values()]  # refused: untouched
    report = import_world(w, path, replace=True)
    assert report.rehomed == 1 and not report.warnings
    store.write_now()
    store.dispose()

    after = load(a)
    assert "Stray Room" not in [r.name for r in after.rooms.values()]
    assert not any("sock" in i.name for i in after.items.values())
    assert after.players_by_key["pell"].room.key == "festival_grounds"
    assert [i.name for i in after.players_by_key["pell"].inventory] == ["a brass key"]
    assert after.players_by_key["lost"].room is after.nexus
    assert after.audit_log[-1].action == "import-world"
    assert export_data(after) == export_data(load(a))


def test_command_line_refuses_a_database_with_a_world(tmp_path):
    a = tmp_path / "a.db"
    build_sample(a)
    path = tmp_path / "a.yaml"
    assert run("export-world", str(path), "--db", str(a)).returncode == 0
    res = run("import-world", str(path), "--db", str(a))
    assert res.returncode == 1 and "--replace" in res.stderr
    res = run("import-world", str(path), "--db", str(a), "--replace")
    assert res.returncode == 0, res.stderr
    assert "Imported 3 zones, 12 rooms" in res.stdout
