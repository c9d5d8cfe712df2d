"""Dreamwave entry point.

python server.py                        run on 127.0.0.1:4000 with ./dreamwave.db
python server.py run [--host H] [--port P] [--db URL] [--log-level LEVEL]
python server.py create-admin NAME [--password-stdin] [--db URL]
python server.py export-world FILE.yaml [--db URL]        (FILE - writes to stdout)
python server.py import-world FILE.yaml [--replace] [--db URL]   (stop the server first)
python server.py check-scripts [FILE ...] [--db URL]   validate event (and NPC) script files
python server.py run --time-scale 120    game time and event waits run 120x faster (demos)
python server.py config [--sample]      the configuration in force and where each value came from

Every command takes --config FILE (default ./dreamwave.toml if it exists); see mud/config.py.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import getpass
import logging
import os
import re
import signal
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mud.config import Settings

if TYPE_CHECKING:  # (imported where used: a gateway never loads the engine or the world)
    from mud.store import Store
    from world.model import Player
    from world.world import World


def setup_logging(settings: Settings) -> None:
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if settings.log_file:
        handlers.append(logging.FileHandler(settings.log_file, encoding="utf-8"))
    logging.basicConfig(
        handlers=handlers,
        level=getattr(logging, settings.log_level, logging.INFO),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    # telnetlib3 logs every connection at INFO and every odd client byte at WARNING; our
    # own connection and protocol logs say what matters.
    logging.getLogger("telnetlib3").setLevel(logging.ERROR)
    logging.getLogger("alembic").setLevel(logging.WARNING)


async def serve_engine(settings: Settings) -> int:
    """The engine process: run the world until SIGINT/SIGTERM, @shutdown or a reload
    (SIGHUP or @reload). The exit status: 0, 1 if changes could not be saved, or 75 after
    a reload (the supervisor then starts a new engine)."""
    from mud.core.app import App
    from mud.supervisor.procs import RELOAD_EXIT, Heartbeat

    loop = asyncio.get_running_loop()
    heartbeat = Heartbeat(loop)
    app = App(settings)
    app.reload_begins = lambda: heartbeat.say(b"L")
    await app.start()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    async def reload() -> None:
        problems = await app.request_reload()
        for problem in problems:
            logging.getLogger("dreamwave").error("reload refused: %s", problem)

    loop.add_signal_handler(signal.SIGHUP, lambda: app.spawn(reload()))
    ready = loop.create_task(app.ready.wait())
    ready.add_done_callback(lambda _t: heartbeat.say(b"R"))
    stopping = [loop.create_task(stop.wait()), loop.create_task(app.stop_requested.wait())]
    await asyncio.wait(stopping, return_when=asyncio.FIRST_COMPLETED)
    for task in [*stopping, ready]:
        task.cancel()
    if stop.is_set():
        app.reloading = False  # a stop wins over a reload under way
    if not app.reloading:
        heartbeat.say(b"S")  # on purpose: the supervisor stops everything, no restart
    code = await app.stop()
    if code == RELOAD_EXIT:
        # Everything is saved and handed over: leave now, so the next engine starts sooner
        # (the loop's and the thread pool's tidy-up would only delay it).
        logging.shutdown()
        os._exit(code)
    return code


async def serve_gateway(settings: Settings, args: argparse.Namespace) -> int:
    """A gateway process: every socket, until SIGINT/SIGTERM or the engine's "stop"."""
    from mud.edge.gateway import Gateway
    from mud.link.nats import connect_options
    from mud.supervisor.procs import Heartbeat

    Heartbeat(asyncio.get_running_loop())  # (supervised: a hung gateway is replaced)
    link = settings.link
    local = args.link_socket or (link.socket if not link.nats else "")
    gw = Gateway(  # (the supervisor's own gateways use the local socket, --nats or not)
        settings, args.name, link_path=local or None,
        nats_url=None if local else link.nats, nats_options=connect_options(link),
        reuse_port=args.reuse_port,
    )  # fmt: skip
    await gw.start()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, lambda: loop.create_task(gw.stop()))
    await gw.stopped.wait()
    return gw.exit_code


def positive(text: str) -> float:
    value = float(text)
    if not 0 < value <= 100_000:
        raise argparse.ArgumentTypeError("give a number above 0 (and at most 100000)")
    return value


