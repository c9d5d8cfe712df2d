"""Modes that borrow a dreamer's input for a moment: a yes/no question and a line editor.

A command starts one with `begin(ctx, modal)`; it is pushed on the session's mode stack and
gives the input back to the dispatcher when done. If the connection drops meanwhile, the
dispatcher (under it on the stack) still hears about it, so the dreamer leaves the world as
usual.
"""

from __future__ import annotations

from collections.abc import Callable

from commands.api import NOTHING, CommandError, CommandSession, Ctx, Engine, Mode, command

MAX_EDITOR_LINES = 200
MAX_DESCRIPTION_CHARS = 4000
EDITOR_PROMPT = "edit> "
CLEAR_PROMPT = "Clear the text? Type |wyes|n to clear it, anything else to keep it: "
EDITOR_HELP = (
    "|wEditor:|n type lines to add them. |w.|n alone saves, |w.q|n quits without saving, "
    "|w.p|n shows the text with line numbers, |w.d <n>|n deletes line n, |w.c|n clears it "
    "all to start afresh, |w.r|n brings back your kept draft (see |whelp draft|n)."
)
DRAFT_KEY = "draft"  # Player.settings: {"title": ..., "text": ...}, kept over a reload


class Modal(Mode):
    """A mode a command starts (`begin`); `session` and `app` are the command's."""

    session: CommandSession
    app: Engine

    def start(self) -> None:
        self.prompt()

    def done(self) -> None:
        """Give input back to the dispatcher and show its prompt."""
        self.session.pop_mode(self)

    def run(self, action: Callable[[], None]) -> None:
        """Do `action` as a command's body, in the unit of work of the line that asked for
        it (its own if none): whoever it moves sees where they landed."""
        self.app.txs.run(self.session, action)


def begin(ctx: Ctx, modal: Modal) -> None:
    modal.session = ctx.session
    modal.app = ctx.app
    ctx.session.push_mode(modal)
    modal.start()


class Confirm(Modal):
    """Ask once; only `yes` goes ahead."""

    def __init__(self, question: str, action: Callable[[], None]) -> None:
        self.question = question
        self.action = action

    def start(self) -> None:
        self.session.send(self.question)
        self.prompt()

    def prompt(self) -> None:
        self.session.send_prompt("Type |wyes|n to go ahead, anything else to cancel: ")

    def on_line(self, line: str) -> None:
        if line.strip().lower() == "yes":
            self.run(self.action)
        else:
            self.session.send("Cancelled; nothing was changed.")
        self.done()


