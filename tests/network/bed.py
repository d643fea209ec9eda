"""A network test bed: a room server, coturn and two home networks in Linux network namespaces.

    internet (bridge 203.0.113.1/24, blackholes the private ranges)
      |-- server 203.0.113.10: `roomcall serve` on :7880, coturn on :3478 (udp+tcp)
      |-- home 1 router, WAN 203.0.113.21, NAT "cone" by default
      |     `-- client 1, 198.51.100.2/26
      `-- home 2 router, WAN 203.0.113.22, NAT "cone" by default
            `-- client 2, 198.51.100.66/26

Routers accept nothing new from the WAN, as home routers do (without that, Linux conntrack
quietly breaks hole punching even between two cone NATs). ``"cone"`` is plain MASQUERADE
(port-restricted cone); ``"symmetric"`` adds ``--random-fully`` (endpoint-dependent mapping).
Only documentation addresses are used, and they never leave the namespaces.

    bed = Bed(workdir)
    bed.start()                         # needs root, `ip`, `iptables`, `turnserver`
    try:
        bed.set_nat(2, "symmetric")
        token = bed.token("room1", "alice")
        peer = await bed.home(1).client(token, "alice")   # a tests.network.peer process
        frame = await peer.wait_event("frame")
        bed.cap(1, 500)                 # uplink tbf cap, kbit/s
        await bed.outage(1, 20)         # everything dropped for 20 s
        bed.change_address(1)           # new WAN address, conntrack flushed
        await peer.stop()
    finally:
        bed.stop()                      # processes and namespaces gone, whatever happened

Every method that changes the network is synchronous and takes effect when it returns;
``outage`` and client processes are awaited. :func:`unavailable` says why a bed cannot run
here (None if it can). The namespaces' names carry the process id, so beds of several test
runs on one machine do not meet.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from roomcall.protocol.token import RoomAccess, sign_room_token
from tests.network.impairment import Impairment

Nat = Literal["cone", "symmetric"]

PROJECT = Path(__file__).resolve().parents[2]
INTERNET_GATEWAY = "203.0.113.1"
SERVER_ADDRESS = "203.0.113.10"
SIGNAL_PORT = 7880
TURN_PORT = 3478
TURN_SECRET_BYTES = 24
_WAN = {1: "203.0.113.21", 2: "203.0.113.22"}
_NEW_WAN = {1: "203.0.113.31", 2: "203.0.113.32"}
_LAN = {1: ("198.51.100.1", "198.51.100.2"), 2: ("198.51.100.65", "198.51.100.66")}
_PRIVATE = ("198.51.100.0/24", "192.0.2.0/24", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
START_TIMEOUT = 20.0
"""Seconds the server or coturn may take to come up."""

COTURN_CONFIG = """\
# coturn for roomcall: ephemeral credentials from the room server (TURN REST API).
listening-ip={address}
relay-ip={address}
listening-port={port}
min-port=49160
max-port=49359
use-auth-secret
static-auth-secret={secret}
realm=roomcall.test
fingerprint
no-cli
no-tls
no-dtls
no-multicast-peers
denied-peer-ip=10.0.0.0-10.255.255.255
denied-peer-ip=172.16.0.0-172.31.255.255
denied-peer-ip=192.168.0.0-192.168.255.255
userdb={workdir}/turndb
pidfile={workdir}/turnserver.pid
log-file=stdout
simple-log
"""
"""The bed's coturn configuration; docs/deploy.md shows the same with TLS for a public host."""


def unavailable() -> str | None:
    """Why no bed can run on this machine (not root, a tool missing, no namespaces), or None."""
    if os.geteuid() != 0:
        return "the network test bed needs root (network namespaces, iptables)"
    for tool in ("ip", "iptables", "tc", "conntrack", "turnserver"):
        if shutil.which(tool) is None:
            return f"the network test bed needs `{tool}` (apt-get install iproute2 iptables " \
                   "conntrack coturn)"
    probe = f"rcprobe{os.getpid()}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"`ip netns add` failed: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


class BedError(RuntimeError):
    """A command of the bed failed, or a process it started did not come up."""


def _run(*argv: str, check: bool = True) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, cwd=PROJECT)
    if check and done.returncode != 0:
        raise BedError(f"{' '.join(argv)}: {done.stderr.strip() or done.returncode}")
    return done.stdout


