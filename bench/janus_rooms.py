"""How fast the room server drives Janus: moving a room to a VideoRoom, admitting a joiner,
cutting off a kicked member, and moving rooms off a killed instance.

Two Debian Janus instances in network namespaces (tests/network/janus.py, needs root), one
room server on loopback with both in its ``[sfu]``; members are plain signalling clients
(no media: this measures the server's Janus work, not aiortc). Each figure is the median and
the largest of ``--rounds`` rounds, printed beside the baseline measured in the same run: a
signalling join answered (``join`` -> ``joined``) on the same server.

    python -m bench.janus_rooms [--rounds 10] [--update-doc]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench.doc_section import update_section
from roomcall.protocol.janus import ERROR_SESSION_NOT_FOUND, JanusClient, JanusError
from roomcall.protocol.messages import Kick, MediaRouteChanged
from roomcall.server import RoomServer, ServerConfig
from roomcall.server.config import JanusInstanceConfig, SfuConfig
from tests.network.janus import JanusBed, JanusInstance, janus_unavailable
from tests.server.signal_client import SignalClient, joined_client

HEADING = "## Janus rooms (bench/janus_rooms.py)"
THRESHOLD = 3


def instance_config(instance: JanusInstance) -> JanusInstanceConfig:
    s = instance.setup
    return JanusInstanceConfig(instance.url, s.api_secret, s.token_secret, s.admin_key,
                               s.admin_url, s.admin_secret)


async def timed(action: Callable[[], Awaitable[object]]) -> float:
    """Seconds ``action`` takes."""
    started = time.perf_counter()
    await action()
    return time.perf_counter() - started


async def room_round(server: RoomServer, bed: JanusBed, room: str
                     ) -> dict[str, float]:
    """One room: its move, a late joiner's admission, a kick; seconds of each."""
    figures: dict[str, float] = {}
    clients: list[SignalClient] = []
    try:
        for user in ("alice", "bob"):
            clients.append(await joined_client(server.url, server.token(room, user,
                                                                        admin=True)))
        started = time.perf_counter()
        clients.append(await joined_client(server.url, server.token(room, "carol")))
        routes = [await c.wait_for(MediaRouteChanged, 10) for c in clients]
        figures["move"] = time.perf_counter() - started
        # A late joiner: joined, then its first VideoRoom join accepted.
        started = time.perf_counter()
        dave = await joined_client(server.url, server.token(room, "dave"))
        clients.append(dave)
        assert dave.joined is not None
        route = dave.joined.media
        member = await JanusClient.connect(route.janus_url, token=route.janus_token)
        try:
            handle = await (await member.create_session()).attach(opaque_id=route.publisher_id)
            await handle.message({"request": "join", "ptype": "publisher",
                                  "room": route.janus_room, "id": route.publisher_id,
                                  "token": route.room_token})
            figures["admit"] = time.perf_counter() - started
            # The host kicks dave: until Janus has ended his session.
            session = handle.session
            started = time.perf_counter()
            await clients[0].send(Kick(req=clients[0].next_req(), user_id="dave"))
            while True:
                try:
                    await session.keepalive(timeout=2)
                except JanusError as exc:
                    if exc.code == ERROR_SESSION_NOT_FOUND:
                        break
                    raise
                await asyncio.sleep(0.005)
            figures["kick"] = time.perf_counter() - started
        finally:
            await member.close()
        # Its instance killed: until every member has its failover route.
        dead = next(i for i in bed.instances if i.url == routes[0].media.janus_url)
        started = time.perf_counter()
        dead.kill()
        for c in clients[:3]:
            await c.wait_for(MediaRouteChanged, 10, reason="failover")
        figures["failover"] = time.perf_counter() - started
        await bed.restart(dead)
        await until_up(server)
    finally:
        for c in clients:
            await c.close()
    return figures


async def until_up(server: RoomServer) -> None:
    """Wait until every instance is up again (after a restart)."""
    assert server.sfu is not None
    deadline = time.monotonic() + 20
    while not all(link.up for link in server.sfu.links):
        if time.monotonic() > deadline:
            raise RuntimeError("an instance did not come back")
        await asyncio.sleep(0.05)


async def baseline(server: RoomServer, room: str) -> float:
    """Seconds of a signalling join answered, no Janus involved."""
    started = time.perf_counter()
    client = await joined_client(server.url, server.token(room, "solo"))
    spent = time.perf_counter() - started
    await client.close()
    return spent


async def run(rounds: int, workdir: Path) -> dict[str, list[float]]:
    bed = JanusBed(workdir)
    results: dict[str, list[float]] = {}
    try:
        for _ in range(2):
            await bed.start_instance()
        config = ServerConfig(port=0, data_dir=workdir / "server", sfu=SfuConfig(
            instances=tuple(instance_config(i) for i in bed.instances),
            keepalive_interval=1.0, request_timeout=2.0, retry_interval=0.2))
        server = RoomServer(config)
        await server.start()
        try:
            assert server.default_app is not None
            server.store.update_app(server.default_app.app_id, sfu_threshold=THRESHOLD)
            for n in range(rounds):
                results.setdefault("join (baseline)", []).append(
                    await baseline(server, f"base{n}"))
                for name, seconds in (await room_round(server, bed, f"bench{n}")).items():
                    results.setdefault(name, []).append(seconds)
        finally:
            await server.stop()
    finally:
        await bed.stop()
    return results


WHAT = {
    "join (baseline)": "signalling join -> joined (no Janus)",
    "move": "3rd join -> every member has its SFU route (VideoRoom made, tokens allowed)",
    "admit": "late joiner's join -> its VideoRoom publisher join accepted",
    "kick": "host's kick -> the kicked member's Janus session ended (Admin API)",
    "failover": "instance SIGKILLed -> every member has its route on the other instance",
}


def table(results: dict[str, list[float]], rounds: int) -> str:
    lines = [HEADING, "",
             f"`python -m bench.janus_rooms --rounds {rounds}`: two Janus 1.1.2 instances in "
             "namespaces, the room server on loopback, signalling clients (no media); median "
             "and largest of the rounds, in milliseconds.", "",
             "| step | median ms | max ms |", "|---|---|---|"]
    for name, values in results.items():
        lines.append(f"| {WHAT[name]} | {statistics.median(values) * 1000:.1f} | "
                     f"{max(values) * 1000:.1f} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--update-doc", action="store_true")
    args = parser.parse_args()
    reason = janus_unavailable()
    if reason is not None:
        print(f"bench.janus_rooms: {reason}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        results = asyncio.run(run(args.rounds, Path(tmp)))
    text = table(results, args.rounds)
    print(text)
    if args.update_doc:
        update_section(HEADING, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
