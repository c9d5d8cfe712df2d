"""Summarise a py-spy raw profile: where the server's threads spend their samples.

    python -m bench.hotspots PROFILE.raw [--process engine] [--thread MainThread] [--top 25]

`python -m bench.run --profile DIR` records one such file per workload (py-spy record
--format raw --threads --subprocesses): the split server's supervisor, engine and gateways
are in one file, each stack under its process, so threads are reported as
"<process>/<thread>" with the process named by its role (engine, gateway gw1, supervisor;
server for a single-process one); every engine the run started counts as "engine".
"self" counts samples whose innermost frame is the function; "total" counts samples with the
function anywhere on the stack (once per sample). Line numbers are dropped so a function's
lines add up.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

from bench.proc import role_of

FRAME_RE = re.compile(r"^(?P<func>.*?) \((?P<file>[^:()]*)(?::\d+)?\)$")
THREAD_RE = re.compile(r"^thread \((?P<tid>\d+)\)(?:: (?P<name>.*))?$")
PROCESS_RE = re.compile(r'^process (?P<pid>\d+):"(?P<cmd>.*)"$')


def process_role(cmd: str) -> str:
    """engine, gateway <name>, supervisor or server, from a process's command line."""
    return role_of(cmd.split()) or "server"


def frame_name(frame: str) -> str:
    m = FRAME_RE.match(frame)
    return f"{m['func']} ({m['file']})" if m else frame


def load(path: Path) -> dict[str, list[tuple[list[str], int]]]:
    """thread name ("<process>/<thread>" when the profile has processes) -> [(frames
    outermost first, samples)]."""
    threads: dict[str, list[tuple[list[str], int]]] = {}
    text = path.read_text(errors="replace")
    nested = text.startswith("process ")
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        role, pid = "", ""
        while frames and (p := PROCESS_RE.match(frames[0])):  # the innermost one is ours
            role, pid = process_role(p["cmd"]), p["pid"]
            frames = frames[1:]
        if nested and not role:
            role = "supervisor"
        m = THREAD_RE.match(frames[0]) if frames else None
        if m is None:
            thread = "?"
        elif m["name"]:
            thread = re.sub(r"_\d+$", "_*", m["name"])
        else:  # py-spy names a child process's threads only by id
            thread = "MainThread" if m["tid"] == pid else "thread"
        if role:
            thread = f"{role}/{thread}"
        body = [frame_name(f) for f in (frames[1:] if m else frames)]
        threads.setdefault(thread, []).append((body, int(count)))
    return threads


def process_of(thread: str) -> str:
    return thread.rpartition("/")[0]


def summarise(stacks: list[tuple[list[str], int]], top: int) -> tuple[int, list, list]:
    total = sum(n for _, n in stacks)
    own: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    for frames, n in stacks:
        if frames:
            own[frames[-1]] += n
        for f in set(frames):
            incl[f] += n
    return total, own.most_common(top), incl.most_common(top)


def report(path: Path, thread: str | None, top: int, process: str | None = None) -> str:
    threads = load(path)
    if process:
        threads = {k: v for k, v in threads.items() if process_of(k).startswith(process)}
    grand = sum(n for stacks in threads.values() for _, n in stacks)
    lines = [f"{path.name}: {grand:,} samples"]
    for name, stacks in sorted(threads.items(), key=lambda kv: -sum(n for _, n in kv[1])):
        count = sum(n for _, n in stacks)
        lines.append(f"  thread {name}: {count:,} samples ({100 * count / max(grand, 1):.0f}%)")
    for name, stacks in threads.items():
        if thread and thread not in (name, name.rpartition("/")[2]):
            continue
        total, own, incl = summarise(stacks, top)
        if total < grand * 0.05:
            continue
        lines.append(f"\n== {name}: top {top} by self time ({total:,} samples)")
        lines += [f"  {100 * n / total:5.1f}%  {f}" for f, n in own]
        lines.append(f"-- {name}: top {top} by total time")
        lines += [f"  {100 * n / total:5.1f}%  {f}" for f, n in incl]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.hotspots")
    parser.add_argument("profile", type=Path)
    parser.add_argument("--thread", help="only this thread (e.g. MainThread)")
    parser.add_argument(
        "--process", help="only this process: engine, gateway (every one), gateway gw1, supervisor"
    )
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    print(report(args.profile, args.thread, args.top, args.process))
    return 0


if __name__ == "__main__":
    sys.exit(main())
