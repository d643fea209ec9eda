"""aiortc publishers and subscribers of a Janus VideoRoom, in this test process (the pattern
of aiortc's ``examples/janus``), for tests of the Janus client and of the room server's
Janus rooms. Candidates are gathered before the offer is sent (aiortc does not trickle).

    publisher = await JanusPublisher.join(url, core_token, room, room_token, "alice-cam",
                                          SyntheticVideoTrack("alice"))
    subscriber = await JanusSubscriber.join(url, core_token, room, room_token,
                                            feed="alice-cam")
    info = await subscriber.pattern()          # decoded from what Janus forwarded
    await publisher.close(); await subscriber.close()
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription

from roomcall.media.pattern import PatternInfo, decode_pattern
from roomcall.protocol.janus import JanusClient, JanusHandle, JanusSession
from tests.waiting import scaled

MEDIA_TIMEOUT = scaled(20.0)
"""Seconds from sending an offer to media flowing (ICE, DTLS, a keyframe)."""


def _jsep(pc: RTCPeerConnection) -> dict[str, Any]:
    description = pc.localDescription
    return {"type": description.type, "sdp": description.sdp}


@dataclass
class _Participant:
    client: JanusClient
    session: JanusSession
    handle: JanusHandle
    pc: RTCPeerConnection

    async def close(self) -> None:
        """Leave: close the peer connection, detach, destroy the session, close the socket."""
        await self.pc.close()
        try:
            await self.handle.detach()
            await self.session.destroy()
        finally:
            await self.client.close()


async def _open(url: str, core_token: str | None, opaque_id: str | None
                ) -> tuple[JanusClient, JanusSession, JanusHandle]:
    client = await JanusClient.connect(url, token=core_token)
    try:
        session = await client.create_session()
        handle = await session.attach(opaque_id=opaque_id)
    except BaseException:
        await client.close()
        raise
    return client, session, handle


@dataclass
class JanusPublisher(_Participant):
    """A member publishing one track as VideoRoom publisher ``publisher_id``."""

    publisher_id: str
    private_id: int = 0
    """What Janus answered the join with: subscriptions of this member name it."""

    @classmethod
    async def join(cls, url: str, core_token: str | None, room: str, room_token: str | None,
                   publisher_id: str, track: MediaStreamTrack, *, display: str = "",
                   opaque_id: str | None = None) -> JanusPublisher:
        """Join ``room`` as a publisher and publish ``track``; returns once Janus has answered
        the offer (JanusError if Janus refuses the join). ``opaque_id`` tags the handle."""
        client, session, handle = await _open(url, core_token, opaque_id)
        pc = RTCPeerConnection()
        self = cls(client, session, handle, pc, publisher_id)
        try:
            body: dict[str, Any] = {"request": "join", "ptype": "publisher", "room": room,
                                    "id": publisher_id, "display": display or publisher_id}
            if room_token is not None:
                body["token"] = room_token
            joined, _ = await handle.message(body)
            self.private_id = int(joined.get("private_id", 0))
            pc.addTrack(track)
            await pc.setLocalDescription(await pc.createOffer())
            video = track.kind == "video"
            _, answer = await handle.message(
                {"request": "publish", "audio": not video, "video": video}, jsep=_jsep(pc))
            assert answer is not None, "Janus answered a publish without SDP"
            await pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], answer["type"]))
        except BaseException:
            await self.close()
            raise
        return self


@dataclass
class JanusSubscriber(_Participant):
    """A member subscribed to one publisher's feed."""

    tracks: asyncio.Queue[MediaStreamTrack]

    @classmethod
    async def join(cls, url: str, core_token: str | None, room: str, room_token: str | None,
                   *, feed: str, private_id: int | None = None, opaque_id: str | None = None
                   ) -> JanusSubscriber:
        """Subscribe to ``feed`` in ``room`` (Janus offers, aiortc answers, ``start``) on
        behalf of the publisher that joined with ``private_id`` (rooms may require one)."""
        client, session, handle = await _open(url, core_token, opaque_id)
        pc = RTCPeerConnection()
        tracks: asyncio.Queue[MediaStreamTrack] = asyncio.Queue()
        pc.on("track", tracks.put_nowait)
        self = cls(client, session, handle, pc, tracks)
        try:
            body: dict[str, Any] = {"request": "join", "ptype": "subscriber", "room": room,
                                    "streams": [{"feed": feed}]}
            if room_token is not None:
                body["token"] = room_token
            if private_id is not None:
                body["private_id"] = private_id
            _, offer = await handle.message(body)
            assert offer is not None, "Janus sent no offer to a subscriber"
            await pc.setRemoteDescription(RTCSessionDescription(offer["sdp"], offer["type"]))
            await pc.setLocalDescription(await pc.createAnswer())
            await handle.message({"request": "start"}, jsep=_jsep(pc))
        except BaseException:
            await self.close()
            raise
        return self

    async def pattern(self, within: float = MEDIA_TIMEOUT) -> PatternInfo:
        """The first decodable test pattern received from the feed."""
        async with asyncio.timeout(within):
            track = await self.tracks.get()
            while True:
                info = decode_pattern(await track.recv())  # type: ignore[arg-type]
                if info is not None:
                    return info
