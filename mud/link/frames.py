"""Link payloads, free of I/O: batches of messages as msgpack, split to fit a payload size.

Messages are encoded and decoded by a codec: the typed link vocabulary (mud.protocol.codec)
unless a Link is given another (`RawCodec`: plain msgpack values, for tests of the link).

A payload is one of
  [0, [message, ...]]                      a batch: everything posted in one loop iteration
  [1, index, count, chunk]                 a fragment of one encoded batch too big to send whole
A batch is cut to fit `max_payload`; a single message bigger than that (a long description, a
`who` of thousands) is sent as consecutive fragments and put back together by the receiver, so
no message size a game can produce is refused. Each message is encoded once.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from typing import Any, Generic, Protocol, TypeVar

import msgspec

BATCH, FRAGMENT = 0, 1
DEFAULT_MAX_PAYLOAD = 512 * 1024  # bytes per payload (NATS's default max_payload is 1 MiB)
MAX_MESSAGE = 64 * 1024 * 1024  # a reassembled batch larger than this is a protocol error
_ENVELOPE = 16  # bytes of [0, <array header>] and fragment headers, with room to spare


class LinkProtocolError(Exception):
    """The peer sent something that is not a Dreamwave link payload."""


M = TypeVar("M")


class Codec(Protocol[M]):
    """How messages of type `M` become bytes: one at a time, or a batch (a list) at once."""

    beat: M  # the heartbeat message
    who: M  # "say hello" (handed to a gateway whose link was proven again)

    def encode(self, message: M | list[M]) -> bytes: ...
    def decode_batch(self, data: bytes | memoryview) -> list[M]: ...


class RawCodec:
    """Plain msgpack values (lists, dicts, bytes...): a link that carries anything (so its
    messages are `Any`: whatever msgpack decodes)."""

    def __init__(self) -> None:
        self.beat: Any = ["beat"]
        self.who: Any = ["who"]

    @staticmethod
    def encode(message: Any) -> bytes:
        return msgspec.msgpack.encode(message)

    @staticmethod
    def decode_batch(data: bytes | memoryview) -> list[Any]:
        got = msgspec.msgpack.decode(data)
        if not isinstance(got, list):
            raise LinkProtocolError("a batch is not a list")
        return got


def _array_header(n: int) -> bytes:
    if n < 16:
        return bytes([0x90 | n])
    if n < 0x10000:
        return b"\xdc" + struct.pack(">H", n)
    return b"\xdd" + struct.pack(">I", n)


def _batch(encoded: list[bytes]) -> bytes:
    return b"\x92\x00" + _array_header(len(encoded)) + b"".join(encoded)


def pack(
    messages: Iterable[M], max_payload: int = DEFAULT_MAX_PAYLOAD, codec: Codec[M] | None = None
) -> Iterator[bytes]:
    """The payloads that carry `messages`, in order, each at most `max_payload` bytes.

    The batch is encoded in one call (a msgpack array of the messages: the payload's body);
    only a batch too big for one payload is encoded again a message at a time, to be cut."""
    encode = (codec if codec is not None else RawCodec()).encode
    room = max_payload - _ENVELOPE
    if room < 64:
        raise ValueError("max_payload is too small")
    if not isinstance(messages, list):
        messages = list(messages)
    whole = encode(messages)
    if len(whole) <= room:
        yield _BATCH_HEAD + whole
        return
    group: list[bytes] = []
    size = 0
    for message in messages:
        data = encode(message)
        if size + len(data) > room and group:
            yield _batch(group)
            group, size = [], 0
        if len(data) > room:
            yield from _fragments(_batch([data]), room)
            continue
        group.append(data)
        size += len(data)
    if group:
        yield _batch(group)


def _fragments(whole: bytes, room: int) -> Iterator[bytes]:
    step = room - 16
    count = (len(whole) + step - 1) // step
    for index in range(count):
        chunk = whole[index * step : (index + 1) * step]
        yield msgspec.msgpack.encode([FRAGMENT, index, count, chunk])


class Unpacker(Generic[M]):
    """Payloads in, batches of messages out (fragments put back together, in order)."""

    def __init__(self, max_message: int = MAX_MESSAGE, codec: Codec[M] | None = None) -> None:
        self.max_message = max_message
        self.codec: Codec[M] = codec if codec is not None else RawCodec()
        self._parts: list[bytes] = []
        self._size = 0

    def feed(self, payload: bytes) -> list[M] | None:
        """The batch `payload` completes, or None while a fragmented one is still arriving.
        (A codec may refuse a batch it can read but not take: its exception passes.)"""
        if payload[:2] == _BATCH_HEAD:
            if self._parts:
                raise LinkProtocolError("a batch arrived in the middle of a fragmented one")
            try:
                return self.codec.decode_batch(memoryview(payload)[2:])
            except msgspec.DecodeError as err:
                raise LinkProtocolError(f"undecodable payload: {err}") from None
        try:
            obj = msgspec.msgpack.decode(payload)
        except msgspec.DecodeError as err:
            raise LinkProtocolError(f"undecodable payload: {err}") from None
        if not isinstance(obj, list) or not obj:
            raise LinkProtocolError("payload is not a list")
        if obj[0] == FRAGMENT and len(obj) == 4:
            _, index, count, chunk = obj
            if index != len(self._parts) or not isinstance(chunk, bytes) or index >= count:
                raise LinkProtocolError("fragment out of order")
            self._size += len(chunk)
            if self._size > self.max_message:
                raise LinkProtocolError("fragmented batch over the size limit")
            self._parts.append(chunk)
            if index + 1 < count:
                return None
            whole = b"".join(self._parts)
            self._parts, self._size = [], 0
            return self.feed(whole)
        raise LinkProtocolError("unknown payload kind")


_BATCH_HEAD = b"\x92\x00"  # [0, ...]: a whole batch (its messages follow as one array)


LENGTH = struct.Struct(">I")


class StreamFramer:
    """Length-prefixed payloads on a byte stream (the local Unix-socket transport)."""

    def __init__(self, max_payload: int = DEFAULT_MAX_PAYLOAD) -> None:
        self.max_payload = max_payload
        self._buf = bytearray()

    @staticmethod
    def frame(payload: bytes) -> bytes:
        return LENGTH.pack(len(payload)) + payload

    def feed(self, data: bytes) -> list[bytes]:
        buf = self._buf
        buf += data
        out = []
        pos = 0
        while len(buf) - pos >= LENGTH.size:
            (n,) = LENGTH.unpack_from(buf, pos)
            if n > self.max_payload:
                raise LinkProtocolError(f"a frame of {n} bytes is over {self.max_payload}")
            if len(buf) - pos - LENGTH.size < n:
                break
            start = pos + LENGTH.size
            out.append(bytes(buf[start : start + n]))
            pos = start + n
        del buf[:pos]
        return out
