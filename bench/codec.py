"""The link's encoding, typed messages (mud.protocol, msgspec) against the lists before them.

    python -m bench.codec [--rounds N]

Two realistic frames, each encoded into link payloads and decoded back, as the Link does
(mud/link/frames.py):
- output: one Output message for 200 sessions of a crowded room, sharing 3 distinct outputs
  (the room's lines; the same with the prompt shown again after them; one with a line break);
- input: 500 input lines from 500 sessions.
"Lists" is the encoding before mud/protocol: msgpack-python lists with string tags
(["O", sids, which, dones, blobs], ["in", sid, line]), packed one message at a time and the
payload unpacked whole; "lists*" is the same lists with the batch packed in one call, as the
Link now does for every codec (so the gain that comes from that alone is shown apart).
Prints microseconds per frame (best of 5 runs) and payload sizes.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from typing import Any

import msgpack

from mud.link.frames import Unpacker, pack
from mud.protocol import Item, Line, Output, Prompt, Text
from mud.protocol.codec import TypedCodec

ROOM = (
    b'\x1b[1;36mAda says, "The lantern flickers; the hall grows long."\x1b[0m\r\n'
    b"Bex arrives from the north, trailing moth-light.\r\n"
    b"\x1b[33mA paper crane folds itself out of the air.\x1b[0m\r\n"
)
PROMPT = b"> "
SESSIONS = 200
LINES = 500


def old_pack(messages: list[Any]) -> bytes:
    """The old frames.pack for one batch that fits: [0, [message...]]."""
    encoded = [msgpack.packb(m, use_bin_type=True) for m in messages]
    n = len(encoded)
    head = bytes([0x90 | n]) if n < 16 else b"\xdc" + n.to_bytes(2, "big")
    return b"\x92\x00" + head + b"".join(encoded)


def old_unpack(payload: bytes) -> list[Any]:
    obj = msgpack.unpackb(payload, raw=False, strict_map_key=False)
    return obj[1]


def frames() -> dict[str, tuple[list[Any], list[Any]]]:
    blobs = [ROOM, b"\r\n" + ROOM, b"\r\n" + ROOM + PROMPT]
    sids = list(range(1, SESSIONS + 1))
    which = [i % 3 for i in range(SESSIONS)]
    dones = [i * 7 for i in range(SESSIONS)]
    old_out = [["O", sids, which, dones, blobs]]
    outs: list[Sequence[Item]] = [
        (Text(ROOM),),
        (Text(b"\r\n" + ROOM),),
        (Text(b"\r\n" + ROOM), Prompt(PROMPT)),
    ]
    new_out = [Output(sids, which, dones, outs)]
    lines = [b"say the lantern is lit, come and see %d" % i for i in range(LINES)]
    old_in = [["in", i, line] for i, line in enumerate(lines)]
    new_in = [Line(i, line) for i, line in enumerate(lines)]
    return {"output (200 sessions, 3 outputs)": (old_out, new_out),
            "input (500 lines)": (old_in, new_in)}  # fmt: skip


def best(fn: Callable[[], object], rounds: int) -> float:
    """Microseconds per call, the best of 5 runs of `rounds` calls."""
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(rounds):
            fn()
        times.append((time.perf_counter() - t0) / rounds * 1e6)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2000)
    rounds = parser.parse_args().rounds
    codec = TypedCodec()
    print(f"{'frame':36} {'codec':8} {'encode':>9} {'decode':>9} {'both':>9} {'bytes':>7}")
    for name, (old, new) in frames().items():
        old_payload = old_pack(old)
        new_payload = next(pack(new, 1 << 20, codec))
        assert old_unpack(old_payload)[0][0] in ("O", "in")
        unpacker = Unpacker(codec=codec)
        assert unpacker.feed(new_payload) == new or name.startswith("output")

        def typed_encode(n: list[Any] = new) -> bytes:
            return next(pack(n, 1 << 20, codec))

        def typed_decode(p: bytes = new_payload, u: Unpacker = unpacker) -> Any:
            return u.feed(p)

        def lists_encode(o: list[Any] = old) -> bytes:
            return old_pack(o)

        def lists_encode_whole(o: list[Any] = old) -> bytes:
            return b"\x92\x00" + msgpack.packb(o, use_bin_type=True)

        def lists_decode(p: bytes = old_payload) -> Any:
            return old_unpack(p)

        rows: list[tuple[str, Callable[[], object], Callable[[], object], int]] = [
            ("lists", lists_encode, lists_decode, len(old_payload)),
            ("lists*", lists_encode_whole, lists_decode, len(old_payload)),
            ("typed", typed_encode, typed_decode, len(new_payload)),
        ]
        for label, enc, dec, size in rows:
            e, d = best(enc, rounds), best(dec, rounds)
            print(f"{name:36} {label:8} {e:8.1f}µs {d:8.1f}µs {e + d:8.1f}µs {size:7}")


if __name__ == "__main__":
    main()
