"""Delay, jitter and loss in user space, for kernels without ``sch_netem``.

A router's forwarded packets go to an NFQUEUE (``iptables -t mangle -A FORWARD -j NFQUEUE
--queue-num 1 --queue-bypass``); this program, run inside the router's namespace, reads their
ids from nfnetlink_queue over a raw netlink socket and gives each verdict later: ACCEPT after
``delay`` plus a uniform ``±jitter`` (so packets may reorder, as netem's jitter does), or DROP
with probability ``loss``. Only packet metadata is copied to user space.

    ip netns exec ROUTER python -m tests.network.impairment --queue 1 --delay 100 \\
        --jitter 30 --loss 0.02

It prints ``ready`` once bound, then runs until SIGTERM. :class:`Impairment` starts it and adds
the rule; ``--queue-bypass`` lets packets through unharmed if the program is not running.

``--probe HOST:PORT`` instead measures the path: STUN binding round trips (coturn answers
them without credentials), printed as one JSON list of seconds, ``null`` for a lost one.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import select
import signal
import socket
import struct
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

NETLINK_NETFILTER = 12
NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET, NFQNL_MSG_VERDICT, NFQNL_MSG_CONFIG = 0, 1, 2
NFQA_CFG_CMD, NFQA_CFG_PARAMS, NFQA_CFG_QUEUE_MAXLEN = 1, 2, 3
NFQNL_CFG_CMD_BIND = 1
NFQNL_COPY_META = 1
NFQA_PACKET_HDR, NFQA_VERDICT_HDR = 1, 2
NF_DROP, NF_ACCEPT = 0, 1
NLM_F_REQUEST, NLM_F_ACK = 1, 4
NLMSG_ERROR = 2
QUEUE_MAXLEN = 8192
READY_TIMEOUT = 10.0


def _attr(kind: int, payload: bytes) -> bytes:
    data = struct.pack("=HH", 4 + len(payload), kind) + payload
    return data + b"\0" * (-len(data) % 4)


def _message(msg: int, queue: int, attrs: bytes, flags: int = NLM_F_REQUEST, seq: int = 0
             ) -> bytes:
    # nfgenmsg: family AF_UNSPEC, version 0, res_id (the queue number, big-endian)
    body = struct.pack("=BBH", socket.AF_UNSPEC, 0, socket.htons(queue)) + attrs
    kind = (NFNL_SUBSYS_QUEUE << 8) | msg
    return struct.pack("=IHHII", 16 + len(body), kind, flags, seq, 0) + body


def _packet_ids(data: bytes) -> list[int]:
    """The packet ids of every NFQNL_MSG_PACKET in one netlink read."""
    ids: list[int] = []
    offset = 0
    while offset + 16 <= len(data):
        length, kind, _, _, _ = struct.unpack_from("=IHHII", data, offset)
        if length < 16:
            break
        if kind == (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET:
            at, end = offset + 20, offset + length  # past nlmsghdr and nfgenmsg
            while at + 4 <= end:
                size, attr = struct.unpack_from("=HH", data, at)
                if size < 4:
                    break
                if attr & 0x7FFF == NFQA_PACKET_HDR:
                    ids.append(struct.unpack_from("!I", data, at + 4)[0])
                at += (size + 3) & ~3
        offset += (length + 3) & ~3
    return ids


def _bind(queue: int) -> socket.socket:
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
    sock.bind((0, 0))
    config = [
        _attr(NFQA_CFG_CMD, struct.pack("!BBH", NFQNL_CFG_CMD_BIND, 0, socket.AF_INET)),
        _attr(NFQA_CFG_PARAMS, struct.pack("!IB", 0xFFFF, NFQNL_COPY_META)),
        _attr(NFQA_CFG_QUEUE_MAXLEN, struct.pack("!I", QUEUE_MAXLEN)),
    ]
    for seq, attrs in enumerate(config, 1):
        sock.send(_message(NFQNL_MSG_CONFIG, queue, attrs, NLM_F_REQUEST | NLM_F_ACK, seq))
        reply = sock.recv(65536)
        _, kind, _, _, _ = struct.unpack_from("=IHHII", reply)
        error = struct.unpack_from("=i", reply, 16)[0] if kind == NLMSG_ERROR else 0
        if error:
            raise OSError(-error, f"nfnetlink_queue config {seq} refused")
    sock.setblocking(False)
    return sock


async def serve(queue: int, delay_ms: float, jitter_ms: float, loss: float) -> None:
    """Hold each queued packet ``delay ± jitter`` ms, drop ``loss`` of them, until SIGTERM."""
    loop = asyncio.get_running_loop()
    sock = _bind(queue)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    rng = random.Random()

    def verdict(packet_id: int, accept: bool) -> None:
        header = struct.pack("!II", NF_ACCEPT if accept else NF_DROP, packet_id)
        with contextlib.suppress(OSError):  # queue gone (rule removed): nothing to decide
            sock.send(_message(NFQNL_MSG_VERDICT, queue, _attr(NFQA_VERDICT_HDR, header)))

    def readable() -> None:
        while True:
            try:
                data = sock.recv(1 << 20)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # ENOBUFS: the kernel dropped some; carry on with the rest
                continue
            for packet_id in _packet_ids(data):
                if rng.random() < loss:
                    verdict(packet_id, False)
                    continue
                wait = max(0.0, delay_ms + rng.uniform(-jitter_ms, jitter_ms)) / 1000
                if wait <= 0:
                    verdict(packet_id, True)
                else:
                    loop.call_later(wait, verdict, packet_id, True)

    loop.add_reader(sock.fileno(), readable)
    print("ready", flush=True)
    await stop.wait()
    loop.remove_reader(sock.fileno())
    sock.close()


@dataclass
class Impairment:
    """A running impairment program and the NFQUEUE rule in a router's namespace."""

    namespace: str
    process: subprocess.Popen[bytes]
    rule: tuple[str, ...]

    @classmethod
    def start(cls, namespace: str, delay_ms: float, jitter_ms: float, loss: float,
              *, log: Path, queue: int = 1) -> Impairment:
        """Start the program in ``namespace``, wait until it is bound, then queue every
        forwarded packet to it."""
        process = subprocess.Popen(
            ["ip", "netns", "exec", namespace, sys.executable, "-m",
             "tests.network.impairment", "--queue", str(queue), "--delay", str(delay_ms),
             "--jitter", str(jitter_ms), "--loss", str(loss)],
            cwd=Path(__file__).resolve().parents[2], stdout=subprocess.PIPE,
            stderr=log.open("ab"))
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], READY_TIMEOUT)
        if not ready or process.stdout.readline().strip() != b"ready":
            process.kill()
            process.wait()
            raise RuntimeError(f"the impairment program did not start (see {log})")
        rule = ("FORWARD", "-j", "NFQUEUE", "--queue-num", str(queue), "--queue-bypass")
        subprocess.run(["ip", "netns", "exec", namespace, "iptables", "-t", "mangle", "-A",
                        *rule], check=True, capture_output=True)
        return cls(namespace, process, rule)

    def stop(self) -> None:
        """Remove the rule (packets flow unharmed again), then end the program."""
        subprocess.run(["ip", "netns", "exec", self.namespace, "iptables", "-t", "mangle",
                        "-D", *self.rule], capture_output=True)
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def probe(server: tuple[str, int], count: int, timeout: float = 1.0) -> list[float | None]:
    """Round-trip times of ``count`` STUN binding requests to ``server`` (None: lost)."""
    rtts: list[float | None] = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        for _ in range(count):
            transaction = random.randbytes(12)
            # RFC 5389 binding request: type 0x0001, no attributes, magic cookie
            sent = time.monotonic()
            sock.sendto(struct.pack("!HHI", 1, 0, 0x2112A442) + transaction, server)
            rtts.append(None)
            while True:
                try:
                    data = sock.recv(2048)
                except TimeoutError:
                    break
                if data[8:20] == transaction:
                    rtts[-1] = time.monotonic() - sent
                    break
    return rtts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queue", type=int, default=1)
    parser.add_argument("--delay", type=float, default=0.0, help="ms")
    parser.add_argument("--jitter", type=float, default=0.0, help="ms, uniform ±")
    parser.add_argument("--loss", type=float, default=0.0, help="fraction 0-1")
    parser.add_argument("--probe", metavar="HOST:PORT", help="measure STUN round trips")
    parser.add_argument("--count", type=int, default=5, help="probes to send")
    args = parser.parse_args()
    if args.probe:
        host, port = args.probe.rsplit(":", 1)
        print(json.dumps(probe((host, int(port)), args.count)))
        return 0
    started = time.monotonic()
    asyncio.run(serve(args.queue, args.delay, args.jitter, args.loss))
    print(f"stopped after {time.monotonic() - started:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
