"""The room server drives Janus (Debian's 1.1.2, started in namespaces by the test): rooms
move to a VideoRoom past the threshold, Janus admits exactly the room's members, kicks and
closes reach Janus, and a room whose instance dies is re-created on another."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from roomcall.media.synthetic import SyntheticVideoTrack, identity_code
from roomcall.protocol.janus import (
    ERROR_HANDLE_NOT_FOUND,
    ERROR_SESSION_NOT_FOUND,
    ERROR_UNAUTHORIZED,
    VIDEOROOM_UNAUTHORIZED,
    JanusClient,
    JanusError,
    JanusHandle,
)
from roomcall.protocol.messages import (
    EndRoom,
    Kick,
    Leave,
    MediaRoute,
    MediaRouteChanged,
    UserLeft,
)
from roomcall.sdk import RTCClient
from roomcall.server import RoomServer, ServerConfig
from roomcall.server.config import JanusInstanceConfig, SfuConfig
from roomcall.server.health import HEALTH_PATH
from tests.network.janus import JanusBed, JanusInstance, janus_host_candidates
from tests.network.janus_peer import JanusPublisher, JanusSubscriber
from tests.sdk.support import Recorder
from tests.server.signal_client import SignalClient, joined_client
from tests.waiting import scaled, until

pytestmark = pytest.mark.network

THRESHOLD = 3
"""The test app's SFU threshold (the default is 4; three members keep the tests short)."""
ROUTE_WAIT = scaled(10.0)
"""Seconds for a VideoRoom to be made and its route pushed."""


def instance_config(instance: JanusInstance) -> JanusInstanceConfig:
    """What `[[sfu.instances]]` says of a bed instance."""
    setup = instance.setup
    return JanusInstanceConfig(instance.url, setup.api_secret, setup.token_secret,
                               setup.admin_key, setup.admin_url, setup.admin_secret)


@dataclass
class Sfu:
    """A room server with the bed's Janus instances, and a probe handle on each."""

    server: RoomServer
    bed: JanusBed
    probes: dict[str, JanusHandle]

    async def join(self, room: str, user: str, *, admin: bool = False) -> SignalClient:
        client = await joined_client(self.server.url, self.server.token(room, user,
                                                                         admin=admin))
        client.keep_alive(1.0)
        return client

    async def exists(self, url: str, janus_room: str) -> bool:
        answer = await self.probes[url].request({"request": "exists", "room": janus_room})
        return bool(answer["exists"])

    async def participants(self, url: str, janus_room: str) -> list[str]:
        answer = await self.probes[url].request({"request": "listparticipants",
                                                 "room": janus_room})
        return sorted(p["id"] for p in answer["participants"])

    async def handles_of(self, instance: JanusInstance, opaque_id: str) -> int:
        """Handles attached with ``opaque_id`` on ``instance`` (its Admin API)."""
        setup = instance.setup
        admin = await JanusClient.connect(setup.admin_url, admin_secret=setup.admin_secret)
        found = 0
        try:
            sessions = await admin.send({"janus": "list_sessions"})
            for session_id in sessions["sessions"]:
                try:
                    handles = await admin.send({"janus": "list_handles",
                                                "session_id": session_id})
                    for handle_id in handles["handles"]:
                        info = await admin.send({"janus": "handle_info",
                                                 "session_id": session_id,
                                                 "handle_id": handle_id})
                        found += info["info"].get("opaque_id") == opaque_id
                except JanusError as exc:  # gone while listed
                    if exc.code not in (ERROR_SESSION_NOT_FOUND, ERROR_HANDLE_NOT_FOUND):
                        raise
        finally:
            await admin.close()
        return found

    async def health(self) -> dict[str, Any]:
        async with aiohttp.ClientSession() as http, \
                http.get(self.server.http_url + HEALTH_PATH) as reply:
            body: dict[str, Any] = json.loads(await reply.text())
            return body


@pytest.fixture
async def sfu(janus: JanusBed, tmp_path: Path) -> AsyncIterator[Sfu]:
    """A room server on loopback whose `[sfu]` lists two Janus instances (short keepalive
    and retry, so a dead one is noticed in about a second); its default app's threshold is
    :data:`THRESHOLD`."""
    await janus.start_instance()
    config = ServerConfig(port=0, data_dir=tmp_path / "server", sfu=SfuConfig(
        instances=tuple(instance_config(i) for i in janus.instances),
        keepalive_interval=0.5, request_timeout=1.0, retry_interval=0.5))
    server = RoomServer(config)
    await server.start()
    clients: list[JanusClient] = []
    try:
        assert server.default_app is not None
        server.store.update_app(server.default_app.app_id, sfu_threshold=THRESHOLD)
        probes = {}
        for instance in janus.instances:
            client = await JanusClient.connect(instance.url,
                                               api_secret=instance.setup.api_secret)
            clients.append(client)
            probes[instance.url] = await (await client.create_session()).attach()
        yield Sfu(server, janus, probes)
    finally:
        for client in clients:
            await client.close()
        await server.stop()


