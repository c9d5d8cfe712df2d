"""The engine's telnet stream as gmcp.mudstandards.org frames (mud/edge/web/frames.py): pure."""

from mud.edge.web.frames import TelnetToFrames


def test_text_gmcp_and_dropped_commands() -> None:
    f = TelnetToFrames()
    out = f.feed(b'hi\xff\xfb\x01 there\xff\xfa\xc9Room.Info {"num": 1}\xff\xf0> \xff\xef')
    assert out == [b"hi there", 'Room.Info {"num": 1}', b"> "]


def test_sequences_cut_across_writes_and_escaped_iac() -> None:
    f = TelnetToFrames()
    assert f.feed(b"a\xff") == [b"a"]
    assert f.feed(b"\xffb\xff\xfa\xc9Core.Ping") == [b"\xffb"]
    assert f.feed(b"\xff\xf0c\xff\xfb") == ["Core.Ping", b"c"]
    assert f.feed(b"\x01d") == [b"d"]
