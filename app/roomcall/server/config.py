"""Room server settings: defaults < TOML file < ``ROOMCALL_*`` environment < explicit values.

>>> load_config(None, {"ROOMCALL_PORT": "9000"}, host="0.0.0.0").port
9000
"""

from __future__ import annotations

import dataclasses
import os
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from roomcall.protocol.ice import IceServer, check_ice_url, turn_credential
from roomcall.protocol.messages import MAX_FRAME_BYTES, MAX_MESSAGE_CONTENT_BYTES, MAX_RELAY_BYTES


class ConfigError(ValueError):
    """A configuration file or environment value that cannot be used."""


def default_data_dir(env: Mapping[str, str] | None = None) -> Path:
    """The user's data folder for roomcall on this platform.

    Linux: ``$XDG_DATA_HOME/roomcall`` (``~/.local/share/roomcall``); macOS:
    ``~/Library/Application Support/roomcall``; Windows: ``%APPDATA%\\roomcall``.
    """
    env = os.environ if env is None else env
    if sys.platform == "win32":
        base = env.get("APPDATA") or str(Path.home() / "AppData" / "Roaming")
        return Path(base) / "roomcall"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "roomcall"
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "roomcall"


@dataclass(frozen=True)
class Limits:
    """Per-connection limits of the signalling endpoint (``docs/protocol.md`` lists them)."""

    max_frame_bytes: int = MAX_FRAME_BYTES
    """Largest frame read; a larger one gets error 10053 and the connection is closed."""
    max_message_bytes: int = MAX_MESSAGE_CONTENT_BYTES
    """Largest custom message content in UTF-8 bytes (10053 beyond)."""
    max_relay_bytes: int = MAX_RELAY_BYTES
    """Largest ``relay`` frame (SDP / ICE), in bytes (10053 beyond)."""
    max_user_data_bytes: int = 1024
    """Largest ``user_data`` in a join, in UTF-8 bytes (10053 beyond)."""
    max_tracks_per_member: int = 16
    """Most tracks one member may have published at once (10053 beyond)."""
    rate_per_second: float = 50.0
    """Frames per second a connection may send on average (token bucket refill rate)."""
    rate_burst: int = 100
    """Frames a connection may send at once (token bucket size)."""
    max_dropped_frames: int = 200
    """Frames over the rate limit after which the connection is closed as abusive."""
    max_bad_frames: int = 100
    """Malformed or refused frames after which the connection is closed as abusive."""
    send_queue_size: int = 1024
    """Frames waiting to be written to one connection; a consumer that falls further behind
    is disconnected (its seat is kept for a resume) so it never slows the room down."""
    send_queue_bytes: int = 4 * 1024 * 1024
    """Size of the frames waiting to be written to one connection, counted in characters (JSON
    is mostly ASCII); the same rule as ``send_queue_size``, so that a stalled consumer of large
    frames cannot hold much memory."""
    join_timeout: float = 10.0
    """Seconds a new connection has to send its ``join`` or ``resume``."""


@dataclass(frozen=True)
class IceConfig:
    """The STUN / TURN servers every member is given in its ``joined`` answer (``[ice]``).

    TURN credentials are minted per answer in the TURN REST API scheme that coturn checks with
    ``use-auth-secret`` (see :mod:`roomcall.protocol.ice`); ``turn_secret`` is coturn's
    ``static-auth-secret``. Nothing configured: members use host candidates only.
    """

    stun_urls: tuple[str, ...] = ()
    """``stun:`` URLs, e.g. ``stun:turn.example.org:3478``."""
    turn_urls: tuple[str, ...] = ()
    """``turn:`` / ``turns:`` URLs, e.g. ``turn:turn.example.org:3478?transport=udp``; every
    one is used (list UDP first, then TCP / TLS for networks that block UDP)."""
    turn_secret: str | None = None
    """coturn's ``static-auth-secret``; required with ``turn_urls``. Prefer the environment
    (``ROOMCALL_TURN_SECRET``) to the file."""
    turn_credential_ttl: int = 86400
    """Seconds a minted TURN credential stays valid."""

    def __post_init__(self) -> None:
        for url in (*self.stun_urls, *self.turn_urls):
            try:
                check_ice_url(url)
            except ValueError as exc:
                raise ConfigError(f"ice: {exc}") from None
        if any(not u.startswith("stun:") for u in self.stun_urls):
            raise ConfigError("ice.stun_urls: only stun: URLs belong here")
        if any(u.startswith("stun:") for u in self.turn_urls):
            raise ConfigError("ice.turn_urls: only turn: or turns: URLs belong here")
        if self.turn_urls and not self.turn_secret:
            raise ConfigError("ice.turn_urls need a turn_secret (or ROOMCALL_TURN_SECRET): "
                              "coturn's static-auth-secret")
        if isinstance(self.turn_credential_ttl, bool) or self.turn_credential_ttl <= 0:
            raise ConfigError(f"ice.turn_credential_ttl: {self.turn_credential_ttl!r} is not a "
                              "positive number of seconds")

    def servers_for(self, user_id: str, now: float) -> tuple[IceServer, ...]:
        """What member ``user_id`` is told at ``now`` (Unix time): the STUN servers, then the
        TURN servers with a credential valid for ``turn_credential_ttl`` seconds."""
        servers: list[IceServer] = []
        if self.stun_urls:
            servers.append(IceServer(urls=self.stun_urls))
        if self.turn_urls and self.turn_secret:
            username, password = turn_credential(self.turn_secret, user_id,
                                                 int(now) + self.turn_credential_ttl)
            servers.append(IceServer(urls=self.turn_urls, username=username, credential=password))
        return tuple(servers)


