"""Which charsets a connection may use, whoever asks for one (`client charset`, CHARSET).

Only text encodings that leave ASCII as it is: telnet's CR LF and IAC bytes and our markup
must survive encoding. That rules out Python's bytes-to-bytes codecs (base64, rot13, hex,
zlib...), which raise LookupError on `str.encode`, and text codecs that rewrite ASCII or
can fail on ordinary text (utf-16/32 with NULs, utf-7, idna, punycode, EBCDIC).
"""

from __future__ import annotations

import codecs
import functools

# Ordinary output: line ends, the ASCII a MUD sends, a long word, and text outside Latin-1.
_ASCII_PROBE = "\r\n abcXYZ 0189 +-~|[]{}<>@#$%&*()_=/\\'\"?!.,;:" + "w" * 80
_TEXT_PROBE = _ASCII_PROBE + " caf\u00e9 \u2014 \u2603 \u6f22"
_BYTES_PROBE = bytes(range(256))
MAX_NAME = 40  # characters; no real charset name is longer


@functools.lru_cache(maxsize=256)
def usable_charset(name: str) -> str | None:
    """The codec name to use for charset `name`, or None if it isn't one we can talk in."""
    name = name.strip().lower().replace("_", "-")
    if not name or len(name) > MAX_NAME:
        return None
    try:
        codec = codecs.lookup(name)
    except (LookupError, ValueError):
        return None
    if not getattr(codec, "_is_text_encoding", True) or "escape" in codec.name:
        return None
    try:
        if _ASCII_PROBE.encode(codec.name) != _ASCII_PROBE.encode("ascii"):
            return None
        _TEXT_PROBE.encode(codec.name, "replace")
        _BYTES_PROBE.decode(codec.name, "replace")
    except (UnicodeError, LookupError, ValueError, TypeError):
        return None
    return "ascii" if codec.name in ("ascii", "us-ascii") else codec.name
