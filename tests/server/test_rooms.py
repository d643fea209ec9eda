"""The rooms core at Qiniu's default durations, driven by a fake clock (no sockets, no sleeping)."""

from __future__ import annotations

import pytest

from roomcall.protocol.errors import ErrorCode
from roomcall.protocol.messages import (
    Ack,
    Closed,
    Joined,
    Message,
    Permission,
    Published,
    ServerMessage,
    TrackMuted,
    TrackSpec,
    UserJoined,
    UserLeft,
    UserPublished,
    UserReconnected,
    UserReconnecting,
    UserUnpublished,
)
from roomcall.server.config import IceConfig, ServerConfig
from roomcall.server.room import Effects, RoomError, RoomSettings
from roomcall.server.rooms import REPLACED_MESSAGE, Rooms, SessionEnded

APP = "app1"
ROOM = "room1"


class World:
    """A rooms core with a fake clock and named sessions."""

    def __init__(self, settings: RoomSettings | None = None,
                 config: ServerConfig | None = None) -> None:
        self.rooms = Rooms(config or ServerConfig())
        self.now = 1_000_000.0
        self.settings = settings or RoomSettings()
        self.sid: dict[str, str] = {}

    def join(self, user: str, *, permission: Permission = "user", room: str = ROOM,
             user_data: str = "") -> tuple[Joined, Effects]:
        joined, effects = self.rooms.join(app_id=APP, room=room, user_id=user,
                                          user_data=user_data, permission=permission,
                                          settings=self.settings, now=self.now, req=1)
        self.sid[user] = joined.session_id
        return joined, effects

    def advance(self, seconds: float) -> Effects:
        """Move the clock, firing every deadline on the way as the shell's timer would."""
        target = self.now + seconds
        effects = Effects()
        while (d := self.rooms.next_deadline()) is not None and d <= target:
            self.now = max(self.now, d)
            effects.extend(self.rooms.tick(self.now))
        self.now = target
        return effects

    def to(self, effects: Effects, user: str) -> list[ServerMessage]:
        return [m for s, m in effects.sends if s == self.sid[user]]


def test_join_creates_room_and_announces() -> None:
    """The first join creates the room; a second member sees the first and is announced."""
    w = World()
    joined, effects = w.join("alice", permission="admin", user_data="A")
    assert joined.members == () and joined.permission == "admin" and not effects.sends
    joined, effects = w.join("bob")
    assert [m.user_id for m in joined.members] == ["alice"]
    assert joined.heartbeat_interval == 5.0 and joined.reconnect_window == 30.0
    (event,) = w.to(effects, "alice")
    assert isinstance(event, UserJoined) and event.member.user_id == "bob"
    assert w.rooms.room_users(APP, ROOM) == ["alice", "bob"]


def test_empty_room_closes_after_ten_seconds() -> None:
    """A room whose last member left closes 10 s later, not before."""
    w = World()
    w.join("alice")
    w.rooms.leave(w.sid["alice"], w.now)
    w.advance(9.9)
    assert w.rooms.active_rooms(APP) == [ROOM]
    w.advance(0.2)
    assert w.rooms.active_rooms(APP) == []


def test_rejoin_cancels_empty_room_close() -> None:
    """Someone joining an empty room before it closes keeps it open."""
    w = World()
    w.join("alice")
    w.rooms.leave(w.sid["alice"], w.now)
    w.advance(5)
    w.join("bob")
    for _ in range(10):
        w.advance(5)
        w.rooms.touch(w.sid["bob"], w.now)
    assert w.rooms.room_users(APP, ROOM) == ["bob"]


def test_unjoined_api_room_closes_after_thirty_seconds() -> None:
    """A room created through the API that nobody joins closes after 30 s."""
    w = World()
    assert w.rooms.create_room(APP, ROOM, RoomSettings(), w.now)
    assert not w.rooms.create_room(APP, ROOM, RoomSettings(), w.now)
    w.advance(29.9)
    assert w.rooms.active_rooms(APP) == [ROOM]
    w.advance(0.2)
    assert w.rooms.active_rooms(APP) == []


def test_joined_api_room_stays_open() -> None:
    """A join within the 30 s keeps an API-created room open past them."""
    w = World()
    w.rooms.create_room(APP, ROOM, RoomSettings(), w.now)
    w.advance(20)
    w.join("alice")
    w.advance(15)
    assert w.rooms.room_users(APP, ROOM) == ["alice"]


