"""Server settings: every limit is named here with a safe default."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4000
DEFAULT_DB = "sqlite:///dreamwave.db"


@dataclass
class Limits:
    """Per-connection bounds. Each one protects the server from one kind of client."""

    max_line_bytes: int = 4096  # longer input lines are refused
    max_pending_bytes: int = 65536  # bytes without a newline before the client is cut off
    max_queued_lines: int = 64  # lines waiting while a command's save is in flight
    max_output_bytes: int = 512 * 1024  # unsent output before a non-reading client is dropped
    commands_per_second: float = 20.0  # sustained rate; bursts up to `command_burst`
    command_burst: int = 40
    throttle_notice_interval: float = 2.0  # seconds between "slow down" notices
    bytes_per_second: int = 64 * 1024  # raw input rate before input is paused
    login_idle_timeout: float = 120.0  # seconds at the login screen before disconnect
    player_idle_timeout: float = 3600.0  # seconds of silence from a logged-in player
    login_failures: int = 5  # wrong passwords from one address ...
    login_failure_window: float = 60.0  # ... within this many seconds ...
    login_lockout: float = 300.0  # ... lock that address out for this long
    connect_maxwait: float = 0.5  # telnet negotiation wait before the banner


@dataclass
class MsspInfo:
    """What crawlers read about this server (MSSP). Override with DREAMWAVE_MSSP_<FIELD>."""

    name: str = "Dreamwave"
    contact: str = "admin@localhost"
    website: str = ""
    hostname: str = ""
    location: str = ""
    language: str = "English"
    created: str = "2026"
    icon: str = ""
    discord: str = ""


@dataclass
class Settings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    db: str = DEFAULT_DB
    log_level: str = "INFO"
    compression: bool = True  # offer MCCP2 to clients
    time_scale: float = 1.0  # game time (and event-script waits) run this many times faster
    # seconds a shutdown (SIGTERM) waits for the database to take what is staged; then each
    # player is told what could not be saved and the server exits with status 1
    shutdown_timeout: float = 30.0
    limits: Limits = field(default_factory=Limits)
    mssp: MsspInfo = field(default_factory=lambda: MsspInfo())

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Environment variables first, then explicit (non-None) overrides: flags win."""
        s = cls()
        env = os.environ
        if env.get("DREAMWAVE_HOST"):
            s.host = env["DREAMWAVE_HOST"]
        if env.get("DREAMWAVE_PORT"):
            s.port = int(env["DREAMWAVE_PORT"])
        if env.get("DREAMWAVE_DB"):
            s.db = env["DREAMWAVE_DB"]
        if env.get("DREAMWAVE_TIME_SCALE"):
            s.time_scale = float(env["DREAMWAVE_TIME_SCALE"])
        if env.get("DREAMWAVE_SHUTDOWN_TIMEOUT"):
            s.shutdown_timeout = float(env["DREAMWAVE_SHUTDOWN_TIMEOUT"])
        for f in fields(MsspInfo):
            value = env.get(f"DREAMWAVE_MSSP_{f.name.upper()}")
            if value:
                setattr(s.mssp, f.name, value)
        names = {f.name for f in fields(cls)}
        for key, value in overrides.items():
            if value is None:
                continue
            if key in names:
                setattr(s, key, value)
            else:
                setattr(s.limits, key, value)
        return s


def normalise_db_url(url: str) -> str:
    """Accept a bare file path as shorthand for an SQLite file."""
    if "://" not in url:
        return f"sqlite:///{url}"
    return url
