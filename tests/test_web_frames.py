"""The engine's output items as gmcp.mudstandards.org frames (mud/edge/web/conn.py): pure."""

from mud.edge.web.conn import page_frames
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
