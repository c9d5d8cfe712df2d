"""The engine's output items as gmcp.mudstandards.org frames (mud/edge/web/conn.py): pure;
and the frames a dropped page's socket never sent."""

import asyncio

from mud.edge.web.conn import WsTransport, page_frames
from mud.protocol import Echo, Oob, Prompt, Text


def test_text_and_prompts_join_and_oob_is_a_text_frame() -> None:
    frames, alike = page_frames(
        [Text(b"hi there"), Oob("Room.Info", '{"num":1}'), Text(b"\r\n"), Prompt(b"> ")]
    )
    assert frames == [b"hi there", 'Room.Info {"num":1}', b"\r\n> "]
    assert alike  # the same frames for every page: a crowd's output is framed once


def test_no_telnet_bytes_are_read_or_added() -> None:
    frames, _ = page_frames([Text(b"\xff\xfb\x01 is text here"), Oob("Core.Ping")])
    assert frames == [b"\xff\xfb\x01 is text here", "Core.Ping"]


def test_echo_stays_in_order_for_the_page_to_apply() -> None:
    frames, alike = page_frames([Text(b"Password: "), Echo(True), Text(b"x")])
    assert frames == [b"Password: ", Echo(True), b"x"]
    assert not alike


async def test_frames_a_dropped_page_never_got_are_kept_for_its_resume() -> None:
    """What was still queued for a page's socket when it dropped never left: the detached
    connection keeps it with what comes after (the frame in flight may have left: not kept)."""

    class Stuck:  # a socket that takes the first frame and never finishes sending it
        async def send(self, frame: bytes | str) -> None:
            await asyncio.Event().wait()

    t = WsTransport(Stuck(), ("127.0.0.1", 1))
    for frame in (b"one", b"two", "Three {}"):
        t.send(frame)
    await asyncio.sleep(0.01)  # the sender takes "one"
    t.task.cancel()
    assert t.unsent() == [b"two", "Three {}"] and t.get_write_buffer_size() == 0
