"""Looking after yourself: your password, description and title, being away, looking
someone up, the ways out of a room, and the message of the day."""

from __future__ import annotations

import time
from typing import ClassVar

from commands import modal
from commands.api import (
    NOTHING,
    TEXT,
    CommandError,
    CommandSession,
    Ctx,
    Mode,
    Publishes,
    command,
    text_after,
)
from world.mail import escape
from world.model import Player
from world.words import strip_markup

MAX_TITLE_CHARS = 40
MAX_AWAY_CHARS = 120
MAX_MOTD_CHARS = 1000
CLEAR_WORDS = ("clear", "none", "off")
NO_MOTD = "There is no message of the day."
_PRESENCE = {"version": 0}  # bumped when a title or away state changes (who's cache)


def forget_who() -> None:
    _PRESENCE["version"] += 1


def presence_version() -> int:
    return _PRESENCE["version"]


# -- password -------------------------------------------------------------------------------
class PasswordChange(Mode):
    """Old password, new one, new one again: each typed hidden (WILL ECHO), as at login."""

    PROMPTS: ClassVar[dict[str, str]] = {
        "old": "Your current password: ",
        "new": "Your new password (at least 8 characters): ",
        "again": "The new password again: ",
    }

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.session = ctx.session
        self.passwords = ctx.app.passwords
        self.state = "old"
        self.new = ""
        self.hidden = False

    def start(self) -> None:
        self.session.push_mode(self)
        self.prompt()

    def prompt(self) -> None:
        if not self.hidden:
            self.hidden = True
            self.session.set_echo(True)
        self.session.send_prompt(self.PROMPTS[self.state])

    def _show_input(self) -> None:
        if self.hidden:
            self.hidden = False
            # the client didn't echo the Enter either: end the prompt's line ourselves
            self.session.set_echo(False)
            self.session.write_raw(b"\r\n")

    def _done(self, text: str) -> None:
        self._show_input()
        self.new = ""
        self.session.send(text)
        self.session.pop_mode(self)

    def on_line(self, line: str) -> None:
        self._show_input()  # echo back on between answers, so each prompt starts a new line
        if self.state == "old":
            self._check_old(line)
        elif self.state == "new":
            problem = self.passwords.check_password(line)
            if problem:
                self._done(f"{problem} Your password is unchanged.")
                return
            self.new, self.state = line, "again"
            self.prompt()
        else:
            if line != self.new:
                self._done("The new passwords didn't match; your password is unchanged.")
                return
            self._change(line)

    def _check_old(self, password: str) -> None:
        player = self.ctx.player

        async def check() -> None:
            ok = await self.passwords.verify_password(player.password_hash, password)
            if self.session.closed:
                return
            if not ok:
                self._done("That isn't your password; nothing was changed.")
                return
            self.state = "new"
            self.prompt()

        self.session.run_task(check())

    def _change(self, password: str) -> None:
        player, app = self.ctx.player, self.ctx.app

        async def change() -> None:
            hashed = await self.passwords.hash_password(password)
            seq = self.ctx.world.set_password_hash(player, hashed)
            await app.store.durable(seq)  # "changed" only once it would survive a crash
            if not self.session.closed:
                self._done("|gYour password is changed.|n Use the new one next time.")

        self.session.run_task(change())

    def on_closing(self) -> None:
        self._show_input()


@command("password", category="Settings", publishes=NOTHING)
def cmd_password(ctx: Ctx) -> None:
    """Change your password: the old one, then the new one twice, hidden.

    Usage:
      password
    """
    if ctx.args.strip():
        raise CommandError("Type just |wpassword|n; you'll be asked for each one, hidden.")
    PasswordChange(ctx).start()


