"""The rooms core's media routes (no sockets, no Janus): when a room moves to the SFU, the
Janus work each change of membership asks for, and what members are told."""

from __future__ import annotations

import pytest

from roomcall.protocol.janus import TOKEN_REALM
from roomcall.protocol.messages import CAUSE_CLOSED, MESH, Closed, MediaRouteChanged
from roomcall.server.config import JanusInstanceConfig, ServerConfig, SfuConfig
from roomcall.server.room import MediaOp, Placement, RoomSettings
from tests.server.test_rooms import APP, ROOM, World

INSTANCE = JanusInstanceConfig("ws://203.0.113.20:8188", "api", "token-secret", "key")
WITH_SFU = ServerConfig(sfu=SfuConfig(instances=(INSTANCE,), token_ttl=600))
PLACEMENT = Placement(INSTANCE.url, "vr1", INSTANCE.token_secret)


def ops(effects: object) -> list[tuple[str, str]]:
    """(kind, reason or publisher id) of each Janus op."""
    return [(op.kind, op.reason or op.publisher_id) for op in effects.media]  # type: ignore[attr-defined]


@pytest.mark.parametrize("threshold, moves_at", [(4, 4), (2, 2), (1, 1), (0, None)])
def test_a_room_moves_when_it_reaches_its_app_s_threshold(threshold: int,
                                                         moves_at: int | None) -> None:
    """The join that brings the room to the app's threshold asks for a VideoRoom (once);
    0 never moves; joins before it ask for nothing."""
    world = World(RoomSettings(sfu_threshold=threshold), WITH_SFU)
    for n in range(1, 7):
        _, effects = world.join(f"user{n}")
        if moves_at is not None and n == moves_at:
            assert ops(effects) == [("place", "threshold")]
            assert effects.media[0].publishers == 64 * 3
        elif moves_at is not None and n > moves_at:
            assert [k for k, _ in ops(effects)] == ["admit"]
        else:
            assert effects.media == []


def test_without_instances_or_with_always() -> None:
    """No [sfu] instances: no room ever moves; `always`: the first join moves it."""
    world = World(RoomSettings(sfu_threshold=1))
    assert world.join("alice")[1].media == []
    always = World(RoomSettings(sfu_threshold=0),
                   ServerConfig(sfu=SfuConfig(instances=(INSTANCE,), always=True)))
    assert ops(always.join("alice")[1]) == [("place", "always")]


def test_place_pushes_each_member_its_own_route_and_removals_and_closes_follow() -> None:
    """Once placed, every member is pushed an sfu route with its own room token and
    publisher id and a core token signed for [sfu] token_ttl; a resume's joined carries the
    route; a leave removes that member's token and publishers; a close destroys the room."""
    world = World(RoomSettings(sfu_threshold=2, max_users=5), WITH_SFU)
    alice, _ = world.join("alice")
    assert alice.media == MESH
    _, effects = world.join("bob")
    assert effects.media[0] == MediaOp("place", APP, ROOM, reason="threshold", publishers=15)
    pushed = world.rooms.place(APP, ROOM, PLACEMENT, "threshold", world.now)
    routes = {sid: msg for sid, msg in pushed.sends}
    assert set(routes) == {world.sid["alice"], world.sid["bob"]}
    alice_route = routes[world.sid["alice"]]
    assert isinstance(alice_route, MediaRouteChanged) and alice_route.reason == "threshold"
    media = alice_route.media
    assert (media.topology, media.janus_url, media.janus_room) == ("sfu", INSTANCE.url, "vr1")
    expiry, realm = media.janus_token.split(",")[:2]
    assert (int(expiry), realm) == (int(world.now) + 600, TOKEN_REALM)
    assert media.publisher_id.startswith("alice~")
    tokens = world.rooms.room_tokens(APP, ROOM)
    assert tokens is not None and media.room_token in tokens and len(set(tokens)) == 2
    world.rooms.disconnect(world.sid["alice"], world.now)
    resumed, _ = world.rooms.resume(app_id=APP, room=ROOM, user_id="alice",
                                    session_id=world.sid["alice"], now=world.now, req=2)
    assert resumed.media.janus_room == "vr1" and resumed.media.room_token == media.room_token
    left = world.rooms.leave(world.sid["alice"], world.now)
    assert left.media == [MediaOp("remove", APP, ROOM, media.room_token, media.publisher_id,
                                  reason="leave")]
    closed = world.rooms.close_room(APP, ROOM, world.now)
    assert closed is not None and ops(closed) == [("close", "")]


def test_an_unplaced_room_tells_resumers_the_mesh_and_a_closed_room_is_not_placed() -> None:
    """After its instance failed (unplace) a resume gets the mesh until the room is placed
    again; placing a room that closed meanwhile sends nothing."""
    world = World(RoomSettings(sfu_threshold=1), WITH_SFU)
    world.join("alice")
    world.rooms.place(APP, ROOM, PLACEMENT, "threshold", world.now)
    world.rooms.unplace(APP, ROOM)
    world.rooms.disconnect(world.sid["alice"], world.now)
    resumed, _ = world.rooms.resume(app_id=APP, room=ROOM, user_id="alice",
                                    session_id=world.sid["alice"], now=world.now, req=2)
    assert resumed.media == MESH
    world.rooms.close_all(Closed("ROOM_CLOSED", 10005, "bye", CAUSE_CLOSED), world.now)
    assert world.rooms.place(APP, ROOM, PLACEMENT, "failover", world.now).sends == []
    assert world.rooms.room_tokens(APP, ROOM) is None


def test_core_tokens_are_renewed_half_way_through_their_lifetime() -> None:
    """A placed room's members are pushed fresh core tokens (reason `renewed`, same room and
    room token) every half token lifetime; a room whose VideoRoom is gone is not."""
    world = World(RoomSettings(sfu_threshold=1), WITH_SFU)
    world.join("alice")
    first = world.rooms.place(APP, ROOM, PLACEMENT, "threshold", world.now).sends[0][1]
    assert isinstance(first, MediaRouteChanged)
    for _ in range(2):
        world.rooms.touch(world.sid["alice"], world.now + 299)
        renewed = [m for _, m in world.advance(300).sends if isinstance(m, MediaRouteChanged)]
        assert [m.reason for m in renewed] == ["renewed"]
        media = renewed[0].media
        assert (media.janus_room, media.room_token) == ("vr1", first.media.room_token)
        assert int(media.janus_token.split(",")[0]) == int(world.now) + 600
    world.rooms.unplace(APP, ROOM)
    world.rooms.touch(world.sid["alice"], world.now + 299)
    assert not any(isinstance(m, MediaRouteChanged) for _, m in world.advance(300).sends)
