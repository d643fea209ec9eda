"""docs/deploy.md shows the coturn configuration the network test bed runs."""

from __future__ import annotations

import re
from pathlib import Path

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