@dataclass
class Home:
    """One home network: a router with NAT and one client namespace behind it."""

    bed: Bed
    number: int
    router: str
    client_ns: str
    wan_address: str
    impairment: Impairment | None = None

    def ns(self, *argv: str, check: bool = True) -> str:
        """Run ``argv`` inside the router's namespace."""
        return _run("ip", "netns", "exec", self.router, *argv, check=check)

    def round_trips(self, count: int = 5) -> list[float | None]:
        """Seconds of ``count`` STUN round trips from this home's client to the server's
        coturn (None: lost), to check what :meth:`Bed.impair` and friends did to the line."""
        out = _run("ip", "netns", "exec", self.client_ns, sys.executable, "-m",
                   "tests.network.impairment", "--probe", f"{SERVER_ADDRESS}:{TURN_PORT}",
                   "--count", str(count))
        rtts: list[float | None] = json.loads(out)
        return rtts

    async def client(self, token: str, label: str, *, ice: str = "server",
                     compat: bool = True, module: str = "tests.network.peer") -> Peer:
        """Start a :mod:`tests.network.peer` process in this home's client namespace, joining
        with ``token`` and publishing a pattern labelled ``label``. ``ice``: ``"server"``
        (what the room server hands out), ``"none"`` or a JSON list of ICE servers.
        ``module`` runs another participant taking the same arguments (e.g.
        :mod:`tests.network.window_peer`, the desktop window)."""
        # --token=...: a token starts with the access key, which may start with "-", and
        # argparse would take "--token -x..." for a missing value (exit 2, nothing said).
        argv = ["ip", "netns", "exec", self.client_ns, sys.executable, "-m",
                module, "--url", self.bed.url, f"--token={token}",
                "--label", label, "--ice", ice]
        if not compat:
            argv.append("--no-compat")
        with (self.bed.workdir / f"peer-{label}.log").open("ab") as log:  # the child keeps it
            process = await asyncio.create_subprocess_exec(
                *argv, cwd=PROJECT, stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE, stderr=log)
        peer = Peer(label, process, started=time.time())
        self.bed.peers.append(peer)
        peer.start_reading()
        return peer


@dataclass
class Peer:
    """A running :mod:`tests.network.peer` process and the events it reported so far."""

    label: str
    process: asyncio.subprocess.Process
    started: float
    """``time.time()`` when the process was started."""
    events: list[dict[str, Any]] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _reader: asyncio.Task[None] | None = None

    def start_reading(self) -> None:
        """Collect the process's report lines in :attr:`events` as they arrive."""
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for line in self.process.stdout:
            with contextlib.suppress(ValueError):
                self.events.append(json.loads(line))
            self._changed.set()
        self._changed.set()

    def named(self, event: str, predicate: Callable[[dict[str, Any]], bool] = lambda e: True
              ) -> list[dict[str, Any]]:
        """Every reported ``event`` matching ``predicate``, in order."""
        return [e for e in self.events if e["event"] == event and predicate(e)]

    async def wait_event(self, event: str,
                         predicate: Callable[[dict[str, Any]], bool] = lambda e: True,
                         within: float = 15.0, after: float = 0.0) -> dict[str, Any]:
        """The first ``event`` matching ``predicate`` with ``t >= after`` (already reported or
        future); AssertionError after ``within`` seconds or if the process ended."""
        deadline = time.monotonic() + within
        while True:
            found = self.named(event, lambda e: e["t"] >= after and predicate(e))
            if found:
                return found[0]
            if self._reader is not None and self._reader.done():
                raise AssertionError(f"{self.label} exited ({self.process.returncode}) "
                                     f"before reporting {event}; it said {self.events[-5:]}")
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{self.label}: no {event} within {within} s; "
                                     f"last reports {self.events[-5:]}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)

    async def stop(self, timeout: float = 8.0) -> int | None:  # noqa: ASYNC109
        """Ask the process to leave (close its stdin), kill it if it lingers; its exit code."""
        if self.process.returncode is None:
            if self.process.stdin is not None:
                self.process.stdin.close()
            try:
                await asyncio.wait_for(self.process.wait(), timeout)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.process.kill()
                await self.process.wait()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        return self.process.returncode


