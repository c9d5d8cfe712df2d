"""The link's typed vocabulary (mud/protocol): round trips, and what is refused by name."""

from __future__ import annotations

import msgspec
import pytest

from mud.link.frames import Unpacker, pack
from mud.protocol import (
    VERSION,
    Attached,
    ClientCaps,
    ConnState,
    Echo,
    GatewayInfo,
    Hello,
    Line,
    Oob,
    Output,
    Prompt,
    Text,
)
from mud.protocol.codec import Refused, TypedCodec

CODEC = TypedCodec()


def roundtrip(messages: list[object]) -> list[object]:
    unpacker = Unpacker(codec=CODEC)
    got: list[object] = []
    for payload in pack(messages, 4096, CODEC):
        batch = unpacker.feed(payload)
        if batch is not None:
            got.extend(batch)
    return got


def test_messages_cross_the_link_as_they_were():
    caps = ClientCaps(name="MUDLET", colour="256", utf8=True, cols=120, rows=40,
                      options=["GMCP", "NAWS"], gmcp=True, gmcp_packages={"room": 1})  # fmt: skip
    shared = (Text(b"\r\nAda says hello.\r\n"), Prompt(b"> "))
    messages = [
        Hello(
            VERSION,
            "gw1",
            GatewayInfo(4000, "0.0.0.0:4000", "crash", 7),
            [Attached(3, "1.2.3.4", 5555, caps, ConnState(True, True, "ada"))],
        ),
        Line(3, b"say hello"),
        Output(
            [1, 2, 3],
            [0, 0, 1],
            [4, 5, 6],
            [shared, (Echo(True), Oob("Char.Name", '{"name":"Ada"}'))],
        ),
    ]
    got = roundtrip(messages)
    assert got[:2] == messages[:2]
    out = got[2]
    assert isinstance(out, Output)
    assert [list(o) for o in out.outs] == [
        list(shared),
        [Echo(True), Oob("Char.Name", '{"name":"Ada"}')],
    ]
    assert caps.wants("Room.Info") and not caps.wants("Char")


def test_an_unknown_message_is_refused_by_name():
    payload = next(pack([Line(1, b"look"), ["teleport", 1]], 4096, CODEC))
    with pytest.raises(Refused, match="'teleport'"):
        Unpacker(codec=CODEC).feed(payload)


def test_a_hello_of_another_version_is_refused_with_its_version():
    old = ["hello", VERSION + 1, "gw1", {"port": 4000}, []]  # (another shape, too)
    payload = next(pack([old], 4096, CODEC))
    with pytest.raises(Refused, match=f"version {VERSION + 1}"):
        Unpacker(codec=CODEC).feed(payload)


def test_output_items_carry_no_telnet():
    encoded = msgspec.msgpack.encode(Output([1], [0], [0], [(Text(b"hi"), Prompt(b"> "))]))
    assert b"\xff" not in encoded  # no IAC GA / EOR: the edge marks prompts


class FakeLink:
    name = "gw-old"
    batches = 0

    def __init__(self) -> None:
        self.closed: list[str] = []
        self.posted: list[object] = []

    def post(self, message: object) -> None:
        self.posted.append(message)

    def close(self, reason: str = "") -> None:
        self.closed.append(reason)


def test_an_engine_refuses_a_hello_of_another_version_in_a_sentence(caplog):
    from mud.core.peer import GatewayPeer

    link = FakeLink()
    peer = GatewayPeer(None, link)  # type: ignore[arg-type]  (the App is never reached)
    peer.on_frame([Hello(VERSION + 1, "gw-old", GatewayInfo(), [])])
    assert link.closed == ["link protocol version mismatch"]
    assert not peer.greeted
    assert (
        f"speaks link protocol version {VERSION + 1}; this engine speaks {VERSION}" in caplog.text
    )


@pytest.mark.parametrize("junk", [[1, 2], {"a": 1}, 7, [["in"], 3], [[]]])
def test_a_batch_that_is_msgpack_but_no_messages_is_refused_in_a_sentence(junk):
    """Whatever shape a peer's payload has, it is refused with a reason, never raised as
    something the link doesn't expect."""
    with pytest.raises(Refused) as refused:
        TypedCodec.decode_batch(msgspec.msgpack.encode(junk))
    assert str(refused.value)