async def routes(clients: list[SignalClient], reason: str) -> list[MediaRoute]:
    """The `media_route` each client is pushed next with ``reason``."""
    pushes = [await c.wait_for(MediaRouteChanged, ROUTE_WAIT, reason=reason) for c in clients]
    return [p.media for p in pushes]


async def grown_room(sfu: Sfu, room: str) -> tuple[list[SignalClient], list[MediaRoute]]:
    """alice (the host), bob and carol in ``room``, moved to the SFU by carol's join."""
    clients = [await sfu.join(room, "alice", admin=True), await sfu.join(room, "bob")]
    clients.append(await sfu.join(room, "carol"))
    return clients, await routes(clients, "threshold")


def publisher(route: MediaRoute, feed: str = "", label: str = "x",
              room_token: str | None = None) -> Any:
    """Join the route's VideoRoom as publisher ``feed`` (default: the route's own id) with an
    aiortc test pattern; ``room_token`` overrides the route's."""
    return JanusPublisher.join(route.janus_url, route.janus_token, route.janus_room,
                               route.room_token if room_token is None else room_token,
                               feed or route.publisher_id,
                               SyntheticVideoTrack(label, width=160, height=120),
                               opaque_id=route.publisher_id)


async def close_all(clients: list[SignalClient]) -> None:
    for client in clients:
        await client.close()


async def test_a_room_reaching_the_threshold_moves_to_the_sfu(sfu: Sfu) -> None:
    """Below the threshold members get the mesh; the join that reaches it moves the room:
    a VideoRoom exists on an instance, every member (nobody leaving) is pushed its own route
    naming it, with its publisher id as the others know it; a later joiner gets the SFU
    route in its `joined` and can publish with it at once; health counts the room on that
    instance."""
    clients, pushed = await grown_room(sfu, "grow")
    try:
        assert clients[0].joined is not None and clients[0].joined.media.topology == "mesh"
        assert {r.topology for r in pushed} == {"sfu"}
        assert len({(r.janus_url, r.janus_room) for r in pushed}) == 1
        assert len({r.room_token for r in pushed}) == 3 and all(r.janus_token for r in pushed)
        url, janus_room = pushed[0].janus_url, pushed[0].janus_room
        assert await sfu.exists(url, janus_room)
        bob_joined = clients[1].joined
        assert bob_joined is not None
        alice_seen_by_bob = {m.user_id: m.publisher_id for m in bob_joined.members}["alice"]
        assert pushed[0].publisher_id == alice_seen_by_bob
        dave = await sfu.join("grow", "dave")
        clients.append(dave)
        assert dave.joined is not None and dave.joined.media.janus_room == janus_room
        with janus_host_candidates(sfu.bed):
            # At once, as an SDK does: his admit is done before his join reaches Janus.
            late = await publisher(dave.joined.media, label="dave")
            await late.close()
        assert not any(c.saw(UserLeft) for c in clients)
        placed = {i["url"]: i for i in (await sfu.health())["sfu"]}
        assert placed[url]["up"] and (placed[url]["rooms"], placed[url]["members"]) == (1, 4)
    finally:
        await close_all(clients)


async def test_janus_admits_only_the_room_s_members(sfu: Sfu) -> None:
    """A member's route lets it publish (media up); a wrong or absent room token is refused
    by the VideoRoom (433), no core token by Janus itself (403), and a member who left can
    no longer join with its old token."""
    clients, pushed = await grown_room(sfu, "admit")
    alice, bob = pushed[0], pushed[1]
    try:
        with janus_host_candidates(sfu.bed):
            member = await publisher(alice, label="alice")
            try:
                await member.handle.next_event("webrtcup", timeout=scaled(15))
            finally:
                await member.close()
            for token in ("not-a-member", ""):
                with pytest.raises(JanusError) as refused:
                    await publisher(alice, feed=f"{alice.publisher_id}.x", room_token=token)
                assert refused.value.code == VIDEOROOM_UNAUTHORIZED, token
            anonymous = await JanusClient.connect(alice.janus_url)
            try:
                with pytest.raises(JanusError) as caught:
                    await anonymous.create_session()
                assert caught.value.code == ERROR_UNAUTHORIZED
            finally:
                await anonymous.close()
            bob_client = clients[1]
            await bob_client.send(Leave(req=bob_client.next_req()))
            await clients[0].wait_for(UserLeft, ROUTE_WAIT, user_id="bob")

            async def bob_refused() -> bool:
                try:
                    late = await publisher(bob, label="bob")
                except JanusError as exc:
                    return exc.code == VIDEOROOM_UNAUTHORIZED
                await late.close()
                return False

            await until(bob_refused, within=scaled(5), what="bob's token refused")
    finally:
        await close_all(clients)


