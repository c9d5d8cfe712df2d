"""Letters between dreamers, and what a dreamer is told on arriving (the message of the day,
letters waiting).

Every mailbox lives in memory like the rest of the world; changes go through the PostOffice,
which stages the rows for the Store's writer. Mailboxes and letters are bounded.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from world.moderation import HOUR, Quota, describe_wait, muted_message
from world.ports import Stage

if TYPE_CHECKING:
    from world.model import Player
    from world.world import World

MAX_LETTERS = 100  # letters one mailbox holds; a full one refuses new letters
MAX_BODY_CHARS = 8192  # characters in one letter's body
MAX_SUBJECT_CHARS = 80
NO_SUBJECT = "(no subject)"


class MailError(Exception):
    """A letter that can't be sent or found, in one sentence for the player."""


class Letter:
    __slots__ = ("body", "from_id", "from_name", "id", "read", "sent_at", "subject", "to_id")

    def __init__(
        self, id: int, to_id: int, from_id: int | None, from_name: str, subject: str,
        body: str, sent_at: float, read: bool = False,
    ) -> None:  # fmt: skip
        self.id, self.to_id, self.from_id, self.from_name = id, to_id, from_id, from_name
        self.subject, self.body, self.sent_at, self.read = subject, body, sent_at, read

    def to_row(self) -> dict[str, Any]:
        return {
            "id": self.id, "to_id": self.to_id, "from_id": self.from_id,
            "from_name": self.from_name, "subject": self.subject, "body": self.body,
            "sent_at": self.sent_at, "read": self.read,
        }  # fmt: skip


class PostOffice:
    """Every dreamer's mailbox, oldest letter first."""

    def __init__(
        self,
        stage: Stage,
        new_id: Callable[[str], int],
        saw_id: Callable[[str, int], None],
    ) -> None:
        self._stage = stage
        self._new_id = new_id  # the world's id spaces: a letter's number is never reused
        self._saw_id = saw_id
        self.boxes: dict[int, list[Letter]] = {}
        self.quota = Quota(0, HOUR)  # letters per sender; the server sets letters_per_hour

    def load(self, rows: list[dict[str, Any]]) -> None:
        for r in sorted(rows, key=lambda r: r["id"]):
            letter = Letter(
                r["id"], r["to_id"], r["from_id"], r["from_name"], r["subject"], r["body"],
                r["sent_at"], bool(r["read"]),
            )  # fmt: skip
            self.boxes.setdefault(letter.to_id, []).append(letter)
            self._saw_id("mail", letter.id)

    def box(self, p: Player) -> list[Letter]:
        return self.boxes.get(p.id, [])

    def unread(self, p: Player) -> int:
        return sum(1 for letter in self.box(p) if not letter.read)

    def check_room(self, recipient: Player) -> None:
        if len(self.box(recipient)) >= MAX_LETTERS:
            raise MailError(
                f"{recipient.name}'s mailbox is full ({MAX_LETTERS} letters); "
                "nothing was sent. Try again once they have made room."
            )

    def check_sender(self, sender: Player) -> None:
        """Refuse a dreamer who has sent as many letters as the hour allows (each letter
        is kept until deleted: without this, one dreamer could fill the disk)."""
        wait = self.quota.wait(sender.id)
        if wait:
            raise MailError(
                f"You have sent {self.quota.limit} letters this hour; "
                f"nothing was sent. You may write again {describe_wait(wait)}."
            )

    def send(self, sender: Player, recipient: Player, subject: str, body: str) -> int:
        """Deliver a letter (see tell_arrival); returns the staging sequence."""
        refusal = muted_message(sender)  # muted while the letter was being written
        if refusal is not None:
            raise MailError(refusal)
        self.check_room(recipient)
        if not body.strip():
            raise MailError("An empty letter wasn't sent.")
        if len(body) > MAX_BODY_CHARS:
            raise MailError(f"A letter holds at most {MAX_BODY_CHARS} characters; not sent.")
        self.check_sender(sender)
        self.quota.take(sender.id)
        subject = subject.strip()[:MAX_SUBJECT_CHARS] or NO_SUBJECT
        letter = Letter(
            self._new_id("mail"), recipient.id, sender.id, sender.name, subject, body, time.time()
        )
        self.boxes.setdefault(recipient.id, []).append(letter)
        return self._stage("mail", letter.id, letter.to_row())

    def tell_arrival(self, sender: Player, recipient: Player, subject: str) -> None:
        """Tell the recipient, if online, that a letter came (call once it is durable)."""
        if recipient.online and recipient is not sender:
            shown = escape(subject.strip()[:MAX_SUBJECT_CHARS] or NO_SUBJECT)
            recipient.send(f"|yA letter arrives from {sender.name}:|n {shown} "
                           "(type |wmail|n to read it).")  # fmt: skip

    def letter(self, p: Player, n: int) -> Letter:
        """Letter number `n` of p's mailbox, counting from 1 (the oldest)."""
        box = self.box(p)
        if not 1 <= n <= len(box):
            count = f"1 to {len(box)}" if box else "none at all"
            raise MailError(f"You have no letter {n}; your letters are numbered {count}.")
        return box[n - 1]

    def mark_read(self, letter: Letter) -> int | None:
        if letter.read:
            return None
        letter.read = True
        return self._stage("mail", letter.id, letter.to_row())

    def delete(self, p: Player, letter: Letter) -> int:
        self.boxes[p.id].remove(letter)
        return self._stage("mail", letter.id, None)


def escape(text: str) -> str:
    """A player's text shown as typed, never as markup."""
    return text.replace("|", "||")


def login_notices(world: World, p: Player) -> list[str]:
    """What a dreamer is told right after the welcome line: the message of the day, then
    how many letters wait for them."""
    notes = []
    motd = world.meta.get("motd", "")
    if motd:
        notes.append(f"|y{motd}|n")
    unread = world.mail.unread(p)
    if unread:
        letters = "letter" if unread == 1 else "letters"
        notes.append(f"|yYou have {unread} unread {letters}; type |wmail|y.|n")
    return notes
