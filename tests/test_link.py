"""The Link between gateways and the engine: the same tests over both transports, the local
Unix socket and a real nats-server (Debian's package; skipped only when it is absent)."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import stat
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from mud.link.auth import LinkRefused
from mud.link.base import Link
from mud.link.frames import LinkProtocolError, RawCodec, StreamFramer, Unpacker, pack
from mud.link.local import LocalListener, connect_local
from mud.protocol import Line

NATS_SERVER = shutil.which("nats-server")
SECRET = b"test-link-secret"


@dataclass
class Pair:
    """An engine end and a gateway end, with what each received."""

    engine: Link
    gateway: Link
    to_engine: list[list[Any]] = field(default_factory=list)
    to_gateway: list[list[Any]] = field(default_factory=list)
    closed: dict[str, str] = field(default_factory=dict)

    def wire(self) -> None:
        self.engine.on_frame = self.to_engine.append
        self.gateway.on_frame = self.to_gateway.append
        self.engine.on_close = lambda r: self.closed.setdefault("engine", r)
        self.gateway.on_close = lambda r: self.closed.setdefault("gateway", r)


async def until(condition, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.01)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def nats_url() -> Iterator[str]:
    yield from run_nats()


def run_nats(*options: str) -> Iterator[str]:
    """A real nats-server on a free loopback port (`options`: e.g. --user/--pass), its URL."""
    if NATS_SERVER is None:
        pytest.skip("needs nats-server (apt-get install nats-server; .ci/run installs it)")
    port = free_port()
    proc = subprocess.Popen(
        [NATS_SERVER, "-a", "127.0.0.1", "-p", str(port), *options],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(200):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.1):
                    break
            except OSError:
                time.sleep(0.02)
        yield f"nats://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


async def local_pair(tmp_path: Path, **kw: Any) -> tuple[Pair, Any]:
    got: list[Link] = []
    listener = LocalListener(tmp_path / "run" / "engine.sock", got.append, **kw)
    await listener.start()
    gateway = await connect_local(listener.path, **kw)
    await until(lambda: got)
    pair = Pair(got[0], gateway)
    pair.wire()
    return pair, listener.close


async def nats_pair(url: str, **kw: Any) -> tuple[Pair, Any]:
    from mud.link.nats import NatsHub, connect_nats_gateway, nats_connect

    engine_nc = await nats_connect(url, "engine")
    gateway_nc = await nats_connect(url, "gw1")
    got: list[Link] = []
    hub = NatsHub(engine_nc, got.append, prefix="test", secret=SECRET, **kw)
    await hub.start()
    gateway = await connect_nats_gateway(gateway_nc, "gw1", prefix="test", secret=SECRET, **kw)
    gateway.post(["hello"])  # the engine meets a gateway by its first batch
    await until(lambda: got)
    pair = Pair(got[0], gateway)
    pair.wire()

    async def close() -> None:
        await hub.close()
        pair.gateway.close()
        await gateway_nc.close()
        await engine_nc.close()

    return pair, close


@pytest.fixture(params=["local", "nats"])
async def make_pair(request, tmp_path: Path):
    closers = []
    url = request.getfixturevalue("nats_url") if request.param == "nats" else ""

    async def make(**kw: Any) -> Pair:
        kw.setdefault("codec", RawCodec())  # (any msgpack value: these test the transport)
        if request.param == "local":
            pair, close = await local_pair(tmp_path, **kw)
        else:
            pair, close = await nats_pair(url, **kw)
        closers.append(close)
        return pair

    yield make
    for close in closers:
        await close()


async def test_what_is_posted_in_one_iteration_leaves_as_one_batch_in_order(make_pair):
    pair = await make_pair()
    pair.to_engine.clear()
    for i in range(1000):
        pair.gateway.post(["line", f"s{i % 7}", f"look {i}"])
    await until(lambda: sum(len(f) for f in pair.to_engine) >= 1000)
    assert len(pair.to_engine) <= 2  # a batch, not a thousand messages
    lines = [m[2] for frame in pair.to_engine for m in frame]
    assert lines == [f"look {i}" for i in range(1000)]
    pair.engine.post(["out", "s1", {"text": "héllo |rworld|n", "n": 3, "raw": b"\xff\xf9"}])
    await until(lambda: pair.to_gateway)
    assert pair.to_gateway[-1] == [["out", "s1", {"text": "héllo |rworld|n", "n": 3,
                                                  "raw": b"\xff\xf9"}]]  # fmt: skip


async def test_no_message_is_too_big(make_pair):
    pair = await make_pair()
    description = "A very long description. " * 120_000  # 3 MB: several payloads
    pair.engine.post(["out", "s1", description])
    pair.engine.post(["out", "s2", "after it"])
    await until(lambda: sum(len(f) for f in pair.to_gateway) >= 2, timeout=20)
    got = [m for frame in pair.to_gateway for m in frame]
    assert got == [["out", "s1", description], ["out", "s2", "after it"]]


async def test_heartbeats_keep_a_quiet_link_alive(make_pair):
    pair = await make_pair(heartbeat=0.05, timeout=0.3)
    await asyncio.sleep(1.0)  # three timeouts of silence from the owners: beats carry it
    assert not pair.closed
    assert not pair.to_engine and not pair.to_gateway  # heartbeats never reach the owner


async def test_a_silent_peer_is_gone_after_the_timeout(make_pair):
    pair = await make_pair(heartbeat=0.05, timeout=0.3)
    pair.engine._beat.cancel()  # the engine hangs: no heartbeat, nothing else either
    await until(lambda: "gateway" in pair.closed, timeout=5)
    assert pair.closed["gateway"].startswith("peer silent for")


async def test_a_peer_that_stops_reading_is_dropped_not_buffered(tmp_path):
    listener = LocalListener(tmp_path / "run" / "engine.sock", lambda link: got.append(link),
                             max_pending=256 * 1024)  # fmt: skip
    got: list[Link] = []
    await listener.start()
    gateway = await connect_local(listener.path)
    await until(lambda: got)
    assert gateway.transport is not None
    gateway.transport.pause_reading()  # it stops reading
    closed: list[str] = []
    got[0].on_close = closed.append
    for _ in range(400):
        got[0].post(["out", "s1", "x" * 4096])
        await asyncio.sleep(0)
        if closed:
            break
    await until(lambda: closed)
    assert closed[0].startswith("peer not reading")
    gateway.close()
    await listener.close()


async def test_the_socket_is_for_its_owner_only(tmp_path):
    listener = LocalListener(tmp_path / "run" / "engine.sock", lambda link: None)
    await listener.start()  # (it makes the folder: private)
    assert stat.S_IMODE(os.stat(tmp_path / "run").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(listener.path).st_mode) == 0o600
    await listener.close()
    assert not listener.path.exists()
    (tmp_path / "shared").mkdir()
    os.chmod(tmp_path / "shared", 0o755)  # a folder others may enter is refused, left as it is
    with pytest.raises(LinkRefused, match="only you can enter"):
        await LocalListener(tmp_path / "shared" / "engine.sock", lambda link: None).start()
    assert stat.S_IMODE(os.stat(tmp_path / "shared").st_mode) == 0o755


async def test_garbage_on_the_socket_closes_that_link_only(tmp_path):
    got: list[Link] = []
    listener = LocalListener(tmp_path / "run" / "engine.sock", got.append)
    await listener.start()
    good = await connect_local(listener.path)
    bad = await connect_local(listener.path)
    await until(lambda: len(got) == 2)
    reasons: dict[int, str] = {}
    for i, link in enumerate(got):
        link.on_close = lambda r, i=i: reasons.setdefault(i, r)
    assert bad.transport is not None
    bad.transport.write(StreamFramer.frame(b"\xc1 not msgpack"))
    await until(lambda: len(reasons) == 1)
    assert "protocol error" in next(iter(reasons.values()))
    frames: list[list[Any]] = []
    survivor = next(link for i, link in enumerate(got) if i not in reasons)
    survivor.on_frame = frames.append
    good.post(Line(1, b"still here"))
    await until(lambda: frames)
    good.close()
    await listener.close()


async def test_a_connection_that_does_not_prove_the_secret_never_reaches_the_engine(tmp_path):
    got: list[Link] = []
    listener = LocalListener(tmp_path / "run" / "engine.sock", got.append)
    await listener.start()
    reader, writer = await asyncio.open_unix_connection(str(listener.path))
    writer.write(StreamFramer.frame(pack_one(["hello", "evil", {}, []])))
    assert await reader.read() == b""  # refused: closed
    wrong = await connect_local(listener.path, secret=b"not the secret")
    answered: list[str] = []
    wrong.on_close = answered.append
    wrong.post(["hello", "wrong", {}, []])
    good = await connect_local(listener.path)
    await until(lambda: len(got) == 1)  # only the one that knows the secret
    await until(lambda: answered)  # the engine closed it
    assert not wrong.proven
    wrong.close()
    good.close()
    await listener.close()


def pack_one(message: list[Any]) -> bytes:
    return next(pack([message]))


def test_payloads_are_cut_to_size_and_put_back_together():
    messages = [["line", i, "x" * 100] for i in range(500)] + [["big", "y" * 50_000]]
    payloads = list(pack(messages, max_payload=4096))
    assert all(len(p) <= 4096 for p in payloads)
    unpacker = Unpacker()
    got = []
    for p in payloads:
        batch = unpacker.feed(p)
        if batch is not None:
            got.extend(batch)
    assert got == messages


def test_bad_payloads_are_refused():
    with pytest.raises(LinkProtocolError):
        Unpacker().feed(b"\x93\x01\x02")  # a list, but not a payload
    fragments = list(pack([["big", "z" * 10_000]], max_payload=1024))
    with pytest.raises(LinkProtocolError, match="out of order"):
        Unpacker().feed(fragments[1])
    with pytest.raises(LinkProtocolError, match="size limit"):
        small = Unpacker(max_message=2000)
        for p in fragments:
            small.feed(p)
    with pytest.raises(LinkProtocolError, match="over"):
        StreamFramer(max_payload=10).feed(StreamFramer.frame(b"x" * 11))
