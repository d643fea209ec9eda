"""A plain WebSocket test client for the signalling protocol (no SDK): frames in and out."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any, TypeVar

import aiohttp

from roomcall.protocol.messages import (
    SIGNAL_PATH,
    AnyMessage,
    ClientMessage,
    Join,
    Joined,
    Resume,
    parse,
    serialize,
)
from tests.waiting import WAIT

T = TypeVar("T")
TIMEOUT = WAIT


class SignalClient:
    """One signalling connection; received frames are parsed and queued in order."""

    def __init__(self, session: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse):
        self._session = session
        self.ws = ws
        self.received: asyncio.Queue[AnyMessage] = asyncio.Queue()
        self.close_code: int | None = None
        self.closed = asyncio.Event()
        self._req = itertools.count(1)
        self._reader = asyncio.get_running_loop().create_task(self._read())
        self.joined: Joined | None = None
        self._beating: asyncio.Task[None] | None = None
        self.skipped: list[AnyMessage] = []
        """Messages ``wait_for`` passed over, oldest first."""

    @classmethod
    async def connect(cls, base_url: str) -> SignalClient:
        """Open a connection to the server at ``base_url`` (``ws://host:port``)."""
        session = aiohttp.ClientSession()
        try:
            ws = await session.ws_connect(base_url + SIGNAL_PATH, max_msg_size=0,
                                          autoping=True, timeout=aiohttp.ClientWSTimeout(
                                              ws_close=TIMEOUT))
        except BaseException:
            await session.close()
            raise
        return cls(session, ws)

    def next_req(self) -> int:
        """A fresh request number."""
        return next(self._req)

    async def send(self, msg: ClientMessage) -> None:
        """Send one message."""
        await self.ws.send_str(serialize(msg))

    async def send_raw(self, data: str | bytes) -> None:
        """Send a frame as is."""
        if isinstance(data, bytes):
            await self.ws.send_bytes(data)
        else:
            await self.ws.send_str(data)

    async def recv(self, within: float = TIMEOUT) -> AnyMessage:
        """The next received message."""
        return await asyncio.wait_for(self.received.get(), within)

    async def expect(self, kind: type[T], within: float = TIMEOUT, **fields: Any) -> T:
        """The next message; it must be a ``kind`` with the given field values."""
        msg = await self.recv(within)
        assert isinstance(msg, kind), f"expected {kind.__name__}, got {msg!r}"
        for name, value in fields.items():
            assert getattr(msg, name) == value, f"{name}: {getattr(msg, name)!r} != {value!r}"
        return msg

    async def wait_for(self, kind: type[T], within: float = TIMEOUT, **fields: Any) -> T:
        """Skip messages until a ``kind`` with the given field values arrives."""

        async def find() -> T:
            while True:
                msg = await self.received.get()
                if isinstance(msg, kind) and all(
                        getattr(msg, k) == v for k, v in fields.items()):
                    return msg
                self.skipped.append(msg)

        return await asyncio.wait_for(find(), within)

    async def join(self, token: str, user_data: str = "") -> Joined:
        """Join and return the snapshot (fails the test on any other answer)."""
        req = self.next_req()
        await self.send(Join(req=req, token=token, user_data=user_data))
        self.joined = await self.expect(Joined, req=req)
        return self.joined

    async def resume(self, token: str, session_id: str) -> AnyMessage:
        """Ask to resume ``session_id``; returns the answer (Joined or Error)."""
        req = self.next_req()
        await self.send(Resume(req=req, token=token, session_id=session_id))
        return await self.recv()

    async def wait_closed(self, within: float = TIMEOUT) -> int | None:
        """Wait until the server closes the socket; its close code."""
        await asyncio.wait_for(self.closed.wait(), within)
        return self.close_code

    def saw(self, kind: type) -> bool:
        """Whether a ``kind`` has been received and skipped by a ``wait_for`` (or is queued)."""
        return any(isinstance(m, kind) for m in (*self.skipped, *self.received._queue))  # type: ignore[attr-defined]

    def assert_quiet(self) -> None:
        """Nothing is waiting to be read."""
        assert self.received.empty(), f"unexpected: {self.received.get_nowait()!r}"

    def keep_alive(self, interval: float) -> None:
        """Send a heartbeat (req 0) every ``interval`` seconds until closed."""

        async def beat() -> None:
            while not self.ws.closed:
                await self.ws.send_str('{"type":"heartbeat","req":0}')
                await asyncio.sleep(interval)

        self._beating = asyncio.get_running_loop().create_task(beat())

    async def close(self) -> None:
        """Close the socket and the HTTP session."""
        if self._beating is not None:
            self._beating.cancel()
        await self.ws.close()
        self._reader.cancel()
        await self._session.close()

    async def _read(self) -> None:
        try:
            async for frame in self.ws:
                if frame.type == aiohttp.WSMsgType.TEXT:
                    await self.received.put(parse(frame.data))
        finally:
            self.close_code = self.ws.close_code
            self.closed.set()


async def joined_client(base_url: str, token: str, user_data: str = "") -> SignalClient:
    """A connected client that has joined with ``token``."""
    client = await SignalClient.connect(base_url)
    await client.join(token, user_data)
    return client


async def resuming_client(base_url: str, token: str, away: SignalClient,
                          opened: list[SignalClient]) -> tuple[SignalClient, AnyMessage]:
    """A new connection (added to ``opened``, to be closed by the test) that asked to resume
    ``away``'s session with ``token``, and the server's answer (Joined, Error or Closed)."""
    assert away.joined is not None
    client = await SignalClient.connect(base_url)
    opened.append(client)
    return client, await client.resume(token, away.joined.session_id)
