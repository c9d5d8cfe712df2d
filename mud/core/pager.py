"""Output longer than a screen, a page at a time: `--More-- (Enter, q)`.

A command calls `page(session, text)` (or `ctx.page(text)`) instead of `send`. Text that fits
the screen goes out as usual. Longer text is rendered once, cut into pages of the dreamer's
height (`config pager`, else the client's NAWS height; no NAWS and no setting: no paging),
and a small mode borrows the input: Enter shows the next page, `q` stops. Anything else
typed stops the pager and runs as a command, so nobody is ever stuck in it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from commands.api import MAX_PAGE_LINES, MIN_PAGE_LINES, Mode
from mud.core.text import render

if TYPE_CHECKING:
    from mud.core.session import Session

MORE_PROMPT = "|w--More--|n (Enter, q) page {page} of {pages} "
MAX_PAGED_LINES = 2000  # lines one paged text may hold; the rest is cut with a note


def page_lines(session: Session) -> int:
    """Lines per page for this session; 0 means "don't page"."""
    player = session.player
    chosen = player.settings.get("pager") if player is not None else None
    if isinstance(chosen, int):
        return chosen
    if "NAWS" not in session.caps.options:
        return 0  # we don't know the window's height: never guess it
    return max(MIN_PAGE_LINES, min(MAX_PAGE_LINES, session.height - 1))


def page(session: Session, text: str) -> None:
    """Send markup `text` to `session`, paused a screen at a time when it is longer."""
    size = page_lines(session)
    if size <= 0 or text.count("\n") + 1 <= size:
        session.send(text)
        return
    lines = render(text, *session.render_key).split("\r\n")
    if len(lines) <= size:
        session.write_rendered("\r\n".join(lines))
        return
    mode = session.mode
    if isinstance(mode, Pager):  # a second long text from one command: after the first
        mode.extend(lines)
        return
    pager = Pager(session, [], size)
    pager.extend(lines)
    pager.start()


class Pager(Mode):
    """Borrows the session's input while there are pages left; then gives it back."""

    def __init__(self, session: Session, lines: list[str], size: int) -> None:
        self.session = session
        self.lines = lines
        self.size = size
        self.pos = 0

    def extend(self, lines: list[str]) -> None:
        room = MAX_PAGED_LINES - len(self.lines)
        if room <= 0:
            return
        if len(lines) > room:
            cut = len(lines) - room + 1
            lines = lines[: room - 1]
            lines.append(render(f"({cut} more lines not shown.)", *self.session.render_key))
        self.lines.extend(lines)

    @property
    def pages(self) -> int:
        return -(-len(self.lines) // self.size)

    def start(self) -> None:
        self.session.push_mode(self)
        self._show()

    def _show(self) -> None:
        chunk = self.lines[self.pos : self.pos + self.size]
        self.pos += len(chunk)
        self.session.write_rendered("\r\n".join(chunk))
        if self.pos >= len(self.lines):
            self._finish()
        else:
            self.prompt()

    def prompt(self) -> None:
        page = self.pos // self.size
        self.session.send_prompt(MORE_PROMPT.format(page=page, pages=self.pages))

    def _finish(self, prompt: bool = False) -> None:
        self.lines = []
        self.session.pop_mode(self, prompt=prompt)

    def on_line(self, line: str) -> None:
        word = line.strip().lower()
        if not word:
            self._show()
            under = self.session.mode
            if under is not self and under is not None:
                under.prompt()  # the last page went out: back to the usual prompt
        elif word == "q":
            self._finish(prompt=True)
        else:  # something else typed: the pager steps aside and it runs as a command
            self._finish()
            under = self.session.mode
            if under is not None:
                under.on_line(line)
