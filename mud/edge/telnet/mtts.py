"""TTYPE / MTTS: what a client tells us about itself, turned into rendering decisions.

MUD clients answer up to three TTYPE requests: their name, a terminal type, then
"MTTS <bits>" (https://tintin.mudhalla.net/protocols/mtts/). Plain terminals just repeat
a terminal name such as "XTERM-256COLOR".
"""

from __future__ import annotations

from dataclasses import dataclass

MTTS_ANSI = 1
MTTS_VT100 = 2
MTTS_UTF8 = 4
MTTS_256 = 8
MTTS_SCREEN_READER = 64
MTTS_TRUECOLOR = 256

COLOUR_NONE, COLOUR_16, COLOUR_256, COLOUR_TRUE = "none", "16", "256", "truecolor"

# Names (lower case, substring match) of terminals and clients that show ANSI colour.
COLOUR_TERMS = (
    "xterm", "ansi", "linux", "screen", "tmux", "rxvt", "konsole", "putty", "cygwin",
    "vt220", "vt320", "mudlet", "tintin", "mushclient", "zmud", "cmud", "tinyfugue",
    "blowtorch", "mudrammer", "kildclient", "atlantis", "potato", "beip", "gnome",
    "alacritty", "kitty", "iterm", "wezterm", "eterm", "color", "colour",
)  # fmt: skip
# Clients known to render 256 colours even without saying so in their terminal name.
RICH_CLIENTS = ("mudlet", "tintin", "mushclient", "blowtorch", "mudrammer", "beip")


@dataclass(frozen=True)
class ClientInfo:
    name: str = ""  # e.g. "TINTIN++", "MUDLET", or the terminal for plain telnet
    terminal: str = ""
    mtts: int | None = None
    colour: str = COLOUR_NONE
    utf8: bool | None = None  # None: the client didn't say
    screen_reader: bool = False

    @property
    def has_colour(self) -> bool:
        return self.colour != COLOUR_NONE


def _mtts_value(ttype: str) -> int | None:
    parts = ttype.strip().split()
    if len(parts) == 2 and parts[0].upper() == "MTTS" and parts[1].isdigit():
        return int(parts[1])
    return None


def _colour_from_name(name: str) -> str:
    low = name.lower()
    if not low or low in ("unknown", "dumb", "vt100", "network"):
        return COLOUR_NONE
    if "truecolor" in low or "24bit" in low or "direct" in low:
        return COLOUR_TRUE
    if "256" in low or any(c in low for c in RICH_CLIENTS):
        return COLOUR_256
    if any(t in low for t in COLOUR_TERMS):
        return COLOUR_16
    return COLOUR_NONE


def parse_ttypes(ttypes: list[str]) -> ClientInfo:
    """Interpret the (up to three) TTYPE answers, in the order received."""
    answers = [t for t in ttypes if t]
    if not answers:
        return ClientInfo()
    mtts = None
    names: list[str] = []
    for t in answers:
        value = _mtts_value(t)
        if value is not None:
            mtts = value
        elif t not in names:
            names.append(t)
    name = names[0] if names else ""
    terminal = names[1] if len(names) > 1 else name
    if mtts is not None:
        if mtts & MTTS_TRUECOLOR:
            colour = COLOUR_TRUE
        elif mtts & MTTS_256:
            colour = COLOUR_256
        elif mtts & MTTS_ANSI:
            colour = COLOUR_16
        else:
            colour = COLOUR_NONE
        return ClientInfo(
            name, terminal, mtts, colour, bool(mtts & MTTS_UTF8), bool(mtts & MTTS_SCREEN_READER)
        )
    best = max((_colour_from_name(n) for n in names), key=_RANK.__getitem__)
    utf8 = True if any("utf-8" in n.lower() or "utf8" in n.lower() for n in names) else None
    return ClientInfo(name, terminal, None, best, utf8, False)


_RANK = {COLOUR_NONE: 0, COLOUR_16: 1, COLOUR_256: 2, COLOUR_TRUE: 3}
