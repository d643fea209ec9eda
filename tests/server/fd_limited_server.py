"""A room server in its own process with a low open-file limit, for descriptor-exhaustion tests.

    python -m tests.server.fd_limited_server DATA_DIR FD_LIMIT [MAX_CONNECTIONS]

prints the server's URL and a member's token on stdout, logs at INFO on stderr, and stops
when stdin closes.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import sys
from pathlib import Path

from roomcall.server.config import Limits, ServerConfig
from roomcall.server.server import RoomServer

_NEVER = 600.0
"""The handshake and join deadlines (s): longer than any test, so the attack's sockets stay
until the server evicts them or the test closes them."""


async def _serve(data_dir: Path, max_connections: int) -> None:
    server = RoomServer(ServerConfig(host="127.0.0.1", port=0, data_dir=data_dir,
                                     limits=Limits(max_connections=max_connections,
                                                   handshake_timeout=_NEVER,
                                                   join_timeout=_NEVER)))
    await server.start()
    print(server.url, server.token("locked", "alice"), sep="\n", flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # until the test closes our stdin
    await server.stop()


def main() -> None:
    data_dir, limit = Path(sys.argv[1]), int(sys.argv[2])
    max_connections = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    asyncio.run(_serve(data_dir, max_connections))


if __name__ == "__main__":
    main()
