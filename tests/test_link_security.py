"""Who may speak on the link, and what other users of the machine or the bus can see.

Real processes throughout: `python server.py`, a real nats-server (with and without
authentication), a far gateway as it would run on another machine, an attacker who holds the
bus's credentials but not the link secret, and `nobody` as the other local user.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import site
import socket
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import msgpack
import pytest

from tests.client import login, said
from tests.conftest import ROOT, make_admin, server_env, spawn_server
from tests.test_link import run_nats
from tests.test_nats_gateways import PASSWORD, USER, Far, nats_env

SECRET = "a-link-secret-only-the-operator-knows"
VICTIM_PASSWORD = "hunter2hunter2"


@pytest.fixture
def open_nats_url() -> Iterator[str]:
    yield from run_nats()


@pytest.fixture
def nats_auth_url() -> Iterator[str]:
    yield from run_nats("--user", USER, "--pass", PASSWORD)


def secret_env(secret: str = SECRET) -> dict[str, str]:
    return nats_env(secret=secret)


def run(argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "server.py"), *argv], env=env, cwd=str(cwd),
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def stop(sp) -> None:  # type: ignore[no-untyped-def]
    if sp.proc.poll() is None:
        sp.proc.send_signal(signal.SIGTERM)
        await asyncio.get_running_loop().run_in_executor(None, sp.proc.wait, 60)


# -- 1. NATS: an authenticated bus, and gateways that prove the link secret ---------------------
async def test_nats_without_authentication_is_refused_unless_said_insecure(tmp_path, open_nats_url):
    env = server_env()
    env["DREAMWAVE_LINK__SECRET"] = SECRET
    res = run(["run", "--port", "0", "--db", "x.db", "--nats", open_nats_url], env, tmp_path)
    assert res.returncode == 1
    assert "without authentication" in res.stderr and "nats_insecure" in res.stderr
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "x.db").exists()  # refused before any database was opened

    env["DREAMWAVE_LINK__NATS_INSECURE"] = "true"
    sp = await spawn_server(tmp_path / "y.db", "--nats", open_nats_url, env=env)
    try:
        ada = await login(sp.port, "Ada")
        await said(ada, "look")
        assert "WARNING" in sp.log and "no authentication" in sp.log
    finally:
        await stop(sp)


def test_a_secret_file_others_can_read_is_refused(tmp_path):
    secret_file = tmp_path / "link-secret"
    secret_file.write_text(SECRET)
    os.chmod(secret_file, 0o644)
    env = nats_env()
    del env["DREAMWAVE_LINK__SECRET"]
    env["DREAMWAVE_LINK__SECRET_FILE"] = str(secret_file)
    argv = ["gateway", "--nats", "nats://127.0.0.1:1", "--name", "far", "--port", "0"]
    res = run(argv, env, tmp_path)
    assert res.returncode == 1
    assert f"chmod 600 {secret_file}" in res.stderr and "Traceback" not in res.stderr


async def test_nats_needs_a_link_secret(tmp_path, nats_auth_url):
    env = nats_env()
    del env["DREAMWAVE_LINK__SECRET"]
    res = run(["run", "--port", "0", "--db", "x.db", "--nats", nats_auth_url], env, tmp_path)
    assert res.returncode == 1
    assert "link secret" in res.stderr and "Traceback" not in res.stderr


async def test_a_forged_gateway_is_refused_and_the_bus_carries_nothing_in_clear(
    tmp_path, nats_auth_url
):
    """The attacker has the bus's user and password (someone else's service on the same
    cluster), not the link secret: it reads everything published, forges a gateway that
    attaches the offline admin, and injects a line into a real gateway's subject."""
    import nats

    db = tmp_path / "nats.db"
    make_admin(db)
    sp = await spawn_server(db, "--nats", nats_auth_url, env=secret_env())
    far = Far(nats_auth_url, "far", tmp_path, secret=SECRET)
    wrong = Far(nats_auth_url, "wrong", tmp_path, secret="not-the-secret")
    bus = await nats.connect(nats_auth_url, user=USER, password=PASSWORD)
    heard: list[bytes] = []

    async def listen(msg) -> None:  # type: ignore[no-untyped-def]
        heard.append(msg.subject.encode() + b" " + msg.data)

    await bus.subscribe("dreamwave.>", cb=listen)
    try:
        far_port = await far.started()
        ada = await login(sp.port, "Ada")
        victim = await login(far_port, "Victim", VICTIM_PASSWORD)

        # a forged gateway attaches the admin (player 1) and walls; a line is injected
        # into the real far gateway's subject
        admin = {"started": True, "greeted": True, "player": 1}
        facts = {"address": "10.6.6.6", "port": 1, "ttypes": [], "cols": 80, "rows": 24}
        forged = [["hello", "evil", {"reason": "crash"}, [[1, facts, admin]]],
                  ["in", 1, b"@wall forged-wall"]]  # fmt: skip
        # and a forged engine writes to the far gateway's players ("type your password")
        phish = [["O", [sid], [0], [0], [b"FORGED-OUTPUT"]] for sid in range(1, 4)]
        for _ in range(3):
            await bus.publish("dreamwave.up.evil", msgpack.packb([0, forged]))
            await bus.publish("dreamwave.up.far", msgpack.packb([0, [["in", 1, b"say injected"]]]))
            await bus.publish("dreamwave.down.far", msgpack.packb([0, phish]))
            await bus.flush()
            await asyncio.sleep(0.3)
        await said(victim, "say legit")
        await ada.expect('Victim says, "legit"')
        assert "forged-wall" not in ada.plain() and "injected" not in ada.plain()
        assert "injected" not in victim.plain() and "FORGED-OUTPUT" not in victim.plain()

        # the wrong secret: that gateway is never welcomed, and the engine says why
        await wrong.started()
        for _ in range(100):
            if "it has another one" in sp.log:
                break
            await asyncio.sleep(0.1)
        assert "link wrong: refused: the gateway could not prove the link secret" in sp.log
        assert "link evil: refused: the gateway could not prove the link secret" in sp.log

        assert heard, "the attacker heard nothing at all: the test watched the wrong subjects"
        bus_bytes = b"".join(heard)
        assert VICTIM_PASSWORD.encode() not in bus_bytes
        assert b"legit" not in bus_bytes and SECRET.encode() not in bus_bytes
        await ada.close()
        await victim.close()
    finally:
        await bus.close()
        far.stop()
        wrong.stop()
        await stop(sp)
    assert "Traceback" not in sp.log, sp.log