async def test_a_kicked_member_is_gone_from_janus(sfu: Sfu) -> None:
    """When the host kicks bob, every VideoRoom publisher of his (his id and a second feed,
    ``id.low``) is kicked in Janus (his handles hear `kicked`, the participant list drops
    both), his Janus session watching alice is ended (the Admin API: a VideoRoom kick leaves
    subscriptions running) and his token no longer admits him; alice stays."""
    clients, pushed = await grown_room(sfu, "kick")
    alice, bob = pushed[0], pushed[1]
    try:
        with janus_host_candidates(sfu.bed):
            feeds = [await publisher(alice, label="alice"), await publisher(bob, label="bob"),
                     await publisher(bob, feed=f"{bob.publisher_id}.low", label="bob-low")]
            await feeds[0].handle.next_event("webrtcup", timeout=scaled(15))
            watching = await JanusSubscriber.join(
                bob.janus_url, bob.janus_token, bob.janus_room, bob.room_token,
                feed=alice.publisher_id, private_id=feeds[1].private_id,
                opaque_id=bob.publisher_id)
            try:
                assert (await watching.pattern()).identity == identity_code("alice")
                ids = sorted([alice.publisher_id, bob.publisher_id, f"{bob.publisher_id}.low"])
                assert await sfu.participants(alice.janus_url, alice.janus_room) == ids
                host = clients[0]
                await host.send(Kick(req=host.next_req(), user_id="bob"))
                for feed in feeds[1:]:
                    while (await feed.handle.next_event(timeout=ROUTE_WAIT)).data.get(
                            "reason") != "kicked":
                        pass
                assert await sfu.participants(alice.janus_url, alice.janus_room) == [
                    alice.publisher_id]

                async def watching_ended() -> bool:
                    try:
                        await watching.session.keepalive()
                    except JanusError as exc:
                        return exc.code == ERROR_SESSION_NOT_FOUND
                    return False

                await until(watching_ended, within=ROUTE_WAIT, what="bob's session ended")
                await feeds[0].session.keepalive()  # alice's is not
                with pytest.raises(JanusError) as refused:
                    await publisher(bob, feed=f"{bob.publisher_id}.again")
                assert refused.value.code == VIDEOROOM_UNAUTHORIZED
            finally:
                await watching.close()
                for feed in feeds:
                    await feed.close()
    finally:
        await close_all(clients)


async def test_a_closed_room_s_videoroom_is_destroyed(sfu: Sfu) -> None:
    """The host ending the call closes the room, and its VideoRoom no longer exists in
    Janus; health counts no room on the instance any more."""
    clients, pushed = await grown_room(sfu, "close")
    url, janus_room = pushed[0].janus_url, pushed[0].janus_room
    try:
        assert await sfu.exists(url, janus_room)
        host = clients[0]
        await host.send(EndRoom(req=host.next_req()))

        async def gone() -> bool:
            return not await sfu.exists(url, janus_room)

        await until(gone, within=ROUTE_WAIT, what="the VideoRoom destroyed")
        placed = {i["url"]: i for i in (await sfu.health())["sfu"]}
        assert placed[url]["rooms"] == 0
    finally:
        await close_all(clients)


async def test_a_killed_instance_is_reported_and_its_rooms_move(sfu: Sfu) -> None:
    """Janus killed mid-call: health reports it down within seconds, every member is pushed
    a `failover` route to a new VideoRoom on the other instance, where a member's new tokens
    let it publish again; a new room goes to the live instance; nobody left the room."""
    clients, pushed = await grown_room(sfu, "failover")
    first = pushed[0].janus_url
    dead = next(i for i in sfu.bed.instances if i.url == first)
    other = next(i for i in sfu.bed.instances if i.url != first)
    try:
        with janus_host_candidates(sfu.bed):
            feed = await publisher(pushed[0], label="alice")
            await feed.handle.next_event("webrtcup", timeout=scaled(15))
            dead.kill()
            moved = await routes(clients, "failover")
            await feed.close()
            assert {r.janus_url for r in moved} == {other.url}
            assert len({r.janus_room for r in moved}) == 1
            assert all(r.room_token == p.room_token for r, p in zip(moved, pushed, strict=True))
            assert await sfu.exists(other.url, moved[0].janus_room)
            health = {i["url"]: i for i in (await sfu.health())["sfu"]}
            assert not health[first]["up"] and health[first]["failures"] >= 1
            assert health[other.url]["up"] and health[other.url]["rooms"] == 1
            again = await publisher(moved[0], label="alice")
            try:
                await again.handle.next_event("webrtcup", timeout=scaled(15))
            finally:
                await again.close()
        newcomers = await grown_room(sfu, "after")
        try:
            assert {r.janus_url for r in newcomers[1]} == {other.url}
        finally:
            await close_all(newcomers[0])
        assert not any(c.saw(UserLeft) for c in clients)
    finally:
        await close_all(clients)