# -- description and title --------------------------------------------------------------------
@command("describe", category="Settings", publishes=text_after("me"))
def cmd_describe(ctx: Ctx) -> None:
    """Describe yourself: what others see when they look at you.

    Usage:
      describe me <text>    set your description (colour markup works)
      describe me           show it
      describe me clear     remove it
    """
    target, _, text = ctx.args.strip().partition(" ")
    if target.lower() not in ("me", "self"):
        raise CommandError("Usage: describe me <text>. (Builders describe things with @desc.)")
    text = text.strip()
    p = ctx.player
    if not text:
        now = p.description or "(nothing yet)"
        ctx.send(f"Your description:\n{now}\nChange it with |wdescribe me <text>|n.")
        return
    if text.lower() in CLEAR_WORDS:
        text = ""
    if len(text) > modal.MAX_DESCRIPTION_CHARS:
        raise CommandError(
            f"That is too long; a description has at most {modal.MAX_DESCRIPTION_CHARS} "
            "characters. Nothing was changed."
        )
    ctx.world.set_description(p, text)
    ctx.send("Your description is cleared." if not text else "Your description is set:\n" + text)


def title_of(p: Player) -> str:
    """The dreamer's title as markup that shows exactly what they typed ('' if none)."""
    return escape(str(p.settings.get("title", "")))


@command("title", category="Settings", publishes=TEXT)
def cmd_title(ctx: Ctx) -> None:
    """Choose a title, shown after your name in who and finger.

    Usage:
      title <text>      e.g. |wtitle the lantern-bearer|n shows "Ada the lantern-bearer"
      title             show it
      title clear       remove it
    """
    text = ctx.args.strip()
    p = ctx.player
    if not text:
        now = title_of(p)
        ctx.send(f"Your title: {p.name} {now}." if now else "You have no title yet.")
        return
    if text.lower() in CLEAR_WORDS:
        ctx.world.clear_setting(p, "title")
        forget_who()
        ctx.send("Your title is cleared.")
        return
    plain = " ".join(strip_markup(text).split())  # what was typed, never colour
    if len(plain) > MAX_TITLE_CHARS:
        raise CommandError(f"A title is at most {MAX_TITLE_CHARS} characters; not changed.")
    ctx.world.set_setting(p, "title", plain)
    forget_who()
    ctx.send(f"You are now {p.name} {title_of(p)}.")


# -- away -----------------------------------------------------------------------------------
class Away(Mode):
    """While away, the dreamer's input passes through here: the first command they type
    brings them back (and still runs, in the mode under this one: the dispatcher)."""

    def __init__(self, session: CommandSession, under: Mode, message: str) -> None:
        self.session = session
        self.under = under  # the mode the input goes back to (afk is a command: a dispatcher)
        self.message = message
        self.since = time.time()

    def prompt(self) -> None:
        self.under.prompt()

    def on_line(self, line: str) -> None:
        if line.strip():
            self.session.pop_mode(self, prompt=False)
            forget_who()
            if line.split()[0].lower() != "afk":
                self.session.send("You are back; your away message is cleared.")
        self.under.on_line(line)


def away_message(ctx: Ctx, p: Player) -> str | None:
    """What a dreamer who is away left to say ('' if nothing); None if they aren't away."""
    session = ctx.app.session_of(p)
    mode = session.mode if session is not None else None
    return mode.message if isinstance(mode, Away) else None


# any message is shown to whoever tells them, even one that reads "clear"
@command(
    "afk", aliases=("away",), category="Communication", publishes=Publishes(text=True, keeps=())
)
def cmd_afk(ctx: Ctx) -> None:
    """Say you are away from the keyboard, with a message if you like.

    who shows it, and tells to you are answered with your message. The next command
    you type brings you back.

    Usage:
      afk               away, without a message
      afk <message>     e.g. |wafk making tea, back in 5|n
    """
    text = " ".join(strip_markup(ctx.args).split())
    if len(text) > MAX_AWAY_CHARS:
        raise CommandError(f"An away message is at most {MAX_AWAY_CHARS} characters.")
    under = ctx.session.mode
    if under is None:  # (the connection is going: nobody to be away from)
        return
    away = Away(ctx.session, under, text)
    ctx.session.push_mode(away)
    forget_who()
    said = f": {escape(text)}" if text else ""
    ctx.send(f"You are away{said}. The next command you type brings you back.")
    away.prompt()  # the dispatcher leaves prompting to the mode it no longer is