# -- 2. secrets in listings and command lines ---------------------------------------------------
def test_config_hides_every_secret(tmp_path):
    env = server_env()
    env["DREAMWAVE_LINK__NATS_PASSWORD"] = "pw-in-env"
    env["DREAMWAVE_LINK__NATS_TOKEN"] = "token-in-env"
    env["DREAMWAVE_LINK__SECRET"] = SECRET
    res = run(["config", "--db", "postgresql+psycopg://dw:dbpass@localhost/dw"], env, tmp_path)
    assert res.returncode == 0, res.stderr
    for secret in ("pw-in-env", "token-in-env", SECRET, "dbpass"):
        assert secret not in res.stdout
    assert 'nats_password = "***"' in res.stdout


async def test_children_get_secrets_outside_their_command_lines(tmp_path, nats_auth_url):
    url = nats_auth_url.replace("nats://", f"nats://{USER}:{PASSWORD}@")
    env = server_env()
    env["DREAMWAVE_LINK__SECRET"] = SECRET
    sp = await spawn_server(tmp_path / "x.db", "--nats", url, env=env)
    try:
        ada = await login(sp.port, "Ada")
        await said(ada, "look")
        children = sp.pids()
        assert len(children) == 2  # the engine and the gateway
        for pid in children:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes()
            assert PASSWORD.encode() not in argv and SECRET.encode() not in argv, argv
            # (/proc/PID/environ, where they are, is readable by the owner only)
            assert mode(Path(f"/proc/{pid}/environ")) & 0o077 == 0
    finally:
        await stop(sp)


# -- 3. files other users must not read ---------------------------------------------------------
async def test_database_and_log_files_are_owner_only():
    # in a folder anyone may enter (as a home folder often is): only the files' own modes
    # stand between another user and the accounts' hashes
    base = Path(tempfile.mkdtemp(prefix="dreamwave-test-modes-", dir="/tmp"))
    os.chmod(base, 0o755)
    env = server_env()
    env["DREAMWAVE_LOG_FILE"] = str(base / "server.log")
    db = base / "x.db"
    try:
        sp = await spawn_server(db, env=env)
        try:
            ada = await login(sp.port, "Ada")
            await said(ada, "look")
            files = [
                db,
                Path(f"{db}-wal"),
                Path(f"{db}-shm"),
                Path(f"{db}.lock"),
                base / "server.log",
            ]
            for path in files:
                assert path.exists(), path
                assert mode(path) & 0o077 == 0, f"{path} is {oct(mode(path))}"
            as_nobody = ["runuser", "-u", "nobody", "--", "cat", str(db)]
            assert subprocess.run(as_nobody, capture_output=True).returncode != 0
        finally:
            await stop(sp)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_an_old_world_readable_database_is_made_owner_only(tmp_path):
    db = tmp_path / "old.db"
    make_admin(db)
    os.chmod(db, 0o644)
    make_admin(db, "Other")
    assert mode(db) & 0o077 == 0