def tune_process() -> None:
    """Process-wide settings that pay off under load (Linux/glibc; harmless elsewhere)."""
    # The writer thread's commits wait for the GIL between SQLite calls; a shorter switch
    # interval (default 5 ms) lets group commits land sooner while the loop is busy.
    sys.setswitchinterval(SWITCH_INTERVAL)
    # Full (oldest-generation) garbage collections run on the App's timer, not whenever
    # the heap has grown by a quarter: a full pass over 2,000 connections stalls the loop
    # for 100-200 ms, and growth-triggered passes came in bursts just when players pour in
    # (a login storm). Young collections stay automatic.
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, NO_AUTOMATIC_FULL_GC)
    # argon2 allocates 19 MiB per hash; with glibc's adaptive mmap threshold that memory
    # stays in the heap after the first logins. A fixed threshold hands it back.
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(M_MMAP_THRESHOLD, 128 * 1024)
    except (OSError, AttributeError):
        pass


SWITCH_INTERVAL = 0.001
NO_AUTOMATIC_FULL_GC = 1_000_000_000  # middle-generation passes before a full one: never
M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number


def settings_from(args: argparse.Namespace, **flags: object) -> Settings:
    """The settings in force for this command: its flags over the environment over the
    configuration file over the defaults."""
    return Settings.load(args.config, db=args.db, log_level=args.log_level, **flags)


def run_flags(args: argparse.Namespace) -> dict[str, object]:
    hosts = args.host or None
    return {
        "host": hosts[0] if hosts and len(hosts) == 1 else hosts,
        "port": args.port,
        "time_scale": args.time_scale,
        "gateways": getattr(args, "gateways", None),
        "nats": getattr(args, "nats", None),
        "socket": getattr(args, "link_socket", None),
        "web_port": getattr(args, "web_port", None),
        "web_enabled": False if getattr(args, "no_web", False) else None,
    }


def passed_env(args: argparse.Namespace) -> dict[str, str]:
    """The flags the supervisor hands on through its children's environment: those that may
    hold a password (a database or NATS URL). A command line is readable by every local user
    (/proc/PID/cmdline); an environment only by its owner."""
    out = {}
    if args.db is not None:
        out["DREAMWAVE_DB"] = str(args.db)
    if getattr(args, "nats", None) is not None:
        out["DREAMWAVE_LINK__NATS"] = str(args.nats)
    return out


def passed_flags(args: argparse.Namespace) -> list[str]:
    """The flags the supervisor hands on to the engine and gateways it starts (see also
    passed_env)."""
    out: list[str] = []
    for flag, value in (
        ("--config", args.config), ("--log-level", args.log_level),
        ("--time-scale", args.time_scale),
    ):  # fmt: skip
        if value is not None:
            out += [flag, str(value)]
    for host in args.host or []:
        out += ["--host", host]
    if getattr(args, "web_port", None) is not None:  # the browser client (mud/web)
        out += ["--web-port", str(args.web_port)]
    if getattr(args, "no_web", False):
        out.append("--no-web")
    return out


def run_loop(main: Coroutine[Any, Any, int]) -> int:
    try:
        import uvloop

        loop_factory = uvloop.new_event_loop
    except ImportError:  # uvloop is optional: asyncio's own loop works, a little slower
        loop_factory = None
    from mud.link.auth import LinkRefused
    from mud.link.nats import NatsUnavailable
    from mud.supervisor.procs import ListenError

    try:
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            return int(runner.run(main))
    except LinkRefused as err:  # a link setting that would let others in: nothing started
        print(err, file=sys.stderr)
        return 1
    except NatsUnavailable as err:
        print(f"{err} Check --nats and the [link] credentials (nats_user/nats_password, "
              "nats_token, nats_creds).", file=sys.stderr)  # fmt: skip
        return 1
    except ListenError as err:  # before any database was opened: nothing to undo
        print(f"{err} Pick another port with --port (e.g. --port {err.port + 1}), or stop "
              "whatever is using it.", file=sys.stderr)  # fmt: skip
        return 1