class Editor(Modal):
    """Edit a text, starting from what it says now: lines typed are added; `.` alone saves
    (an unchanged text is left alone, an empty one is cleared only after a `yes`), `.q`
    aborts, `.p` prints with line numbers, `.c` clears the buffer, `.d <n>` deletes line n."""

    max_chars = MAX_DESCRIPTION_CHARS  # a subclass may hold more (a letter)

    def __init__(self, title: str, current: str, save: Callable[[str], None]) -> None:
        self.title = title
        self.current = current
        self.save = save
        self.lines: list[str] = current.splitlines()
        self.confirming = False  # asked whether to clear the text

    def start(self) -> None:
        text = f"|wEditing {self.title}.|n\n{EDITOR_HELP}"
        if self.lines:
            text += "\n|wThe text now (new lines are added at the end):|n\n" + self.preview()
        self.session.send(text)
        self.prompt()

    def prompt(self) -> None:
        if self.confirming:
            self.session.send_prompt(CLEAR_PROMPT)
        else:
            self.session.send_prompt(EDITOR_PROMPT)

    def on_line(self, line: str) -> None:
        cmd = line.strip().lower()
        if self.confirming:
            self.confirming = False
            if cmd in ("yes", "y"):
                self.run(lambda: self.save(""))
            else:
                self.session.send("Nothing was changed; the text stays as it was.")
            self.done()
        elif cmd == ".":
            self.finish()
        elif cmd == ".q":
            self.session.send("You leave the editor; nothing was changed.")
            self.done()
        elif cmd == ".p":
            self.session.send(self.preview())
            self.prompt()
        elif cmd == ".c":
            self.lines.clear()
            self.session.send("The text is cleared.")
            self.prompt()
        elif cmd == ".d" or cmd.startswith(".d "):
            self.delete(cmd[2:].strip())
            self.prompt()
        elif cmd == ".r":
            self.restore_draft()
            self.prompt()
        elif cmd in (".h", ".?"):
            self.session.send(EDITOR_HELP)
            self.prompt()
        elif len(self.lines) >= MAX_EDITOR_LINES:
            self.session.send(f"That's {MAX_EDITOR_LINES} lines, the most; save with |w.|n")
            self.prompt()
        elif sum(len(x) + 1 for x in self.lines) + len(line) > self.max_chars:
            self.session.send(f"That would pass {self.max_chars} characters; not added.")
            self.prompt()
        else:
            self.lines.append(line)
            self.prompt()

    def finish(self) -> None:
        text = "\n".join(self.lines)
        if text == "\n".join(self.current.splitlines()):
            self.session.send("The text is unchanged; nothing was saved.")
            self.done()
        elif not text.strip():
            self.confirming = True  # a lone `.` must never wipe a description unasked
            self.session.send("|yThe text is empty: saving clears it.|n")
            self.prompt()
        else:
            self.run(lambda: self.save(text))
            self.done()

    def restore_draft(self) -> None:
        p = self.session.player
        draft = p.settings.get(DRAFT_KEY) if p is not None else None
        if p is None or not isinstance(draft, dict):
            self.session.send("You have no draft kept.")
            return
        lines = str(draft.get("text", "")).splitlines()
        base = self.current.splitlines()
        # The draft is the whole text as it was being written, the text it began from included.
        if draft.get("title") == self.title and self.lines == base:  # nothing typed here yet
            self.lines = lines[:MAX_EDITOR_LINES]
            told = "Your draft is back, in place of the text"
        else:  # added after what is typed, without the text it was started from again
            new = lines[len(base) :] if lines[: len(base)] == base else lines
            self.lines.extend(new[: MAX_EDITOR_LINES - len(self.lines)])
            told = "Your draft is added"
        self.app.world.clear_setting(p, DRAFT_KEY)
        self.session.send(f"{told}; |w.p|n shows it.")

    def draft(self) -> tuple[str, str] | None:
        """What a reload would lose: (title, text), or None if nothing is typed."""
        text = "\n".join(self.lines)
        if not text.strip() or text == "\n".join(self.current.splitlines()):
            return None
        return self.title, text

    def delete(self, arg: str) -> None:
        if not arg.isdigit() or not 1 <= int(arg) <= len(self.lines):
            self.session.send(
                f"Say which line to delete, 1 to {len(self.lines)}: |w.d 2|n."
                if self.lines
                else "There are no lines to delete."
            )
            return
        gone = self.lines.pop(int(arg) - 1)
        self.session.send(f"Deleted line {arg}: {gone}")

    def preview(self) -> str:
        if not self.lines:
            return "(no text yet)"
        return "\n".join(f"|x{i:>3}|n {line}" for i, line in enumerate(self.lines, 1))


@command("draft", category="Communication", publishes=NOTHING)  # (the editor writes letters too)
def cmd_draft(ctx: Ctx) -> None:
    """Show the draft kept when a reload closed your editor, or throw it away.

    In the editor, |w.r|n brings the draft back (and forgets it): it is the whole text
    you were writing, so it takes the place of the text, or is added after what you
    have typed since.

    Usage:
      draft          show it
      draft clear    throw it away
    """
    draft = ctx.player.settings.get(DRAFT_KEY)
    if not isinstance(draft, dict):
        raise CommandError("You have no draft kept.")
    if ctx.args.strip().lower() == "clear":
        ctx.world.clear_setting(ctx.player, DRAFT_KEY)
        ctx.send("Your draft is thrown away.")
        return
    if ctx.args.strip():
        raise CommandError("Usage: draft, or draft clear.")
    ctx.page(f"|wYour draft for {draft.get('title', 'your text')}:|n\n{draft.get('text', '')}")
