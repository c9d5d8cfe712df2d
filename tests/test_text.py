"""Pure text handling: markup, wrapping and rendering (mud/core/text.py)."""

from __future__ import annotations

import pytest

from mud.core.text import RESET, render, strip_markup, wrap


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


INVISIBLE = {
    "zero-width space": "\u200b", "ZWNJ": "\u200c", "ZWJ": "\u200d", "word joiner": "\u2060",
    "BOM": "\ufeff", "Arabic letter mark": "\u061c", "line separator": "\u2028",
    "paragraph separator": "\u2029", "tag characters": "\U000e0041\U000e007f",
    "interlinear annotation": "\ufff9", "Hangul filler": "\u3164",
    "Hangul choseong filler": "\u115f", "Hangul jungseong filler": "\u1160",
    "halfwidth Hangul filler": "\uffa0", "soft hyphen": "\u00ad",
}  # fmt: skip


@pytest.mark.parametrize("char", INVISIBLE.values(), ids=INVISIBLE.keys())
def test_sanitize_removes_invisible_and_layout_characters(char):
    from mud.core.text import sanitize

    assert sanitize(f"he{char}llo{char}") == "hello"


def test_sanitize_caps_combining_marks_and_keeps_ordinary_text():
    from mud.core.text import MAX_COMBINING, sanitize

    zalgo = "a" + "\u0301" * 1800 + "b" + "\u0300\u0301\u0302\u0303\u0304" + "\u00e9"
    assert sanitize(zalgo) == "a" + "\u0301" * MAX_COMBINING + "b\u0300\u0301\u0302\u00e9"
    for kept in ["caf\u00e9 na\u0308ive", "\u65e5\u672c\u8a9e", "\u0645\u0631\u062d\u0628\u0627",
                 "\U0001f600 smile", "tab\there", "\u00a0nbsp"]:  # fmt: skip
        assert sanitize(kept) == kept.replace("\t", " ")
    assert sanitize("\x1b[31mred\x07") == "[31mred"
