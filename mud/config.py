"""Server settings: every limit is named here with a safe default.

Where a value comes from, highest first: a command-line flag, an environment variable
(`DREAMWAVE_PORT`, nested with `__`: `DREAMWAVE_LIMITS__COMMAND_BURST`), the TOML file
(`--config FILE`, else `./dreamwave.toml` if there is one), then the default here. The comment
beside each field is its documentation: `python server.py config --sample` prints them all as a
commented sample file, `python server.py config` the values in force and where each came from.
"""

from __future__ import annotations

import inspect
import json
import re
import tomllib
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4000
DEFAULT_DB = "sqlite:///dreamwave.db"
DEFAULT_CONFIG_FILE = "dreamwave.toml"
ENV_PREFIX = "DREAMWAVE_"
ENV_NESTED = "__"


class Limits(BaseModel):
    """Per-connection bounds. Each one protects the server from one kind of client."""

    model_config = ConfigDict(extra="forbid")

    max_line_bytes: int = 4096  # longer input lines are refused
    max_pending_bytes: int = 65536  # bytes without a newline before the client is cut off
    max_queued_lines: int = 64  # lines waiting while a command's save is in flight
    # lines a gateway keeps for the engine: typed while it is away, or sent and not yet got
    # (a hung engine's are sent again to the next one)
    max_kept_lines: int = 64
    max_output_bytes: int = 512 * 1024  # unsent output before a non-reading client is dropped
    commands_per_second: float = 20.0  # sustained rate; bursts up to `command_burst`
    command_burst: int = 40  # commands taken at once before the sustained rate applies
    throttle_notice_interval: float = 2.0  # seconds between "slow down" notices
    bytes_per_second: int = 64 * 1024  # raw input rate before input is paused
    # telnet negotiation costs ~100x what text does to parse (mud/edge/telnet/budget.py); over
    # any of these the connection is cut
    telnet_commands_per_second: float = 50.0  # IAC bytes a second, sustained ...
    telnet_command_burst: int = 400  # ... and at once
    subnegotiation_bytes_per_second: int = 4096  # bytes inside IAC SB ... IAC SE, sustained
    subnegotiation_burst: int = 20 * 1024  # ... and at once
    max_option_commands: int = 2000  # DO/DONT/WILL/WONT over a connection's lifetime
    login_idle_timeout: float = 120.0  # seconds at the login screen before disconnect
    player_idle_timeout: float = 3600.0  # seconds of silence from a logged-in player
    login_failures: int = 5  # wrong passwords from one address ...
    login_failure_window: float = 60.0  # ... within this many seconds ...
    login_lockout: float = 300.0  # ... lock that address out for this long
    connect_maxwait: float = 0.5  # telnet negotiation wait before the banner
    # Connection caps and per-account login throttling. Tests and the benchmark that open
    # many loopback connections raise the caps explicitly.
    max_connections_per_address: int = 10  # simultaneous connections from one address
    max_unauthenticated: int = 500  # connections not yet logged in, from all addresses
    login_pool_busy: float = 0.8  # the share of that pool at which it counts as busy
    unauthenticated_share_when_busy: int = 4  # not logged in, from one address, when busy
    login_silence_busy_timeout: float = 10.0  # seconds a never-typing socket keeps, when busy
    fd_reserve: int = 64  # open files kept free for the server itself (below the soft limit)
    login_account_failures: int = 10  # wrong passwords for one name, from any addresses ...
    login_account_window: float = 600.0  # ... within this many seconds lock it (login_lockout)
    # What one address or dreamer may add to the database, so nobody can fill the disk (0 =
    # no quota). Tests and the benchmark, which create many accounts from 127.0.0.1, lift them.
    accounts_per_address_per_hour: int = Field(5, ge=0)  # new accounts from one address
    accounts_per_hour: int = Field(60, ge=0)  # new accounts from all addresses together
    letters_per_hour: int = Field(20, ge=0)  # letters one dreamer may send
    loops_per_hour: int = Field(6, ge=0)  # loops one dreamer may start (by merging)
    weaves_per_minute: int = Field(10, ge=0)  # lines one dreamer may weave into narratives


