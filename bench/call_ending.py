"""How long members take to learn that a call is over, when the server stops or the host ends it.

N signalling-only SDK clients sit in rooms of a real server on loopback. Measured, each from the
moment the ending starts until every client is DISCONNECTED:

- ``graceful stop``: ``RoomServer.stop()``, which closes every room first (ROOM_CLOSED);
- ``end_room``: the host's request, for one room holding every client;
- baseline ``dropped sockets``: what a stop did before (every socket dropped without a word):
  clients go RECONNECTING and only give up when their reconnect window has passed.

The reconnect window is shortened to --window seconds so the baseline finishes (the default
server window is 30 s: the baseline then takes about 35 s).

    .venv/bin/python bench/call_ending.py
    .venv/bin/python bench/call_ending.py --clients 50 --window 3
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from roomcall.sdk import ConnectionState, RTCClient
from roomcall.server import RoomServer, ServerConfig


async def seat(server: RoomServer, clients: int, rooms: int) -> tuple[list[RTCClient],
                                                                         asyncio.Event]:
    """``clients`` clients spread over ``rooms`` rooms (the first of each an admin), and an
    event set once all of them are DISCONNECTED."""
    members: list[RTCClient] = []
    done = asyncio.Event()

    def check(state: ConnectionState, info: object) -> None:
        if all(m.connection_state is ConnectionState.DISCONNECTED for m in members):
            done.set()

    for i in range(clients):
        client = RTCClient(server.url, media=False,
                           reconnect_delays=lambda: itertools.repeat(0.2))
        room = f"room_{i % rooms}"
        await client.join(server.token(room, f"user_{i}", admin=i < rooms))
        client.on("connection_state_changed", check)
        members.append(client)
    return members, done


async def measure(config: ServerConfig, clients: int, rooms: int,
                  ending: Callable[[RoomServer, list[RTCClient]], Awaitable[None]]) -> float:
    """Seconds from the start of ``ending`` until every client is DISCONNECTED."""
    server = RoomServer(config)
    await server.start()
    try:
        members, done = await seat(server, clients, rooms)
        started = time.perf_counter()
        await ending(server, members)
        await asyncio.wait_for(done.wait(), config.silent_user_timeout + 30)
        return time.perf_counter() - started
    finally:
        await server.stop()


async def graceful(server: RoomServer, members: list[RTCClient]) -> None:
    await server.stop()


async def end_room(server: RoomServer, members: list[RTCClient]) -> None:
    await members[0].end_room()


async def dropped(server: RoomServer, members: list[RTCClient]) -> None:
    # The old stop: every socket aborted, no closed frame, then the listener goes away.
    assert server._signalling is not None
    await server._signalling.close_all()
    await server.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--rooms", type=int, default=4)
    parser.add_argument("--window", type=float, default=3.0,
                        help="reconnect window (silent_user_timeout) in seconds")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        config = ServerConfig(port=0, data_dir=Path(data), silent_user_timeout=args.window)
        rows = [
            ("graceful stop", await measure(config, args.clients, args.rooms, graceful)),
            ("end_room (one room)", await measure(config, args.clients, 1, end_room)),
            ("baseline: dropped sockets", await measure(config, args.clients, args.rooms,
                                                        dropped)),
        ]
    print(f"{args.clients} clients, {args.rooms} rooms, reconnect window {args.window:g} s")
    print(f"{'ending':28} {'all DISCONNECTED after':>24}")
    for name, seconds in rows:
        print(f"{name:28} {seconds * 1000:>21.1f} ms")


if __name__ == "__main__":
    asyncio.run(main())