async def test_rooms_wait_on_the_mesh_while_no_instance_is_up(sfu: Sfu) -> None:
    """With every instance dead, a room reaching the threshold stays on the mesh (no push)
    and health shows none up; when an instance is back, the room is placed there and its
    members are pushed their routes."""
    for instance in sfu.bed.instances:
        instance.kill()

    async def none_up() -> bool:
        return not any(i["up"] for i in (await sfu.health())["sfu"])

    await until(none_up, within=ROUTE_WAIT, what="every instance reported down")
    clients = [await sfu.join("wait", "alice"), await sfu.join("wait", "bob"),
               await sfu.join("wait", "carol")]
    try:
        back = sfu.bed.instances[1]
        await sfu.bed.restart(back)
        pushed = await routes(clients, "threshold")
        assert {r.janus_url for r in pushed} == {back.url}
        assert not any(c.saw(MediaRouteChanged) for c in clients)  # nothing before it
        client = await JanusClient.connect(back.url, api_secret=back.setup.api_secret)
        try:
            probe = await (await client.create_session()).attach()
            exists = await probe.request({"request": "exists", "room": pushed[0].janus_room})
            assert exists["exists"] is True
        finally:
            await client.close()
    finally:
        await close_all(clients)


async def test_a_kicked_sdk_member_leaves_no_handle_in_janus(sfu: Sfu) -> None:
    """Three RTCClients move to the SFU and publish; when the host kicks bob, bob ends
    KICKED_OUT, and Janus holds no participant and no handle of his any more (publisher and
    subscriber alike), while alice's and carol's stay."""
    with janus_host_candidates(sfu.bed):
        await _kick_through_the_sdk(sfu)


async def _kick_through_the_sdk(sfu: Sfu) -> None:
    app = sfu.server.default_app
    assert app is not None
    clients = {name: RTCClient(sfu.server.url) for name in ("alice", "bob", "carol")}
    recorders = {name: Recorder(client) for name, client in clients.items()}
    sources = [SyntheticVideoTrack(name, width=160, height=120) for name in clients]
    try:
        for (name, client), source in zip(clients.items(), sources, strict=True):
            await client.join(sfu.server.token("sdkkick", name, admin=name == "alice"))
            await client.publish([source], tag="camera")
        room = sfu.server.rooms.open_room(app.app_id, "sdkkick")
        assert room is not None
        ids = {name: m.publisher_id for name, m in room.members.items()}
        instance = sfu.bed.instances[0]

        async def placed() -> bool:
            return room.placement is not None

        await until(placed, within=ROUTE_WAIT, what="the room on the SFU")
        assert room.placement is not None
        url, janus_room = room.placement.janus_url, room.placement.janus_room
        assert url == instance.url

        async def all_in() -> bool:
            counts = [await sfu.handles_of(instance, i) for i in ids.values()]
            return all(counts)

        await until(all_in, within=scaled(30), what="every member's handles in Janus")
        await clients["alice"].kick_user("bob")
        await recorders["bob"].wait("connection_state_changed",
                                    lambda state, info: state.name == "DISCONNECTED")

        async def bob_gone() -> bool:
            participants = await sfu.participants(url, janus_room)
            mine = [p for p in participants if p.split(".")[0] == ids["bob"]]
            return not mine and await sfu.handles_of(instance, ids["bob"]) == 0

        await until(bob_gone, within=ROUTE_WAIT, what="bob's participant and handles gone")
        (_, info), = [a for a in recorders["bob"].named("connection_state_changed")
                      if a[0].name == "DISCONNECTED"]
        assert info.reason.name == "KICKED_OUT"
        for name in ("alice", "carol"):
            assert await sfu.handles_of(instance, ids[name]) > 0, name
    finally:
        for client in clients.values():
            with contextlib.suppress(Exception):
                await client.leave()
        for source in sources:
            source.stop()
