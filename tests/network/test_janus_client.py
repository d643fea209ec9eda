"""roomcall.protocol.janus against a real Janus (Debian's 1.1.2) in a network namespace:
requests and their errors, signed tokens, media through a VideoRoom, unsolicited events, and
what waiters see when the instance dies or hangs."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import AsyncIterator

import pytest

from roomcall.media.synthetic import SyntheticVideoTrack, identity_code
from roomcall.protocol.janus import (
    ERROR_UNAUTHORIZED,
    ERROR_UNAUTHORIZED_PLUGIN,
    VIDEOROOM_NO_SUCH_ROOM,
    VIDEOROOM_UNAUTHORIZED,
    JanusClient,
    JanusClosedError,
    JanusError,
    JanusHandle,
    JanusTimeoutError,
    sign_janus_token,
)
from tests.network.janus import JanusBed, JanusInstance, janus_host_candidates
from tests.network.janus_peer import JanusPublisher, JanusSubscriber
from tests.waiting import scaled

pytestmark = pytest.mark.network

ROOM_SECRET = "room-secret-for-this-test"


@pytest.fixture
def instance(janus: JanusBed) -> JanusInstance:
    """The bed's first Janus."""
    return janus.instances[0]


@pytest.fixture
async def admin(instance: JanusInstance) -> AsyncIterator[JanusHandle]:
    """A VideoRoom handle of the room server's kind (API secret, no token)."""
    client = await JanusClient.connect(instance.url, api_secret=instance.setup.api_secret)
    try:
        session = await client.create_session()
        yield await session.attach()
    finally:
        await client.close()


def core_token(instance: JanusInstance, ttl: int = 60) -> str:
    """A member's signed core token for the VideoRoom."""
    return sign_janus_token(instance.setup.token_secret, int(time.time()) + ttl)


async def create_room(admin: JanusHandle, instance: JanusInstance, room: str,
                      allowed: list[str]) -> None:
    await admin.request({"request": "create", "room": room, "secret": ROOM_SECRET,
                         "admin_key": instance.setup.admin_key, "publishers": 6,
                         "bitrate": 1_000_000, "allowed": allowed})


async def test_videoroom_requests_and_their_errors(admin: JanusHandle,
                                                   instance: JanusInstance) -> None:
    """create, exists, listparticipants and destroy answer with the plugin's data; a wrong
    room secret raises the plugin's 433 and an unknown room 426, as JanusError."""
    await create_room(admin, instance, "r1", [])
    assert (await admin.request({"request": "exists", "room": "r1"}))["exists"] is True
    listed = await admin.request({"request": "listparticipants", "room": "r1"})
    assert listed["participants"] == []
    with pytest.raises(JanusError) as wrong:
        await admin.request({"request": "destroy", "room": "r1", "secret": "not-it"})
    assert wrong.value.code == VIDEOROOM_UNAUTHORIZED
    await admin.request({"request": "destroy", "room": "r1", "secret": ROOM_SECRET})
    assert (await admin.request({"request": "exists", "room": "r1"}))["exists"] is False
    with pytest.raises(JanusError) as unknown:
        await admin.request({"request": "listparticipants", "room": "r1"})
    assert unknown.value.code == VIDEOROOM_NO_SUCH_ROOM


async def test_a_room_cannot_be_created_without_the_admin_key(admin: JanusHandle) -> None:
    """The generated configuration sets VideoRoom's admin_key: a create without it is refused."""
    with pytest.raises(JanusError):
        await admin.request({"request": "create", "room": "r2", "secret": ROOM_SECRET})
    assert (await admin.request({"request": "exists", "room": "r2"}))["exists"] is False


async def test_core_requests_need_the_api_secret_or_a_signed_token(
        instance: JanusInstance) -> None:
    """No credential, a token signed with another secret or an expired one gets 403; a token
    for another plugin cannot attach to the VideoRoom (405); a good token works."""
    refused = [None, sign_janus_token("another secret", int(time.time()) + 60),
               core_token(instance, ttl=-5)]
    for token in refused:
        client = await JanusClient.connect(instance.url, token=token)
        try:
            with pytest.raises(JanusError) as caught:
                await client.create_session()
            assert caught.value.code == ERROR_UNAUTHORIZED, token
        finally:
            await client.close()
    other_plugin = sign_janus_token(instance.setup.token_secret, int(time.time()) + 60,
                                    plugins=["janus.plugin.echotest"])
    client = await JanusClient.connect(instance.url, token=other_plugin)
    try:
        session = await client.create_session()
        with pytest.raises(JanusError) as caught:
            await session.attach()
        assert caught.value.code == ERROR_UNAUTHORIZED_PLUGIN
    finally:
        await client.close()
    client = await JanusClient.connect(instance.url, token=core_token(instance))
    try:
        handle = await (await client.create_session()).attach()
        assert handle.attached
    finally:
        await client.close()