def test_silent_member_removed_after_thirty_seconds() -> None:
    """A member not heard from for 30 s is removed; others get user_left reason timeout."""
    w = World()
    w.join("alice")
    w.join("bob")
    left: list[ServerMessage] = []
    for _ in range(5):
        left += w.to(w.advance(5), "alice")
        w.rooms.touch(w.sid["alice"], w.now)
    assert left == [] and w.rooms.room_users(APP, ROOM) == ["alice", "bob"]
    left += w.to(w.advance(5.1), "alice")
    assert left == [UserLeft("bob", "timeout")]
    assert w.rooms.room_users(APP, ROOM) == ["alice"]


def test_silent_member_gets_closed_and_others_user_left() -> None:
    """The removal of a silent but connected member sends it closed ERROR 11013."""
    w = World()
    w.join("alice")
    w.join("bob")
    w.advance(29)
    w.rooms.touch(w.sid["alice"], w.now)
    effects = w.advance(1.5)
    (closed,) = w.to(effects, "bob")
    assert isinstance(closed, Closed) and closed.code == ErrorCode.SIGNALLING_TIMEOUT
    assert effects.closes == [w.sid["bob"]]
    assert w.to(effects, "alice") == [UserLeft("bob", "timeout")]


def test_disconnect_then_resume_inside_window() -> None:
    """A lost member resumes within 30 s: others see reconnecting then reconnected, no churn."""
    w = World()
    w.join("alice")
    w.join("bob")
    published = w.rooms.publish(w.sid["bob"], [TrackSpec("video", "camera")], 2)
    assert isinstance(w.to(published, "bob")[0], Published)
    effects = w.rooms.disconnect(w.sid["bob"], w.now)
    assert w.to(effects, "alice") == [UserReconnecting("bob")]
    w.advance(29)
    joined, effects = w.rooms.resume(app_id=APP, room=ROOM, user_id="bob",
                                     session_id=w.sid["bob"], now=w.now, req=3)
    assert joined.resumed and [t.track_id for t in joined.tracks] == ["t1"]
    assert w.to(effects, "alice") == [UserReconnected("bob")]
    assert w.rooms.room_users(APP, ROOM) == ["alice", "bob"]


def test_join_and_resume_answers_carry_fresh_turn_credentials() -> None:
    """Each member's join answer lists the configured STUN and TURN servers, TURN with a
    credential for that member expiring a ttl after the answer; a resume mints a new one."""
    ice = IceConfig(stun_urls=("stun:turn.example.org:3478",),
                    turn_urls=("turn:turn.example.org:3478?transport=udp",
                               "turn:turn.example.org:443?transport=tcp"),
                    turn_secret="s3cret", turn_credential_ttl=600)
    w = World(config=ServerConfig(ice=ice))
    joined, _ = w.join("alice")
    assert joined.ice_servers == ice.servers_for("alice", w.now)
    stun, turn = joined.ice_servers
    assert stun.urls == ice.stun_urls and turn.urls == ice.turn_urls
    assert turn.username == f"{int(w.now) + 600}:alice"
    w.rooms.disconnect(w.sid["alice"], w.now)
    w.advance(10)
    resumed, _ = w.rooms.resume(app_id=APP, room=ROOM, user_id="alice",
                                session_id=w.sid["alice"], now=w.now, req=2)
    assert resumed.ice_servers[1].username == f"{int(w.now) + 600}:alice"
    assert resumed.ice_servers[1].credential != turn.credential


def test_without_ice_config_members_get_no_servers() -> None:
    """No ``[ice]`` settings: the answer lists no servers (host candidates only)."""
    joined, _ = World().join("alice")
    assert joined.ice_servers == ()


def test_resume_outside_window_is_refused() -> None:
    """After 30 s the lost member is gone (user_left timeout) and a resume gets 21003."""
    w = World()
    w.join("alice")
    w.join("bob")
    w.rooms.disconnect(w.sid["bob"], w.now)
    w.rooms.touch(w.sid["alice"], w.now + 25)
    effects = w.advance(30.1)
    assert UserLeft("bob", "timeout") in w.to(effects, "alice")
    assert not w.to(effects, "bob")  # nothing is sent to a lost connection
    with pytest.raises(RoomError) as err:
        w.rooms.resume(app_id=APP, room=ROOM, user_id="bob", session_id=w.sid["bob"],
                       now=w.now, req=3)
    assert err.value.code == ErrorCode.RECONNECT_FAILED


