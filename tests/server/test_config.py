"""Server configuration: Qiniu's defaults, and defaults < TOML file < environment < overrides."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest

from roomcall.protocol.ice import IceServer
from roomcall.server.config import (
    RANGES,
    ConfigError,
    IceConfig,
    JanusInstanceConfig,
    Limits,
    ServerConfig,
    SfuConfig,
    default_data_dir,
    load_config,
)


def test_defaults_are_qiniu_s() -> None:
    """Lifecycle defaults are Qiniu's 10 s / 30 s / 30 s; the server listens on loopback:7880."""
    config = load_config(None, {})
    assert (config.empty_room_timeout, config.unjoined_room_timeout,
            config.silent_user_timeout) == (10.0, 30.0, 30.0)
    assert (config.host, config.port) == ("127.0.0.1", 7880)
    assert config.access_key is None and config.secret_key is None
    assert config.limits.max_frame_bytes == 64 * 1024


def test_precedence(tmp_path: Path) -> None:
    """The file beats defaults, the environment the file, overrides all (None is skipped)."""
    file = tmp_path / "roomcall.toml"
    file.write_text('host = "0.0.0.0"\nport = 9000\naccess_key = "FILE_AK"\n'
                    'empty_room_timeout = 2.5\n[limits]\nrate_burst = 7\n')
    env = {"ROOMCALL_PORT": "9100", "ROOMCALL_ACCESS_KEY": "ENV_AK",
           "ROOMCALL_SECRET_KEY": "ENV_SK", "ROOMCALL_DATA_DIR": str(tmp_path / "d")}
    config = load_config(file, env, port=9200, host=None)
    assert config.host == "0.0.0.0"
    assert config.port == 9200
    assert (config.access_key, config.secret_key) == ("ENV_AK", "ENV_SK")
    assert config.data_dir == tmp_path / "d"
    assert config.empty_room_timeout == 2.5 and config.limits.rate_burst == 7
    assert config.limits.rate_per_second == ServerConfig().limits.rate_per_second


@pytest.mark.parametrize("text, env", [
    ("bogus = 1\n", {}),
    ("port = 'x'\n", {}),
    ("[limits]\nnope = 1\n", {}),
    ("silent_user_timeout = -1\n", {}),
    ("", {"ROOMCALL_PORT": "seventy"}),
    ("", {"ROOMCALL_PORT": "70000"}),
    ("not toml =\n", {}),
])
def test_bad_settings_are_refused(tmp_path: Path, text: str, env: dict[str, str]) -> None:
    """Unknown keys and unusable values raise ConfigError naming the setting."""
    file = tmp_path / "bad.toml"
    file.write_text(text)
    with pytest.raises(ConfigError):
        load_config(file, env)


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    """A config file that does not exist is reported, not silently skipped."""
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "absent.toml", {})


@pytest.mark.skipif(sys.platform in ("win32", "darwin"), reason="Linux folder layout")
def test_default_data_dir_follows_xdg(tmp_path: Path) -> None:
    """On Linux the data folder is $XDG_DATA_HOME/roomcall."""
    assert default_data_dir({"XDG_DATA_HOME": str(tmp_path)}) == tmp_path / "roomcall"


def _numeric_settings() -> list[str]:
    names = [f.name for f in dataclasses.fields(ServerConfig) if str(f.type) in ("int", "float")]
    names += [f"limits.{f.name}" for f in dataclasses.fields(Limits)
              if str(f.type) in ("int", "float")]
    names += [f"sfu.{f.name}" for f in dataclasses.fields(SfuConfig)
              if str(f.type) in ("int", "float")]
    return names


def _toml(setting: str, value: str) -> str:
    table, _, key = setting.rpartition(".")
    return f"[{table}]\n{key} = {value}\n" if table else f"{setting} = {value}\n"


def test_every_numeric_setting_has_a_range() -> None:
    """Each int / float field of ServerConfig, Limits and SfuConfig has its own entry in
    RANGES, and the defaults lie inside it."""
    assert sorted(_numeric_settings()) == sorted(RANGES)
    ServerConfig()  # the defaults pass every check


