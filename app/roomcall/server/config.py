"""Room server settings: defaults < TOML file < ``ROOMCALL_*`` environment < explicit values.

Every number is checked when a :class:`ServerConfig` or :class:`Limits` is made (finite, inside
the field's range in :data:`RANGES`, and the heartbeat consistent with the rate limit and the
silence timeout), so a bad value stops the server at start with a :class:`ConfigError` naming
the setting and, through :func:`load_config`, where it was set.

>>> load_config(None, {"ROOMCALL_PORT": "9000"}, host="0.0.0.0").port
9000
"""

from __future__ import annotations

import dataclasses
import math
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
    """A configuration file or environment value that cannot be used.

    ``settings`` names the settings at fault (``"port"``, ``"limits.rate_burst"``), so that
    :func:`load_config` can say where each was set.
    """

    def __init__(self, message: str, settings: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.settings = settings


@dataclass(frozen=True)
class Range:
    """The values a numeric setting may take (both ends included)."""

    low: float
    high: float
    unit: str = ""

    def describe(self, whole: bool) -> str:
        """E.g. ``"a whole number from 1 to 1000"``, ``"a number of seconds from 0.01 to 60"``."""
        kind = "a whole number" if whole else "a finite number"
        unit = f" of {self.unit}" if self.unit else ""
        return f"{kind}{unit} from {_number(self.low)} to {_number(self.high)}"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


_DAY = 24 * 3600.0

RANGES: dict[str, Range] = {
    "port": Range(0, 65535),
    "empty_room_timeout": Range(0.01, _DAY, "seconds"),
    "unjoined_room_timeout": Range(0.01, _DAY, "seconds"),
    "silent_user_timeout": Range(0.05, 3600, "seconds"),
    "heartbeat_interval": Range(0.01, 600, "seconds"),
    "redeem_rate": Range(0.001, 1000, "redemptions a second"),
    "redeem_burst": Range(1, 10_000, "redemptions"),
    "limits.max_frame_bytes": Range(1024, MAX_FRAME_BYTES, "bytes"),
    "limits.max_message_bytes": Range(1, MAX_FRAME_BYTES, "bytes"),
    "limits.max_relay_bytes": Range(1024, MAX_FRAME_BYTES, "bytes"),
    "limits.max_user_data_bytes": Range(1, MAX_FRAME_BYTES, "bytes"),
    "limits.max_tracks_per_member": Range(1, 1000),
    "limits.rate_per_second": Range(1, 1e6, "frames a second"),
    "limits.rate_burst": Range(1, 1_000_000, "frames"),
    "limits.max_dropped_frames": Range(1, 1_000_000_000, "frames"),
    "limits.max_bad_frames": Range(1, 1_000_000_000, "frames"),
    "limits.send_queue_size": Range(1, 1_000_000, "frames"),
    "limits.send_queue_bytes": Range(64 * 1024, 2**30, "characters"),
    "limits.join_timeout": Range(0.01, 600, "seconds"),
    "limits.handshake_timeout": Range(0.01, 600, "seconds"),
    "limits.max_connections": Range(0, 10_000_000, "connections"),
    "limits.max_connections_per_address": Range(0, 10_000_000, "connections"),
    "limits.max_room_members": Range(1, 100_000, "members"),
    "limits.max_tag_bytes": Range(1, 65536, "bytes"),
    "limits.sender_bytes_per_second": Range(1024, 2**30, "bytes a second"),
    "limits.sender_burst_bytes": Range(1024, 2**30, "bytes"),
    "limits.queue_share_bytes": Range(1024, 2**30, "bytes"),
    "sfu.token_ttl": Range(60, 30 * _DAY, "seconds"),
    "sfu.video_bitrate": Range(64_000, 50_000_000, "bits a second"),
    "sfu.request_timeout": Range(0.1, 120, "seconds"),
    "sfu.keepalive_interval": Range(0.1, 55, "seconds"),
    "sfu.retry_interval": Range(0.1, 3600, "seconds"),
}
"""The range of every numeric setting, by its TOML name. A numeric field missing here is held
to the defaults below (and ``tests/server/test_config.py`` asks for an entry)."""

DEFAULT_INT_RANGE = Range(1, 2**53)
DEFAULT_FLOAT_RANGE = Range(0.001, 1e9)

HEARTBEATS_PER_RATE = 4.0
"""``heartbeat_interval * limits.rate_per_second`` must reach this: heartbeats may use at most
a quarter of a connection's frame rate, or the server's own rate limit would close clients that
do nothing but keep the heartbeat it asked for (10053)."""


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
    """Seconds a new WebSocket has to send its ``join`` or ``resume`` (then 11013, closed)."""
    handshake_timeout: float = 10.0
    """Seconds a new TCP connection has to complete its HTTP request (the WebSocket upgrade
    or a management API call); an idle or half-sent one is closed. Also the idle time after
    which a kept-alive management API connection is closed."""
    max_connections: int = 0
    """Most TCP connections at once; 0 derives it from the process's open-file limit
    (half of it, so that the server never runs out of descriptors). At the cap a new
    connection takes the place of the oldest one that has not joined or resumed yet."""
    max_connections_per_address: int = 32
    """Most TCP connections at once from one source IP address (0: no per-address cap); more
    are closed as soon as they are accepted."""
    max_room_members: int = 64
    """Most members of one room, whatever the app's ``maxUsers`` (10011 beyond), so that a
    ``joined`` snapshot stays bounded (see ``max_server_frame_bytes``)."""
    max_tag_bytes: int = 128
    """Largest track ``tag`` and ``media_id`` in a publish, in UTF-8 bytes (10053 beyond)."""
    sender_bytes_per_second: float = 128 * 1024
    """Bytes of messages and relays one member may send per second on average (a byte token
    bucket); over it, its frames are dropped like frames over the frame rate."""
    sender_burst_bytes: int = 1024 * 1024
    """Bytes of messages and relays one member may send at once (the byte bucket's size)."""
    queue_share_bytes: int = 1024 * 1024
    """Bytes one sender's messages and relays may occupy in another member's send queue; past
    it, that sender's frames to that member are dropped (the sender gets 10053), so a reader
    that keeps up with everyone else is never cut off for one sender's traffic."""
    compression: bool = False
    """Grant permessage-deflate to clients that ask for it (off: every connection would hold
    a compressor and decompressor for anyone who asks)."""

    def __post_init__(self) -> None:
        _check_numbers(self, "limits.")


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
class JanusInstanceConfig:
    """One Janus instance of ``[[sfu.instances]]`` (``docs/deploy.md``)."""

    url: str
    """Its WebSocket API, e.g. ``ws://203.0.113.20:8188``: members connect there too."""
    api_secret: str = ""
    """janus.jcfg ``api_secret``: what the room server's own requests carry."""
    token_secret: str = ""
    """janus.jcfg ``token_auth_secret``: members' core tokens are signed with it."""
    admin_key: str = ""
    """janus.plugin.videoroom.jcfg ``admin_key``: needed to create VideoRooms."""
    admin_url: str = ""
    """Its WebSocket Admin API (``ws://...:7188``), reached by the room server only; with
    ``admin_secret``, a kicked member's Janus sessions are ended, subscriptions included
    (without, only its publishers are kicked)."""
    admin_secret: str = ""
    """janus.jcfg ``admin_secret``."""

    def __post_init__(self) -> None:
        for url in (self.url, *([self.admin_url] if self.admin_url else [])):
            if not url.startswith(("ws://", "wss://")) or len(url) > MAX_JANUS_URL:
                raise ConfigError(f"sfu.instances: {url!r} is not a ws:// or wss:// URL of at "
                                  f"most {MAX_JANUS_URL} characters", ("sfu.instances",))
        if bool(self.admin_url) != bool(self.admin_secret):
            raise ConfigError(f"sfu.instances: {self.url} needs both admin_url and "
                              "admin_secret, or neither", ("sfu.instances",))
        for name in ("api_secret", "token_secret", "admin_key"):
            if not getattr(self, name):
                raise ConfigError(
                    f"sfu.instances: {self.url} has no {name} (set it in the file, or "
                    f"{_ENV_JANUS[name]} for every instance)", ("sfu.instances",))


MAX_JANUS_URL = 256
"""Longest Janus URL accepted (it is sent in every ``joined`` of an SFU room)."""


@dataclass(frozen=True)
class SfuConfig:
    """Janus instances for rooms bigger than a mesh (``[sfu]``, ``docs/deploy.md``). No
    instances: every room is a mesh. The threshold is an app setting (``sfuThreshold``)."""

    instances: tuple[JanusInstanceConfig, ...] = ()
    """Rooms are placed on these, the least loaded reachable one first."""
    always: bool = False
    """Every room on the SFU from its first member, whatever the app's threshold."""
    token_ttl: int = 86400
    """Seconds a member's signed Janus core token stays valid (renewed before it ends)."""
    video_bitrate: int = 1_500_000
    """Bits a second each VideoRoom publisher may send (the room's ``bitrate`` cap)."""
    request_timeout: float = 10.0
    """Seconds the server waits for Janus to answer a request."""
    keepalive_interval: float = 25.0
    """Seconds between the server's keepalives on each instance (Janus drops a session after
    60 s of silence); an unanswered one marks the instance down."""
    retry_interval: float = 5.0
    """Seconds between attempts to reach an instance that is down."""

    def __post_init__(self) -> None:
        _check_numbers(self, "sfu.")
        urls = [i.url for i in self.instances]
        if len(set(urls)) != len(urls):
            raise ConfigError("sfu.instances: an instance is listed twice", ("sfu.instances",))
        if self.always and not self.instances:
            raise ConfigError("sfu.always needs at least one instance", ("sfu.always",))


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
    redeem_rate: float = 10 / 60
    """Invite redemptions (and looks at a link) per second one source address may make on
    average: ten a minute."""
    redeem_burst: int = 10
    """Invite redemptions one source address may make at once."""
    limits: Limits = field(default_factory=Limits)
    """Per-connection limits."""
    ice: IceConfig = field(default_factory=IceConfig)
    """STUN / TURN servers handed to members."""
    sfu: SfuConfig = field(default_factory=SfuConfig)
    """Janus instances for big rooms."""

    def __post_init__(self) -> None:
        _check_numbers(self, "")
        rate = self.limits.rate_per_second
        if self.heartbeat_interval * rate < HEARTBEATS_PER_RATE:
            raise ConfigError(
                f"heartbeat_interval = {self.heartbeat_interval:g} s asks every client for more "
                f"heartbeats than a quarter of limits.rate_per_second = {rate:g}: the server's "
                "rate limit would close clients (10053). Use a heartbeat_interval of at least "
                f"{HEARTBEATS_PER_RATE / rate:g} s, or raise limits.rate_per_second",
                ("heartbeat_interval", "limits.rate_per_second"))
        if self.silent_user_timeout < 2 * self.heartbeat_interval:
            raise ConfigError(
                f"silent_user_timeout = {self.silent_user_timeout:g} s must be at least twice "
                f"heartbeat_interval = {self.heartbeat_interval:g} s, or members that keep the "
                "heartbeat are removed as silent between two heartbeats",
                ("silent_user_timeout", "heartbeat_interval"))


_ENV_FIELDS = {
    "ROOMCALL_HOST": "host",
    "ROOMCALL_PORT": "port",
    "ROOMCALL_DATA_DIR": "data_dir",
    "ROOMCALL_ACCESS_KEY": "access_key",
    "ROOMCALL_SECRET_KEY": "secret_key",
}
_ENV_TURN_SECRET = "ROOMCALL_TURN_SECRET"
_ENV_JANUS = {"api_secret": "ROOMCALL_JANUS_API_SECRET",
              "token_secret": "ROOMCALL_JANUS_TOKEN_SECRET",
              "admin_key": "ROOMCALL_JANUS_ADMIN_KEY",
              "admin_secret": "ROOMCALL_JANUS_ADMIN_SECRET"}
"""Janus secrets from the environment: each applies to every instance (they replace the
file's values, as ``ROOMCALL_TURN_SECRET`` does)."""


def load_config(config_file: Path | None, env: Mapping[str, str], **overrides: Any) -> ServerConfig:
    """The configuration from defaults, then ``config_file`` (TOML), then ``env``
    (``ROOMCALL_HOST``, ``ROOMCALL_PORT``, ``ROOMCALL_DATA_DIR``, ``ROOMCALL_ACCESS_KEY``,
    ``ROOMCALL_SECRET_KEY``, ``ROOMCALL_TURN_SECRET``), then ``overrides`` (``None`` values
    are ignored).

    The TOML file holds :class:`ServerConfig` field names at the top level, an optional
    ``[limits]`` table of :class:`Limits` fields, an optional ``[ice]`` table of
    :class:`IceConfig` fields and an optional ``[sfu]`` table of :class:`SfuConfig` fields
    with ``[[sfu.instances]]`` of :class:`JanusInstanceConfig` fields (their secrets also from
    ``ROOMCALL_JANUS_API_SECRET``, ``ROOMCALL_JANUS_TOKEN_SECRET``,
    ``ROOMCALL_JANUS_ADMIN_KEY``, ``ROOMCALL_JANUS_ADMIN_SECRET``). Raises
    :class:`ConfigError`, whose message says where each setting at fault was set.
    """
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    if config_file is not None:
        values.update(_read_toml(Path(config_file)))
        for key, value in values.items():
            names = [f"{key}.{sub}" for sub in value] if isinstance(value, Mapping) else []
            sources.update(dict.fromkeys([key, *names], str(config_file)))
    for name, key in _ENV_FIELDS.items():
        if env.get(name):
            values[key] = env[name]
            sources[key] = f"environment variable {name}"
    if env.get(_ENV_TURN_SECRET):
        ice = values.get("ice", {})
        if not isinstance(ice, Mapping):
            raise ConfigError("ice: expected a table", ("ice",))
        values["ice"] = {**ice, "turn_secret": env[_ENV_TURN_SECRET]}
        sources["ice.turn_secret"] = f"environment variable {_ENV_TURN_SECRET}"
    janus_env = {key: env[name] for key, name in _ENV_JANUS.items() if env.get(name)}
    if janus_env and "sfu" in values:
        sfu = values["sfu"]
        if not isinstance(sfu, Mapping) or not isinstance(sfu.get("instances", []), list):
            raise ConfigError("sfu: expected a table with an array of instances", ("sfu",))
        instances = [{**i, **janus_env} if isinstance(i, Mapping) else i
                     for i in sfu.get("instances", [])]
        values["sfu"] = {**sfu, "instances": instances}
        sources["sfu.instances"] = (f"{sources.get('sfu', 'the default')} and environment "
                                    f"variables {', '.join(_ENV_JANUS[k] for k in janus_env)}")
    for key, value in overrides.items():
        if value is not None:
            values[key] = value
            sources[key] = "the command line"
    try:
        return _build(values)
    except ConfigError as exc:
        where = [f"{name} from {sources.get(name, 'the default')}" for name in exc.settings]
        if not where:
            raise
        raise ConfigError(f"{exc} ({'; '.join(where)})", exc.settings) from None


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
            raise ConfigError(f"unknown setting {key!r}", (key,))
        if key == "limits":
            kwargs[key] = _build_table(Limits, key, value)
        elif key == "ice":
            kwargs[key] = _build_table(IceConfig, key, value)
        elif key == "sfu":
            kwargs[key] = _build_sfu(value)
        else:
            kwargs[key] = _coerce(key, fields[key].type, value)
    return ServerConfig(**kwargs)


_Table = TypeVar("_Table", Limits, IceConfig, SfuConfig, JanusInstanceConfig)


def _build_sfu(value: Any) -> SfuConfig:
    """The ``[sfu]`` table, its ``[[sfu.instances]]`` included."""
    if isinstance(value, SfuConfig):
        return value
    if not isinstance(value, Mapping):
        raise ConfigError("sfu: expected a table", ("sfu",))
    raw = value.get("instances", [])
    if not isinstance(raw, list | tuple):
        raise ConfigError("sfu.instances: expected an array of tables ([[sfu.instances]])",
                          ("sfu.instances",))
    instances = tuple(_build_table(JanusInstanceConfig, "sfu.instances", i) for i in raw)
    return _build_table(SfuConfig, "sfu", {**value, "instances": instances})


def _build_table(cls: type[_Table], name: str, value: Any) -> _Table:
    """The ``[name]`` table of the file (or a ready value) as a ``cls``."""
    if isinstance(value, cls):
        return value
    if not isinstance(value, Mapping):
        raise ConfigError(f"{name}: expected a table", (name,))
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, item in value.items():
        if key not in fields:
            raise ConfigError(f"unknown setting {name}.{key}", (f"{name}.{key}",))
        kwargs[key] = _coerce(f"{name}.{key}", fields[key].type, item)
    return cls(**kwargs)


def _coerce(name: str, hint: Any, value: Any) -> Any:
    """``value`` (from TOML, the environment or a caller) as the field's type; the range is
    checked when the config is made."""
    hint = str(hint)
    try:
        if hint == "Path":
            return Path(value).expanduser()
        if hint == "int":
            # 7880.5 or true is not a port: only integers, or their text
            if isinstance(value, bool) or not isinstance(value, int | str):
                raise ValueError
            return int(value)
        if hint == "float":
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise ValueError
            return float(value)
        if hint == "bool":
            if not isinstance(value, bool):
                raise ValueError
            return value
        if hint in ("str", "str | None"):
            if not isinstance(value, str):
                raise ValueError
            return value
        if hint == "tuple[str, ...]":
            if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
                raise ValueError
            return tuple(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}: invalid value {value!r}", (name,)) from None
    return value


def _check_numbers(config: Any, prefix: str) -> None:
    """ConfigError unless every int / float field of the dataclass ``config`` is a finite
    number inside its range."""
    for f in dataclasses.fields(config):
        hint = str(f.type)
        if hint not in ("int", "float"):
            continue
        name = prefix + f.name
        value = getattr(config, f.name)
        whole = hint == "int"
        bounds = RANGES.get(name, DEFAULT_INT_RANGE if whole else DEFAULT_FLOAT_RANGE)
        ok_type = isinstance(value, int) if whole else isinstance(value, int | float)
        if (not ok_type or isinstance(value, bool) or not math.isfinite(value)
                or not bounds.low <= value <= bounds.high):
            raise ConfigError(f"{name} = {value!r}: must be {bounds.describe(whole)}", (name,))
