"""The Janus configuration writer: its files and the [sfu] lines it prints for roomcall serve."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

import pytest

from roomcall.server.config import load_config
from roomcall.server.janus_config import main


def test_the_writer_makes_private_files_and_lines_roomcall_serve_accepts(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`python -m roomcall.server.janus_config` writes the three files readable by their
    owner only, with fresh secrets each run, and prints an [sfu] table that loads as one
    instance with exactly those secrets."""
    out = tmp_path / "janus"
    assert main(["--out", str(out), "--address", "203.0.113.20", "--interface", "eth0"]) == 0
    printed = capsys.readouterr().out
    files = sorted(p.name for p in out.iterdir())
    assert files == ["janus.jcfg", "janus.plugin.videoroom.jcfg",
                     "janus.transport.websockets.jcfg"]
    assert all(stat.S_IMODE((out / f).stat().st_mode) == 0o600 for f in files)
    config_file = tmp_path / "roomcall.toml"
    config_file.write_text(printed)
    (instance,) = load_config(config_file, {}).sfu.instances
    assert instance.url == "ws://203.0.113.20:8188"
    assert instance.admin_url == "ws://203.0.113.20:7188"
    core = (out / "janus.jcfg").read_text()
    assert f'api_secret = "{instance.api_secret}"' in core
    assert f'token_auth_secret = "{instance.token_secret}"' in core
    assert f'admin_secret = "{instance.admin_secret}"' in core
    assert f'admin_key = "{instance.admin_key}"' in (out / "janus.plugin.videoroom.jcfg"
                                                     ).read_text()
    assert "janusoverlord" not in core
    main(["--out", str(tmp_path / "again"), "--address", "203.0.113.20", "--interface", "eth0"])
    again = tomllib.loads(capsys.readouterr().out.split("[sfu]\n", 1)[1])
    assert again["sfu"]["instances"][0]["api_secret"] != instance.api_secret
