"""The command line as a new user meets it: real `python server.py` processes, their words,
their exit codes, and the files they leave behind (or don't)."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
from fnmatch import fnmatch
from pathlib import Path

from tests.conftest import ROOT, server_env, spawn_server


def run_cli(*args: str, stdin: str = "", cwd: Path | None = None) -> subprocess.CompletedProcess:
    # A new session has no controlling terminal, so getpass reads the answers from stdin.
    return subprocess.run(
        [sys.executable, str(ROOT / "server.py"), *args],
        input=stdin, capture_output=True, text=True, env=server_env(), timeout=60,
        cwd=str(cwd) if cwd else None, start_new_session=True,
    )  # fmt: skip


def db_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".db" in p.name)


def audit_rows(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0]


BAD_WORLD = "zones:\n  - key: z\n    name: Zone\nrooms:\n  - id: 1\n    key: one\n    zone: nope\n"


def test_a_busy_port_is_one_sentence_and_touches_no_database(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        res = run_cli("run", "--port", str(port), "--db", str(tmp_path / "x.db"), cwd=tmp_path)
    assert res.returncode != 0
    assert "Traceback" not in res.stderr
    assert f"Can't listen on 127.0.0.1:{port}: that port is already in use" in res.stderr
    assert "--port" in res.stderr
    assert db_files(tmp_path) == []  # no database, no lock file


def test_create_admin_asks_again_when_the_passwords_differ(tmp_path):
    db = tmp_path / "a.db"
    res = run_cli(
        "create-admin", "Ada", "--db", str(db),
        stdin="firstpassword\nsecondpassword\nshort\nadminpass\nadminpass\n",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "The passwords didn't match. Let's try again." in res.stderr
    assert "at least 8 characters. Let's try again." in res.stderr
    assert "Created admin Ada." in res.stdout


def test_create_admin_gives_up_after_three_tries_and_leaves_no_file(tmp_path):
    res = run_cli(
        "create-admin", "Ada", "--db", str(tmp_path / "a.db"),
        stdin="onepassword\ntwopassword\n" * 3,
    )  # fmt: skip
    assert res.returncode == 2
    assert res.stderr.count("didn't match") == 3
    assert "Nothing was changed." in res.stderr
    assert db_files(tmp_path) == []
    res = run_cli("create-admin", "R2D2", "--password-stdin", "--db", str(tmp_path / "b.db"))
    assert res.returncode == 2 and "3 to 20 letters" in res.stderr
    assert db_files(tmp_path) == []


def test_create_admin_on_an_admin_says_so_and_writes_nothing(tmp_path):
    db = tmp_path / "a.db"
    res = run_cli("create-admin", "Ada", "--password-stdin", "--db", str(db), stdin="adminpass\n")
    assert res.returncode == 0, res.stderr
    before = audit_rows(db)
    res = run_cli("create-admin", "ada", "--password-stdin", "--db", str(db), stdin="\n")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "Ada is already an admin; nothing was changed."
    assert "Promoted" not in res.stdout
    assert audit_rows(db) == before
    res = run_cli("create-admin", "Ada", "--db", str(db))  # asked interactively: same
    assert "already an admin; nothing was changed" in res.stdout
    assert audit_rows(db) == before


def test_a_failed_import_into_a_new_file_leaves_no_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD_WORLD)
    res = run_cli("import-world", str(bad), "--db", str(tmp_path / "new.db"))
    assert res.returncode == 1
    assert "nothing was imported" in res.stderr
    assert db_files(tmp_path) == []
    res = run_cli("import-world", str(tmp_path / "missing.yaml"), "--db", str(tmp_path / "n.db"))
    assert res.returncode == 1 and "Can't read" in res.stderr
    assert db_files(tmp_path) == []


async def test_refused_commands_name_what_each_can_do_instead(tmp_path):
    db = tmp_path / "busy.db"
    good = tmp_path / "world.yaml"
    sp = await spawn_server(db)
    try:
        res = run_cli("export-world", str(good), "--db", str(db))  # only reads: works
        assert res.returncode == 0, res.stderr
        res = run_cli("import-world", str(good), "--replace", "--db", str(db))
        assert res.returncode == 1 and "already using" in res.stderr
        assert "stop the server first, or build in game with @dig" in res.stderr
        assert "@role" not in res.stderr
        res = run_cli("create-admin", "Root", "--password-stdin", "--db", str(db), stdin="x\n")
        assert res.returncode == 1 and "already using" in res.stderr
        assert "stop the server first, or have an admin type `@role Root admin`" in res.stderr
    finally:
        sp.kill_hard()


def test_database_lock_files_are_ignored_by_git():
    patterns = [p.strip() for p in (ROOT / ".gitignore").read_text().splitlines()]
    for name in ("dreamwave.db.lock", "test.db.lock"):
        assert any(p and fnmatch(name, p) for p in patterns), name
