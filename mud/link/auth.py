"""Who may speak on the link: a gateway and the engine prove a shared secret to each other
without ever sending it, and over NATS every payload after that is sealed.

The handshake comes first on every link, each message a batch of one, in clear:
  gateway -> engine  ["knock", name, g]         g: 16 random bytes, new for each handshake
  engine -> gateway  ["challenge", e, proof]    e: the engine's; proof = mac("engine", g, e)
  gateway -> engine  ["proof", proof]           mac("gateway", g, e)
  gateway -> engine  ["refused"]                the engine's proof was wrong (another secret)
  engine -> gateway  ["knock?"]                 a sealed payload it has no key for (a new engine)
`mac` is HMAC-SHA256 keyed with the secret over both nonces and the gateway's name, so a proof
is worth nothing on another link or in another handshake. Until a link's handshake is done the
Link sends nothing else and delivers nothing: a forged gateway never reaches the engine's code.
A new handshake on a link that has one keeps the old keys until it succeeds, so a forged knock
can't cut a real gateway off.

Sealed (NATS, where other users of the bus may listen or publish): each payload is SEALED, an
8-byte counter and ChaCha20-Poly1305 of the payload (the counter is the nonce; one key per
direction, derived from the secret and both nonces). A payload that doesn't open, or whose
counter is not above the last one, is dropped: typed lines (passwords) are never on the bus in
clear, and nobody without the secret can inject or replay one. The local Unix socket is not
sealed: once proven, a connected socket has only its two ends.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import struct
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import msgspec

if TYPE_CHECKING:
    from mud.config import LinkSettings

SEALED = b"\xc1"  # msgpack's one unused byte: no clear payload starts with it
NONCE_BYTES = 16
KEY_FILE = "link.key"  # the local link's per-folder secret, beside its socket
CONTROL = frozenset({"knock", "challenge", "proof", "refused", "knock?"})
_COUNTER = struct.Struct(">Q")

Side = Literal["engine", "gateway"]
# A handshake message as sent: its kind, then names and nonces. (One received is whatever
# msgpack decoded from the peer, `list[Any]` until Guard.handle has checked its shape.)
Control = list[str | bytes]


class LinkRefused(Exception):
    """A link setting that would let others in: one sentence for the operator."""


def control(message: Control) -> bytes:
    """A handshake message as a clear payload (a batch of one)."""
    return msgspec.msgpack.encode([0, [message]])


def read_control(payload: bytes) -> list[Any] | None:
    """The handshake message a clear payload carries, or None if it carries something else."""
    try:
        obj = msgspec.msgpack.decode(payload)
    except Exception:
        return None
    if not (isinstance(obj, list) and len(obj) == 2 and obj[0] == 0 and isinstance(obj[1], list)):
        return None
    batch = obj[1]
    if len(batch) == 1 and isinstance(batch[0], list) and batch[0] and batch[0][0] in CONTROL:
        return batch[0]
    return None


class _Cipher:
    """One direction of a sealed link: a key and a counter."""

    def __init__(self, key: bytes) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

        self.aead = ChaCha20Poly1305(key)
        self.counter = 0

    def seal(self, payload: bytes) -> bytes:
        self.counter += 1
        head = _COUNTER.pack(self.counter)
        return SEALED + head + self.aead.encrypt(b"\0\0\0\0" + head, payload, None)

    def open(self, sealed: bytes) -> bytes | None:
        from cryptography.exceptions import InvalidTag

        if len(sealed) < 1 + _COUNTER.size + 16:
            return None
        head = sealed[1 : 1 + _COUNTER.size]
        (counter,) = _COUNTER.unpack(head)
        if counter <= self.counter:
            return None  # a replay, or out of order
        try:
            payload = self.aead.decrypt(b"\0\0\0\0" + head, sealed[1 + _COUNTER.size :], None)
        except InvalidTag:
            return None
        self.counter = counter
        return payload


class Guard:
    """One side of one link's handshake and seal (sans-I/O: the Link moves the bytes)."""

    def __init__(self, secret: bytes, side: Side, name: str = "", sealed: bool = False) -> None:
        self.secret = secret
        self.side = side
        self.name = name  # the gateway's name (over NATS: the one in its subjects)
        self.sealed = sealed
        self.ready = False
        self.rekeyed = False  # the last handshake replaced an earlier one
        self._g = b""  # the gateway's nonce in the handshake under way
        self._e = b""  # the engine's
        self._tx: _Cipher | None = None
        self._rx: _Cipher | None = None

    def _mac(self, who: str, g: bytes, e: bytes) -> bytes:
        data = b"|".join([who.encode(), g, e, self.name.encode()])
        return hmac.new(self.secret, data, hashlib.sha256).digest()

    def knock(self) -> Control:
        """The gateway's first word (said again, the same, until answered)."""
        if not self._g:
            self._g = secrets.token_bytes(NONCE_BYTES)
        return ["knock", self.name, self._g]

    def handle(self, m: list[Any]) -> tuple[Control | None, str]:
        """A handshake message in: (the answer to send or None, what happened: "" or
        "ready", or the reason it was refused)."""
        kind = m[0]
        if self.side == "engine":
            if kind == "knock" and len(m) == 3 and isinstance(m[2], bytes):
                return self._challenge(str(m[1]), m[2]), ""
            if kind == "proof" and len(m) == 2 and isinstance(m[1], bytes):
                return None, self._check_proof(m[1])
            if kind == "refused":
                return None, "the gateway could not prove the link secret (it has another one)"
            return None, ""
        if kind == "challenge" and len(m) == 3 and all(isinstance(x, bytes) for x in m[1:]):
            return self._answer(m[1], m[2])
        if kind == "knock?":
            return self.knock(), ""
        return None, ""

    def _challenge(self, name: str, g: bytes) -> Control | None:
        if self.name and name != self.name:  # a proof is for the subject it came on
            return None
        if g != self._g or not self._e:  # (the same knock again gets the same challenge)
            self._g, self._e = g, secrets.token_bytes(NONCE_BYTES)
        self.name = self.name or name
        return ["challenge", self._e, self._mac("engine", self._g, self._e)]

    def _check_proof(self, proof: bytes) -> str:
        if not (self._g and self._e):
            return ""
        if not hmac.compare_digest(proof, self._mac("gateway", self._g, self._e)):
            self._g = self._e = b""
            return "the gateway could not prove the link secret"
        self._keys()
        return "ready"

    def _answer(self, e: bytes, proof: bytes) -> tuple[Control | None, str]:
        if not self._g or self._e:
            return None, ""  # not knocking, or already answered this knock
        if not hmac.compare_digest(proof, self._mac("engine", self._g, e)):
            return ["refused"], "the engine could not prove the link secret (it has another one)"
        self._e = e
        answer: Control = ["proof", self._mac("gateway", self._g, e)]
        self._keys()
        return answer, "ready"

    def _keys(self) -> None:
        """Both proofs are good: the session's keys, and the next handshake starts afresh."""
        self.rekeyed = self.ready
        self.ready = True
        if self.sealed:
            up = self._mac("up", self._g, self._e)
            down = self._mac("down", self._g, self._e)
            mine, theirs = (down, up) if self.side == "engine" else (up, down)
            self._tx, self._rx = _Cipher(mine), _Cipher(theirs)
        self._g = self._e = b""

    def seal(self, payload: bytes) -> bytes:
        return self._tx.seal(payload) if self._tx is not None else payload

    def open(self, sealed: bytes) -> bytes | None:
        return self._rx.open(sealed) if self._rx is not None else None


# -- where the secret comes from -----------------------------------------------------------------
def configured_secret(link: LinkSettings) -> bytes | None:
    """[link] secret, or the contents of [link] secret_file (refused unless only its owner
    may read it); None if neither is set."""
    if link.secret:
        return link.secret.encode()
    if not link.secret_file:
        return None
    path = Path(link.secret_file)
    try:
        st = path.stat()
        text = path.read_bytes().strip()
    except OSError as err:
        raise LinkRefused(f"Can't read the link secret file {path}: {err.strerror}.") from None
    if st.st_mode & 0o077:
        raise LinkRefused(f"The link secret file {path} can be read by other users: "
                          f"chmod 600 {path}.")  # fmt: skip
    if not text:
        raise LinkRefused(f"The link secret file {path} is empty.")
    return text


def folder_secret(socket_path: str | Path, create: bool) -> bytes:
    """The local link's secret when none is configured: a key file in the socket's private
    folder, made by the engine (0600) and read by the gateways."""
    path = Path(socket_path).parent / KEY_FILE
    if create and not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    st = path.stat()
    if st.st_uid != os.getuid() or st.st_mode & 0o077:
        raise LinkRefused(f"{path} is not private to you; remove it and start again.")
    return path.read_bytes().strip()
