"""`roomcall serve` with an `[sfu]` table and the Janus secrets in the environment, as a
deployment runs it (docs/deploy.md), against a real Janus in a namespace."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.network.janus import JanusBed
from tests.waiting import WAIT, until

pytestmark = pytest.mark.network

ROOT = Path(__file__).resolve().parents[2]


async def test_serve_reads_sfu_config_and_env_secrets_and_reports_janus(
        janus: JanusBed, tmp_path: Path) -> None:
    """The file names the instance's URLs only; ROOMCALL_JANUS_* give its secrets. The
    banner says the instance is reachable, /healthz lists it up and, once it is killed,
    down; SIGINT then stops the server cleanly."""
    instance = janus.instances[0]
    setup = instance.setup
    config = tmp_path / "roomcall.toml"
    config.write_text(f'[sfu]\n[[sfu.instances]]\nurl = "{setup.url}"\n'
                      f'admin_url = "{setup.admin_url}"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROOMCALL_")}
    env.update(ROOMCALL_JANUS_API_SECRET=setup.api_secret,
               ROOMCALL_JANUS_TOKEN_SECRET=setup.token_secret,
               ROOMCALL_JANUS_ADMIN_KEY=setup.admin_key,
               ROOMCALL_JANUS_ADMIN_SECRET=setup.admin_secret)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "roomcall", "serve", "--port", "0", "--data-dir",
        str(tmp_path / "data"), "--config", str(config), cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        async with asyncio.timeout(WAIT * 3):
            while not lines or not lines[-1].startswith("Press Ctrl+C"):
                line = await proc.stdout.readline()
                assert line, f"serve ended: {lines}"
                lines.append(line.decode().rstrip())
        banner = dict(line.split(":", 1) for line in lines if ":" in line)
        assert banner["SFU"].strip() == "1 Janus instance(s), 1 reachable", lines
        health_url = banner["Management API"].strip() + "/healthz"
        async with aiohttp.ClientSession() as http:

            async def instances() -> list[dict[str, Any]]:
                async with http.get(health_url) as reply:
                    listed: list[dict[str, Any]] = json.loads(await reply.text())["sfu"]
                    return listed

            (listed,) = await instances()
            assert listed["url"] == setup.url and listed["up"] is True
            instance.kill()

            async def reported_down() -> bool:
                return not (await instances())[0]["up"]

            await until(reported_down, within=WAIT * 3, what="the dead instance reported down")
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
        async with asyncio.timeout(WAIT * 3):
            _, stderr = await proc.communicate()
    assert proc.returncode == 0, stderr.decode()
