"""Settings in one place (config) and the pager, through real sockets; the pager's bounds
directly."""

from __future__ import annotations

import re

import mud.core.pager
from mud.protocol import ClientCaps
from tests.client import login

ESC = "\x1b"

SETTING_NAMES = ("colour", "brief", "pager", "screenreader", "prompt", "echo")


async def test_config_lists_every_setting_and_refuses_bad_values(server):
    a = await login(server.port, "Ada")
    out = await a.cmd("config", r"(?s)Your settings.*echo.*?> ")
    for name in SETTING_NAMES:
        assert re.search(rf"\r\n  {name} ", out), name
    assert re.search(r"pager +off \(auto\)", out)
    await a.cmd("config pager", r"pager: off \(auto: your client didn't tell us its height\)\.")
    before = dict(server.world.players_by_key["ada"].settings)
    await a.cmd("config brief maybe", r"Usage: config brief on\|off")
    await a.cmd("config pager 3", r"Usage: config pager <lines>\|off\|auto")
    await a.cmd("config pager lots", "Usage: config pager")
    await a.cmd("config screenreader sometimes", r"Usage: config screenreader on\|off\|auto")
    await a.cmd("config prompt " + "p" * 61, "A prompt is at most 60 characters; not changed")
    await a.cmd("config volume 11", "There is no setting 'volume'; config lists them")
    assert server.world.players_by_key["ada"].settings == before
    await a.cmd("config echo", r"echo: on\. Change it with config echo on\|off\.")
    await a.close()


async def test_settings_are_remembered_and_colour_agrees_with_the_colour_command(server):
    a = await login(server.port, "Ada", answer=False)
    await a.cmd("config colour on", "colour is now on")
    await a.cmd("colour", "Colour is on")
    await a.cmd("colour off", "Colour is off")
    await a.cmd("config", r"(?s)colour\s+off .*?> ")
    await a.cmd("config brief on", "brief is now on")
    await a.cmd("config pager 30", "pager is now 30 lines")
    await a.cmd("quit", "May your dreams be gentle")
    await a.wait_closed()

    a = await login(server.port, "Ada", create=False, answer=False)
    assert ESC not in a.text
    out = await a.cmd("config", r"(?s)Your settings.*echo.*?> ")
    assert re.search(r"brief\s+on", out) and re.search(r"pager\s+30 lines", out)
    await a.cmd("config pager auto", "pager is now off")
    assert "pager" not in server.world.players_by_key["ada"].settings
    await a.close()


async def test_brief_leaves_out_descriptions_when_walking_but_not_on_look(server):
    a = await login(server.port, "Ada")
    room = server.world.nexus
    north = server.world.exit_destination(room.find_exit("north"))
    first_words = " ".join(north.description.split()[:4])
    out = await a.cmd("north", r"(?s)Exits:.*?> ")
    assert first_words in out
    await a.cmd("south", "Exits:")
    await a.cmd("config brief on", "brief is now on")
    out = await a.cmd("north", r"(?s)Exits:.*?> ")
    assert north.name in out and first_words not in out
    await a.cmd("look", re.escape(first_words))
    await a.close()


async def test_echo_off_hides_your_own_speech_only(server):
    a = await login(server.port, "Ada")
    b = await login(server.port, "Bob")
    await a.cmd("config echo off", "echo is now off")
    a.send("say quietly now")
    await b.expect(r'Ada says, "quietly now"')
    await a.cmd("look", "Dreamwave Nexus")
    assert "You say" not in a.text
    await a.cmd("config echo on", "echo is now on")
    await a.cmd("say loud again", r'You say, "loud again"')
    await a.close()
    await b.close()


async def test_a_prompt_of_your_own_with_tokens_and_no_colour(server):
    a = await login(server.port, "Ada", ttype="xterm-256color")
    await a.cmd("config prompt %n (%s) |r%%", r"prompt is now")
    out = await a.cmd("look", r"Ada \(awake\) \|r% ")
    assert "\x1b[31m" not in out.split("Exits:")[-1]  # the |r stayed text, not red
    await a.cmd("dream", r"Ada \(dreaming\) \|r% ")
    await a.cmd("config prompt default", r'prompt is now "> " \(the default\)\.\r\n> ')
    await a.close()


