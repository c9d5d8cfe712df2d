"""A session's life on the engine: arriving, logging in, entering the game, coming back
after a reload or a crash, idling out, and leaving.

The App builds and starts things; this is what happens to each connection a gateway brings
(mud/core/peer.py makes the Session, mud/core/login.py runs the login screen,
mud/core/dispatch.py the commands).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from mud.core.dispatch import Dispatcher
from mud.core.login import LoginFlow
from mud.core.session import Session
from mud.core.world_port import session_of
from world.mail import login_notices
from world.model import Player

if TYPE_CHECKING:
    from mud.core.app import App
    from mud.protocol import ConnState

log = logging.getLogger("dreamwave")

RELOAD_AFTER = "|gThe dreamscape settles around you again, rewoven; you are where you were.|n"
CRASH_AFTER = "|gThe dream steadies around you again; you are where you were.|n"
DRAFT_KEPT = (
    "|yThe editor closed for the reload; what you had typed for {title} is kept as a draft. "
    "Open the editor again and type |w.r|y to bring it back (|wdraft|y shows it).|n"
)
LOGIN_AGAIN = "|yThe dreamscape was rewoven while you stood at the threshold; begin again.|n"
LOGIN_AGAIN_CRASH = "|yThe dream flickered while you stood at the threshold; begin again.|n"


class SessionLifecycle:
    def __init__(self, app: App) -> None:
        self.app = app

    def keep_draft(self, session: Session) -> None:
        """An editor open over a reload: its text is saved as the dreamer's draft (the new
        engine says so; `.r` in the editor brings it back)."""
        from commands.modal import DRAFT_KEY

        p = session.player
        if p is None:
            return
        for mode in reversed(session.modes):  # the top one first
            got = mode.draft()
            if got is not None:
                self.app.world.set_setting(p, DRAFT_KEY, {"title": got[0], "text": got[1]})
                return

    def new_session(self, session: Session) -> None:
        """A gateway has a new connection: refuse a banned address before any banner."""
        ban = self.app.world.moderation.bans.for_address(session.address)
        if ban is not None:
            log.info("refused %s: address banned (ban #%d)", session.address, ban.id)
            session.close("Connections from your address are not accepted here.")
            return
        self.app.sessions.add(session)
        log.info("connection from %s:%d", session.address, session.port)

    def resumed(self, session: Session) -> None:
        """A browser took its dreamer back (its address, maybe new, came just before): an
        address ban refuses it as it refuses a new connection; the dreamer leaves."""
        ban = self.app.world.moderation.bans.for_address(session.address)
        if ban is None:
            self.allow_resume(session)
            return
        log.info("refused a resume from %s: address banned (ban #%d)", session.address, ban.id)
        session.close("Connections from your address are not accepted here.")

    def reattach(self, session: Session, state: ConnState, why: str) -> bool:
        """A connection a gateway kept while the engine was away (a reload, a crash): the
        dreamer is back where they were, told in one line; one at the login screen is
        asked again. True if a dreamer was put back."""
        self.app.sessions.add(session)
        banned_here = self.app.world.moderation.bans.for_address(session.address) is not None
        if state.resumed:  # a page came back while we were away
            if banned_here:
                session.close("Connections from your address are not accepted here.")
                return False
            self.allow_resume(session)
        if not state.started:
            return False  # still negotiating: its "go" comes later
        session.reattached()
        if not state.greeted:  # it connected while no engine was there
            self.begin_login(session)
            return False
        key = state.player
        player = self.app.world.players_by_key.get(str(key).lower()) if key else None
        banned = player is not None and self.app.world.moderation.bans.for_name(player.key)
        if player is None or player.session is not None or banned:
            self.bind(session, None)  # (the gateway forgets the dreamer: a page empties its panels)
            flow = LoginFlow(self.app, session)
            session.set_base_mode(flow)
            session.send(LOGIN_AGAIN if why == "reload" else LOGIN_AGAIN_CRASH)
            flow.prompt()
            return False
        session.attach(player)
        self.app.world.enter_game(player, session, announce=False)
        dispatcher = Dispatcher(self.app, session, player)
        session.set_base_mode(dispatcher)
        session.decide_capabilities()
        self.bind(session, player)
        session.send(RELOAD_AFTER if why == "reload" else CRASH_AFTER)
        draft = player.settings.get("draft")  # (commands.modal.DRAFT_KEY)
        if why == "reload" and isinstance(draft, dict):
            session.send(DRAFT_KEPT.format(title=draft.get("title", "your text")))
        dispatcher.prompt()
        session.notify("login")
        return True

    def allow_resume(self, session: Session) -> None:
        """The gateway holds a resumed page's missed output until this (see resumed)."""
        session.link.resume_ok()

    def bind(self, session: Session, player: Player | None) -> None:
        session.link.bind(player.key if player else None)

    def session_closed(self, session: Session) -> None:
        self.app.sessions.discard(session)
        session.link.forget()

    def begin_login(self, session: Session) -> None:
        flow = LoginFlow(self.app, session)
        session.set_base_mode(flow)
        flow.greet()

    def enter_game(self, session: Session, player: Player) -> None:
        ban = self.app.world.moderation.bans.for_name(player.key)
        if ban is not None:
            log.info("refused %s from %s: banned (ban #%d)", player.name, session.address, ban.id)
            why = f": {ban.reason}" if ban.reason else "."
            session.close(f"{player.name} is banned {ban.remaining(time.time())}{why}")
            return
        old = session_of(player)
        session.attach(player)
        arriving = old is None or old is session
        if old is not None and not arriving:
            log.info("%s taken over by a new connection from %s", player.name, session.address)
            old.set_base_mode(None)  # the dreamer stays; only the old connection goes
            old.attach(None)
            if old.out.feed is not None:
                old.out.feed.watchers.discard(old)
            old.out.read_room(None)
            player.session = session
            if player.room is not None:
                self.app.output.read_feed(session, player.room)
            old.close("Your dreamer has been claimed by a new connection; goodbye.")
            session.send("|yYou take over your dreamer from another connection.|n")
        else:
            self.app.world.enter_game(player, session)
        dispatcher = Dispatcher(self.app, session, player)
        session.set_base_mode(dispatcher)
        session.decide_capabilities()
        self.bind(session, player)
        session.send(f"|cYou drift into the Dreamwave, {player.name}.|n")
        for notice in login_notices(self.app.world, player):  # the message of the day, letters
            session.send(notice)
        dispatcher.run("look")
        if arriving:  # hooks (NPC greetings, event triggers) see the dreamer once in the room
            self.app.world.emit("login", player=player, room=player.room)
        mode = session.mode  # (the dispatcher, unless `look` paged)
        if mode is not None:
            mode.prompt()
        session.notify("login")

    def player_left(self, player: Player, session: Session) -> None:
        if player.session is session:
            log.info("%s left", player.name)
            self.app.world.leave_game(player)

    def sweep_idle(self) -> None:
        now = time.monotonic()
        lim = self.app.settings.limits
        for session in list(self.app.sessions):
            idle = now - session.last_input
            # The login screen's time counts from the connection: typing an empty line now
            # and then doesn't keep a login screen open.
            if session.player is None and now - session.connected_at > lim.login_idle_timeout:
                session.close("You lingered too long at the threshold; goodbye.")
            elif session.player is not None and idle > lim.player_idle_timeout:
                session.close("You have drifted idle too long and slip out of the dream.")