def cmd_run(args: argparse.Namespace) -> int:
    """The supervisor: one engine and `--gateways N` gateways (mud/supervisor/supervisor.py)."""
    settings = settings_from(args, **run_flags(args))
    setup_logging(settings)
    from mud.link.auth import LinkRefused, configured_secret
    from mud.link.nats import check_nats

    try:  # (before anything starts)
        check_nats(settings.link, configured_secret(settings.link))
    except LinkRefused as err:
        print(err, file=sys.stderr)
        return 1
    from mud.supervisor.supervisor import Supervisor

    return run_loop(Supervisor(settings, passed_flags(args), passed_env(args)).run())


def cmd_engine(args: argparse.Namespace) -> int:
    settings = settings_from(args, **run_flags(args))
    setup_logging(settings)
    tune_process()
    from mud.supervisor.procs import die_with_parent, wait_to_go

    die_with_parent()
    import commands  # noqa: F401  (the code, loaded before a standby waits)
    import mud.core.app  # noqa: F401

    if not wait_to_go():
        return 0
    return run_loop(serve_engine(settings))


def cmd_gateway(args: argparse.Namespace) -> int:
    settings = settings_from(args, **run_flags(args))
    setup_logging(settings)
    if not (args.link_socket or settings.link.socket or settings.link.nats):
        print("A gateway needs the engine's address: --nats URL (or --link-socket FILE).",
              file=sys.stderr)  # fmt: skip
        return 2
    if args.supervised:
        from mud.supervisor.procs import die_with_parent

        die_with_parent()
    return run_loop(serve_gateway(settings, args))


OWNER_ONLY_UMASK = 0o077
PUBLIC_OUTPUT = {"export-world", "config"}  # commands whose output file is for sharing
PASSWORD_TRIES = 3  # create-admin asks this many times for a password typed twice alike


def new_sqlite_file(db: str) -> Path | None:
    """The SQLite file `db` names, if it doesn't exist yet (so a tool that ends up doing
    nothing can remove what opening it created)."""
    from sqlalchemy.engine import make_url

    from mud.config import normalise_db_url

    url = make_url(normalise_db_url(db))
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    path = Path(url.database)
    return None if path.exists() else path


