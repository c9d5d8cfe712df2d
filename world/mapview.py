"""An ASCII map of the rooms around a dreamer, laid out by compass exits. Pure.

Rooms are placed on a grid by walking compass exits (north is up) breadth-first from the
current room, up to MAP_DEPTH steps and MAP_RADIUS cells away. The dreamscape needn't be
Euclidean: a room whose spot is already taken is left out and counted, never drawn on top.
Each room is a cell like `[a^]`: a letter keyed in the legend, and ^ v + for exits up,
down or both. The current room is `*`.
"""

from __future__ import annotations

import string
from collections import deque
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)

MAP_DEPTH = 3  # steps walked from the current room
MAP_RADIUS = 3  # cells drawn each side of the current room (7 x 7 cells, 34 columns)
MAX_LEGEND_NAME = 60  # characters of a room name in the legend
STEPS = {
    "north": (0, -1), "south": (0, 1), "east": (1, 0), "west": (-1, 0),
    "northeast": (1, -1), "northwest": (-1, -1), "southeast": (1, 1), "southwest": (-1, 1),
}  # fmt: skip
CELL = 4  # "[a^]"
STRIDE_X = CELL + 1  # one column between cells for - / \ connectors
STRIDE_Y = 2  # one row between cells for | / \ connectors
HERE = "*"
LABELS = string.ascii_lowercase + string.ascii_uppercase + string.digits
VERTICAL_MARK = {(True, False): "^", (False, True): "v", (True, True): "+", (False, False): " "}


@dataclass
class MapLayout(Generic[K]):
    positions: dict[K, tuple[int, int]] = field(default_factory=dict)
    order: list[K] = field(default_factory=list)  # placement order (start first)
    left_out: int = 0  # rooms that would have overlapped another


def layout(
    start: K,
    exits: Callable[[K], Iterable[tuple[str, K]]],
    depth: int = MAP_DEPTH,
    radius: int = MAP_RADIUS,
) -> MapLayout[K]:
    """Place rooms on the grid. `exits(room)` yields (direction word, destination)."""
    out: MapLayout[K] = MapLayout()
    out.positions[start] = (0, 0)
    out.order.append(start)
    taken: dict[tuple[int, int], K] = {(0, 0): start}
    overlapping: set[K] = set()
    queue: deque[tuple[K, int]] = deque([(start, 0)])
    while queue:
        room, dist = queue.popleft()
        if dist >= depth:
            continue
        x, y = out.positions[room]
        for direction, dest in exits(room):
            step = STEPS.get(direction.lower())
            if step is None or dest in out.positions:
                continue
            spot = (x + step[0], y + step[1])
            if max(abs(spot[0]), abs(spot[1])) > radius:
                continue
            if spot in taken:
                overlapping.add(dest)
                continue
            taken[spot] = dest
            out.positions[dest] = spot
            out.order.append(dest)
            queue.append((dest, dist + 1))
    out.left_out = len(overlapping - set(out.positions))
    return out


def render_map(
    start: K,
    exits: Callable[[K], Iterable[tuple[str, K]]],
    name: Callable[[K], str],
    depth: int = MAP_DEPTH,
    radius: int = MAP_RADIUS,
) -> list[str]:
    """The map and its legend as plain text lines (no markup)."""
    lay = layout(start, exits, depth, radius)
    size = 2 * radius + 1
    grid = [[" "] * (size * STRIDE_X - 1) for _ in range(size * STRIDE_Y - 1)]

    def origin(pos: tuple[int, int]) -> tuple[int, int]:
        return (pos[0] + radius) * STRIDE_X, (pos[1] + radius) * STRIDE_Y

    def put(row: int, col: int, ch: str) -> None:
        old = grid[row][col]
        grid[row][col] = "X" if {old, ch} == {"/", "\\"} else ch

    labels: dict[K, str] = {}
    legend: list[str] = []
    for i, room in enumerate(lay.order):
        label = HERE if i == 0 else (LABELS[i - 1] if i - 1 < len(LABELS) else "?")
        labels[room] = label
        words = {d.lower() for d, _ in exits(room)}
        up, down = "up" in words, "down" in words
        col, row = origin(lay.positions[room])
        grid[row][col : col + CELL] = list(f"[{label}{VERTICAL_MARK[(up, down)]}]")
        notes = [w for w, has in (("up", up), ("down", down)) if has]
        text = name(room)[:MAX_LEGEND_NAME]
        if i == 0:
            text += " (you are here)"
        if notes:
            text += f" [{', '.join(notes)}]"
        legend.append(f"  {label}  {text}")
    for room in lay.order:
        x, y = lay.positions[room]
        col, row = origin((x, y))
        for direction, dest in exits(room):
            step = STEPS.get(direction.lower())
            if step is None or lay.positions.get(dest) != (x + step[0], y + step[1]):
                continue
            dx, dy = step
            if dy == 0:
                put(row, col + CELL if dx > 0 else col - 1, "-")
            elif dx == 0:
                put(row + 1 if dy > 0 else row - 1, col + 1, "|")
            else:
                put(row + dy, col + CELL if dx > 0 else col - 1, "\\" if dx == dy else "/")
    lines = ["".join(r).rstrip() for r in grid]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    indent = min(len(ln) - len(ln.lstrip(" ")) for ln in lines if ln)
    lines = [ln[indent:] for ln in lines]
    lines.append("")
    lines.extend(legend)
    if lay.left_out:
        lines.append(f"  ({lay.left_out} more nearby room(s) overlap these and are not drawn.)")
    lines.append("  ^ exit up   v exit down   + both")
    return lines


def describe_map(
    start: K,
    exits: Callable[[K], Iterable[tuple[str, K]]],
    name: Callable[[K], str],
    depth: int = 2,
) -> list[str]:
    """The map as sentences, for screen readers: where each exit leads, then what lies
    beyond those rooms, `depth` steps out in all. Every exit counts, not only compass ones."""
    seen = {start}
    lines = [f"You are in {name(start)[:MAX_LEGEND_NAME]}."]
    frontier = [start]
    for step in range(depth):
        following = []
        for room in frontier:
            parts = []
            for direction, dest in exits(room):
                if dest in seen:
                    continue
                seen.add(dest)
                following.append(dest)
                parts.append(f"{direction}: {name(dest)[:MAX_LEGEND_NAME]}")
            if not parts:
                continue
            sentence = "; ".join(parts)
            if step == 0:
                lines.append(sentence[0].upper() + sentence[1:] + ".")
            else:
                lines.append(f"Beyond {name(room)[:MAX_LEGEND_NAME]}, {sentence}.")
        frontier = following
    if len(lines) == 1:
        lines.append("There is no way out of here that you can see.")
    return lines