def test_resume_of_someone_elses_session_is_refused() -> None:
    """A session id resumes only for its own user and room."""
    w = World()
    w.join("alice")
    w.join("bob")
    with pytest.raises(RoomError) as err:
        w.rooms.resume(app_id=APP, room=ROOM, user_id="alice", session_id=w.sid["bob"],
                       now=w.now, req=3)
    assert err.value.code == ErrorCode.RECONNECT_FAILED


def test_room_full() -> None:
    """max_users caps the room: the next join gets 10011; a same-user rejoin is not counted."""
    w = World(RoomSettings(max_users=2))
    w.join("alice")
    w.join("bob")
    with pytest.raises(RoomError) as err:
        w.join("carol")
    assert err.value.code == ErrorCode.ROOM_FULL
    w.join("bob")
    assert w.rooms.room_users(APP, ROOM) == ["alice", "bob"]


def test_same_user_newer_join_wins() -> None:
    """The newer join of a user replaces the old: old closed KICKED_OUT, others left+joined."""
    w = World()
    w.join("alice")
    w.join("bob", user_data="old")
    old = w.sid["bob"]
    joined, effects = w.join("bob", user_data="new")
    assert [m.user_id for m in joined.members] == ["alice"]
    assert [m for s, m in effects.sends if s == old] == [
        Closed("KICKED_OUT", ErrorCode.KICKED_OUT, REPLACED_MESSAGE)]
    assert effects.closes == [old]
    to_alice = w.to(effects, "alice")
    assert to_alice[0] == UserLeft("bob", "replaced")
    assert isinstance(to_alice[1], UserJoined) and to_alice[1].member.user_data == "new"
    assert w.rooms.room_users(APP, ROOM) == ["alice", "bob"]
    with pytest.raises(SessionEnded) as ended:
        w.rooms.resume(app_id=APP, room=ROOM, user_id="bob", session_id=old, now=w.now, req=1)
    assert ended.value.closed == Closed("KICKED_OUT", ErrorCode.KICKED_OUT, REPLACED_MESSAGE)


def test_same_user_refused_with_no_auto_kick() -> None:
    """With no_auto_kick_user the second join of a user gets 10022 and nothing changes."""
    w = World(RoomSettings(no_auto_kick_user=True))
    w.join("bob")
    with pytest.raises(RoomError) as err:
        w.join("bob")
    assert err.value.code == ErrorCode.USER_ALREADY_EXIST


def test_kick_needs_admin_and_is_final() -> None:
    """Only admins kick (10051 otherwise); the target is closed KICKED_OUT and cannot resume."""
    w = World()
    w.join("host", permission="admin")
    w.join("bob")
    w.join("carol")
    with pytest.raises(RoomError) as err:
        w.rooms.kick(w.sid["bob"], "carol", w.now, 5)
    assert err.value.code == ErrorCode.NO_PERMISSION
    with pytest.raises(RoomError) as err:
        w.rooms.kick(w.sid["host"], "nobody", w.now, 5)
    assert err.value.code == ErrorCode.USER_NOT_EXIST
    effects = w.rooms.kick(w.sid["host"], "carol", w.now, 6)
    assert isinstance(w.to(effects, "carol")[0], Closed)
    assert w.to(effects, "bob") == [UserLeft("carol", "kicked")]
    assert w.to(effects, "host")[-1] == Ack(6, int(w.now * 1000))
    with pytest.raises(SessionEnded) as ended:
        w.rooms.resume(app_id=APP, room=ROOM, user_id="carol", session_id=w.sid["carol"],
                       now=w.now, req=1)
    assert ended.value.closed.reason == "KICKED_OUT"
    assert ended.value.code == ErrorCode.KICKED_OUT


