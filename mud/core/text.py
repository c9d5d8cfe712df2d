"""Pure text handling: colour markup, word wrap and input sanitising.

Markup is `|` followed by one letter: |r |g |y |b |m |c |w |x set a colour
(upper case for the bright variant), |h bold, |u underline, |n reset, and ||
a literal pipe. Markup renders to ANSI SGR for clients with colour and is
stripped for the rest, so the same string serves every client.

`|[` and `|]` mark decoration (rules, flourishes, letter-spaced titles): shown to everyone
except screen-reader clients (MTTS bit 64), who get the text without it. Players can't
type these two (`escape_stray_pipes` doubles them).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from typing import TYPE_CHECKING

# The markup codes and the plain-text helpers belong to the world (it writes markup too);
# strip_markup, capitalise_first and list_words are used from here across mud/ as well.
from world.words import (  # noqa: F401
    MARKUP_CODES,
    apply_codes,
    capitalise_first,
    list_words,
    strip_markup,
)

if TYPE_CHECKING:
    from world.model import Player

_COLOURS = {"x": 30, "r": 31, "g": 32, "y": 33, "b": 34, "m": 35, "c": 36, "w": 37}
ANSI: dict[str, str] = {"n": "\x1b[0m", "h": "\x1b[1m", "u": "\x1b[4m"}
for _k, _v in _COLOURS.items():
    ANSI[_k] = f"\x1b[{_v}m"
    ANSI[_k.upper()] = f"\x1b[{_v + 60}m"
RESET = "\x1b[0m"
assert set(ANSI) | {"[", "]"} == set(MARKUP_CODES)


# Characters players may not send to other players' terminals: every C0/C1
# control (ESC included), DEL, and the bidirectional overrides that can
# disguise text. Tabs become a space; everything else disappears.
_STRIP: dict[int, str | None] = {c: None for c in range(0x20)}
_STRIP.update({c: None for c in range(0x7F, 0xA0)})
_STRIP.update({c: None for c in (0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))})
_STRIP[0x09] = " "
_STRIP_TABLE = str.maketrans(_STRIP)


# Beyond ASCII, also what a player could use to write invisibly or to break other players'
# lines: format characters (Unicode category Cf: zero-width spaces and joiners, BOM, soft
# hyphen, the Arabic letter mark, tag characters, interlinear annotation), line and
# paragraph separators (Zl, Zp), the Hangul fillers that render as blank letters, and more
# than MAX_COMBINING combining marks stacked on one character ("Zalgo" text).
_INVISIBLE_CATEGORIES = frozenset(["Cf", "Zl", "Zp"])
_FILLERS = frozenset("\u115f\u1160\u3164\uffa0")
MAX_COMBINING = 3  # combining marks kept on one character


def sanitize(text: str) -> str:
    """Remove control, escape, invisible and layout characters from player-supplied text,
    and cap the combining marks on each character at MAX_COMBINING."""
    if text.isascii():
        return text if text.isprintable() else text.translate(_STRIP_TABLE)
    text = text.translate(_STRIP_TABLE)
    out: list[str] = []
    marks = 0
    category = unicodedata.category
    for ch in text:
        if ch.isascii():
            marks = 0
            out.append(ch)
            continue
        cat = category(ch)
        if cat in _INVISIBLE_CATEGORIES or ch in _FILLERS:
            continue
        if cat[0] == "M":
            marks += 1
            if marks > MAX_COMBINING:
                continue
        else:
            marks = 0
        out.append(ch)
    return "".join(out)


def escape_stray_pipes(text: str) -> str:
    """Double every `|` that doesn't start markup (including one at the very end), so a
    player's text shows as typed and can't swallow the markup we put around it."""
    if "|" not in text:
        return text
    out = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "|":
            nxt = text[i + 1] if i + 1 < n else ""
            if nxt == "|" or (nxt and nxt in ANSI):
                out.append(ch + nxt)
                i += 2
                continue
            out.append("||")
        else:
            out.append(ch)
        i += 1
    return "".join(out)


# Markup is applied in one pass over the text split at its pipes (the pieces are C-speed
# slices; the loop runs once per code, not once per character), rather than with a regex and
# a Python callback per match, or one scan of the whole text per known code.
DECOR_OPEN, DECOR_CLOSE = "|[", "|]"
_TO_ANSI = dict(ANSI)
_TO_PLAIN = dict.fromkeys(ANSI, "")
_TO_ANSI["["] = _TO_ANSI["]"] = _TO_PLAIN["["] = _TO_PLAIN["]"] = ""


def drop_decoration(text: str) -> str:
    """`text` without its `|[ ... |]` spans (a `||[` is a literal pipe and bracket)."""
    if DECOR_OPEN not in text:
        return text
    parts = text.split("|")
    out = [parts[0]]
    inside = False
    i, n = 1, len(parts)
    while i < n:
        part = parts[i]
        if not part and i + 1 < n:  # "||": a literal pipe, then the next piece as text
            if not inside:
                out.append("||" + parts[i + 1])
            i += 2
            continue
        if part[:1] == "[":
            inside = True
            out.append("|[")  # keeps the markers balanced for _apply_markup
        elif part[:1] == "]" and inside:
            inside = False
            out.append("|" + part)
        elif not inside:
            out.append("|" + part)
        i += 1
    return "".join(out)


def _apply_markup(text: str, colour: bool) -> str:
    return apply_codes(text, _TO_ANSI if colour else _TO_PLAIN)


def visible_len(text: str) -> int:
    return len(strip_markup(text)) if "|" in text else len(text)


def wrap(text: str, width: int) -> list[str]:
    """Greedy word wrap of one markup line, counting only visible characters.

    Continuation lines keep the original line's indentation; a single word
    wider than the screen is left whole rather than cut mid-word.
    """
    if width <= 0 or len(text) <= width or visible_len(text) <= width:
        return [text]
    return list(_wrap_long(text, width))


@functools.lru_cache(maxsize=4096)
def _wrap_long(text: str, width: int) -> tuple[str, ...]:
    """Lines longer than the screen (room descriptions, mostly) repeat: wrap each once."""
    indent = text[: len(text) - len(text.lstrip(" "))]
    lines: list[str] = []
    current = ""
    current_len = 0
    for word in text.split():
        wlen = visible_len(word)
        if current and current_len + 1 + wlen > width:
            lines.append(current)
            current, current_len = indent + word, len(indent) + wlen
        elif current:
            current += " " + word
            current_len += 1 + wlen
        else:
            current, current_len = indent + word, len(indent) + wlen
    if current:
        lines.append(current)
    return tuple(lines)


@functools.lru_cache(maxsize=4096)
def _render_long(line: str, width: int, colour: bool) -> str:
    """A line that may need wrapping (room descriptions, mostly, seen again and again),
    wrapped and with its markup applied: done once per width and colour."""
    return "\r\n".join(_apply_markup(part, colour) for part in wrap(line, width))


def render(
    text: str, colour: bool, width: int, ascii_only: bool = False, screen_reader: bool = False
) -> str:
    """Markup text -> wrapped terminal text with CRLF line ends; for a screen reader,
    without decoration (`|[ ... |]`)."""
    if screen_reader and DECOR_OPEN in text:
        text = drop_decoration(text)
    out: list[str] = []
    for line in text.split("\n"):
        if 0 < width < len(line):
            out.append(_render_long(line, width, colour))
        elif "|" in line:
            out.append(_apply_markup(line, colour))
        else:
            out.append(line)
    joined = "\r\n".join(out)
    if colour and not joined.endswith(RESET) and "\x1b[" in joined:
        joined += RESET
    if ascii_only and not joined.isascii():
        joined = transliterate(joined)
    return joined


def transliterate(text: str) -> str:
    """Best-effort ASCII for clients that can't show UTF-8."""
    text = text.replace("\u2014", "--").replace("\u2013", "-").replace("\u2026", "...")
    text = text.replace("\u2018", "'").replace("\u2019", "'")
    text = text.replace("\u201c", '"').replace("\u201d", '"')
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return bare.encode("ascii", "replace").decode("ascii")


PROMPT = "> "
PROMPT_TOKEN = re.compile(r"%(.)")


def command_prompt(p: Player | None, dream_state: Callable[[Player], str]) -> str:
    """The command prompt: the dreamer's `config prompt` with its tokens filled in
    (%n name, %s awake/dreaming/in loop, %r room, %% a percent sign), or "> "."""
    own = p.settings.get("prompt") if p is not None else None
    if not own or p is None:
        return PROMPT
    state = dream_state(p) if "%s" in own else ""
    room = strip_markup(p.room.name) if "%r" in own and p.room is not None else ""
    values = {"n": p.name, "s": state, "r": room}

    def fill(m: re.Match[str]) -> str:
        code = m.group(1)
        if code == "%":
            return "%"
        # the template was stored with its markup escaped; what fills it is escaped too
        return values[code].replace("|", "||") if code in values else m.group(0)

    return PROMPT_TOKEN.sub(fill, own) + " "