# -- the pager ------------------------------------------------------------------------------


async def test_help_pauses_a_screen_at_a_time(server):
    a = await login(server.port, "Ada", naws=(80, 12))  # a window 12 lines high
    first = await a.cmd("help", r"--More-- \(Enter, q\) page 1 of (\d+) ")
    pages = int(re.search(r"page 1 of (\d+)", first).group(1))
    assert pages > 2
    assert len(first.split("\r\n")) <= 12
    second = await a.cmd("", r"--More-- \(Enter, q\) page 2 of ")
    assert "Commands" not in second
    await a.cmd("q", r"\r> ")
    await a.cmd("look", "Dreamwave Nexus")  # the pager gave the input back

    seen = await a.cmd("help", "page 1 of")
    for page in range(2, pages + 1):
        last = await a.cmd("", rf"page {page} of|\r\n> ")
        seen += last
    assert last.endswith("\r\n> ") and "--More--" not in last  # the last page, then the prompt
    assert "quit" in seen and "weave" in seen
    await a.cmd("help", "page 1 of")
    await a.cmd("look", r"(?s)Dreamwave Nexus.*Exits:")  # another command leaves the pager
    await a.cmd("config pager off", "pager is now off")
    out = await a.cmd("help", r"(?s)Commands.*quit.*?> ")
    assert "--More--" not in out
    await a.cmd("config pager 5", "pager is now 5 lines")
    await a.cmd("help", r"page 1 of")
    await a.close()


async def test_a_stray_q_after_the_last_page_doesnt_quit(server):
    a = await login(server.port, "Ada", naws=(80, 12))
    await a.cmd("help", "page 1 of")
    out = await a.cmd("q", r"\r> ")
    await a.cmd("q", "To leave the Dreamwave, type quit in full.")
    await a.cmd("qui", "type quit in full")
    assert not a.closed
    await a.cmd("quit", "May your dreams be gentle")
    await a.wait_closed()
    assert "--More--" not in out


async def test_no_window_size_no_paging(server):
    a = await login(server.port, "Ada")  # says nothing about its height (no NAWS)
    out = await a.cmd("help", r"(?s)Commands.*quit.*?> ")
    assert "--More--" not in out
    await a.close()


class FakeSession:
    def __init__(self) -> None:
        self.player = None
        self.modes: list[object] = ["dispatcher"]
        self.render_key = (False, 80, False)
        self.height = 10
        self.written: list[str] = []
        self.prompts: list[str] = []
        self.caps = ClientCaps(options=["NAWS"])  # (what the gateway says the client does)

    def send(self, text: str) -> None:
        self.written.append(text)

    def write_rendered(self, text: str) -> None:
        self.written.append(text)

    def send_prompt(self, text: str) -> None:
        self.prompts.append(text)

    @property
    def mode(self) -> object:
        return self.modes[-1]

    def push_mode(self, mode: object) -> None:
        self.modes.append(mode)

    def pop_mode(self, mode: object, prompt: bool = True) -> bool:
        if self.modes[-1] is not mode:
            return False
        self.modes.pop()
        return True


def test_the_pager_holds_a_bounded_number_of_lines():
    s = FakeSession()
    mud.core.pager.page(s, "\n".join(f"line {i}" for i in range(10_000)))
    pager = s.mode
    assert isinstance(pager, mud.core.pager.Pager)
    assert len(pager.lines) == mud.core.pager.MAX_PAGED_LINES
    assert "more lines not shown" in pager.lines[-1]
    mud.core.pager.page(s, "\n".join("again" for _ in range(50)))  # a full pager takes no more
    assert len(pager.lines) == mud.core.pager.MAX_PAGED_LINES
    assert s.written[0].count("\r\n") == 8  # nine lines: the height less one for --More--
