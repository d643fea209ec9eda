"""Janus instances for tests, each in a network namespace of its own on a veth address.

    root namespace (this test process, the room server on loopback)
      |-- rcj<pid>a0 192.0.2.X+1 <-veth-> namespace rc<pid>j0, eth0 192.0.2.X+2: Janus :8188
      `-- rcj<pid>a1 ...                 namespace rc<pid>j1 ...: another Janus

Janus never gathers ICE candidates on loopback, so each instance gets a veth pair whose root
end this process (and its aiortc peers, see :func:`janus_host_candidates`) uses. The /30
blocks are taken from 192.0.2.0/24 (documentation addresses; they never leave the pair),
skipping blocks another test run on this machine holds. Each instance runs with the folder
``roomcall.server.janus_config`` writes (the same as docs/deploy.md shows): the WebSocket API
and Admin API on its veth address only, fresh API, admin and token secrets, VideoRoom admin
key and string ids, ICE on ``eth0`` only. Its log is kept in the work folder and shown when
it fails to start.

    bed = JanusBed(workdir)
    instance = await bed.start_instance()       # needs root, `ip`, `janus`
    client = await JanusClient.connect(instance.url, api_secret=instance.setup.api_secret)
    instance.kill()                              # SIGKILL, as a crash
    await bed.restart(instance)                  # the same Janus again
    await bed.stop()                             # every instance and namespace gone
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from roomcall.protocol.janus import JanusClient, JanusError
from roomcall.sdk.compat import restrict_host_addresses
from roomcall.server.janus_config import JanusSetup, generate_setup, write_janus_configs
from tests.network.bed import _run  # one way to run a command of the bed, and its errors

JANUS = "/usr/bin/janus"
START_TIMEOUT = 20.0
"""Seconds an instance may take to answer on its WebSocket."""
_LOCK = Path("/run/roomcall-janus-bed.lock")
"""Held while a run picks its address blocks, so two runs never take the same one."""


def janus_unavailable() -> str | None:
    """Why Janus cannot run in a namespace here (not root, tool missing), or None."""
    if os.geteuid() != 0:
        return "Janus in a network namespace needs root"
    if shutil.which("ip") is None:
        return "Janus tests need `ip` (apt-get install iproute2)"
    if not Path(JANUS).exists():
        return "Janus tests need Debian's janus (apt-get install janus)"
    return None


@dataclass
class JanusInstance:
    """One running Janus: its namespace, addresses, secrets, process and log."""

    name: str
    namespace: str
    host_address: str
    """The root end of the veth pair: where this process's peers gather."""
    setup: JanusSetup
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    folder: Path = Path()
    """Its configuration folder."""

    @property
    def url(self) -> str:
        """The WebSocket API URL."""
        return f"ws://{self.setup.address}:{self.setup.ws_port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, chars: int = 3000) -> str:
        """The end of the instance's log, for failure messages."""
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return ""

    def kill(self) -> None:
        """SIGKILL the instance, as a crash would end it (its sockets die with it)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        """SIGTERM the instance (Janus then ends cleanly), SIGKILL if it lingers."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class JanusBed:
    """The Janus instances of a test session; see the module docstring."""

    workdir: Path
    instances: list[JanusInstance] = field(default_factory=list)
    _namespaces: list[str] = field(default_factory=list)
    _links: list[str] = field(default_factory=list)

    async def start_instance(self) -> JanusInstance:
        """A new Janus in a new namespace, answering on its WebSocket when this returns."""
        number = len(self.instances)
        tag = f"{os.getpid()}"
        namespace = f"rc{tag}j{number}"
        link = f"rcj{tag}a{number}"
        _run("ip", "netns", "add", namespace)
        self._namespaces.append(namespace)
        _run("ip", "-n", namespace, "link", "set", "lo", "up")
        with _address_lock():
            host, janus = _free_block()
            _run("ip", "link", "add", link, "type", "veth", "peer", "name", "eth0",
                 "netns", namespace)
            self._links.append(link)
            _run("ip", "addr", "add", f"{host}/30", "dev", link)
        _run("ip", "link", "set", link, "up")
        _run("ip", "-n", namespace, "addr", "add", f"{janus}/30", "dev", "eth0")
        _run("ip", "-n", namespace, "link", "set", "eth0", "up")
        _run("ip", "-n", namespace, "route", "add", "default", "via", host)
        folder = self.workdir / f"janus{number}"
        setup = generate_setup(janus, "eth0", rtp_ports="20000-20999")
        write_janus_configs(setup, folder)
        instance = JanusInstance(f"janus{number}", namespace, host, setup,
                                 self.workdir / f"janus{number}.log")
        self.instances.append(instance)
        instance.folder = folder
        await self.restart(instance)
        return instance

    async def restart(self, instance: JanusInstance) -> None:
        """(Re)start ``instance``'s Janus, with the same address and secrets, stopping it
        first if it runs; returns once it answers."""
        instance.stop()
        core = instance.folder / "janus.jcfg"
        instance.process = _spawn(instance.namespace,
                                  [JANUS, "-F", str(instance.folder), "-C", str(core), "-o"],
                                  instance.log_path)
        await self._wait_ready(instance)

    async def _wait_ready(self, instance: JanusInstance) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if not instance.running:
                raise RuntimeError(f"{instance.name} exited at start:\n{instance.log_tail()}")
            try:
                client = await JanusClient.connect(instance.url,
                                                   api_secret=instance.setup.api_secret,
                                                   timeout=1.0)
            except JanusError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{instance.name} did not answer within "
                                       f"{START_TIMEOUT} s:\n{instance.log_tail()}") from None
                # Nothing announces that Janus has bound its port: try again shortly.
                await asyncio.sleep(0.1)
                continue
            await client.close()
            return

    async def stop(self) -> None:
        """Stop every instance and delete its namespace and veth pair; safe to call twice."""
        for instance in self.instances:
            instance.stop()
        for link in self._links:
            _run("ip", "link", "del", link, check=False)
        self._links.clear()
        for namespace in self._namespaces:
            for pid in _run("ip", "netns", "pids", namespace, check=False).split():
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), signal.SIGKILL)
            _run("ip", "netns", "del", namespace, check=False)
        self._namespaces.clear()

    def host_addresses(self) -> list[str]:
        """The root ends of every instance's veth pair."""
        return [i.host_address for i in self.instances]


def _spawn(namespace: str, argv: list[str], log_path: Path) -> subprocess.Popen[bytes]:
    """Start ``argv`` in ``namespace`` with its output appended to ``log_path``."""
    with log_path.open("ab") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(["ip", "netns", "exec", namespace, *argv], stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


@contextlib.contextmanager
def _address_lock() -> Iterator[None]:
    with _LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _free_block() -> tuple[str, str]:
    """The two usable addresses of a /30 in 192.0.2.0/24 no interface here holds."""
    used = _run("ip", "-o", "-4", "addr", "show")
    for block in range(0, 256, 4):
        host, janus = f"192.0.2.{block + 1}", f"192.0.2.{block + 2}"
        if f" {host}/" not in used and f" {janus}/" not in used:
            return host, janus
    raise RuntimeError("no free /30 left in 192.0.2.0/24")


@contextlib.contextmanager
def janus_host_candidates(bed: JanusBed) -> Iterator[None]:
    """aiortc peers of this process gather on the instances' veth ends (reachable by Janus)
    while inside, and on loopback again after (``tests/conftest.py``'s setting)."""
    restrict_host_addresses(bed.host_addresses())
    try:
        yield
    finally:
        restrict_host_addresses(["127.0.0.1"])