def remove_sqlite_file(path: Path | None) -> None:
    """Remove a database file this tool created, with its journal, WAL and lock files."""
    if path is None:
        return
    for suffix in ("", "-wal", "-shm", "-journal", ".lock"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def ask_new_password() -> str | None:
    """A password typed twice alike, hidden; asked again (up to PASSWORD_TRIES) when the two
    differ or it is too short. None if every try failed."""
    from mud.core import auth
    from mud.core.text import sanitize  # the same cleaning a password typed in game gets

    for _ in range(PASSWORD_TRIES):
        password = sanitize(getpass.getpass("Password: ")).strip()
        problem = auth.check_password(password)
        if problem is None and sanitize(getpass.getpass("Again: ")).strip() != password:
            problem = "The passwords didn't match."
        if problem is None:
            return password
        print(f"{problem} Let's try again.", file=sys.stderr)
    return None


def promote_admin(world: World, player: Player, password_hash: str) -> tuple[str, str]:
    """Make an existing dreamer an admin, with a new password if `password_hash` is given:
    (what to tell whoever ran the tool, the audit line). Both say whether the password
    changed, so nobody's password is ever replaced unannounced."""
    if password_hash:
        world.set_password_hash(player, password_hash)
    changed = "was changed" if password_hash else "is unchanged"
    if player.role == "admin":
        return (
            f"{player.name} is already an admin; their password was changed.",
            "password changed via create-admin",
        )
    world.set_role(player, "admin")
    detail = "admin via create-admin" + ("; password changed" if password_hash else "")
    return f"Promoted admin {player.name}. Their password {changed}.", detail


def cmd_create_admin(args: argparse.Namespace) -> int:
    from mud.core import auth
    from mud.core.app import open_world
    from mud.core.text import sanitize  # the same cleaning a password typed in game gets

    settings = settings_from(args)
    setup_logging(settings)
    name = args.name
    problem = auth.check_name(name, set())
    if problem:  # no account can have such a name: say so before opening any database
        print(problem, file=sys.stderr)
        return 2
    created_file = new_sqlite_file(settings.db)
    store, world = open_world(settings.db)
    try:
        existing = world.players_by_key.get(name.lower())
        if args.password_stdin:
            password = sanitize(sys.stdin.readline().rstrip("\r\n")).strip()
        elif existing is not None:
            password = ""  # promoting keeps their password
        else:
            password = ask_new_password() or ""
            if not password:
                print("Nothing was changed.", file=sys.stderr)
                remove_sqlite_file(created_file)
                created_file = None
                return 2
        if existing is None or password:
            problem = auth.check_password(password)
            if problem:
                print(problem, file=sys.stderr)
                remove_sqlite_file(created_file)
                created_file = None
                return 2
        if existing is None:
            player = world.create_player(
                name.capitalize(), auth.hash_password_sync(password), "admin"
            )
            message, detail = f"Created admin {player.name}.", "admin via create-admin"
        elif existing.role == "admin" and not password:
            print(f"{existing.name} is already an admin; nothing was changed.")
            return 0
        else:
            player = existing
            hashed = auth.hash_password_sync(password) if password else ""
            message, detail = promote_admin(world, player, hashed)
        world.audit(None, "role", f"{player.name} (player#{player.id}): {detail}")
        store.write_now()
    finally:
        store.dispose()
    print(message)
    return 0


def open_store(args: argparse.Namespace, lock: bool = False) -> tuple[Store, World]:
    """The database, migrated and loaded, without seeding a default world. `lock`: as its
    one writer (refused while a server runs on it)."""
    from mud.core.app import load_world

    store, world, _rows = load_world(settings_from(args).db, lock=lock)
    return store, world


def cmd_config(args: argparse.Namespace) -> int:
    """Print the configuration in force (with where each value came from), or a sample."""
    from mud import config

    if args.sample:
        sys.stdout.write(config.sample_file())
        return 0
    flags = {"db": args.db, "log_level": args.log_level, **run_flags(args)}
    settings = Settings.load(args.config, **flags)
    sys.stdout.write(config.describe(settings, config.sources(args.config, **flags)))
    return 0


def cmd_export_world(args: argparse.Namespace) -> int:
    from world.worldfile import export_world

    setup_logging(settings_from(args))
    store, world = open_store(args)
    try:
        if not world.rooms:
            print("This database has no world yet; there is nothing to export.", file=sys.stderr)
            return 1
        counts = export_world(world, Path(args.file))
    finally:
        store.engine.dispose()
    if args.file != "-":
        print(f"Exported {counts['rooms']} rooms, {counts['exits']} exits and "
              f"{counts['items']} items to {args.file}.")  # fmt: skip
    return 0


def cmd_import_world(args: argparse.Namespace) -> int:
    from world.worldfile import ContentError, ImportRefused, import_world

    settings = settings_from(args)
    setup_logging(settings)
    # A new database file that ends up with nothing imported is removed again.
    created_file = new_sqlite_file(settings.db)
    store, world = open_store(args, lock=True)
    imported = False
    try:
        try:
            report = import_world(world, Path(args.file), replace=args.replace)
        except ContentError as err:
            for problem in err.problems:
                print(problem, file=sys.stderr)
            print(f"{len(err.problems)} problem(s); nothing was imported.", file=sys.stderr)
            return 1
        except ImportRefused as err:
            print(err, file=sys.stderr)
            return 1
        except OSError as err:
            print(f"Can't read {args.file}: {err.strerror}", file=sys.stderr)
            return 1
        store.write_now()  # one transaction: all of it or none of it
        imported = True
    finally:
        store.dispose()
        if not imported:
            remove_sqlite_file(created_file)
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"Imported {report.zones} zones, {report.rooms} rooms, {report.exits} exits and "
          f"{report.items} items from {args.file}.")  # fmt: skip
    if report.rehomed:
        print(f"{report.rehomed} dreamer(s) whose room is gone will wake in the Nexus.")
    return 0