# -- 4. the link socket's folder ----------------------------------------------------------------
def test_a_socket_in_a_shared_folder_is_refused_and_the_folder_left_alone(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    env = server_env()
    env["DREAMWAVE_LINK__SOCKET"] = str(shared / "engine.sock")
    res = run(["run", "--port", "0", "--db", "x.db"], env, tmp_path)
    assert res.returncode == 1
    assert "only you can enter" in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert mode(shared) == 0o1777


def test_another_user_gets_a_sentence_not_a_traceback(tmp_path):
    if shutil.which("runuser") is None or os.geteuid() != 0:
        pytest.skip("needs root to run as nobody")
    readable = ["runuser", "-u", "nobody", "--", "test", "-r", str(ROOT / "server.py")]
    if subprocess.run(readable).returncode != 0:
        pytest.skip("nobody can't read this checkout (it lies in a folder only root may enter)")
    home = Path(f"/tmp/dreamwave-test-nobody-{os.getpid()}")
    home.mkdir()
    try:
        shutil.chown(home, "nobody", "nogroup")
        env = server_env()
        env["DREAMWAVE_LINK__SOCKET"] = "/tmp/engine.sock"  # /tmp: root's, open to all
        env["HOME"] = str(home)
        # nobody may not enter root's own Python: the system's, with this one's packages
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *site.getsitepackages()])
        python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
        argv = ["runuser", "-u", "nobody", "--", python, str(ROOT / "server.py"),
                "run", "--port", "0", "--db", str(home / "x.db")]  # fmt: skip
        res = subprocess.run(argv, env=env, cwd=str(home), capture_output=True, text=True,
                             timeout=60, stdin=subprocess.DEVNULL)  # fmt: skip
        assert res.returncode == 1
        assert "only you can enter" in res.stderr and "Traceback" not in res.stderr
        assert mode(Path("/tmp")) == 0o1777
    finally:
        shutil.rmtree(home, ignore_errors=True)


async def test_stale_run_folders_are_cleaned_at_start(tmp_path):
    """kill -9 of the whole server leaves its private run folder; the next start removes it,
    and leaves alone a folder whose server still runs."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = server_env()
    env["TMPDIR"] = str(tmp)
    legacy_dead = tmp / "dreamwave-legacydead"  # (made before run folders had an owner file)
    legacy_young = tmp / "dreamwave-legacyyoung"
    for folder in (legacy_dead, legacy_young):
        folder.mkdir(mode=0o700)
        with socket.socket(socket.AF_UNIX) as s:
            s.bind(str(folder / "engine.sock"))  # nobody listens on it any more
    os.utime(legacy_dead, (0, 0))
    first = await spawn_server(tmp_path / "a.db", env=env)
    assert not legacy_dead.exists() and legacy_young.exists()
    shutil.rmtree(legacy_young)
    first_dirs = set(tmp.glob("dreamwave-*"))
    assert len(first_dirs) == 1
    second = await spawn_server(tmp_path / "b.db", env=env)
    try:
        first.kill_hard()
        assert set(tmp.glob("dreamwave-*")) >= first_dirs  # left behind by kill -9
        third = await spawn_server(tmp_path / "c.db", env=env)
        await stop(third)
        left = set(tmp.glob("dreamwave-*"))
        assert not left & first_dirs  # the dead one's folder is gone
        assert len(left) == 1  # the live second server's folder stays
    finally:
        await stop(second)
    assert not list(tmp.glob("dreamwave-*"))


# -- the handshake and the seal, without I/O ----------------------------------------------------
def test_sealed_payloads_can_be_neither_read_forged_nor_replayed():
    from mud.link.auth import Guard

    engine = Guard(SECRET.encode(), "engine", "far", sealed=True)
    gateway = Guard(SECRET.encode(), "gateway", "far", sealed=True)
    challenge, _ = engine.handle(gateway.knock())
    proof, what = gateway.handle(challenge)
    assert what == "ready" and engine.handle(proof) == (None, "ready")

    sealed = gateway.seal(b"create Victim hunter2hunter2")
    assert b"hunter2" not in sealed
    assert engine.open(sealed) == b"create Victim hunter2hunter2"
    assert engine.open(sealed) is None  # a replay
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    assert engine.open(gateway.seal(b"x")[:-1] + b"\0") is None and engine.open(tampered) is None

    # a forger without the secret: its challenge answer is refused, its proof too
    forger = Guard(b"guess", "gateway", "far", sealed=True)
    challenge, _ = engine.handle(forger.knock())
    answer, why = forger.handle(challenge)
    assert answer == ["refused"] and "another one" in why
    challenge, _ = engine.handle(forger.knock())
    assert engine.handle(["proof", b"\0" * 32])[1].startswith("the gateway could not prove")
    assert engine.open(gateway.seal(b"still the real one")) == b"still the real one"
