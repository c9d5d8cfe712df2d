"""The App, the engine process: wires the Store, the World, the command registry and the
scheduler, and takes the gateways on the Link (it never listens for players itself)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import time
from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from commands.api import REGISTRY, Registry
from mud.config import Settings, normalise_db_url
from mud.core import auth
from mud.core.auth import AccountQuota, FailureThrottle
from mud.core.dispatch import show_landing
from mud.core.events import EventService
from mud.core.lifecycle import SessionLifecycle
from mud.core.npc_runtime import NpcDirector
from mud.core.output import BUSY_FLUSH_DELAY_MAX, OutputPump
from mud.core.peer import GatewayPeer
from mud.core.scheduler import Scheduler
from mud.core.session import Session
from mud.core.shutdown import ShutdownTimer
from mud.core.tx import Transactions
from mud.core.world_port import EngineObserver, session_of
from mud.protocol import Message, Reload, Stop
from mud.store import Store
from mud.supervisor.procs import RELOAD_EXIT
from world.channels import load_channel_specs
from world.content import load_world_spec, seed
from world.model import Player
from world.npc_scripts import NpcScript, load_npc_scripts, seed_npcs
from world.ports import WorldObserver
from world.socials import load_socials
from world.world import World
from world.yamlsrc import ContentError

if TYPE_CHECKING:
    from nats.aio.client import Client as NatsClient

    from mud.link.base import Link
    from mud.link.local import LocalListener
    from mud.link.nats import NatsHub
    from mud.protocol import Attached
    from mud.store.writer import Row

T = TypeVar("T")

log = logging.getLogger("dreamwave")

FULL_GC_INTERVAL = 600.0  # seconds between full garbage collections (see _full_gc)
IDLE_SWEEP_MAX = 5.0  # seconds between idle checks at most
RELOAD_ACK_TIMEOUT = 2.0  # seconds to wait for the gateways to start keeping input
HELLO_WAIT = 2.0  # seconds a new engine waits for every local gateway's hello, at most
LINK_DRAIN_TIMEOUT = 5.0  # seconds to let the last output reach the gateways
RELOAD_BEFORE = "|yThe dreamscape shimmers and holds its breath: it is being rewoven. Hold still.|n"
SHUTDOWN_MESSAGE = "|yThe dreamscape is fading: the server is shutting down. Your dream is saved.|n"
# When the database would not take the last changes before shutdown_timeout:
UNSAVED_ACTION_MESSAGE = "|rYour last action could not be saved and did not happen.|n"
SHUTDOWN_UNSAVED_MESSAGE = (
    "|yThe dreamscape is fading: the server is shutting down. The database is failing, so "
    "only what you were told happened is saved.|n"
)


# What builds the World's observer (world/ports.py) once the Store is open; none: the world
# delivers straight to each listener (the CLI's tools and tests). The engine opens the world in
# a worker thread, so this runs there: it builds objects and must not touch the event loop.
Observe = Callable[[Store], WorldObserver]


def load_world(
    db_url: str, lock: bool = True, observe: Observe | None = None
) -> tuple[Store, World, dict[str, list[Row]]]:
    """Open the database (as its one writer if `lock`), migrate it and load the world."""
    store = Store(normalise_db_url(db_url))
    if lock:
        try:
            store.lock()
        except BaseException:
            store.engine.dispose()
            raise
    store.migrate()
    world = World(store.stage, observe(store) if observe is not None else None)
    rows = store.load()
    world.load(rows)
    return store, world, rows


def open_world(
    db_url: str,
    npc_scripts: Mapping[str, NpcScript] | None = None,
    observe: Observe | None = None,
) -> tuple[Store, World]:
    """Migrate the database, load it, and seed the default world on first start; with
    `npc_scripts`, also place every scripted NPC this database has never had."""
    store, world, rows = load_world(db_url, observe=observe)
    if not world.rooms:
        log.info("empty database: seeding the default world")
        seed(world, load_world_spec())
        world.save_meta("seeded_at", str(time.time()))
        store.write_now()
    if world.channels.seed(load_channel_specs(), rows.get("meta", [])):
        store.write_now()
    world.socials = load_socials()
    if npc_scripts is not None:
        for npc in seed_npcs(world, npc_scripts, rows.get("meta", [])):
            log.info("%s takes their place in %s", npc.name, npc.room.name if npc.room else "-")
        store.write_now()
    return store, world


class App:
    def __init__(self, settings: Settings, registry: Registry | None = None) -> None:
        self.settings = settings
        self.registry = registry or REGISTRY
        self.sessions: set[Session] = set()
        self.tasks: set[asyncio.Task[object]] = set()
        self.throttle = FailureThrottle(
            settings.limits.login_failures,
            settings.limits.login_failure_window,
            settings.limits.login_lockout,
            settings.limits.login_account_failures,
            settings.limits.login_account_window,
        )
        self.account_quota = AccountQuota(
            settings.limits.accounts_per_address_per_hour, settings.limits.accounts_per_hour
        )
        self.started_at = time.time()
        # Set when the server should stop by itself (an admin's @shutdown ran out, or a
        # reload: then `reloading` is set too and the gateways keep every connection).
        self.stop_requested = asyncio.Event()
        self.reloading = False
        self.stopping = False  # stop() has begun
        self.reload_begins: Callable[[], None] = lambda: None
        self.port: int = settings.port  # the gateways' port (what they told us)
        self.gateways: set[GatewayPeer] = set()
        # the local gateways to wait for before "listening" (NATS ones come when they come)
        self.expected_gateways = settings.link.gateways
        self.ready = asyncio.Event()  # every expected gateway said hello
        self._ready = False
        self._t0 = 0.0
        self._listeners: list[NatsHub | LocalListener] = []
        self._hellos: dict[GatewayPeer, list[Attached]] = {}  # said hello, waiting (gateway_hello)
        self._hello_timer: asyncio.TimerHandle | None = None
        self._nc: NatsClient | None = None
        self._reserved: set[str] | None = None
        self.loop: asyncio.AbstractEventLoop
        self.store: Store
        self.world: World
        self.scheduler: Scheduler
        self.events: EventService
        self.npc_director: NpcDirector
        self.shutdown: ShutdownTimer
        self.output: OutputPump
        self.txs: Transactions  # units of work (mud/core/tx.py)
        self.lifecycle = SessionLifecycle(self)

    # -- start and stop -------------------------------------------------------------------
    async def start(self) -> None:
        """Load the world, then take gateways on the link (the engine never listens for
        players itself: gateways own every socket, mud/edge/gateway.py)."""
        import commands  # noqa: F401  (registers every command)

        self.loop = asyncio.get_running_loop()
        t0 = time.perf_counter()
        self._t0 = t0
        link = self.settings.link
        from mud.link.auth import configured_secret

        secret = configured_secret(link)  # (None: the local link's folder key)
        if link.nats:  # (first: wrong credentials stop the start before the database opens)
            from mud.link.nats import NatsHub, check_nats, connect_options, nats_connect

            check_nats(link, secret)
            self._nc = await nats_connect(link.nats, "dreamwave-engine", **connect_options(link))
        await self._open(t0)
        if self._nc is not None:  # (link.nats)
            hub = NatsHub(self._nc, self._gateway_linked, prefix=link.nats_prefix, secret=secret)
            await hub.start()
            self._listeners.append(hub)
        if link.socket:
            from mud.link.local import LocalListener

            local = LocalListener(link.socket, self._gateway_linked, secret=secret)
            await local.start()
            self._listeners.append(local)
        log.info("engine ready (%d rooms, %d accounts, %.2fs); waiting for %d gateway(s)",
                 len(self.world.rooms), len(self.world.players), time.perf_counter() - t0,
                 self.expected_gateways)  # fmt: skip

    def _gateway_linked(self, link: Link) -> None:
        """A gateway proved the link secret (mud.link.auth). It says hello next: a gateway
        that was talking to an engine before this one proves it again, and its Link then
        asks it to (over NATS)."""
        peer = GatewayPeer(self, link)
        self.gateways.add(peer)

    def gateway_hello(self, peer: GatewayPeer, attached: list[Attached]) -> None:
        """A gateway said hello. A new engine waits (HELLO_WAIT at most) until every local
        gateway has, then puts all their connections back before welcoming any: a gateway
        sends the lines it kept once welcomed, and they must find everyone in place."""
        self._hellos[peer] = attached  # (a hello said again over NATS replaces the first)
        if self._ready or len(self._hellos) >= self.expected_gateways:
            self._take_hellos()
        elif self._hello_timer is None:
            self._hello_timer = self.loop.call_later(HELLO_WAIT, self._take_hellos)

    def _take_hellos(self) -> None:
        if self._hello_timer is not None:
            self._hello_timer.cancel()
            self._hello_timer = None
        hellos, self._hellos = self._hellos, {}
        for peer, attached in hellos.items():
            if not peer.link.closed:
                peer.take_hello(attached)
        for peer in hellos:
            if not peer.link.closed:
                peer.welcome()

    def gateway_port(self, peer: GatewayPeer) -> None:
        """The port players reach us on (MSSP's PORT): the first gateway's."""
        port = peer.info.port
        if not any(g.greeted for g in self.gateways if g is not peer):
            self.port = port

    def gateway_ready(self, peer: GatewayPeer) -> None:
        """A gateway said hello: once all expected ones have, the server is up."""
        greeted = [g for g in self.gateways if g.greeted]
        if not self._ready and len(greeted) >= self.expected_gateways:
            self._ready = True
            self.ready.set()
            log.info(
                "Dreamwave listening on %s (%d rooms, %d accounts, ready in %.2fs, %d gateway(s), "
                "%s loop, engine pid %d)",
                peer.info.listening or "?", len(self.world.rooms), len(self.world.players),
                time.perf_counter() - self._t0, len(greeted),
                type(self.loop).__module__.split(".")[0], os.getpid(),
            )  # fmt: skip

    def _set_quotas(self) -> None:
        """The world's per-dreamer quotas (letters, loops, woven lines) from the settings."""
        lim, world = self.settings.limits, self.world
        world.mail.quota.limit = lim.letters_per_hour
        world.dreams.loop_quota.limit = lim.loops_per_hour
        world.dreams.weave_quota.limit = lim.weaves_per_minute

    def gateway_lost(self, peer: GatewayPeer) -> None:
        self.gateways.discard(peer)

    async def _open(self, t0: float) -> None:
        # A broken NPC script stops the start (file:line problems) before the database opens.
        try:
            scripts = await self.loop.run_in_executor(None, load_npc_scripts)
        except ContentError as err:
            log.error("NPC scripts have %d problem(s):\n%s", len(err.problems), err)
            raise

        # Start-up database work happens before we listen, off the loop thread all the same.
        # The World is built with the engine's observer (world/ports.py): its lines go to the
        # output pump's feeds, its moves and channel lines to the units of work.
        # (Nobody is connected while it loads, so the observer is not called before we run.)
        def observe(store: Store) -> WorldObserver:
            self.output = OutputPump(self.loop, store)
            # a command's unit of work (mud/core/tx.py): what it shows waits for its commit
            self.txs = Transactions(store, show_landing)
            return EngineObserver(self.output, self.txs)

        self.store, self.world = await self.loop.run_in_executor(
            None, open_world, self.settings.db, scripts, observe
        )
        # The world loaded at start lives as long as the server: take it out of the cyclic
        # collector's passes (a full pass over a 10,000-room world stalls the loop).
        gc.collect()
        gc.freeze()
        self._set_quotas()
        self.store.start(self.loop)
        self.scheduler = Scheduler(self.loop, lambda: self.world.clock)
        if self.settings.time_scale != 1:
            self.scheduler.set_time_scale(self.settings.time_scale)
        self.npc_director = NpcDirector(self.world, self.scheduler, scripts)
        self.npc_director.start()
        self.events = EventService(
            self.world, self.scheduler, npcs=self.npc_director,
            min_real_cap=self.settings.answer_time_cap,
        )  # fmt: skip
        self.events.start()
        lim = self.settings.limits
        sweep = max(
            0.05, min(IDLE_SWEEP_MAX, lim.login_idle_timeout / 4, lim.player_idle_timeout / 4)
        )
        self.scheduler.every(sweep, self.lifecycle.sweep_idle)
        self.scheduler.every(60.0, self.throttle.prune)
        self.scheduler.every(FULL_GC_INTERVAL, self._full_gc)
        self.scheduler.every(60.0, self.world.moderation.prune)
        self.shutdown = ShutdownTimer(self.scheduler, self.wall, self.stop_requested.set)

    async def stop(self) -> int:
        """Save everything, tell everyone, close every connection: 0. If the database
        doesn't take what is staged within `settings.shutdown_timeout`, tell each player
        plainly what was not saved (a reply waiting for its commit is never sent) and
        return 1. When `reloading`, nobody is closed: see `_stop_for_reload`."""
        self.stopping = True
        if self.reloading:
            return await self._stop_for_reload()
        log.info("shutting down")
        deadline = time.monotonic() + self.settings.shutdown_timeout
        for session in list(self.sessions):  # no new commands from here on
            session.stop_input()
        await self._stop_world()
        # What is staged becomes durable (held replies go out as usual), within the bound.
        store = self.store
        try:
            await asyncio.wait_for(store.durable(), max(0.0, deadline - time.monotonic()))
            saved = True
        except TimeoutError:
            saved = False
        told = 0
        for session in list(self.sessions):
            if saved:
                session.close(SHUTDOWN_MESSAGE)
                continue
            if session.drop_held():
                told += 1
                session.send(UNSAVED_ACTION_MESSAGE)
            session.close(SHUTDOWN_UNSAVED_MESSAGE)
        # (leaving the game saves each dreamer's last place: within what is left of the bound)
        unsaved = store.unsaved
        saved = await store.close(max(0.0, deadline - time.monotonic()) if saved else 0.0)
        await self._close_links(Stop())
        if not saved:
            log.error(
                "shutdown gave up after %.0f s: %d staged change(s) could not be saved "
                "(database: %s); %d dreamer(s) told their last action did not happen",
                self.settings.shutdown_timeout, max(unsaved, store.unsaved),
                store.failing or "not answering", told,
            )  # fmt: skip
            return 1
        log.info("shutdown complete")
        return 0

    async def _stop_world(self) -> None:
        self.npc_director.stop()
        self.events.stop()  # (saves how long each event wait has left)
        self.scheduler.cancel_all()
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)

    async def _close_links(self, last: Message | None) -> None:
        """Send `last` to every gateway, let what is queued go out, and close the link."""
        for peer in list(self.gateways):
            if last is not None:
                peer.post(last)
            peer.link.flush()
        deadline = time.monotonic() + LINK_DRAIN_TIMEOUT
        while time.monotonic() < deadline and any(
            p.link.pending_bytes() for p in self.gateways if not p.link.closed
        ):
            await asyncio.sleep(0.01)
        for listener in self._listeners:
            await listener.close()
        for peer in list(self.gateways):
            peer.link.close("engine stopping")
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.close()

    # -- reload: a new engine takes over; the gateways keep every connection ----------------
    async def request_reload(self) -> list[str]:
        """Check the scripts a new engine would load, then reload (True) or say why not."""
        try:
            await self.loop.run_in_executor(None, load_npc_scripts)
        except ContentError as err:
            return list(err.problems)
        problems = await self.events.check_files()
        if problems:
            return problems
        if not self.reloading:
            self.reloading = True
            log.info("reload requested: saving, then a new engine takes over")
            self.reload_begins()  # (the supervisor starts the next engine meanwhile)
            self._ask_gateways_to_keep_input()  # (before the notice: what is typed after
            for session in list(self.sessions):  # seeing it runs on the next engine)
                if session.started and not session.closed:
                    session.send(RELOAD_BEFORE)
            self.stop_requested.set()
        return []

    def _ask_gateways_to_keep_input(self) -> None:
        """The gateways keep input from now on; what they sent before their answer arrives
        before it (the link keeps order), so every line sent is run here. Posted before the
        players' notice, so it reaches each gateway first."""
        for peer in self.gateways:
            if peer.greeted and not peer.link.closed:
                peer.reload_acked = self.loop.create_future()
                peer.post(Reload())

    async def _stop_for_reload(self) -> int:
        """Finish what was typed, save everything, hand over: no connection is closed and
        nobody leaves the game (the new engine puts each dreamer back where they are)."""
        deadline = time.monotonic() + self.settings.shutdown_timeout
        waiting = [p for p in self.gateways if p.reload_acked is not None]
        if waiting:
            await asyncio.wait(
                [p.reload_acked for p in waiting if p.reload_acked is not None],
                timeout=RELOAD_ACK_TIMEOUT,
            )
        while time.monotonic() < deadline and any(s.active for s in self.sessions):
            await asyncio.sleep(0.01)  # commands running or waiting for their commit
        for session in list(self.sessions):
            session.taking_input = False  # (as before: the queue is left as it is)
            self.lifecycle.keep_draft(session)
        await self._stop_world()
        store = self.store
        try:
            await asyncio.wait_for(store.durable(), max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            pass
        await asyncio.sleep(BUSY_FLUSH_DELAY_MAX)  # one more output pump: room lines go out
        for session in list(self.sessions):
            session.out.catch_up()
            session.out.flush()
        saved = await store.close(max(0.0, deadline - time.monotonic()))
        await self._close_links(None)
        log.info("reload: handed over (%s)", "everything saved" if saved else "NOT all saved")
        return RELOAD_EXIT if saved else 1

    # -- for commands (commands/api.py Engine) ----------------------------------------------
    passwords = auth  # password rules and hashing

    def session_of(self, p: Player) -> Session | None:
        """The dreamer's connection to this engine, if they have one."""
        return session_of(p)

    def wall(self, text: str) -> None:
        """A line to everyone in the game, whatever they ignore (admins' announcements)."""
        online = self.world.online.values()
        self.output.fanout([p.session for p in online if p.session is not None], text)

    def _full_gc(self) -> None:
        """A full garbage collection at a steady pace (server.py turns off the ones that
        heap growth would trigger): reclaims the reference cycles of closed connections."""
        t0 = time.perf_counter()
        found = gc.collect()
        log.info(
            "full garbage collection: %d unreachable objects, %.0f ms, %d sessions",
            found, (time.perf_counter() - t0) * 1000, len(self.sessions),
        )  # fmt: skip

    # -- what crawlers see (MSSP) ------------------------------------------------------------
    def mssp_table(self) -> dict[str, str | list[str]]:
        """What crawlers read. Every field is true of this server as it runs: optional
        facts nobody configured (website, location, hostname...) are left out rather than
        sent empty or guessed (the address we listen on is no hostname)."""
        info = self.settings.mssp
        world = self.world
        zones = {r.zone for r in world.rooms.values()}
        table: dict[str, str | list[str]] = {
            "NAME": info.name,
            "PLAYERS": str(len(world.online)),
            "UPTIME": str(int(self.started_at)),
            "CODEBASE": "Dreamwave 0.1",
            "CRAWL DELAY": "-1",
            "PORT": str(self.port),
            "FAMILY": "Custom",
            "GENRE": "Science Fiction",
            "GAMEPLAY": ["Roleplaying", "Social"],
            "STATUS": "Alpha",
            "GAMESYSTEM": "None",
            "SUBGENRE": "Dreams",
            "AREAS": str(len(zones)),
            "ROOMS": str(len(world.rooms)),
            "OBJECTS": str(len(world.items)),
            "MOBILES": str(len(getattr(world, "npcs", {}))),
            "HELPFILES": str(len(self.registry.commands)),
            # What the telnet layer and mud.core.text really do: 16-colour ANSI SGR only (no
            # 256-colour or truecolor codes, whatever the client could show), UTF-8 by
            # default and by CHARSET, MCCP2 when compression is on, GMCP; no VT100 cursor
            # control, MSDP, MSP, MXP, Pueblo or TLS.
            "ANSI": "1",
            "UTF-8": "1",
            "MCCP": "1" if self.settings.compression else "0",
            "GMCP": "1",
            "MSDP": "0",
            "MSP": "0",
            "MXP": "0",
            "VT100": "0",
            "XTERM 256 COLORS": "0",
            "XTERM TRUE COLORS": "0",
            "PUEBLO": "0",
            "SSL": "0",
        }
        for key, value in (
            ("CONTACT", info.contact), ("HOSTNAME", info.hostname), ("CREATED", info.created),
            ("LANGUAGE", info.language), ("LOCATION", info.location), ("WEBSITE", info.website),
            ("ICON", info.icon), ("DISCORD", info.discord),
        ):  # fmt: skip
            if value:
                table[key] = value
        return table

    def mssp_text(self) -> str:
        from mud.protocol.mssp import plain

        return plain(self.mssp_table())

    # -- helpers used across the engine ------------------------------------------------------
    def spawn(self, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        task = self.loop.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    def reserved_names(self) -> set[str]:
        if self._reserved is None:
            self._reserved = {w for w in self.registry.words() if w.isalpha()}
        world = self.world
        npc_words = {w.lower() for npc in world.npcs.values() for w in npc.keywords}
        # words that are world data, not code: a dreamer called "smile" or "public" would
        # be shadowed by the social or the channel
        return self._reserved | npc_words | set(world.socials) | set(world.channels.by_name)
