"""The benches' control link between their processes: JSON lines over one TCP connection
(negotiation relays, start / stop, results), and the end of a receiver process's stdin, by
which an orchestrator stops it. Imports nothing of ``roomcall.sdk``, so a process that must run
plain aiortc (``bench/plain_receiver.py``) can use it."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

SENDER = "a-sender"
RECEIVER = "b-receiver"


class Link:
    """JSON lines over one loopback TCP connection: relays and control messages."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def send(self, message: dict[str, Any]) -> None:
        self.writer.write(json.dumps(message).encode() + b"\n")
        await self.writer.drain()

    async def messages(self) -> Any:
        while line := await self.reader.readline():
            yield json.loads(line)


async def stdin_closed() -> None:
    """Return once this process's stdin ends (the orchestrator closed it: time to stop)."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    await reader.read()