class Bed:
    """The namespaces, the room server and coturn; see the module docstring.

    Args:
        workdir: a writable folder for configs, the server's data and logs.
        ice: what the room server hands out: ``"turn"`` (STUN, TURN/UDP and TURN/TCP),
            ``"stun"`` (STUN only) or ``"none"``.
    """

    def __init__(self, workdir: Path, *, ice: Literal["turn", "stun", "none"] = "turn") -> None:
        self.workdir = Path(workdir)
        self.ice = ice
        tag = f"rc{os.getpid()}"
        self.internet = f"{tag}net"
        self.server_ns = f"{tag}srv"
        self.homes = {n: Home(self, n, f"{tag}r{n}", f"{tag}c{n}", _WAN[n]) for n in (1, 2)}
        self.turn_secret = secrets.token_urlsafe(TURN_SECRET_BYTES)
        self.access_key = secrets.token_urlsafe(16)
        self.secret_key = secrets.token_urlsafe(32)
        self.app_id = ""
        self.url = f"ws://{SERVER_ADDRESS}:{SIGNAL_PORT}"
        self.peers: list[Peer] = []
        self._namespaces: list[str] = []
        self._processes: list[subprocess.Popen[bytes]] = []

    # --- URLs a client may be given ---------------------------------------------------------

    stun_urls = (f"stun:{SERVER_ADDRESS}:{TURN_PORT}",)
    """The bed's STUN server (coturn)."""
    turn_urls = (f"turn:{SERVER_ADDRESS}:{TURN_PORT}?transport=udp",
                 f"turn:{SERVER_ADDRESS}:{TURN_PORT}?transport=tcp")
    """The bed's TURN servers, UDP first (coturn listens on both)."""

    # --- life cycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Build the network, start coturn and ``roomcall serve``; stop() first on failure."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        try:
            self._build()
            self._start_coturn()
            self._start_server()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Kill every process the bed started and delete its namespaces (rules die with
        them). Safe to call twice and after a failed start."""
        for peer in self.peers:
            if peer.process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    peer.process.kill()
        for home in self.homes.values():
            if home.impairment is not None:
                home.impairment.stop()
                home.impairment = None
        for process in reversed(self._processes):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self._processes.clear()
        for ns in reversed(self._namespaces):
            # `ip netns exec` children still inside would keep it alive: kill them first.
            for pid in _run("ip", "netns", "pids", ns, check=False).split():
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), 9)
            _run("ip", "netns", "del", ns, check=False)
        self._namespaces.clear()

    def home(self, number: int) -> Home:
        """Home 1 or 2."""
        return self.homes[number]

    def token(self, room: str, user: str, *, ttl: int = 600) -> str:
        """A RoomToken for ``user`` in ``room`` of the server's default app."""
        access = RoomAccess(app_id=self.app_id, room_name=room, user_id=user,
                            expire_at=int(time.time()) + ttl, permission="user")
        return sign_room_token(self.access_key, self.secret_key, access)

    # --- changing the network ---------------------------------------------------------------

    def reset(self) -> None:
        """Both homes back to how :meth:`start` left them: cone NATs, first WAN addresses, no
        firewall, cap, impairment or outage."""
        for n, h in self.homes.items():
            self.restore(n)
            self.block_udp(n, False)
            self.cap(n, None)
            self.impair(n)
            if h.wan_address != _WAN[n]:
                self.change_address(n)
            self.set_nat(n, "cone")

    def set_nat(self, home: int, nat: Nat) -> None:
        """Make ``home``'s router a port-restricted cone or a symmetric NAT (conntrack
        flushed, so no old mapping survives)."""
        h = self.homes[home]
        h.ns("iptables", "-t", "nat", "-F", "POSTROUTING")
        rule = ["iptables", "-t", "nat", "-A", "POSTROUTING", "-o", "wan0", "-j", "MASQUERADE"]
        h.ns(*rule, *(["--random-fully"] if nat == "symmetric" else []))
        h.ns("conntrack", "-F", check=False)

    def block_udp(self, home: int, blocked: bool = True) -> None:
        """A firewall in ``home`` that drops all UDP (both ways), or no longer."""
        self._set_chain(home, "udpblock", ["-p", "udp", "-j", "DROP"] if blocked else None)

    def cap(self, home: int, kbit: int | None, *, downlink_kbit: int | None = None) -> None:
        """Cap ``home``'s uplink to ``kbit`` kbit/s with tbf (None: no cap); ``downlink_kbit``
        caps what reaches it, on the internet's side of its line."""
        h = self.homes[home]
        for ns, dev, rate in ((h.router, "wan0", kbit),
                              (self.internet, f"h{home}", downlink_kbit)):
            _run("ip", "netns", "exec", ns, "tc", "qdisc", "del", "dev", dev, "root",
                 check=False)
            if rate is not None:
                _run("ip", "netns", "exec", ns, "tc", "qdisc", "replace", "dev", dev, "root",
                     "tbf", "rate", f"{rate}kbit", "burst", "3000", "latency", "200ms")

    def impair(self, home: int, delay_ms: float = 0.0, jitter_ms: float = 0.0,
               loss: float = 0.0) -> None:
        """Delay (plus uniform ±jitter) and randomly drop ``loss`` (0-1) of the packets
        ``home`` sends and receives, in user space (this kernel has no sch_netem: see
        :mod:`tests.network.impairment`). Each direction is impaired once, so a round trip
        gains twice the delay. All zero: no impairment."""
        h = self.homes[home]
        if h.impairment is not None:
            h.impairment.stop()
            h.impairment = None
        if delay_ms or jitter_ms or loss:
            h.impairment = Impairment.start(h.router, delay_ms, jitter_ms, loss,
                                            log=self.workdir / f"impair-{home}.log")

    def cut(self, home: int, *, udp_only: bool = False) -> None:
        """Drop everything (or only UDP) between ``home`` and the internet until
        :meth:`restore`."""
        self._set_chain(home, "outage", (["-p", "udp"] if udp_only else []) + ["-j", "DROP"])

    def restore(self, home: int) -> None:
        """End a :meth:`cut`."""
        self._set_chain(home, "outage", None)

    async def outage(self, home: int, seconds: float, *, udp_only: bool = False) -> float:
        """Cut ``home`` off for ``seconds``; returns ``time.time()`` when the link came back."""
        self.cut(home, udp_only=udp_only)
        try:
            await asyncio.sleep(seconds)
        finally:
            self.restore(home)
        return time.time()

    def change_address(self, home: int) -> str:
        """Give ``home``'s router a new public address (as an ISP's reconnect does) and flush
        its conntrack table; returns the new address. Calling it again swaps back."""
        h = self.homes[home]
        new = _NEW_WAN[home] if h.wan_address == _WAN[home] else _WAN[home]
        # Old one first: deleting a primary address takes its secondaries (and routes) along.
        h.ns("ip", "addr", "del", f"{h.wan_address}/24", "dev", "wan0")
        h.ns("ip", "addr", "add", f"{new}/24", "dev", "wan0")
        h.ns("ip", "route", "replace", "default", "via", INTERNET_GATEWAY)
        h.ns("conntrack", "-F", check=False)
        h.wan_address = new
        return new

    # --- building ---------------------------------------------------------------------------

    def _add_ns(self, name: str) -> None:
        _run("ip", "netns", "add", name)
        self._namespaces.append(name)
        _run("ip", "-n", name, "link", "set", "lo", "up")

    def _veth(self, ns_a: str, name_a: str, ns_b: str, name_b: str) -> None:
        _run("ip", "link", "add", name_a, "netns", ns_a, "type", "veth",
             "peer", "name", name_b, "netns", ns_b)
        _run("ip", "-n", ns_a, "link", "set", name_a, "up")
        _run("ip", "-n", ns_b, "link", "set", name_b, "up")

    def _build(self) -> None:
        net = self.internet
        self._add_ns(net)
        _run("ip", "-n", net, "link", "add", "br0", "type", "bridge")
        _run("ip", "-n", net, "addr", "add", f"{INTERNET_GATEWAY}/24", "dev", "br0")
        _run("ip", "-n", net, "link", "set", "br0", "up")
        _run("ip", "netns", "exec", net, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        for prefix in _PRIVATE:  # silently dropped, as on the internet: no ENETUNREACH
            _run("ip", "-n", net, "route", "add", "blackhole", prefix)

        self._add_ns(self.server_ns)
        self._veth(self.server_ns, "eth0", net, "srv")
        _run("ip", "-n", net, "link", "set", "srv", "master", "br0")
        _run("ip", "-n", self.server_ns, "addr", "add", f"{SERVER_ADDRESS}/24", "dev", "eth0")
        _run("ip", "-n", self.server_ns, "route", "add", "default", "via", INTERNET_GATEWAY)

        for n, h in self.homes.items():
            gateway, client = _LAN[n]
            self._add_ns(h.router)
            self._add_ns(h.client_ns)
            self._veth(h.router, "wan0", net, f"h{n}")
            _run("ip", "-n", net, "link", "set", f"h{n}", "master", "br0")
            _run("ip", "-n", h.router, "addr", "add", f"{h.wan_address}/24", "dev", "wan0")
            _run("ip", "-n", h.router, "route", "add", "default", "via", INTERNET_GATEWAY)
            self._veth(h.router, "lan0", h.client_ns, "eth0")
            _run("ip", "-n", h.router, "addr", "add", f"{gateway}/26", "dev", "lan0")
            _run("ip", "-n", h.client_ns, "addr", "add", f"{client}/26", "dev", "eth0")
            _run("ip", "-n", h.client_ns, "route", "add", "default", "via", gateway)
            h.ns("sysctl", "-qw", "net.ipv4.ip_forward=1")
            self._firewall(h)
            self.set_nat(n, "cone")

    def _firewall(self, h: Home) -> None:
        """A home router's filter: LAN out, replies in, nothing new from the WAN; two chains
        (``outage``, ``udpblock``) that the bed fills and empties to change the network."""
        for chain in ("outage", "udpblock"):
            h.ns("iptables", "-N", chain)
            h.ns("iptables", "-A", "FORWARD", "-j", chain)
        established = ["-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "ACCEPT"]
        h.ns("iptables", "-A", "FORWARD", "-i", "lan0", "-o", "wan0", "-j", "ACCEPT")
        h.ns("iptables", "-A", "FORWARD", "-i", "wan0", *established)
        h.ns("iptables", "-A", "FORWARD", "-j", "DROP")
        h.ns("iptables", "-A", "INPUT", "-i", "wan0", *established)
        h.ns("iptables", "-A", "INPUT", "-i", "wan0", "-j", "DROP")

    def _set_chain(self, home: int, chain: str, rule: list[str] | None) -> None:
        h = self.homes[home]
        h.ns("iptables", "-F", chain)
        if rule is not None:
            h.ns("iptables", "-A", chain, *rule)

    def _spawn(self, name: str, ns: str, argv: list[str], env: dict[str, str] | None = None
               ) -> subprocess.Popen[bytes]:
        log = (self.workdir / f"{name}.log").open("wb")
        process = subprocess.Popen(["ip", "netns", "exec", ns, *argv], cwd=PROJECT,
                                   stdout=log, stderr=subprocess.STDOUT, env=env)
        log.close()
        self._processes.append(process)
        return process

    def _wait_log(self, name: str, process: subprocess.Popen[bytes], marker: str) -> str:
        """The log text of ``name`` once it contains ``marker``; BedError if the process ends
        or ``START_TIMEOUT`` passes first."""
        path = self.workdir / f"{name}.log"
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            text = path.read_text(errors="replace")
            if marker in text:
                return text
            if process.poll() is not None or time.monotonic() > deadline:
                raise BedError(f"{name} did not start; its log ends:\n{text[-2000:]}")
            time.sleep(0.05)  # polling a log file: there is no event to wait for

    def _start_coturn(self) -> None:
        conf = self.workdir / "turnserver.conf"
        conf.write_text(COTURN_CONFIG.format(address=SERVER_ADDRESS, port=TURN_PORT,
                                             secret=self.turn_secret, workdir=self.workdir))
        process = self._spawn("turnserver", self.server_ns, ["turnserver", "-c", str(conf)])
        self._wait_log("turnserver", process, "Total General servers")

    def _start_server(self) -> None:
        ice = {"none": "", "stun": f"stun_urls = {json.dumps(list(self.stun_urls))}\n",
               "turn": f"stun_urls = {json.dumps(list(self.stun_urls))}\n"
                       f"turn_urls = {json.dumps(list(self.turn_urls))}\n"}[self.ice]
        conf = self.workdir / "roomcall.toml"
        conf.write_text(f"[ice]\n{ice}")
        env = {**os.environ, "ROOMCALL_ACCESS_KEY": self.access_key,
               "ROOMCALL_SECRET_KEY": self.secret_key, "ROOMCALL_TURN_SECRET": self.turn_secret}
        process = self._spawn("server", self.server_ns, [
            sys.executable, "-m", "roomcall", "serve", "--host", "0.0.0.0",
            "--port", str(SIGNAL_PORT), "--data-dir", str(self.workdir / "data"),
            "--config", str(conf)], env=env)
        text = self._wait_log("server", process, "Press Ctrl+C to stop.")
        for line in text.splitlines():
            if line.startswith("Default app id:"):
                self.app_id = line.split(":", 1)[1].strip()
        if not self.app_id:
            raise BedError(f"the server named no default app:\n{text}")
