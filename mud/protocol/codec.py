"""Typed messages to msgpack bytes and back (msgspec), for the Link (mud/link/frames.py).

A batch is decoded whole against the `Message` union: a message whose tag this side doesn't
know, or whose fields don't fit, refuses the batch (`Refused`, with the tags named), so
nothing of a frame from a gateway or engine of another version is half applied.
"""

from __future__ import annotations

import msgspec

from mud.protocol.messages import TAGS, VERSION, Beat, Message, Who

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(list[Message])


class Refused(Exception):
    """A batch that is msgpack but not messages of this protocol (the reason says which)."""


class TypedCodec:
    """The link's codec: one `Message` encoded at a time, a batch decoded at once."""

    beat: Message = Beat()  # a quiet link's heartbeat (never handed to its owner)
    who: Message = Who()  # handed to a gateway whose link was proven again (mud/link/base.py)

    @staticmethod
    def encode(message: Message | list[Message]) -> bytes:
        return _encoder.encode(message)

    @staticmethod
    def decode_batch(data: bytes | memoryview) -> list[Message]:
        try:
            return _decoder.decode(data)
        except msgspec.ValidationError as err:
            raise Refused(_why(data, err)) from None


def _why(data: bytes | memoryview, err: Exception) -> str:
    """Name what was refused: unknown tags, a hello of another version, or a bad message."""
    try:
        loose = msgspec.msgpack.decode(data)
    except msgspec.DecodeError:
        return f"undecodable ({err})"
    if not isinstance(loose, list):
        return f"not a batch of messages ({type(loose).__name__})"
    tags = [m[0] if isinstance(m, list) and m else m for m in loose]
    unknown = sorted({repr(t)[:40] for t in tags if not isinstance(t, str) or t not in TAGS})
    if unknown:
        return f"unknown message type(s) {', '.join(unknown)}"
    for m in loose:
        if isinstance(m, list) and m[0] == "hello" and len(m) > 1 and m[1] != VERSION:
            return f"a hello of link protocol version {m[1]!r} (this side speaks {VERSION})"
    return f"a malformed message ({err})"
