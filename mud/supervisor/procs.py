"""What the server's processes agree on: exit statuses, the heartbeat pipes (engine's and
gateways') to the supervisor, and the one way a port that can't be listened on is reported.

Small on purpose: the supervisor imports this and mud.config only, never the engine.
"""

from __future__ import annotations

import asyncio
import errno
import os
import signal

RELOAD_EXIT = 75  # the engine's exit status after a reload: the supervisor starts a new one
HEARTBEAT_ENV = "DREAMWAVE_HEARTBEAT_FD"  # the write end of the supervisor's pipe
GO_ENV = "DREAMWAVE_GO_FD"  # a standby engine's go pipe: it starts when a byte comes


def wait_to_go() -> bool:
    """A standby engine (started while the one before it reloads) waits here, its code
    loaded, until the supervisor says go; False if it never will (the server stops)."""
    fd_text = os.environ.pop(GO_ENV, "")
    if not fd_text.isdigit():
        return True
    fd = int(fd_text)
    try:
        return os.read(fd, 1) == b"g"
    except OSError:
        return False
    finally:
        os.close(fd)


class ListenError(Exception):
    """The server can't listen where it was told to (the port is taken, say)."""

    def __init__(self, host: str, port: int, err: OSError) -> None:
        self.host, self.port, self.errno = host, port, err.errno
        reason = {
            errno.EADDRINUSE: "that port is already in use (another server?)",
            errno.EACCES: "permission denied (ports below 1024 need privileges)",
            errno.EADDRNOTAVAIL: "this machine has no such address",
        }.get(err.errno or 0, err.strerror or str(err))
        super().__init__(f"Can't listen on {host}:{port}: {reason}.")


def die_with_parent() -> None:
    """A child of the supervisor ends (SIGTERM) if the supervisor itself is killed."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # it died before we asked
        os.kill(os.getpid(), signal.SIGTERM)


class Heartbeat:
    """A child's side of the supervisor's pipe (the engine's, and each gateway's): a byte a
    second from the loop (a hung loop goes quiet); the engine also says "R" once ready, "S"
    when it stops on purpose (not a crash)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        fd_text = os.environ.pop(HEARTBEAT_ENV, "")
        self.fd = int(fd_text) if fd_text.isdigit() else -1
        if self.fd >= 0:
            os.set_blocking(self.fd, False)
            self._beat()

    def say(self, what: bytes) -> None:
        if self.fd < 0:
            return
        try:
            os.write(self.fd, what)
        except BlockingIOError:
            pass
        except OSError:
            self.fd = -1  # the supervisor is gone

    def _beat(self) -> None:
        self.say(b".")
        if self.fd >= 0:
            self.loop.call_later(1.0, self._beat)
