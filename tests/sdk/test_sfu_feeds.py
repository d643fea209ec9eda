"""The SFU's view of a VideoRoom's publishers: descriptions, feed owners, and the one stream
wanted per roomcall track for each profile (sans-I/O)."""

from __future__ import annotations

from typing import Any

from roomcall.sdk import TrackProfile
from roomcall.sdk.sfu_feeds import (
    FeedMap,
    Want,
    describe,
    feed_owner,
    parse_description,
    wanted,
)

PUBLISHERS = {"alice": "alice~a1b2c3", "bob": "bob~d4e5f6"}


def member_of(feed: str) -> str | None:
    return next((u for u, p in PUBLISHERS.items() if p == feed_owner(feed)), None)


def publisher(feed: str, *streams: tuple[str, str, str]) -> dict[str, Any]:
    """A ``publishers`` entry: streams as (type, mid, description)."""
    return {"id": feed, "display": "whatever", "streams": [
        {"type": kind, "mid": mid, "description": text, "codec": "vp8"}
        for kind, mid, text in streams]}


def test_descriptions_round_trip_and_foreign_ones_are_ignored() -> None:
    """A description names a media id and a layer; anything else is not ours."""
    assert parse_description(describe("m1", "low")) == ("m1", "low")
    assert parse_description("m1/full") == ("m1", "full")
    for text in (None, 5, "", "m1", "m1/medium", "/low", "x" * 200 + "/low"):
        assert parse_description(text) is None
    assert feed_owner("alice~a1b2c3.screen") == "alice~a1b2c3"


def test_profiles_pick_the_layer_and_none_pauses_video_only() -> None:
    """HIGH takes the full layer, LOW the low one, NONE the low one unrelayed; audio is
    always relayed; our own feed and disabled or foreign streams are skipped."""
    feeds = FeedMap("carol~000000", member_of)
    feeds.update([
        publisher("alice~a1b2c3", ("audio", "0", "mic/full"), ("video", "1", "cam/full"),
                  ("video", "2", "cam/low")),
        publisher("carol~000000", ("video", "0", "mine/full")),
        {"id": "bob~d4e5f6", "streams": [
            {"type": "video", "mid": "0", "description": "bcam/full", "disabled": True},
            {"type": "video", "mid": "1", "description": "a webcam"}]},
    ])
    users = ["alice", "bob"]
    assert wanted(feeds, users, {}) == {
        ("alice", "mic"): Want("alice~a1b2c3", "0", "audio"),
        ("alice", "cam"): Want("alice~a1b2c3", "1", "video"),
    }
    low = wanted(feeds, users, {("alice", "cam"): TrackProfile.LOW})
    assert low[("alice", "cam")] == Want("alice~a1b2c3", "2", "video")
    hidden = wanted(feeds, users, {("alice", "cam"): TrackProfile.NONE,
                                   ("alice", "mic"): TrackProfile.NONE})
    assert hidden[("alice", "cam")] == Want("alice~a1b2c3", "2", "video", send=False)
    assert hidden[("alice", "mic")].send is True
    assert feeds.key_of("alice~a1b2c3", "2") == ("alice", "cam")
    assert feeds.key_of("carol~000000", "0") is None


def test_a_single_layer_serves_every_profile_and_feeds_go_away() -> None:
    """A screen published once is taken whatever the profile; a member's further feeds count
    as its own; a feed that left is no longer wanted; an unknown member's feed is unused."""
    feeds = FeedMap("carol~000000", member_of)
    feeds.update([publisher("bob~d4e5f6.screen", ("video", "0", "scr/full")),
                  publisher("dave~999999", ("video", "0", "dcam/full"))])
    for profile in (TrackProfile.HIGH, TrackProfile.LOW):
        assert wanted(feeds, ["bob", "dave"], {("bob", "scr"): profile}) == {
            ("bob", "scr"): Want("bob~d4e5f6.screen", "0", "video")}
    feeds.remove("bob~d4e5f6.screen")
    assert wanted(feeds, ["bob"], {}) == {}