class MsspInfo(BaseModel):
    """What crawlers read about this server (MSSP)."""

    model_config = ConfigDict(extra="forbid")

    name: str = "Dreamwave"  # the game's name
    contact: str = "admin@localhost"  # an address for the admins
    website: str = ""  # the game's web page
    hostname: str = ""  # the public host name (default: the listen address)
    location: str = ""  # where the server is (a country)
    language: str = "English"  # the game's language
    created: str = "2026"  # the year the game opened
    icon: str = ""  # URL of a 32x32 icon
    discord: str = ""  # invite URL of the game's Discord


class LinkSettings(BaseModel):
    """How gateways (which own the connections) reach the engine (which runs the world)."""

    model_config = ConfigDict(extra="forbid")

    gateways: int = Field(1, ge=1, le=64)  # local gateway processes sharing the port
    socket: str = ""  # the local link's socket file ("" = a private folder per run)
    nats: str = ""  # a NATS URL (nats://host:4222): the link goes over NATS instead
    nats_prefix: str = "dreamwave"  # the NATS subjects' first word
    nats_user: str = ""  # NATS user name (with nats_password)
    nats_password: str = ""  # NATS password (secret: never listed; prefer the environment)
    nats_token: str = ""  # NATS token (secret)
    nats_creds: str = ""  # a NATS .creds file (JWT and nkey)
    nats_tls_ca: str = ""  # a CA file: connect to NATS over TLS, checking its certificate
    nats_tls_cert: str = ""  # a client certificate (PEM): NATS's TLS authentication
    nats_tls_key: str = ""  # its private key file
    nats_insecure: bool = False  # allow a NATS bus without authentication (logged loudly)
    secret: str = ""  # the link secret gateways prove to the engine (secret; needed for NATS)
    secret_file: str = ""  # a file holding it, readable by its owner only
    engine_timeout: float = Field(5.0, gt=0)  # seconds of engine silence that mean it is hung
    gateway_timeout: float = Field(5.0, gt=0)  # seconds of gateway silence that mean it is hung


class WebSettings(BaseModel):
    """The browser client (mud/web): HTTP and WebSocket on their own port, at the gateway."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True  # serve the web client (off: --no-web)
    port: int | None = Field(None, ge=0, le=65535)  # default: telnet port + 1 (4001), or 0 with 0
    origins: list[str] = []  # pages that may connect ["https://mud.example"]; [] = ours, localhost
    tls_cert: str = ""  # a PEM certificate file: serve https:// and wss://
    tls_key: str = ""  # its private key file
    trusted_proxies: list[str] = []  # addresses whose X-Forwarded-For is believed
    resume_seconds: float = Field(300.0, ge=0)  # how long a dropped browser session waits
    resume_buffer_bytes: int = Field(64 * 1024, ge=0)  # missed output kept for a resume
    max_frame_bytes: int = Field(16 * 1024, ge=128)  # largest frame/message a client may send


LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]

# The TOML file the settings being built read (set only inside Settings.load).
_config_file: ContextVar[Path | None] = ContextVar("dreamwave_config_file", default=None)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter=ENV_NESTED, extra="forbid"
    )

    host: str | list[str] = DEFAULT_HOST  # address(es) to listen on, e.g. ["0.0.0.0", "::"]
    port: int = Field(DEFAULT_PORT, ge=0, le=65535)  # telnet port; 0 picks a free one
    db: str = DEFAULT_DB  # any SQLAlchemy URL, or a file path for SQLite
    log_level: LogLevel = "INFO"  # DEBUG, INFO, WARNING or ERROR
    log_file: str = ""  # also append the log to this file ("" = standard error only)
    compression: bool = True  # offer MCCP2 to clients
    time_scale: float = Field(1.0, gt=0, le=100_000)  # game time (and event waits) run N x faster
    shutdown_timeout: float = 30.0  # seconds a shutdown waits for the database, then gives up
    answer_time_cap: float | None = None  # seconds: caps events' real-time minimums (tests)
    limits: Limits = Field(default_factory=Limits)
    mssp: MsspInfo = Field(default_factory=MsspInfo)
    link: LinkSettings = Field(default_factory=LinkSettings)
    web: WebSettings = Field(default_factory=WebSettings)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # flag > environment > file > default
        path = _config_file.get()
        if path is None:
            return init_settings, env_settings
        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls, path)

    @property
    def web_port(self) -> int:
        """The browser client's port: [web] port, else the telnet port + 1 (0 picks one)."""
        if self.web.port is not None:
            return self.web.port
        return self.port + 1 if 0 < self.port < 65535 else 0

    @property
    def hosts(self) -> list[str]:
        return [self.host] if isinstance(self.host, str) else list(self.host)

    @classmethod
    def load(cls, config_file: str | Path | None = None, **overrides: object) -> Settings:
        """The settings in force: `overrides` (flags; None means "not given", and a `Limits`
        field name sets that limit) over the environment over the file over the defaults.
        Raises ConfigError naming the key, and the file's line, of every problem."""
        path = find_config_file(config_file)
        flags = flag_values(overrides)
        if path is not None:
            check_toml(path)
        token = _config_file.set(path)
        try:
            return cls(**flags)
        except ValidationError as err:
            raise ConfigError(describe_errors(err, path, flags)) from None
        finally:
            _config_file.reset(token)


