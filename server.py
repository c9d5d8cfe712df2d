"""Dreamwave entry point.

python server.py                        run on 127.0.0.1:4000 with ./dreamwave.db
python server.py run [--host H] [--port P] [--db URL] [--log-level LEVEL]
python server.py create-admin NAME [--password-stdin] [--db URL]
python server.py export-world FILE.yaml [--db URL]        (FILE - writes to stdout)
python server.py import-world FILE.yaml [--replace] [--db URL]   (stop the server first)
python server.py check-scripts [FILE ...] [--db URL]   validate event (and NPC) script files
python server.py run --time-scale 120    game time and event waits run 120x faster (demos)
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import getpass
import logging
import signal
import sys
from pathlib import Path
from typing import Any

from mud.config import Settings


def setup_logging(level: str) -> None:
    logging.basicConfig(
        stream=sys.stderr,
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    # telnetlib3 logs every connection at INFO and every odd client byte at WARNING; our
    # own connection and protocol logs say what matters.
    logging.getLogger("telnetlib3").setLevel(logging.ERROR)
    logging.getLogger("alembic").setLevel(logging.WARNING)


async def serve(settings: Settings) -> int:
    """Run until SIGINT or SIGTERM; the exit status: 1 if changes could not be saved."""
    from mud.app import App

    app = App(settings)
    await app.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    return await app.stop()


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


def cmd_run(args: argparse.Namespace) -> int:
    settings = Settings.from_env(
        host=args.host, port=args.port, db=args.db, time_scale=args.time_scale
    )
    setup_logging(args.log_level)
    tune_process()
    try:
        import uvloop  # type: ignore[import-not-found]

        loop_factory = uvloop.new_event_loop
    except ImportError:  # uvloop is optional: asyncio's own loop works, a little slower
        loop_factory = None
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        return runner.run(serve(settings))


def cmd_create_admin(args: argparse.Namespace) -> int:
    from mud import auth
    from mud.app import open_world
    from mud.text import sanitize  # the same cleaning a password typed in game gets

    setup_logging(args.log_level)
    settings = Settings.from_env(db=args.db)
    name = args.name
    store, world = open_world(settings.db)
    existing = world.players_by_key.get(name.lower())
    if existing is None:
        problem = auth.check_name(name, set())
        if problem:
            print(problem, file=sys.stderr)
            return 2
    if args.password_stdin:
        password = sanitize(sys.stdin.readline().rstrip("\r\n")).strip()
    elif existing is not None:
        password = ""
    else:
        password = sanitize(getpass.getpass("Password: ")).strip()
        if sanitize(getpass.getpass("Again: ")).strip() != password:
            print("The passwords didn't match.", file=sys.stderr)
            return 2
    if existing is None or password:
        problem = auth.check_password(password)
        if problem:
            print(problem, file=sys.stderr)
            return 2
    if existing is None:
        player = world.create_player(name.capitalize(), auth.hash_password_sync(password), "admin")
        verb = "Created"
    else:
        player = existing
        if password:
            player.password_hash = auth.hash_password_sync(password)
        world.set_role(player, "admin")
        verb = "Promoted"
    world.audit(None, "role", f"{player.name} (player#{player.id}): admin via create-admin")
    store.write_now()
    store.dispose()
    print(f"{verb} admin {player.name}.")
    return 0


def open_store(db: str | None, lock: bool = False) -> tuple[Any, Any]:
    """The database, migrated and loaded, without seeding a default world. `lock`: as its
    one writer (refused while a server runs on it)."""
    from mud.app import load_world

    store, world, _rows = load_world(Settings.from_env(db=db).db, lock=lock)
    return store, world


def cmd_export_world(args: argparse.Namespace) -> int:
    from world.worldfile import export_world

    setup_logging(args.log_level)
    store, world = open_store(args.db)
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

    setup_logging(args.log_level)
    store, world = open_store(args.db, lock=True)
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
    finally:
        store.dispose()
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
        from mud.events import live_facts

        store, world = open_store(args.db)
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="server.py", description="Dreamwave MUD server")
    sub = parser.add_subparsers(dest="command")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--db", help="SQLAlchemy URL or SQLite file (env DREAMWAVE_DB)")
        p.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING or ERROR")

    run = sub.add_parser("run", help="run the server (the default)")
    run.add_argument("--host", help="address to listen on (env DREAMWAVE_HOST)")
    run.add_argument("--port", type=int, help="port; 0 picks a free one (env DREAMWAVE_PORT)")
    run.add_argument(
        "--time-scale", type=positive, metavar="N",
        help="game time and event waits run N times faster (env DREAMWAVE_TIME_SCALE)",
    )  # fmt: skip
    common(run)
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

    argv = sys.argv[1:] if argv is None else argv
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = ["run", *argv]
    args = parser.parse_args(argv)
    from mud.store import DatabaseInUse, DatabaseUnavailable
    from world.yamlsrc import ContentError

    commands = {
        "create-admin": cmd_create_admin,
        "export-world": cmd_export_world,
        "import-world": cmd_import_world,
        "check-scripts": cmd_check_scripts,
    }
    try:
        return commands.get(args.command, cmd_run)(args)
    except DatabaseInUse as err:
        print(
            f"{err} Only one Dreamwave process may write to a database at a time: stop the "
            "server first (in game, admins can use @role instead of create-admin).",
            file=sys.stderr,
        )
        return 1
    except DatabaseUnavailable as err:  # read-only, missing folder, full disk: one sentence
        print(err, file=sys.stderr)
        return 1
    except ContentError as err:  # a content or script file is broken: say where, no traceback
        for problem in err.problems:
            print(problem, file=sys.stderr)
        print("Fix the file(s) above; `python server.py check-scripts` re-checks them.",
              file=sys.stderr)  # fmt: skip
        return 1


if __name__ == "__main__":
    sys.exit(main())