def cmd_check_scripts(args: argparse.Namespace) -> int:
    """Validate script files without starting the server: every problem as file:line."""
    from world.scripting.loader import event_paths, read_events, shipped_facts
    from world.yamlsrc import ContentError

    facts = shipped_facts()
    if args.db:  # also accept rooms builders made in that database
        from mud.core.events import live_facts

        store, world = open_store(args)
        store.engine.dispose()
        facts = facts.merged(live_facts(world))
    files = [Path(f) for f in args.files]
    npc_files: list[Path] = []
    if not files:
        files = event_paths()
        try:
            from world.npc_scripts import npc_script_paths

            npc_files = npc_script_paths()
        except ImportError:
            pass
    else:  # files in a folder called npcs are NPC scripts; the rest are events
        npc_files = [f for f in files if f.parent.name == "npcs"]
        files = [f for f in files if f.parent.name != "npcs"]
    given = {f.stem for f in files}
    shipped, _ = read_events([p for p in event_paths() if p.stem not in given], facts)
    _, problems = read_events(files, facts, known=shipped)
    if npc_files:
        from world.npc_scripts import load_npc_scripts

        try:
            load_npc_scripts(npc_files, rooms=set(facts.rooms))
        except ContentError as err:
            problems += err.problems
    for problem in problems:
        print(problem)
    checked = len(files) + len(npc_files)
    if problems:
        print(f"{len(problems)} problem(s) in {checked} file(s).")
        return 1
    print(f"{checked} script file(s) checked: all fine.")
    return 0


# What each command refused on a database in use can do instead.
IN_USE_INSTEAD = {
    "run": "stop the server first, or give this one its own database with --db.",
    "create-admin": "stop the server first, or have an admin type `@role NAME admin` in game. "
    "No admin yet? Stop the server (`kill PID`), run this again, then start the server.",
    "import-world": "stop the server first, or build in game with @dig, @open, @desc and "
    "@create (see docs/building.md).",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="server.py",
        description="Dreamwave MUD server",
        formatter_class=argparse.RawDescriptionHelpFormatter,  # the epilog: run's options
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--db", help="SQLAlchemy URL or SQLite file (env DREAMWAVE_DB)")
        p.add_argument("--log-level", help="DEBUG, INFO, WARNING or ERROR (default INFO)")
        p.add_argument(
            "--config", metavar="FILE", help="settings file (default ./dreamwave.toml if present)"
        )

    def listening(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--host", action="append",
            help="address to listen on; repeat for more, e.g. --host 0.0.0.0 --host :: "
            "(env DREAMWAVE_HOST)",
        )  # fmt: skip
        p.add_argument("--port", type=int, help="port; 0 picks a free one (env DREAMWAVE_PORT)")
        p.add_argument(
            "--time-scale", type=positive, metavar="N",
            help="game time and event waits run N times faster (env DREAMWAVE_TIME_SCALE)",
        )  # fmt: skip
        p.add_argument(
            "--web-port",
            type=int,
            metavar="PORT",
            help="the browser client's port (default: the telnet port + 1)",
        )
        p.add_argument("--no-web", action="store_true", help="don't serve the browser client")

    def linking(p: argparse.ArgumentParser, local: bool = True) -> None:
        p.add_argument(
            "--nats", metavar="URL",
            help="also take gateways over NATS, e.g. nats://host:4222 (env DREAMWAVE_LINK__NATS)",
        )  # fmt: skip
        p.add_argument("--link-socket", metavar="FILE", help=argparse.SUPPRESS)

    run = sub.add_parser("run", help="run the server (the default)")
    listening(run)
    common(run)
    linking(run)
    run.add_argument(
        "--gateways", type=int, metavar="N",
        help="gateway processes sharing the port, to use more cores (default 1)",
    )  # fmt: skip
    engine = sub.add_parser("engine")  # started by the supervisor: no help, so not listed
    listening(engine)
    common(engine)
    linking(engine)
    engine.add_argument("--gateways", type=int, help=argparse.SUPPRESS)
    gateway = sub.add_parser(
        "gateway", help="run one gateway (connections) for an engine elsewhere: --nats URL"
    )
    listening(gateway)
    common(gateway)
    linking(gateway)
    gateway.add_argument("--name", default="gw1", help="this gateway's name (unique per engine)")
    gateway.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)
    gateway.add_argument("--supervised", action="store_true", help=argparse.SUPPRESS)
    conf = sub.add_parser("config", help="print the configuration in force, or a sample file")
    conf.add_argument("--sample", action="store_true", help="a commented file of every setting")
    listening(conf)
    common(conf)
    admin = sub.add_parser("create-admin", help="create or promote an admin account")
    admin.add_argument("name")
    admin.add_argument("--password-stdin", action="store_true", help="read one line as password")
    common(admin)
    export = sub.add_parser("export-world", help="write the built world to a YAML file")
    export.add_argument("file", help="the YAML file to write (- for standard output)")
    common(export)
    imp = sub.add_parser("import-world", help="build the world from a YAML file")
    imp.add_argument("file", help="the YAML file to read")
    imp.add_argument(
        "--replace", action="store_true", help="replace an existing world (accounts are kept)"
    )
    common(imp)
    check = sub.add_parser("check-scripts", help="validate event and NPC script files")
    check.add_argument("files", nargs="*", help="files to check (default: every shipped one)")
    common(check)

    parser.epilog = run_is_the_default(run)
    argv = sys.argv[1:] if argv is None else argv
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = ["run", *argv]
    args = parser.parse_args(argv)
    from mud.config import ConfigError

    commands = {
        "create-admin": cmd_create_admin,
        "export-world": cmd_export_world,
        "import-world": cmd_import_world,
        "check-scripts": cmd_check_scripts,
        "config": cmd_config,
        "engine": cmd_engine,
        "gateway": cmd_gateway,
    }
    if args.command not in PUBLIC_OUTPUT:
        # the database (-wal, -shm, .lock), logs with players' addresses, the link's run
        # folder: whatever this process makes is its owner's alone
        os.umask(OWNER_ONLY_UMASK)
    try:
        return commands.get(args.command, cmd_run)(args)
    except ConfigError as err:
        for problem in err.problems:
            print(problem, file=sys.stderr)
        print("Fix the configuration above; `python server.py config --sample` shows every "
              "setting with its default.", file=sys.stderr)  # fmt: skip
        return 2
    except Exception as err:
        code = explain(err, args)
        if code is None:
            raise
        return code