@dataclass(frozen=True)
class ServerConfig:
    """Everything the room server can be told. Lifecycle defaults are Qiniu's."""

    host: str = "127.0.0.1"
    """Address to listen on."""
    port: int = 7880
    """Port for signalling and the management API; 0 picks a free one."""
    data_dir: Path = field(default_factory=default_data_dir)
    """Folder of the SQLite store (apps and keys)."""
    access_key: str | None = None
    """Access key (set both keys or neither); None takes the store's, generated on first run."""
    secret_key: str | None = None
    """Secret key (set both keys or neither); None takes the store's."""
    empty_room_timeout: float = 10.0
    """Seconds a room stays open after its last member left."""
    unjoined_room_timeout: float = 30.0
    """Seconds a room created through the management API waits for its first member."""
    silent_user_timeout: float = 30.0
    """Seconds a member may stay silent before it is removed; also the reconnect window."""
    heartbeat_interval: float = 5.0
    """Seconds between heartbeats the server asks clients for."""
    limits: Limits = field(default_factory=Limits)
    """Per-connection limits."""
    ice: IceConfig = field(default_factory=IceConfig)
    """STUN / TURN servers handed to members."""


_ENV_FIELDS = {
    "ROOMCALL_HOST": "host",
    "ROOMCALL_PORT": "port",
    "ROOMCALL_DATA_DIR": "data_dir",
    "ROOMCALL_ACCESS_KEY": "access_key",
    "ROOMCALL_SECRET_KEY": "secret_key",
}
_ENV_TURN_SECRET = "ROOMCALL_TURN_SECRET"


def load_config(config_file: Path | None, env: Mapping[str, str], **overrides: Any) -> ServerConfig:
    """The configuration from defaults, then ``config_file`` (TOML), then ``env``
    (``ROOMCALL_HOST``, ``ROOMCALL_PORT``, ``ROOMCALL_DATA_DIR``, ``ROOMCALL_ACCESS_KEY``,
    ``ROOMCALL_SECRET_KEY``, ``ROOMCALL_TURN_SECRET``), then ``overrides`` (``None`` values
    are ignored).

    The TOML file holds :class:`ServerConfig` field names at the top level, an optional
    ``[limits]`` table of :class:`Limits` fields and an optional ``[ice]`` table of
    :class:`IceConfig` fields. Raises :class:`ConfigError`.
    """
    values: dict[str, Any] = {}
    if config_file is not None:
        values.update(_read_toml(Path(config_file)))
    for name, key in _ENV_FIELDS.items():
        if env.get(name):
            values[key] = env[name]
    if env.get(_ENV_TURN_SECRET):
        ice = values.get("ice", {})
        if not isinstance(ice, Mapping):
            raise ConfigError("ice: expected a table")
        values["ice"] = {**ice, "turn_secret": env[_ENV_TURN_SECRET]}
    values.update({k: v for k, v in overrides.items() if v is not None})
    return _build(values)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def _build(values: dict[str, Any]) -> ServerConfig:
    fields = {f.name: f for f in dataclasses.fields(ServerConfig)}
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        if key not in fields:
            raise ConfigError(f"unknown setting {key!r}")
        if key == "limits":
            kwargs[key] = _build_table(Limits, key, value)
        elif key == "ice":
            kwargs[key] = _build_table(IceConfig, key, value)
        else:
            kwargs[key] = _coerce(key, fields[key].type, value)
    if not 0 <= kwargs.get("port", 0) <= 65535:
        raise ConfigError(f"port: {kwargs['port']} is not 0-65535")
    return ServerConfig(**kwargs)


_Table = TypeVar("_Table", Limits, IceConfig)


def _build_table(cls: type[_Table], name: str, value: Any) -> _Table:
    """The ``[name]`` table of the file (or a ready value) as a ``cls``."""
    if isinstance(value, cls):
        return value
    if not isinstance(value, Mapping):
        raise ConfigError(f"{name}: expected a table")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, item in value.items():
        if key not in fields:
            raise ConfigError(f"unknown setting {name}.{key}")
        kwargs[key] = _coerce(f"{name}.{key}", fields[key].type, item)
    return cls(**kwargs)


def _coerce(name: str, hint: Any, value: Any) -> Any:
    """``value`` (from TOML, the environment or a caller) as the field's type."""
    hint = str(hint)
    try:
        if hint == "Path":
            return Path(value).expanduser()
        if hint == "int":
            if isinstance(value, bool):
                raise ValueError
            return int(value)
        if hint == "float":
            if isinstance(value, bool):
                raise ValueError
            number = float(value)
            if number <= 0:
                raise ValueError
            return number
        if hint in ("str", "str | None"):
            if not isinstance(value, str):
                raise ValueError
            return value
        if hint == "tuple[str, ...]":
            if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
                raise ValueError
            return tuple(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}: invalid value {value!r}") from None
    return value
