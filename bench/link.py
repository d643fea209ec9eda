"""The benches' control link between their processes: JSON lines over one TCP connection
(negotiation relays, start / stop, results). Imports nothing of ``roomcall.sdk``, so a process
that must run plain aiortc (``bench/plain_receiver.py``) can use it."""

from __future__ import annotations

import asyncio
import json
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