def name_the_server(in_use: str) -> tuple[str, str]:
    """The "already using" sentence with the pid to stop: the writer lock names the engine,
    but killing the engine only makes its supervisor start another, so name the supervisor
    (stopping it stops the engine and the gateways). Also that pid, or "PID" if unknown."""
    found = re.search(r"\(pid (\d+)\)", in_use)
    if found is None:
        return in_use, "PID"
    engine = int(found.group(1))
    supervisor = supervisor_of(engine)
    if supervisor is None:
        return in_use, str(engine)
    named = f"(the server, pid {supervisor})"
    return in_use.replace(found.group(0), named, 1), str(supervisor)


def supervisor_of(pid: int) -> int | None:
    """The `server.py` process that started process `pid`, if any (Linux's /proc)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        found = re.search(r"^PPid:\s+(\d+)", status, re.MULTILINE)
        parent = int(found.group(1)) if found else 0
        cmdline = Path(f"/proc/{parent}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return parent if b"server.py" in cmdline else None


def run_is_the_default(run: argparse.ArgumentParser) -> str:
    """The top-level help's last part: `run`'s options, since a bare `server.py --port N`
    is `server.py run --port N` and a new admin reads `--help` first."""
    options = run.format_help().split("\noptions:\n", 1)[-1]
    options = "\n".join(ln for ln in options.splitlines() if "--help" not in ln)
    return "With no COMMAND the server runs (the same as `run`), taking these options:\n" + options


def explain(err: Exception, args: argparse.Namespace) -> int | None:
    """The failures a user can fix, in a sentence or two (their modules are the engine's:
    imported only now, so the supervisor and the gateways never load them)."""
    from mud.store import DatabaseInUse, DatabaseUnavailable
    from world.yamlsrc import ContentError

    if isinstance(err, DatabaseInUse):
        busy, pid = name_the_server(str(err))
        instead = IN_USE_INSTEAD.get(args.command, IN_USE_INSTEAD["run"])
        instead = instead.replace("NAME", getattr(args, "name", "")).replace("PID", pid)
        print(
            f"{busy} Only one Dreamwave process may write to a database at a time: {instead}",
            file=sys.stderr,
        )
        return 1
    if isinstance(err, DatabaseUnavailable):  # read-only, missing folder, full disk
        print(err, file=sys.stderr)
        return 1
    if isinstance(err, ContentError):  # a content or script file is broken: say where
        for problem in err.problems:
            print(problem, file=sys.stderr)
        print("Fix the file(s) above; `python server.py check-scripts` re-checks them.",
              file=sys.stderr)  # fmt: skip
        return 1
    return None


if __name__ == "__main__":
    sys.exit(main())