@pytest.mark.parametrize("setting", _numeric_settings())
@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0", "-1", "1e300"])
def test_unusable_numbers_are_refused_naming_setting_and_file(
        tmp_path: Path, setting: str, value: str) -> None:
    """NaN, infinities, zero, negatives and absurdly large values are refused with the
    setting's name, its range and the file it came from (0 is allowed where it has a meaning:
    port 0 is any free port, max_connections 0 follows the open-file limit, and
    max_connections_per_address 0 is no per-address cap)."""
    if value == "0" and setting in ("port", "limits.max_connections",
                                    "limits.max_connections_per_address"):
        return
    file = tmp_path / "roomcall.toml"
    file.write_text(_toml(setting, value))
    with pytest.raises(ConfigError) as refused:
        load_config(file, {})
    message = str(refused.value)
    assert message.startswith(f"{setting}") and f"{setting} from {file}" in message, message


def test_nan_cannot_be_set_in_code_either() -> None:
    """A ServerConfig made directly is checked too: NaN would keep a vanished member forever
    and put NaN in the joined frame."""
    with pytest.raises(ConfigError, match="silent_user_timeout = nan"):
        ServerConfig(silent_user_timeout=float("nan"))
    with pytest.raises(ConfigError, match=r"limits\.send_queue_size = 0"):
        Limits(send_queue_size=0)  # asyncio.Queue(0) would be unbounded


def test_heartbeat_faster_than_the_rate_limit_is_refused(tmp_path: Path) -> None:
    """A heartbeat so fast that clients keeping it would hit the server's own rate limit is
    refused, naming both settings and where they came from."""
    file = tmp_path / "roomcall.toml"
    file.write_text("heartbeat_interval = 0.01\n")
    with pytest.raises(ConfigError) as refused:
        load_config(file, {})
    message = str(refused.value)
    assert "limits.rate_per_second = 50" in message and "at least 0.08 s" in message
    assert f"heartbeat_interval from {file}" in message
    assert "limits.rate_per_second from the default" in message
    file.write_text("heartbeat_interval = 0.01\n[limits]\nrate_per_second = 500\n")
    assert load_config(file, {}).heartbeat_interval == 0.01


def test_silence_timeout_shorter_than_two_heartbeats_is_refused() -> None:
    """Members that keep the heartbeat must not be removed as silent between two beats."""
    with pytest.raises(ConfigError, match="at least twice heartbeat_interval"):
        ServerConfig(silent_user_timeout=6.0, heartbeat_interval=5.0)


@pytest.mark.parametrize(("text", "needle"), [
    ("port = 7880.5\n", "port: invalid value 7880.5"),
    ("[limits]\nrate_burst = true\n", "limits.rate_burst: invalid value True"),
])
def test_whole_numbers_must_be_whole(tmp_path: Path, text: str, needle: str) -> None:
    """An integer setting given a fraction or a boolean is refused, not truncated."""
    file = tmp_path / "roomcall.toml"
    file.write_text(text)
    with pytest.raises(ConfigError, match=needle):
        load_config(file, {})


def test_unknown_table_names_the_file(tmp_path: Path) -> None:
    """An unknown table is reported as coming from the file, not from the defaults."""
    file = tmp_path / "roomcall.toml"
    file.write_text("[nope]\nx = 1\n")
    with pytest.raises(ConfigError, match=f"unknown setting 'nope' \\(nope from {file}\\)"):
        load_config(file, {})


def test_environment_source_is_named() -> None:
    """A bad value from the environment names the variable."""
    with pytest.raises(ConfigError, match="port from environment variable ROOMCALL_PORT"):
        load_config(None, {"ROOMCALL_PORT": "70000"})


def test_ice_from_file_and_secret_from_environment(tmp_path: Path) -> None:
    """``[ice]`` takes every URL in order; ROOMCALL_TURN_SECRET beats the file's secret."""
    file = tmp_path / "roomcall.toml"
    file.write_text('[ice]\nstun_urls = ["stun:turn.example.org:3478"]\n'
                    'turn_urls = ["turn:turn.example.org:3478?transport=udp", '
                    '"turn:turn.example.org:443?transport=tcp"]\n'
                    'turn_secret = "from-file"\nturn_credential_ttl = 600\n')
    config = load_config(file, {"ROOMCALL_TURN_SECRET": "from-env"})
    assert config.ice.stun_urls == ("stun:turn.example.org:3478",)
    assert config.ice.turn_urls == ("turn:turn.example.org:3478?transport=udp",
                                    "turn:turn.example.org:443?transport=tcp")
    assert (config.ice.turn_secret, config.ice.turn_credential_ttl) == ("from-env", 600)
    assert load_config(None, {}).ice.turn_urls == ()


