"""Raw sockets as hostile clients use them: idle or half-sent connections, resets, a
WebSocket spoken by hand over a socket whose receive buffer and read pace the test sets."""

from __future__ import annotations

import asyncio
import socket
import struct
from urllib.parse import urlsplit

from roomcall.protocol.messages import SIGNAL_PATH

TIMEOUT = 5.0

UPGRADE = (
    "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: cm9vbWNhbGwtdGVzdC0xMg==\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
)


def address(base_url: str) -> tuple[str, int]:
    """(host, port) of a server's base URL."""
    parts = urlsplit(base_url)
    return parts.hostname or "127.0.0.1", parts.port or 80


def upgrade_request(base_url: str, extra: str = "") -> bytes:
    """The HTTP request that opens a signalling WebSocket (``extra``: more header lines)."""
    host, port = address(base_url)
    return UPGRADE.format(path=SIGNAL_PATH, host=f"{host}:{port}", extra=extra).encode()


def tcp_socket(base_url: str, source: str = "127.0.0.1", rcvbuf: int | None = None,
               blocking: bool = False) -> socket.socket:
    """A TCP socket connected to the server from loopback address ``source``."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:  # before connecting, so the window is small from the start
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.bind((source, 0))
    sock.settimeout(TIMEOUT)
    sock.connect(address(base_url))
    sock.setblocking(blocking)
    return sock


def reset(sock: socket.socket) -> None:
    """Close with SO_LINGER 0: the peer gets a TCP reset instead of a FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def frame(payload: bytes, opcode: int = 0x1) -> bytes:
    """One final client frame, masked with the all-zero key (valid, and leaves the payload)."""
    n = len(payload)
    if n < 126:
        head = bytes((0x80 | opcode, 0x80 | n))
    elif n < 65536:
        head = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
    return head + b"\0\0\0\0" + payload


class RawWebSocket:
    """A signalling WebSocket over asyncio streams, read only when the test reads."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, base_url: str, rcvbuf: int | None = None) -> RawWebSocket:
        """Connect and upgrade (``rcvbuf``: the socket's receive buffer size)."""
        sock = tcp_socket(base_url, rcvbuf=rcvbuf)
        # A small stream limit too, so that asyncio does not read ahead of the test either.
        reader, writer = await asyncio.open_connection(sock=sock, limit=4096)
        writer.write(upgrade_request(base_url))
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
        assert b" 101 " in head.split(b"\r\n", 1)[0], head
        return cls(reader, writer)

    def send(self, text: str) -> None:
        """Send one text frame."""
        self.writer.write(frame(text.encode()))

    async def recv(self, within: float = TIMEOUT) -> tuple[int, bytes]:
        """The next frame: (opcode, payload)."""
        async def read() -> tuple[int, bytes]:
            first, second = await self.reader.readexactly(2)
            n = second & 0x7F
            if n == 126:
                n = int.from_bytes(await self.reader.readexactly(2), "big")
            elif n == 127:
                n = int.from_bytes(await self.reader.readexactly(8), "big")
            return first & 0x0F, await self.reader.readexactly(n)
        return await asyncio.wait_for(read(), within)

    def close(self) -> None:
        """Drop the connection."""
        self.writer.close()
