"""The gateway's own notices (refusals, outages, throttling): plain ASCII, wrapped to 80
columns, ended by CR LF: the same bytes in every charset, for a client whose facts the
gateway may not know yet. Pure. (The engine's text, with markup and colour, is rendered by
the engine; these notices have neither.)"""

from __future__ import annotations

WIDTH = 80


def plain(text: str) -> bytes:
    """A gateway's own notice: no colour, ASCII (the same bytes in every charset)."""
    return "\r\n".join(_wrapped(text)).encode("ascii", "replace") + b"\r\n"


def _wrapped(text: str) -> list[str]:
    """Each line of `text` wrapped greedily at spaces; a continuation line keeps the line's
    indentation, a word wider than the screen stays whole."""
    out: list[str] = []
    for line in text.split("\n"):
        if len(line) <= WIDTH:
            out.append(line)
            continue
        indent = line[: len(line) - len(line.lstrip(" "))]
        parts: list[str] = []
        current = ""
        for word in line.split():
            if current and len(current) + 1 + len(word) > WIDTH:
                parts.append(current)
                current = indent + word
            elif current:
                current += " " + word
            else:
                current = indent + word
        if current:
            parts.append(current)
        out.extend(parts or [""])
    return out
