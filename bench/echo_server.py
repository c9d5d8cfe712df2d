"""The baseline: a bare telnetlib3 line-echo server with Dreamwave's transport settings.

    python -m bench.echo_server [--host H] [--port P]

Same telnetlib3 options as `mud/edge/telnet/protocol.py` (line mode, forced BINARY with
replacement of bad bytes, 0.5 s negotiation wait, listen backlog 4096) and the same event
loop choice as server.py (uvloop when importable, unless BENCH_NO_UVLOOP=1). It greets with
"Name: " and answers every line with the line, a "> " prompt and IAC GA, so the benchmark's
clients run unchanged against it. Nothing else happens: this is the transport's ceiling.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from typing import Any

from telnetlib3.server import TelnetServer
from telnetlib3.telopt import GA, IAC

LISTEN_BACKLOG = 4096
CONNECT_MAXWAIT = 0.5
PROMPT_MARK = IAC + GA


async def shell(reader: Any, writer: Any) -> None:
    try:
        writer.write("Name: ")
        writer.send_iac(PROMPT_MARK)
        while True:
            line = await reader.readline()
            if not line:
                break
            line = line.strip()
            if not line:  # the \n of a \r\n split across packets
                continue
            writer.write("\r" + line + "\r\n> ")  # (a bare CR first, as Dreamwave does)
            writer.send_iac(PROMPT_MARK)
    except Exception:
        logging.getLogger("bench.echo").exception("echo shell failed")
    finally:
        writer.close()


def make_protocol() -> TelnetServer:
    return TelnetServer(
        shell=shell,
        encoding="utf8",
        encoding_errors="replace",
        force_binary=True,
        line_mode=True,
        connect_maxwait=CONNECT_MAXWAIT,
        timeout=0,
    )


async def serve(host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        make_protocol, host, port, backlog=LISTEN_BACKLOG, reuse_address=True
    )
    bound = server.sockets[0].getsockname()
    print(f"echo listening on {bound[0]}:{bound[1]}", file=sys.stderr, flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench.echo_server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    logging.getLogger("telnetlib3").setLevel(logging.ERROR)
    if os.environ.get("BENCH_NO_UVLOOP"):
        sys.modules["uvloop"] = None  # type: ignore[assignment]
    try:
        import uvloop  # type: ignore[import-not-found]

        factory, name = uvloop.new_event_loop, "uvloop"
    except ImportError:
        factory, name = None, "asyncio"
    print(f"bench.serve: event loop {name}", file=sys.stderr, flush=True)
    with asyncio.Runner(loop_factory=factory) as runner:  # asyncio.run has no factory on 3.11
        runner.run(serve(args.host, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
