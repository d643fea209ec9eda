"""``packaging/roomcall.service``: a valid systemd unit whose command line roomcall accepts,
with the sandboxing docs/service.md promises."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from roomcall.cli import build_parser
from roomcall.server.config import load_config

ROOT = Path(__file__).resolve().parents[1]
UNIT = ROOT / "packaging" / "roomcall.service"
SAMPLE_CONFIG = ROOT / "packaging" / "roomcall.toml"


def _unit() -> dict[str, dict[str, list[str]]]:
    """Section -> key -> values (systemd allows a key more than once)."""
    sections: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    section = ""
    for raw in UNIT.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        sections[section][key.strip()].append(value.strip())
    return sections


def test_unit_has_the_sandboxing() -> None:
    """The service runs as a dynamic user with its own state folder, a read-only system, no
    home, private /tmp, no new privileges and only IP and Unix sockets."""
    service = _unit()["Service"]
    expected = {
        "DynamicUser": "yes", "StateDirectory": "roomcall", "StateDirectoryMode": "0700",
        "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
        "NoNewPrivileges": "yes", "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
        "KillSignal": "SIGTERM", "RestartPreventExitStatus": "2", "CapabilityBoundingSet": "",
        "EnvironmentFile": "-/etc/roomcall/roomcall.env",
    }
    assert {key: service[key][-1] for key in expected} == expected
    assert _unit()["Install"]["WantedBy"] == ["multi-user.target"]


def test_exec_start_parses_with_roomcall_s_own_parser() -> None:
    """ExecStart is ``roomcall serve`` with the config in /etc/roomcall and the data folder
    the StateDirectory systemd makes."""
    argv = shlex.split(_unit()["Service"]["ExecStart"][0])
    assert Path(argv[0]).name == "roomcall"
    args = build_parser().parse_args(argv[1:])
    assert args.command == "serve"
    assert args.config == "/etc/roomcall/roomcall.toml"
    assert args.serve_data_dir == "/var/lib/" + _unit()["Service"]["StateDirectory"][0]


def test_sample_config_is_valid() -> None:
    """The sample /etc/roomcall/roomcall.toml loads and passes every check."""
    config = load_config(SAMPLE_CONFIG, {})
    assert (config.host, config.port, config.silent_user_timeout) == ("127.0.0.1", 7880, 30.0)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_systemd_analyze_verify_is_clean(tmp_path: Path) -> None:
    """``systemd-analyze verify`` accepts the unit without a warning (unknown keys only warn,
    so any output fails), with ExecStart pointed at this environment's roomcall."""
    roomcall = Path(sys.executable).with_name("roomcall")
    assert roomcall.exists()
    unit = tmp_path / "roomcall.service"
    unit.write_text(UNIT.read_text().replace("/opt/roomcall/bin/roomcall", str(roomcall)))
    result = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True,
                            text=True, timeout=60)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")
