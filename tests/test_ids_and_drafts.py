"""What outlives the engine, through real processes: ids are never handed out twice, across a
reload and a kill -9 (issue 19, item 15), and a draft kept over a reload comes back once
(item 6)."""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

from sqlalchemy import create_engine

from tests.client import Client, login, said
from tests.conftest import ROOT, make_admin
from tests.test_split import engine_pids, wait_for


async def dig(root: Client, name: str) -> list[int]:
    """@dig a room with a way there and back; its room#, then its two exit#s."""
    out = await said(root, f"@dig {name} = glassward, back")
    ids = [int(n) for n in re.findall(r"(?:room|exit)#(\d+)", out)]
    assert len(ids) == 3, out
    return ids


async def destroy(root: Client, room_id: int) -> None:
    await said(root, f"@destroy room#{room_id}", prompt="anything else to cancel: ")
    await root.cmd("yes", "You destroy")


async def test_ids_are_never_reused_after_a_reload_or_a_kill_9(split):
    root = await login(split.port, "Root", create=False)
    seen = await dig(root, "Glass Hall")
    await destroy(root, seen[0])

    split.proc.send_signal(signal.SIGHUP)
    await root.expect("The dreamscape settles around you again", timeout=15)
    again = await dig(root, "Second Hall")
    assert not set(again) & set(seen), (seen, again)
    await destroy(root, again[0])
    seen += again

    await wait_for(lambda: len(engine_pids(split)) == 2, what="the reloaded engine")
    os.kill(engine_pids(split)[-1], signal.SIGKILL)
    await root.expect("The dream steadies around you again", timeout=15)
    third = await dig(root, "Third Hall")
    assert not set(third) & set(seen), (seen, third)
    out = await said(root, "@audit")
    for n in seen:  # every id in the audit log names one thing
        assert len(re.findall(rf"room#{n}\b", out)) <= 2, out
    await root.close()


async def test_a_lifted_ban_keeps_its_number_after_a_reload(split):
    root = await login(split.port, "Root", create=False)
    first = await said(root, "@ban 203.0.113.9")
    (n,) = re.findall(r"ban #(\d+)", first)
    await root.cmd(f"@unban #{n}", "Lifted the ban")
    split.proc.send_signal(signal.SIGHUP)
    await root.expect("The dreamscape settles around you again", timeout=15)
    second = await said(root, "@ban 203.0.113.10")
    assert re.findall(r"ban #(\d+)", second) == [str(int(n) + 1)], second
    await root.close()


async def test_a_draft_kept_over_a_reload_comes_back_once(split):
    root = await login(split.port, "Root", create=False)
    await said(root, "@desc here = The hall before.")
    await said(root, "@desc here", prompt=r"edit> ")
    await said(root, "Mirrors line the walls.", prompt=r"edit> ")
    split.proc.send_signal(signal.SIGHUP)
    await root.expect("The dreamscape settles around you again", timeout=15)
    await root.expect(r"kept as a draft")
    await said(root, "@desc here", prompt=r"edit> ")
    shown = await said(root, ".r", prompt=r"edit> ")
    shown += await said(root, ".p", prompt=r"edit> ")
    assert shown.count("The hall before.") == 1, shown
    await said(root, ".")
    look = " ".join((await said(root, "look")).split())
    assert "The hall before. Mirrors line the walls." in look, look
    assert look.count("The hall before.") == 1, look
    await root.close()


def downgrade(db: Path, revision: str) -> None:
    """Take a database back to an older schema, as a server of that time left it."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "mud" / "store" / "migrations"))
    engine = create_engine(f"sqlite:///{db}")
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
    engine.dispose()


async def test_an_older_database_migrates_and_starts_above_its_ids(make_server, tmp_path):
    db = tmp_path / "old.db"
    make_admin(db)
    downgrade(db, "0008")  # before id marks
    server = await make_server(db=f"sqlite:///{db}")
    root = await login(server.port, "Root", create=False)
    first = await dig(root, "Glass Hall")
    await destroy(root, first[0])
    await root.close()
    await server.stop()

    server = await make_server(db=f"sqlite:///{db}")
    root = await login(server.port, "Root", create=False)
    second = await dig(root, "Second Hall")
    assert min(second) > 0 and not set(second) & set(first), (first, second)
    assert second[0] == first[0] + 1 and second[1] == first[2] + 1
    await root.close()


def test_a_deleted_letters_number_is_never_given_to_the_next():
    """Mail takes its numbers from the world's id spaces too: a letter deleted before a
    restart leaves its number behind (the rows a restart loads are the ones staged)."""
    from world.world import World

    rows: dict[str, dict[object, dict[str, object]]] = {}

    def stage(table: str, key: object, row: dict[str, object] | None) -> int:
        if row is None:
            rows.setdefault(table, {}).pop(key, None)
        else:
            rows.setdefault(table, {})[key] = row
        return 0

    first = World(stage)
    first.mail.quota.limit = 0  # (unlimited here: the quota has its own tests)
    first.create_room("Nexus", "Where dreamers arrive.")
    ada = first.create_player("Ada", "x")
    bo = first.create_player("Bo", "x")
    first.mail.send(ada, bo, "one", "the first letter")
    (letter,) = first.mail.box(bo)
    first.mail.delete(bo, letter)

    again = World(stage)
    again.load({table: list(by_key.values()) for table, by_key in rows.items()})
    again.mail.quota.limit = 0
    again.mail.send(again.players_by_key["ada"], again.players_by_key["bo"], "two", "again")
    (second,) = again.mail.box(again.players_by_key["bo"])
    assert second.id > letter.id