class ConfigError(Exception):
    """A configuration problem: each line names the key and where it was set."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def find_config_file(config_file: str | Path | None) -> Path | None:
    if config_file is not None:
        path = Path(config_file)
        if not path.is_file():
            raise ConfigError([f"{path}: no such configuration file."])
        return path
    default = Path(DEFAULT_CONFIG_FILE)
    return default if default.is_file() else None


def check_toml(path: Path) -> None:
    try:
        tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ConfigError([f"{path}: not valid TOML: {err}"]) from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError([f"{path}: can't be read: {err}"]) from None


def flag_values(overrides: dict[str, object]) -> dict[str, Any]:
    """Flags as init values: None is "not given"; a Limits (or LinkSettings) field name is
    a limit (a link setting)."""
    top: dict[str, Any] = {}
    limits: dict[str, Any] = {}
    link: dict[str, Any] = {}
    web: dict[str, Any] = {}
    for key, value in overrides.items():
        if value is None:
            continue
        if key in Settings.model_fields:
            top[key] = value
        elif key in Limits.model_fields:
            limits[key] = value
        elif key in LinkSettings.model_fields:
            link[key] = value
        elif key.startswith("web_") and key[4:] in WebSettings.model_fields:
            web[key[4:]] = value  # --web-port, --no-web (web_enabled)
        else:
            raise TypeError(f"no setting called {key!r}")
    if limits:
        top["limits"] = limits
    if link:
        top["link"] = link
    if web:
        top["web"] = web
    return top


def toml_key_lines(path: Path) -> dict[str, int]:
    """Where each dotted key is set in a TOML file (line numbers from 1)."""
    lines: dict[str, int] = {}
    table = ""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        stripped = line.strip()
        header = re.fullmatch(r"\[\s*([\w.\- ]+?)\s*\]", stripped)
        if header:
            table = header.group(1).replace(" ", "")
            lines.setdefault(table, number)
            continue
        key = re.match(r"([\w.\-]+)\s*=", stripped)
        if key:
            lines[f"{table}.{key.group(1)}" if table else key.group(1)] = number
    return lines


def env_name(dotted: str) -> str:
    return ENV_PREFIX + dotted.replace(".", ENV_NESTED).upper()


def describe_errors(err: ValidationError, path: Path | None, flags: dict[str, Any]) -> list[str]:
    """One line per problem: where (flag, environment variable or file:line), key, reason."""
    from os import environ

    file_lines = toml_key_lines(path) if path is not None else {}
    problems = []
    for e in err.errors():
        loc = [str(part) for part in e["loc"] if not isinstance(part, int)]
        dotted = ".".join(loc)
        reason = e["msg"]
        if e["type"] == "extra_forbidden":
            reason = "there is no such setting"
        if _lookup(flags, loc) is not None:
            where = f"--{loc[-1].replace('_', '-')}"
        elif any(k.upper() == env_name(dotted) for k in environ):
            where = env_name(dotted)
        elif path is not None and dotted in file_lines:
            where = f"{path}:{file_lines[dotted]}"
        elif path is not None:
            where = str(path)
        else:
            where = "settings"
        problems.append(f"{where}: {dotted}: {reason}")
    return problems


def _lookup(tree: dict[str, Any], keys: list[str]) -> Any:
    node: Any = tree
    for key in keys:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


# -- what `python server.py config` prints ----------------------------------------------------
def field_comments(model: type[BaseModel]) -> dict[str, str]:
    """The comment written beside each field in this module: its documentation."""
    comments = {}
    for line in inspect.getsource(model).splitlines():
        m = re.match(r"\s{4}(\w+):[^#]*#\s?(.*)$", line)
        if m and m.group(1) in model.model_fields:
            comments[m.group(1)] = m.group(2).strip()
    return comments


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # a TOML basic string


def _sections(settings: Settings) -> Iterator[tuple[str, type[BaseModel], dict[str, Any]]]:
    values = settings.model_dump()
    tables: dict[str, type[BaseModel]] = {
        "limits": Limits,
        "mssp": MsspInfo,
        "link": LinkSettings,
        "web": WebSettings,
    }
    yield "", Settings, {k: v for k, v in values.items() if k not in tables}
    for name, model in tables.items():
        yield name, model, values[name]


def sample_file() -> str:
    """A commented configuration file holding every setting at its default."""
    out = [
        "# Dreamwave configuration (dreamwave.toml). Every setting is shown at its default;",
        "# delete what you don't change. Environment variables (DREAMWAVE_PORT,",
        "# DREAMWAVE_LIMITS__COMMAND_BURST, ...) override this file; command-line flags",
        "# override both.",
    ]
    for table, model, values in _sections(Settings.model_construct(**_defaults())):
        comments = field_comments(model)
        out.append("")
        if table:
            out.append(f"[{table}]")
            doc = inspect.getdoc(model)
            if doc:
                out.append(f"# {doc.splitlines()[0]}")
        for key, value in values.items():
            if key in comments:
                out.append(f"# {comments[key]}")
            # TOML has no "nothing": a setting that is unset by default is shown commented out
            out.append(f"# {key} = (not set)" if value is None else f"{key} = {toml_value(value)}")
    return "\n".join(out) + "\n"


def _defaults() -> dict[str, Any]:
    return {
        name: f.get_default(call_default_factory=True) for name, f in Settings.model_fields.items()
    }


def sources(config_file: str | Path | None = None, **overrides: object) -> dict[str, str]:
    """For every dotted key, where its value in force comes from."""
    path = find_config_file(config_file)
    flags = flag_values(overrides)
    env = EnvSettingsSource(Settings, env_prefix=ENV_PREFIX, env_nested_delimiter=ENV_NESTED)()
    file_values = TomlConfigSettingsSource(Settings, path)() if path is not None else {}
    file_lines = toml_key_lines(path) if path is not None else {}
    found: dict[str, str] = {}
    for table, _model, values in _sections(Settings.model_construct(**_defaults())):
        for key in values:
            loc = [table, key] if table else [key]
            dotted = ".".join(loc)
            if _lookup(flags, loc) is not None:
                found[dotted] = "flag"
            elif _lookup(env, loc) is not None:
                found[dotted] = f"environment {env_name(dotted)}"
            elif _lookup(file_values, loc) is not None:
                found[dotted] = f"{path}:{file_lines.get(dotted, '?')}"
            else:
                found[dotted] = "default"
    return found


def describe(settings: Settings, origin: dict[str, str]) -> str:
    """The settings in force as TOML, each value with where it came from."""
    out = ["# Dreamwave's configuration in force (flag > environment > file > default)"]
    for table, _model, values in _sections(settings):
        if table:
            out += ["", f"[{table}]"]
        for key, value in values.items():
            dotted = f"{table}.{key}" if table else key
            shown = hide_secret(table, key, value)
            where = origin.get(dotted, "default")
            if shown is None:
                out.append(f"# {key} is not set  # {where}")
            else:
                out.append(f"{key} = {toml_value(shown)}  # {where}")
    return "\n".join(out) + "\n"


SECRET_KEYS = {"link.nats_password", "link.nats_token", "link.secret"}


def hide_secret(table: str, key: str, value: Any) -> Any:
    """A value fit to print: a secret as *** (when set), a URL without its password."""
    dotted = f"{table}.{key}" if table else key
    if dotted in SECRET_KEYS and value:
        return "***"
    if dotted == "link.nats" and isinstance(value, str):  # nats://user:pass@ or nats://token@
        return re.sub(r"(://)[^/@]+@", r"\1***@", value)
    if dotted == "db" and isinstance(value, str):
        return hide_password(value)
    return value


def hide_password(url: str) -> str:
    """A database URL fit to print: its password replaced by ***."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


def normalise_db_url(url: str) -> str:
    """Accept a bare file path as shorthand for an SQLite file."""
    if "://" not in url:
        return f"sqlite:///{url}"
    return url
