"""Remote members for desktop tests: plain SDK clients in the host window's room, publishing
synthetic media (a window per member would cost far more CPU for nothing the test reads)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from aiortc.mediastreams import MediaStreamTrack

from roomcall.sdk import LocalPublication, RTCClient
from roomcall.ui.window import MainWindow


@contextlib.asynccontextmanager
async def remote_member(host: MainWindow, user_id: str, name: str,
                        *publications: tuple[MediaStreamTrack, str]
                        ) -> AsyncIterator[tuple[RTCClient, list[LocalPublication]]]:
    """``user_id`` (called ``name``) joins the room ``host`` is in and publishes each
    ``(track, tag)``; leaves on exit. Yields the client and its publications."""
    session = host.session
    server = host.host.server
    assert session is not None and server is not None and session.client.room
    token = str(server.token(session.client.room, user_id, admin=False, ttl=600))
    client = RTCClient(server.url)
    try:
        await client.join(token, name)
        published: list[LocalPublication] = []
        for track, tag in publications:
            published += await client.publish([track], tag=tag)
        yield client, published
    finally:
        await client.leave()
        for track, _tag in publications:
            track.stop()
