"""The remote user list and its reconciliation with a room snapshot (pure functions)."""

from __future__ import annotations

from roomcall.protocol.messages import MemberInfo, TrackInfo
from roomcall.sdk.users import RemoteUser, joined, published, reconcile, unpublished

VIDEO = TrackInfo("t1", "video", "camera", False, "m1")
AUDIO = TrackInfo("t2", "audio", "", False, "m2")


def users_of(*members: MemberInfo) -> dict[str, RemoteUser]:
    """The user list a client would hold for ``members``."""
    return {m.user_id: RemoteUser.from_member(m) for m in members}


def test_joined_member_with_tracks_announces_them() -> None:
    """A member arriving with tracks yields user_joined then user_published."""
    user, changes = joined(MemberInfo("bob", "Bob", "user", (VIDEO,)))
    assert user.tracks == (VIDEO,)
    assert changes == [("user_joined", ("bob", "Bob")), ("user_published", ("bob", [VIDEO]))]


def test_reconcile_same_snapshot_changes_nothing() -> None:
    """Reconciling with an identical snapshot yields no event at all."""
    members = (MemberInfo("bob", tracks=(VIDEO,)), MemberInfo("carol"))
    users, changes = reconcile(users_of(*members), members)
    assert changes == []
    assert users == users_of(*members)


def test_reconcile_left_joined_and_track_changes() -> None:
    """Every difference is announced once: leaves, joins, unpublished, published, mute,
    reconnecting."""
    old = users_of(MemberInfo("bob", tracks=(VIDEO,)), MemberInfo("carol"),
                   MemberInfo("erin", tracks=(AUDIO,)))
    muted_audio = TrackInfo("t2", "audio", "", True, "m2")
    new_video = TrackInfo("t3", "video", "screen", False, "m3")
    snapshot = (MemberInfo("bob", tracks=(new_video,)),
                MemberInfo("erin", tracks=(muted_audio,), reconnecting=True),
                MemberInfo("dave", "Dave"))
    users, changes = reconcile(old, snapshot)
    assert changes == [
        ("user_left", ("carol",)),
        ("user_unpublished", ("bob", [VIDEO])),
        ("user_published", ("bob", [new_video])),
        ("mute_state_changed", ("erin", muted_audio, True)),
        ("user_reconnecting", ("erin",)),
        ("user_joined", ("dave", "Dave")),
    ]
    assert list(users) == ["bob", "erin", "dave"]
    assert users["bob"].tracks == (new_video,)
    assert users["erin"].reconnecting


def test_reconcile_reconnected() -> None:
    """A member back from reconnecting yields user_reconnected."""
    old = users_of(MemberInfo("bob", reconnecting=True))
    _, changes = reconcile(old, [MemberInfo("bob")])
    assert changes == [("user_reconnected", ("bob",))]


def test_publish_twice_and_unknown_unpublish_are_ignored() -> None:
    """A track id published again replaces the old entry; unpublishing an unknown id is silent."""
    user = RemoteUser("bob")
    user, _ = published(user, [VIDEO])
    user, _ = published(user, [VIDEO])
    assert user.tracks == (VIDEO,)
    user, changes = unpublished(user, ["t9"])
    assert changes == [] and user.tracks == (VIDEO,)
