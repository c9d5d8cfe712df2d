"""Mail between dreamers: letters that wait for you while you are away."""

from __future__ import annotations

import time

from commands import modal
from commands.api import CommandError, Ctx, command, text_after
from world.mail import MAX_BODY_CHARS, MAX_SUBJECT_CHARS, Letter, MailError, escape
from world.model import Player


class LetterEditor(modal.Editor):
    """The line editor, for a letter: it holds more and it *sends*."""

    max_chars = MAX_BODY_CHARS

    def start(self) -> None:
        self.session.send(
            f"|wWriting {self.title}.|n Type the letter a line at a time; "
            "|w.|n alone sends it, |w.q|n throws it away, |w.p|n shows it so far."
        )
        self.prompt()

    def finish(self) -> None:
        """`.` sends whatever was written; the post office refuses an empty letter."""
        text = "\n".join(self.lines)
        self.run(lambda: self.save(text))
        self.done()

    def on_line(self, line: str) -> None:
        if line.strip().lower() == ".q":
            self.session.send("You put the letter away; nothing was sent.")
            self.done()
            return
        super().on_line(line)


def _number(ctx: Ctx, text: str, usage: str) -> Letter:
    if not text.isdigit():
        raise CommandError(f"Usage: {usage}")
    try:
        return ctx.world.mail.letter(ctx.player, int(text))
    except MailError as err:
        raise CommandError(str(err)) from None


def _stamp(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.gmtime(at))


def _listing(ctx: Ctx) -> str:
    box = ctx.world.mail.box(ctx.player)
    if not box:
        return "Your mailbox is empty. |wmail send <dreamer>|n writes a letter."
    unread = sum(1 for letter in box if not letter.read)
    lines = [f"|wYour letters|n ({len(box)}, {unread} unread; newest last):"]
    indent = "" if ctx.session.screen_reader else "  "
    for n, letter in enumerate(box, 1):
        mark = "new, " if not letter.read else ""
        lines.append(
            f"{indent}{n}. ({mark}{_stamp(letter.sent_at)}) from |c{letter.from_name}|n: "
            f"{escape(letter.subject)}"
        )
    lines.append("|wmail read <n>|n reads one, |wmail delete <n>|n throws one away.")
    return "\n".join(lines)


@command("mail", category="Communication", publishes=text_after("send"))
def cmd_mail(ctx: Ctx) -> None:
    """Read and write letters to other dreamers, awake or not.

    Usage:
      mail                              your letters, newest last (new ones marked)
      mail read <n>                     read letter n
      mail send <dreamer> [= <subject>] write a letter (. alone sends, .q throws it away)
      mail delete <n>                   throw letter n away
    Example:
      mail send Bob = the lantern walk
    """
    verb, _, rest = ctx.args.strip().partition(" ")
    verb, rest = verb.lower(), rest.strip()
    w = ctx.world
    if not verb or verb == "list":
        ctx.page(_listing(ctx))
    elif verb == "read":
        letter = _number(ctx, rest, "mail read <n>")
        w.mail.mark_read(letter)
        ctx.page(
            f"|wFrom:|n {letter.from_name}\n|wSent:|n {_stamp(letter.sent_at)} UTC\n"
            f"|wSubject:|n {escape(letter.subject)}\n\n{escape(letter.body)}"
        )
    elif verb in ("delete", "del"):
        letter = _number(ctx, rest, "mail delete <n>")
        w.mail.delete(ctx.player, letter)
        ctx.send(f"Letter from {letter.from_name} ({escape(letter.subject)}) thrown away.")
    elif verb == "send":
        _send(ctx, rest)
    else:
        raise CommandError("Usage: mail, mail read <n>, mail send <dreamer> [= <subject>], "
                           "mail delete <n>")  # fmt: skip


def _send(ctx: Ctx, rest: str) -> None:
    name, _, subject = rest.partition("=")
    # the subject is kept as typed, and always shown that way (never as colour markup)
    name, subject = name.strip(), " ".join(subject.split()).replace("||", "|")
    if not name:
        raise CommandError("Usage: mail send <dreamer> [= <subject>]")
    recipient: Player | None = ctx.world.players_by_key.get(name.lower())
    if recipient is None:
        raise CommandError(f"There is no dreamer called '{name[:20]}'.")
    if len(subject) > MAX_SUBJECT_CHARS:
        raise CommandError(f"A subject is at most {MAX_SUBJECT_CHARS} characters; not sent.")
    post = ctx.world.mail
    try:
        post.check_sender(ctx.player)
        post.check_room(recipient)
    except MailError as err:
        raise CommandError(str(err)) from None
    sender = ctx.player

    def save(body: str) -> None:
        try:
            post.send(sender, recipient, subject, body)
        except MailError as err:
            raise CommandError(str(err)) from None
        # the recipient hears of it once it is committed, as the sender does: a private line
        # to another, held with the rest of this command's unit of work (mud/core/tx.py)
        post.tell_arrival(sender, recipient, subject)
        ctx.session.send(f"|gYour letter to {recipient.name} is sent.|n")

    about = f" ({escape(subject)})" if subject else ""
    modal.begin(ctx, LetterEditor(f"a letter to {recipient.name}{about}", "", save))
