"""docs/deploy.md shows the coturn and Janus configurations the network test bed runs."""

from __future__ import annotations

import re
from pathlib import Path

from roomcall.server.janus_config import generate_setup, janus_configs
from tests.network.bed import COTURN_CONFIG

DEPLOY = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"
BED_ONLY = {"no-tls", "no-dtls", "pidfile", "log-file", "simple-log"}
"""Settings the bed needs and a public server does not (it has TLS and a system log)."""
PUBLIC_ONLY = {"tls-listening-port", "cert", "pkey"}
"""Settings of a public server that the bed, without certificates, leaves out."""


def settings(text: str) -> set[str]:
    """The directive names of a turnserver.conf text (comments skipped)."""
    return {line.split("=", 1)[0].strip() for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")}


def test_deploy_doc_and_bed_run_the_same_coturn_settings() -> None:
    """Every coturn directive of the bed is on the deploy page and vice versa, except the few
    that only a bed without TLS (or only a public server) needs."""
    blocks = re.findall(r"```ini\n(.*?)```", DEPLOY.read_text(), re.S)
    (documented,) = [settings(b) for b in blocks if "use-auth-secret" in b]
    bed = settings(COTURN_CONFIG)
    assert bed - BED_ONLY == documented - PUBLIC_ONLY
    assert {"use-auth-secret", "static-auth-secret", "realm"} <= documented


def jcfg_settings(text: str) -> set[tuple[str, str]]:
    """``(section, setting)`` of a Janus .jcfg text (comments skipped)."""
    found: set[tuple[str, str]] = set()
    section = ""
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line.endswith(": {"):
            section = line[:-3]
        elif " = " in line:
            found.add((section, line.split(" = ", 1)[0]))
    return found


def test_deploy_doc_shows_the_janus_configuration_the_bed_runs() -> None:
    """Each Janus file on the deploy page has exactly the settings roomcall's config writer
    gives the bed's instances (tests/network/janus.py), and the values that carry no secret
    are the same as the writer's for the documented address and interface."""
    blocks = re.findall(r"```jcfg\n# /etc/janus-roomcall/(\S+)\n(.*?)```", DEPLOY.read_text(),
                        re.S)
    documented = {name: text for name, text in blocks}
    setup = generate_setup("203.0.113.20", "eth0")
    written = janus_configs(setup, "/etc/janus-roomcall")
    assert set(documented) == set(written)
    for name, text in written.items():
        assert jcfg_settings(documented[name]) == jcfg_settings(text), name
        for line in text.splitlines():
            if line.startswith("#") or any(secret in line for secret in (
                    setup.api_secret, setup.token_secret, setup.admin_secret, setup.admin_key,
                    "disable = ")):
                continue
            assert line.strip() in documented[name], (name, line)