def test_kick_while_away_is_told_on_resume_within_the_window() -> None:
    """A member kicked while its connection is lost gets the kick's ``closed`` when it resumes
    within the window; after the window the note is pruned and the resume gets 21003."""
    w = World()
    w.join("host", permission="admin")
    w.join("bob")
    w.rooms.disconnect(w.sid["bob"], w.now)
    effects = w.rooms.kick(w.sid["host"], "bob", w.now, 6)
    assert not w.to(effects, "bob") and w.sid["bob"] not in effects.closes  # nobody to tell
    w.advance(29)
    with pytest.raises(SessionEnded) as ended:
        w.rooms.resume(app_id=APP, room=ROOM, user_id="bob", session_id=w.sid["bob"],
                       now=w.now, req=1)
    assert ended.value.closed == Closed("KICKED_OUT", ErrorCode.KICKED_OUT, "kicked out by host")
    with pytest.raises(RoomError) as err:  # the note names its user and room
        w.rooms.resume(app_id=APP, room="other", user_id="bob", session_id=w.sid["bob"],
                       now=w.now, req=1)
    assert err.value.code == ErrorCode.RECONNECT_FAILED
    assert w.rooms.next_deadline() is not None  # the note's expiry keeps the timer armed
    w.advance(1.1)
    with pytest.raises(RoomError) as err:
        w.rooms.resume(app_id=APP, room=ROOM, user_id="bob", session_id=w.sid["bob"],
                       now=w.now, req=1)
    assert not isinstance(err.value, SessionEnded)
    assert err.value.code == ErrorCode.RECONNECT_FAILED


def test_room_closed_while_away_is_told_on_resume() -> None:
    """A lost member of a room closed by the API (or whose app was deleted) gets ROOM_CLOSED
    on resuming, as the connected members did."""
    w = World()
    w.join("alice")
    w.join("bob")
    w.rooms.disconnect(w.sid["bob"], w.now)
    closing = w.rooms.close_room(APP, ROOM, w.now)
    assert closing is not None and not w.to(closing, "bob")
    with pytest.raises(SessionEnded) as ended:
        w.rooms.resume(app_id=APP, room=ROOM, user_id="bob", session_id=w.sid["bob"],
                       now=w.now + 1, req=1)
    assert (ended.value.closed.reason, ended.value.code) == ("ROOM_CLOSED",
                                                             ErrorCode.ROOM_CLOSED)
    w.join("carol", room="r2")
    w.rooms.disconnect(w.sid["carol"], w.now)
    w.rooms.close_app(APP, w.now)
    with pytest.raises(SessionEnded) as ended:
        w.rooms.resume(app_id=APP, room="r2", user_id="carol", session_id=w.sid["carol"],
                       now=w.now, req=1)
    assert ended.value.code == ErrorCode.ROOM_CLOSED


def test_ended_sessions_are_capped_oldest_first() -> None:
    """The memory of ended sessions holds at most ``max_ended`` entries, forgetting the
    oldest first; a timed-out session is not remembered at all."""
    w = World()
    w.rooms = Rooms(ServerConfig(), max_ended=2)
    w.join("host", permission="admin")
    for user in ("a", "b", "c"):
        w.join(user)
        w.rooms.kick(w.sid["host"], user, w.now, 1)
    assert w.rooms.ended_sessions == 2
    with pytest.raises(RoomError) as err:
        w.rooms.resume(app_id=APP, room=ROOM, user_id="a", session_id=w.sid["a"],
                       now=w.now, req=1)
    assert not isinstance(err.value, SessionEnded)
    for user in ("b", "c"):
        with pytest.raises(SessionEnded):
            w.rooms.resume(app_id=APP, room=ROOM, user_id=user, session_id=w.sid[user],
                           now=w.now, req=1)
    w.advance(31)  # b and c forgotten; host times out (silent) and is not remembered
    assert w.rooms.ended_sessions == 0


def test_tracks_publish_unpublish_mute() -> None:
    """Track ids are unique in the room; others hear of publish, unpublish and real mutes."""
    w = World()
    w.join("alice")
    w.join("bob")
    a = w.rooms.publish(w.sid["alice"], [TrackSpec("audio"), TrackSpec("video")], 1)
    b = w.rooms.publish(w.sid["bob"], [TrackSpec("video", "screen")], 1)
    (pa,), (pb,) = w.to(a, "alice"), w.to(b, "bob")
    assert isinstance(pa, Published) and isinstance(pb, Published)
    ids = [t.track_id for t in pa.tracks + pb.tracks]
    assert len(set(ids)) == 3
    assert isinstance(w.to(a, "bob")[0], UserPublished)
    effects = w.rooms.mute(w.sid["alice"], ids[0], True, 2)
    assert w.to(effects, "bob") == [TrackMuted("alice", ids[0], True)]
    assert not w.to(w.rooms.mute(w.sid["alice"], ids[0], True, 3), "bob")
    with pytest.raises(RoomError):
        w.rooms.unpublish(w.sid["alice"], [ids[2]], 4)
    effects = w.rooms.unpublish(w.sid["alice"], [ids[1]], 5)
    assert w.to(effects, "bob") == [UserUnpublished("alice", (ids[1],))]
    joined, _ = w.join("carol")
    assert [(t.track_id, t.muted) for t in joined.members[0].tracks] == [(ids[0], True)]


