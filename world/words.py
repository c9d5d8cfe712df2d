"""Words and markup as the world writes them: no rendering here (that is mud.core.text's).

Markup is `|` and one letter (see mud/core/text.py for what each means to a client); `||` is a
literal pipe. The world needs only to read through it and to put words together.
"""

from __future__ import annotations

_COLOUR_LETTERS = "xrgybmcw"
# every code letter: reset, bold, underline, the colours (upper case: bright), decoration
MARKUP_CODES = "nhu" + _COLOUR_LETTERS + _COLOUR_LETTERS.upper() + "[]"
_PLAIN = dict.fromkeys(MARKUP_CODES, "")


def apply_codes(text: str, table: dict[str, str]) -> str:
    """`text` with each markup code replaced by `table[letter]` (a `||` is one pipe; an
    unknown code is left as typed). One pass over the text split at its pipes: the pieces
    are C-speed slices and the loop runs once per code, not once per character."""
    if "|" not in text:
        return text
    parts = text.split("|")
    out = [parts[0]]
    i, n = 1, len(parts)
    while i < n:
        part = parts[i]
        if not part:  # "||" is a literal pipe (or a lone pipe ends the text)
            if i + 1 < n:
                out.append("|")
                out.append(parts[i + 1])
                i += 2
                continue
            out.append("|")
        else:
            code = table.get(part[0])
            if code is None:
                out.append("|")
                out.append(part)
            else:
                out.append(code)
                out.append(part[1:])
        i += 1
    return "".join(out)


def strip_markup(text: str) -> str:
    """The visible text of a markup string."""
    return apply_codes(text, _PLAIN)


def capitalise_first(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def list_words(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]