def test_ice_servers_for_a_member() -> None:
    """A member gets the STUN URLs, then the TURN URLs with a credential expiring ttl from
    now, minted from the shared secret for its user id."""
    ice = IceConfig(stun_urls=("stun:a.example:3478",), turn_urls=("turn:a.example:3478",),
                    turn_secret="s3cret", turn_credential_ttl=100)
    stun, turn = ice.servers_for("alice", now=1699999900.7)
    assert stun == IceServer(urls=("stun:a.example:3478",))
    assert turn == IceServer(urls=("turn:a.example:3478",), username="1700000000:alice",
                             credential="TtElzSjT0GdnTQ9xdcRNxx96yQs=")
    assert IceConfig().servers_for("alice", now=0) == ()


@pytest.mark.parametrize("text, env, why", [
    ('[ice]\nstun_urls = ["http://x.example"]\n', {}, "not a stun:"),
    ('[ice]\nstun_urls = "stun:x.example"\n', {}, "ice.stun_urls: invalid"),
    ('[ice]\nstun_urls = ["turn:x.example"]\n', {}, "only stun:"),
    ('[ice]\nturn_urls = ["stun:x.example"]\n', {"ROOMCALL_TURN_SECRET": "s"}, "only turn:"),
    ('[ice]\nturn_urls = ["turn:x.example"]\n', {}, "need a turn_secret"),
    ('[ice]\nturn_credential_ttl = 0\n', {}, "positive"),
    ('[ice]\nturn_credential_ttl = -5\n', {}, "positive"),
    ('[ice]\nturn_url = []\n', {}, "unknown setting ice.turn_url"),
    ('ice = 3\n', {}, "ice: expected a table"),
])
def test_bad_ice_settings_are_refused(tmp_path: Path, text: str, env: dict[str, str],
                                      why: str) -> None:
    """Unparsable URLs, a TURN list without a secret and a non-positive ttl are refused."""
    file = tmp_path / "bad.toml"
    file.write_text(text)
    with pytest.raises(ConfigError, match=why):
        load_config(file, env)


SFU_FILE = """
[sfu]
always = true
token_ttl = 3600
[[sfu.instances]]
url = "ws://203.0.113.20:8188"
api_secret = "file-api"
token_secret = "file-token"
admin_key = "file-key"
[[sfu.instances]]
url = "ws://203.0.113.21:8188"
"""


def test_sfu_instances_from_file_and_secrets_from_the_environment(tmp_path: Path) -> None:
    """[[sfu.instances]] become JanusInstanceConfig values; ROOMCALL_JANUS_* secrets apply to
    every instance (replacing the file's), so an instance may leave them out of the file."""
    file = tmp_path / "roomcall.toml"
    file.write_text(SFU_FILE)
    env = {"ROOMCALL_JANUS_API_SECRET": "env-api", "ROOMCALL_JANUS_TOKEN_SECRET": "env-token",
           "ROOMCALL_JANUS_ADMIN_KEY": "env-key"}
    sfu = load_config(file, env).sfu
    assert sfu.always and sfu.token_ttl == 3600
    assert sfu.instances == (
        JanusInstanceConfig("ws://203.0.113.20:8188", "env-api", "env-token", "env-key"),
        JanusInstanceConfig("ws://203.0.113.21:8188", "env-api", "env-token", "env-key"))
    assert load_config(None, env).sfu == SfuConfig()  # no [sfu]: no instances, a mesh


@pytest.mark.parametrize("text, fault", [
    (SFU_FILE, "has no api_secret"),
    ('[sfu]\n[[sfu.instances]]\nurl = "http://x:8088"\napi_secret = "a"\n'
     'token_secret = "b"\nadmin_key = "c"\n', "not a ws://"),
    ('[sfu]\nalways = true\n', "needs at least one instance"),
    ('[sfu]\nalways = "yes"\n', "sfu.always"),
    ('[sfu]\ninstances = "ws://x"\n', "array of tables"),
    ('[sfu]\n[[sfu.instances]]\nurl = "ws://x:1"\nbogus = 1\n', "unknown setting"),
    ('[sfu]\n[[sfu.instances]]\nurl = "ws://x:1"\napi_secret = "a"\ntoken_secret = "b"\n'
     'admin_key = "c"\nadmin_url = "ws://x:7188"\n', "both admin_url and admin_secret"),
])
def test_bad_sfu_settings_are_refused(tmp_path: Path, text: str, fault: str) -> None:
    """An instance without its secrets, a URL that is not a WebSocket, `always` without
    instances or not a boolean, unknown keys and an Admin API URL without its secret raise
    ConfigError saying what is wrong."""
    file = tmp_path / "roomcall.toml"
    file.write_text(text)
    with pytest.raises(ConfigError, match=fault):
        load_config(file, {})
