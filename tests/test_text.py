"""Pure text handling: markup, wrapping and rendering (mud/text.py)."""

from __future__ import annotations

import pytest

from mud.text import RESET, render, strip_markup, wrap


@pytest.mark.parametrize(
    ("markup", "plain", "coloured"),
    [
        ("no codes", "no codes", "no codes"),
        ("|rred|n", "red", "\x1b[31mred\x1b[0m"),
        ("|Rbright|n", "bright", "\x1b[91mbright\x1b[0m"),
        ("a || b", "a | b", "a | b"),
        ("||r is not red", "|r is not red", "|r is not red"),
        ("|||r", "|", "|\x1b[31m"),
        ("|z unknown", "|z unknown", "|z unknown"),
        ("ends with |", "ends with |", "ends with |"),
        ("|", "|", "|"),
        ("|h|cTitle|n |X[#1]|n", "Title [#1]", "\x1b[1m\x1b[36mTitle\x1b[0m \x1b[90m[#1]\x1b[0m"),
    ],
)
def test_markup_codes_literal_pipes_and_unknown_codes(markup, plain, coloured):
    assert strip_markup(markup) == plain
    assert render(markup, False, 0) == plain
    expected = coloured if "\x1b[" not in coloured or coloured.endswith(RESET) else coloured + RESET
    assert render(markup, True, 0) == expected


def test_render_wraps_each_line_to_the_width_counting_only_visible_characters():
    text = "|cTitle|n\n" + " ".join(f"|gword{n}|n" for n in range(30)) + "\nshort"
    out = render(text, True, 40)
    lines = out.split("\r\n")
    assert lines[0] == "\x1b[36mTitle\x1b[0m"
    assert lines[-1].startswith("short")
    assert all(len(line) <= 40 for line in render(text, False, 40).split("\r\n"))
    assert len(lines) > 4
    # the same line rendered again (cached) is identical, and differs per width and colour
    assert render(text, True, 40) == out
    assert render(text, False, 40) != out
    assert render(text, True, 60) != out


def test_wrap_keeps_indentation_and_long_words_whole():
    assert wrap("  " + "x" * 50, 20) == ["  " + "x" * 50]
    assert wrap("   alpha beta gamma delta", 12) == ["   alpha", "   beta", "   gamma", "   delta"]
