"""Gateways on other machines: the engine takes gateways over NATS beside its local one.

A real nats-server with a user and password (Debian's package; skipped only when it is
absent), the server's own processes, and `python server.py gateway --nats URL` as a second
gateway, as it would run on another machine."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.client import login, said
from tests.conftest import ROOT, server_env, spawn_server
from tests.test_link import run_nats

USER, PASSWORD = "dreamwave", "n4ts-s3cret"
LINK_SECRET = "the-link-secret-gateways-prove"


@pytest.fixture
def nats_auth_url() -> Iterator[str]:
    yield from run_nats("--user", USER, "--pass", PASSWORD)


def nats_env(password: str = PASSWORD, secret: str = LINK_SECRET) -> dict[str, str]:
    env = server_env()
    env["DREAMWAVE_LINK__NATS_USER"] = USER
    env["DREAMWAVE_LINK__NATS_PASSWORD"] = password
    env["DREAMWAVE_LINK__SECRET"] = secret  # the same on the engine and every gateway
    return env


class Far:
    """`python server.py gateway --nats URL --name NAME --port 0`, and the port it took."""

    def __init__(
        self, url: str, name: str, cwd: Path, password: str = PASSWORD, secret: str = LINK_SECRET
    ) -> None:
        argv = [sys.executable, str(ROOT / "server.py"), "gateway", "--nats", url,
                "--name", name, "--port", "0"]  # fmt: skip
        self.proc = subprocess.Popen(
            argv, cwd=str(cwd), env=nats_env(password, secret), stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True, start_new_session=True,
        )  # fmt: skip
        self.lines: list[str] = []
        self.port = 0

    async def started(self) -> int:
        loop = asyncio.get_running_loop()
        assert self.proc.stderr is not None
        while True:
            line = await asyncio.wait_for(loop.run_in_executor(None, self.proc.stderr.readline), 30)
            if not line:
                raise AssertionError("the gateway exited:\n" + "".join(self.lines))
            self.lines.append(line)
            m = re.search(r"accepting on [\d.]+:(\d+)", line)
            if m:
                self.port = int(m.group(1))
                loop.run_in_executor(None, self._drain)
                return self.port

    def _drain(self) -> None:
        for line in self.proc.stderr:  # type: ignore[union-attr]
            self.lines.append(line)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(20)


async def test_two_gateways_one_engine_over_nats(tmp_path, nats_auth_url):
    sp = await spawn_server(tmp_path / "nats.db", "--nats", nats_auth_url, env=nats_env())
    far = Far(nats_auth_url, "far", tmp_path)
    try:
        far_port = await far.started()
        ada = await login(sp.port, "Ada")  # on the supervisor's own (local) gateway
        bob = await login(far_port, "Bob")  # on the one "on another machine"
        await said(ada, "say hello over there")
        await bob.expect('Ada says, "hello over there"')
        await said(bob, "say and back again")
        await ada.expect('Bob says, "and back again"')

        # A reload: both gateways keep their players.
        sp.proc.send_signal(signal.SIGHUP)
        for c in (ada, bob):
            await c.expect("The dreamscape shimmers", timeout=10)
            await c.expect("The dreamscape settles around you again", timeout=15)
        await said(bob, "say still here")
        await ada.expect('Bob says, "still here"')

        # The far gateway dies: only its players go, and the engine logs them out.
        os.kill(far.proc.pid, signal.SIGKILL)
        await ada.expect("Bob fades from the dreamscape", timeout=15)
        await said(ada, "look")
        assert not ada.closed
        await ada.close()
        await bob.wait_closed()
    finally:
        far.stop()
        sp.proc.terminate()
        sp.proc.wait(60)


async def test_a_gateway_with_the_wrong_credentials_is_refused(tmp_path, nats_auth_url):
    far = Far(nats_auth_url, "intruder", tmp_path, password="guess")
    code = await asyncio.get_running_loop().run_in_executor(None, far.proc.wait, 30)
    err = far.proc.stderr.read() if far.proc.stderr else ""  # type: ignore[union-attr]
    assert code == 1
    assert "Can't use NATS at" in err and "Authorization Violation" in err
    assert "Traceback" not in err