# -- finger -----------------------------------------------------------------------------------
def _when(at: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(at))


@command("finger", aliases=("whois",), category="Communication", publishes=NOTHING)
def cmd_finger(ctx: Ctx) -> None:
    """Look up a dreamer: title, description, role, when last seen.

    Usage:
      finger <dreamer>
      whois <dreamer>
    """
    name = ctx.args.strip()
    if not name:
        raise CommandError("Usage: finger <dreamer>")
    w = ctx.world
    p = w.players_by_key.get(name.lower()) or w.find_online(name)
    if p is None:
        raise CommandError(f"There is no dreamer called '{name[:20]}'.")
    title = title_of(p)
    lines = [f"|c{p.name}|n {title}".rstrip(), f"Role: {p.role}."]
    if p.online:
        away = away_message(ctx, p)
        # awake, dreaming or in a loop: never where (a dream is private)
        lines.append(f"Online now, {w.dream_state(p)}.")
        if away is not None:
            lines.append(f"Away: {escape(away)}." if away else "Away from the keyboard.")
    else:
        seen = p.settings.get("last_seen") or p.last_login
        lines.append(f"Last seen {_when(seen)}." if seen else "Not seen yet.")
    if p.created_at:
        lines.append(f"First came to the Dreamwave {_when(p.created_at)}.")
    lines.append(p.description or f"{p.name} hasn't described themselves yet.")
    ctx.send("\n".join(lines))


# -- exits ------------------------------------------------------------------------------------
@command("exits", category="Movement", publishes=NOTHING)
def cmd_exits(ctx: Ctx) -> None:
    """List the ways out of here and where each leads, one per line."""
    room = ctx.player.room
    if room is None:
        raise CommandError("You are nowhere at all. Try |wquit|n and log in again.")
    if not room.exits:
        ctx.send("There is no way out of here that you can see.")
        return
    indent = "" if ctx.session.screen_reader else "  "
    lines = [f"Ways out of {room.name}:"]
    for ex in room.exits:
        dest = ctx.world.exit_destination(ex)
        where = dest.name if dest is not None else "nowhere you can reach"
        aliases = f" ({', '.join(ex.aliases)})" if ex.aliases else ""
        note = " (severed for now)" if ex.attrs.get("severed") else ""
        lines.append(f"{indent}|w{ex.name}|n{aliases}: {where}{note}")
    ctx.page("\n".join(lines))


# -- message of the day -----------------------------------------------------------------------
@command("motd", category="System", publishes=NOTHING)
def cmd_motd(ctx: Ctx) -> None:
    """Read the message of the day again (it is shown when you log in)."""
    motd = ctx.world.meta.get("motd", "")
    ctx.send(f"|y{motd}|n" if motd else NO_MOTD)


@command("@motd", category="Building", role="builder", publishes=TEXT)
def cmd_set_motd(ctx: Ctx) -> None:
    """Set the message of the day, shown to dreamers as they log in.

    Usage:
      @motd             show it
      @motd <text>      set it (colour markup works)
      @motd clear       remove it
    """
    text = ctx.args.strip()
    w = ctx.world
    if not text:
        motd = w.meta.get("motd", "")
        ctx.send(f"The message of the day:\n|y{motd}|n" if motd else NO_MOTD)
        return
    if text.lower() == "clear":
        text = ""
    if len(text) > MAX_MOTD_CHARS:
        raise CommandError(f"The message of the day is at most {MAX_MOTD_CHARS} characters.")
    w.save_meta("motd", text)
    w.audit(ctx.player, "motd", text[:200] or "(cleared)")
    if text:
        ctx.send(f"The message of the day is now:\n|y{text}|n")
    else:
        ctx.send("The message of the day is cleared.")
