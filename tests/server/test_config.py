"""Server configuration: Qiniu's defaults, and defaults < TOML file < environment < overrides."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from roomcall.protocol.ice import IceServer
from roomcall.server.config import (
    ConfigError,
    IceConfig,
    ServerConfig,
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