async def test_media_flows_through_a_videoroom_and_events_arrive(
        janus: JanusBed, admin: JanusHandle, instance: JanusInstance) -> None:
    """An aiortc publisher and subscriber (signed tokens, room tokens in `allowed`) exchange a
    test pattern the subscriber decodes; a participant already in the room gets the
    unsolicited `publishers` event naming the new feed; a wrong room token is refused."""
    await create_room(admin, instance, "media", ["tok-a", "tok-b", "tok-w"])
    token = core_token(instance)
    with janus_host_candidates(janus):
        watcher = await JanusPublisher.join(instance.url, token, "media", "tok-w", "watcher",
                                            SyntheticVideoTrack("watcher", width=160,
                                                                height=120))
        try:
            with pytest.raises(JanusError) as refused:
                await JanusPublisher.join(instance.url, token, "media", "wrong", "intruder",
                                          SyntheticVideoTrack("x", width=160, height=120))
            assert refused.value.code == VIDEOROOM_UNAUTHORIZED
            publisher = await JanusPublisher.join(
                instance.url, token, "media", "tok-a", "alice-cam",
                SyntheticVideoTrack("alice", width=320, height=240))
            try:
                while True:
                    event = await watcher.handle.next_event(timeout=scaled(10))
                    feeds = [p["id"] for p in event.data.get("publishers", [])]
                    if "alice-cam" in feeds:
                        break
                subscriber = await JanusSubscriber.join(instance.url, token, "media", "tok-b",
                                                        feed="alice-cam")
                try:
                    info = await subscriber.pattern()
                    assert info.identity == identity_code("alice")
                finally:
                    await subscriber.close()
            finally:
                await publisher.close()
        finally:
            await watcher.close()


async def test_a_kicked_participant_hears_of_it(janus: JanusBed, admin: JanusHandle,
                                                instance: JanusInstance) -> None:
    """kick with the room secret removes the participant from listparticipants, and its own
    handle gets the unsolicited `leaving: ok, reason: kicked` event."""
    await create_room(admin, instance, "kick", ["tok"])
    with janus_host_candidates(janus):
        member = await JanusPublisher.join(instance.url, core_token(instance), "kick", "tok",
                                           "bob-cam", SyntheticVideoTrack("bob", width=160,
                                                                          height=120))
        try:
            await admin.request({"request": "kick", "room": "kick", "secret": ROOM_SECRET,
                                 "id": "bob-cam"})
            while True:
                event = await member.handle.next_event(timeout=scaled(10))
                if event.data.get("reason") == "kicked":
                    break
            listed = await admin.request({"request": "listparticipants", "room": "kick"})
            assert listed["participants"] == []
        finally:
            await member.close()


async def test_waiters_fail_at_once_when_janus_dies(instance: JanusInstance) -> None:
    """A Janus killed while a request waits fails that request with JanusClosedError, well
    before its timeout; wait_closed returns, later requests fail the same way, and a
    handle's event iterator ends."""
    client = await JanusClient.connect(instance.url, api_secret=instance.setup.api_secret)
    try:
        session = await client.create_session()
        handle = await session.attach()
        assert instance.process is not None
        os.kill(instance.process.pid, signal.SIGSTOP)  # the request below stays unanswered
        pending = asyncio.create_task(handle.request({"request": "list"}, timeout=scaled(30)))
        await asyncio.sleep(0)
        instance.kill()
        started = time.monotonic()
        with pytest.raises(JanusClosedError):
            await pending
        assert time.monotonic() - started < scaled(5)
        async with asyncio.timeout(scaled(5)):
            await client.wait_closed()
            assert [e async for e in handle.events()] == []
        with pytest.raises(JanusClosedError):
            await client.create_session()
        assert not session.alive and not handle.attached
    finally:
        await client.close()


async def test_a_hung_janus_times_requests_out_and_keepalive_closes_the_client(
        instance: JanusInstance) -> None:
    """A stopped (hung) Janus answers nothing: a request raises JanusTimeoutError after its
    timeout, and the session's keepalive, unanswered, closes the client."""
    client = await JanusClient.connect(instance.url, api_secret=instance.setup.api_secret)
    assert instance.process is not None
    try:
        session = await client.create_session(keepalive=0.5, timeout=1.0)
        handle = await session.attach()
        os.kill(instance.process.pid, signal.SIGSTOP)
        with pytest.raises(JanusTimeoutError):
            await handle.request({"request": "list"}, timeout=0.5)
        async with asyncio.timeout(scaled(5)):
            await client.wait_closed()
        assert not session.alive
    finally:
        os.kill(instance.process.pid, signal.SIGCONT)
        await client.close()


def test_janus_listens_on_its_websocket_address_only(instance: JanusInstance) -> None:
    """With the generated configuration Janus opens two TCP listeners, the WebSocket API and
    the WebSocket Admin API, both on its veth address: no HTTP, nothing on every interface."""
    listening = subprocess.run(
        ["ip", "netns", "exec", instance.namespace, "ss", "-ltnH"], capture_output=True,
        text=True, check=True).stdout.split("\n")
    sockets = sorted(line.split()[3] for line in listening if line.strip())
    setup = instance.setup
    assert sockets == sorted([f"{setup.address}:{setup.ws_port}",
                              f"{setup.address}:{setup.admin_ws_port}"])


async def test_the_admin_api_needs_its_secret(instance: JanusInstance) -> None:
    """The Admin API answers list_sessions with the admin secret and refuses a wrong one
    (403), so only the room server can end sessions there."""
    setup = instance.setup
    admin = await JanusClient.connect(setup.admin_url, admin_secret=setup.admin_secret)
    try:
        assert isinstance((await admin.send({"janus": "list_sessions"}))["sessions"], list)
    finally:
        await admin.close()
    wrong = await JanusClient.connect(setup.admin_url, admin_secret="not-it")
    try:
        with pytest.raises(JanusError) as refused:
            await wrong.send({"janus": "list_sessions"})
        assert refused.value.code == ERROR_UNAUTHORIZED
    finally:
        await wrong.close()