def test_messages_are_routed_and_stamped() -> None:
    """Messages go to listed members (unknown ids ignored) or all others, stamped by the server."""
    w = World()
    for user in ("alice", "bob", "carol"):
        w.join(user)
    effects = w.rooms.send_message(w.sid["alice"], "hi", ["bob", "ghost"], "", w.now, 1)
    (msg,) = w.to(effects, "bob")
    assert isinstance(msg, Message) and msg.user_id == "alice" and msg.message_id
    assert msg.timestamp == int(w.now * 1000)
    assert not w.to(effects, "carol")
    effects = w.rooms.send_message(w.sid["alice"], "all", [], "m9", w.now, 2)
    assert [m.message_id for m in w.to(effects, "carol") if isinstance(m, Message)] == ["m9"]
    assert all(not isinstance(m, Message) for m in w.to(effects, "alice"))
    with pytest.raises(RoomError) as err:
        w.rooms.send_message(w.sid["alice"], "x" * (15 * 1024 + 1), [], "", w.now, 3)
    assert err.value.code == ErrorCode.INVALID_PARAMETER


def test_management_kick_and_close() -> None:
    """API kick removes with KICKED_OUT; API close sends ROOM_CLOSED to all; both report absence."""
    w = World()
    w.join("alice")
    w.join("bob")
    assert w.rooms.kick_user(APP, "nope", "bob", w.now)[0] is None
    assert w.rooms.kick_user(APP, ROOM, "ghost", w.now)[0] is False
    result, effects = w.rooms.kick_user(APP, ROOM, "bob", w.now)
    assert result is True and w.to(effects, "alice") == [UserLeft("bob", "kicked")]
    closing = w.rooms.close_room(APP, ROOM, w.now)
    assert closing is not None
    (closed,) = w.to(closing, "alice")
    assert isinstance(closed, Closed) and closed.code == ErrorCode.ROOM_CLOSED
    assert w.rooms.active_rooms(APP) == [] and w.rooms.close_room(APP, ROOM, w.now) is None


def test_close_app_closes_only_its_rooms() -> None:
    """Deleting an app closes every room of it and no other."""
    w = World()
    w.join("alice", room="r1")
    w.join("bob", room="r2")
    w.rooms.join(app_id="other", room="r1", user_id="carol", user_data="", permission="user",
                 settings=RoomSettings(), now=w.now, req=1)
    effects = w.rooms.close_app(APP, w.now)
    assert sorted(effects.closes) == sorted([w.sid["alice"], w.sid["bob"]])
    assert w.rooms.active_rooms(APP) == [] and w.rooms.active_rooms("other") == ["r1"]


def test_next_deadline_tracks_the_earliest_rule() -> None:
    """next_deadline is None for an idle core and never later than the first due rule."""
    w = World()
    assert w.rooms.next_deadline() is None
    w.join("alice")
    assert w.rooms.next_deadline() == w.now + 30
    w.rooms.leave(w.sid["alice"], w.now)
    deadline = w.rooms.next_deadline()
    assert deadline is not None and deadline <= w.now + 10
    w.advance(11)
    assert w.rooms.active_rooms(APP) == []
    w.advance(30)
    assert w.rooms.next_deadline() is None


def test_snapshot_marks_reconnecting_members() -> None:
    """A member whose connection dropped keeps its seat and shows as reconnecting to joiners."""
    w = World()
    w.join("alice", user_data="A")
    w.rooms.disconnect(w.sid["alice"], w.now)
    joined, effects = w.join("bob")
    assert [(m.user_id, m.reconnecting) for m in joined.members] == [("alice", True)]
    assert not w.to(effects, "alice")  # a lost connection is not written to
