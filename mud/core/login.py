"""The login screen: banner, one-line and interactive login, account creation, takeover."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from commands.api import Mode
from mud.core import auth
from mud.core.auth import Refusal

if TYPE_CHECKING:
    from mud.core.app import App
    from mud.core.session import Session

log = logging.getLogger("dreamwave.login")

BANNER = """\
|c|[~ ~ ~  D R E A M W A V E  ~ ~ ~|]|n
|bThe year is 2147. Behind your eyelids the network hums, waiting to carry you under.|n

  |wconnect <name> <password>|n   return to your dream
  |wcreate <name> <password>|n    become a new dreamer
  or just type a name to begin, and |wquit|n to leave."""
# The same for screen readers: a title read as a word, whole sentences, no alignment.
SCREEN_READER_BANNER = """\
|cWelcome to Dreamwave.|n
|bThe year is 2147. Behind your eyelids the network hums, waiting to carry you under.|n
To return to your dream, type |wconnect|n, your name and your password.
To become a new dreamer, type |wcreate|n, a name and a password, or just type a name.
Type |wquit|n to leave."""

WRONG = "That name and password don't match. Try again, or type a new name to create a dreamer."
PASSWORD_STATES = ("password", "new_password", "new_password_again")
REFUSED = {
    "address": "Too many failed logins from your address.",
    "account": "Too many failed logins for that name.",
}
BUSY = (
    "Too many logins are being checked for that name or from your address; "
    "wait a moment and try again."
)
LOCKED_NOW = {
    "address": "Too many failed logins from your address; wait a while.",
    "account": "Too many failed logins for that name; it is locked for a while.",
}


class LoginFlow(Mode):
    """The base mode before a dreamer is in the game. States: name -> password (existing)
    | confirm -> new_password -> new_password_again."""

    def __init__(self, app: App, session: Session) -> None:
        self.app = app
        self.session = session
        self.state = "name"
        self.name = ""
        self.new_password = ""
        self.echo_hidden = False

    # -- screen ---------------------------------------------------------------------------
    def greet(self) -> None:
        self.session.send(SCREEN_READER_BANNER if self.session.screen_reader else BANNER)
        self.prompt()

    def prompt(self) -> None:
        text = {
            "name": "Name: ",
            "password": "Password: ",
            "confirm": f"Create a new dreamer named {self.name}? (yes/no) ",
            "new_password": "Choose a password (at least 8 characters): ",
            "new_password_again": "Type the password again: ",
        }[self.state]
        if self.state in PASSWORD_STATES:
            self._hide_input()
        self.session.send_prompt(text)

    def _hide_input(self) -> None:
        if not self.echo_hidden:
            self.echo_hidden = True
            self.session.set_echo(True)

    def _show_input(self) -> None:
        if self.echo_hidden:
            self.echo_hidden = False
            # The client didn't echo the Enter either: end the prompt line ourselves.
            self.session.set_echo(False)
            self.session.write_raw(b"\r\n")
            self.session.line_ended()

    def on_closing(self) -> None:
        self._show_input()

    # -- input ----------------------------------------------------------------------------
    def on_line(self, line: str) -> None:
        if self.state in PASSWORD_STATES:
            if not line:
                # An empty Enter is "ask again", never a try: echo stays hidden, and the
                # password typed next still goes to the password prompt.
                self.session.write_raw(b"\r\n")
                self.session.line_ended()
                self.prompt()
                return
            self._show_input()
        step = {
            "name": self._on_name,
            "password": self._on_password,
            "confirm": self._on_confirm,
            "new_password": self._on_new_password,
            "new_password_again": self._on_new_password_again,
        }[self.state]
        step(line)

    def _on_name(self, line: str) -> None:
        words = line.split()
        if not words:
            self.prompt()
            return
        verb = words[0].lower()
        if verb == "quit":
            self.session.close("May your dreams be gentle.")
        elif verb in ("connect", "create") and len(words) >= 3:
            name, password = words[1], line.split(None, 2)[2]
            if verb == "connect":
                self._try_login(name, password)
            else:
                self._try_create(name, password)
        elif verb in ("connect", "create"):
            self.session.send(f"Usage: {verb} <name> <password>")
            self.prompt()
        elif verb == "mssp-request":
            self.session.send(self.app.mssp_text())
            self.prompt()
        elif len(words) == 1:
            self._ask_for(words[0])
        else:
            self.session.send("Type a name, or |wconnect <name> <password>|n.")
            self.prompt()

    def _ask_for(self, name: str) -> None:
        if self._locked_out():
            return
        if self.app.world.players_by_key.get(name.lower()) is not None:
            wait = self.app.throttle.account_locked_for(name)
            if wait > 0:
                self._refuse(Refusal("account", wait))
                return
            self.name = name.capitalize()
            self.state = "password"
        else:
            problem = auth.check_name(name, self.app.reserved_names())
            problem = problem or self.app.account_quota.refusal(self.session.address)
            if problem:
                self.session.send(problem)
            else:
                self.name = name.capitalize()
                self.state = "confirm"
        self.prompt()

    def _on_password(self, line: str) -> None:
        self._try_login(self.name, line)

    def _on_confirm(self, line: str) -> None:
        answer = line.strip().lower()
        if answer in ("y", "yes"):
            self.state = "new_password"
        elif answer in ("n", "no"):
            self.state = "name"
        else:
            self.session.send("Please answer yes or no.")
        self.prompt()

    def _on_new_password(self, line: str) -> None:
        problem = auth.check_password(line)
        if problem:
            self.session.send(problem)
        else:
            self.new_password = line
            self.state = "new_password_again"
        self.prompt()

    def _on_new_password_again(self, line: str) -> None:
        if line != self.new_password:
            self.new_password = ""
            self.session.send("The passwords didn't match; let's try again.")
            self.state = "new_password"
            self.prompt()
            return
        password, self.new_password = self.new_password, ""
        self._try_create(self.name, password)

    # -- the two real actions ---------------------------------------------------------------
    def _locked_out(self) -> bool:
        wait = self.app.throttle.locked_for(self.session.address)
        if wait > 0:
            self._refuse(Refusal("address", wait))
            return True
        return False

    def _refuse(self, refusal: Refusal) -> None:
        if refusal.busy:
            self.session.send(BUSY)
        else:
            minutes = max(1, round(refusal.wait / 60))
            self.session.send(
                f"{REFUSED[refusal.who]} Please wait about "
                f"{minutes} minute{'s' if minutes != 1 else ''} and try again."
            )
        self.state = "name"
        self.prompt()

    def _try_login(self, name: str, password: str) -> None:
        throttle, address = self.app.throttle, self.session.address
        player = self.app.world.players_by_key.get(name.lower())
        stored = player.password_hash if player else None

        async def check() -> None:
            # Refused before any hashing: a locked address or name. While checks in flight
            # might reach the limit (parallel guesses), this one waits for them first.
            refusal = await throttle.turn(address, name)
            if refusal is not None:
                if not self.session.closed:
                    self._refuse(refusal)
                return
            ok = False
            try:
                ok = await auth.verify_password(stored, password) and player is not None
            finally:
                # counted even if the client hung up meanwhile
                locked = throttle.end(address, name, ok)
            if self.session.closed:
                return
            if ok and player is not None:
                log.info("login %s from %s", player.name, address)
                self.app.lifecycle.enter_game(self.session, player)
                return
            # Only an existing account's name is logged: what is typed as a name may be a
            # password typed in the wrong place.
            who = player.name if player is not None else "an unknown name"
            log.info("failed login for %s from %s", who, address)
            self.session.send(WRONG)
            if locked is not None:
                target = address if locked == "address" else (who if player else "a name")
                log.warning("locking out %s after repeated failures", target)
                self.session.send(LOCKED_NOW[locked])
            self.state = "name"
            self.prompt()

        self.session.run_task(check())

    def _try_create(self, name: str, password: str) -> None:
        problem = auth.check_name(name, self.app.reserved_names()) or auth.check_password(password)
        if problem is None and name.lower() in self.app.world.players_by_key:
            problem = f"There is already a dreamer named {name.capitalize()}."
        problem = problem or self.app.account_quota.take(self.session.address)
        if problem:
            self.session.send(problem)
            self.state = "name"
            self.prompt()
            return

        async def create() -> None:
            hashed = await auth.hash_password(password)
            if self.session.closed:
                return
            world = self.app.world
            if name.lower() in world.players_by_key:  # someone took it while we hashed
                self.session.send(f"There is already a dreamer named {name.capitalize()}.")
                self.state = "name"
                self.prompt()
                return
            player = world.create_player(name.capitalize(), hashed)
            await self.app.store.durable()
            if self.session.closed:
                return
            log.info("created account %s from %s", player.name, self.session.address)
            self.session.send(f"|gWelcome, {player.name}. Your dreamer has been created.|n")
            self.app.lifecycle.enter_game(self.session, player)

        self.session.run_task(create())
