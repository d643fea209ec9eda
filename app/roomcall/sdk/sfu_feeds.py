"""The VideoRoom's publishers as roomcall sees them, and what a subscriber wants of them.

Sans-I/O. Every member publishes through one VideoRoom publisher whose ``display`` is its
roomcall user id; each published stream carries a ``description`` naming the roomcall track
(``media_id``) and the layer it is: ``<media_id>/full`` or ``<media_id>/low``. A camera is
published twice (aiortc cannot send simulcast): the full picture and a low 320x240 layer; audio
and a screen once, as ``full``. :func:`wanted` turns the feeds, the members whose media this
client takes through the SFU and the application's :class:`TrackProfile` per track into one
wanted stream per roomcall track.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from roomcall.sdk.topology import TrackProfile

FULL: Final = "full"
LOW: Final = "low"
LAYERS: Final = (FULL, LOW)
MAX_DESCRIPTION: Final = 128
"""Longer descriptions are not ours (a media_id is 32 hex digits)."""

Key = tuple[str, str]
"""(user_id, media_id): one roomcall track."""


def describe(media_id: str, layer: str) -> str:
    """The stream description a publisher gives ``media_id``'s ``layer``."""
    return f"{media_id}/{layer}"


def parse_description(text: Any) -> tuple[str, str] | None:
    """``(media_id, layer)`` from a stream description, None if it is not one of ours."""
    if not isinstance(text, str) or len(text) > MAX_DESCRIPTION:
        return None
    media_id, _, layer = text.rpartition("/")
    if not media_id or layer not in LAYERS:
        return None
    return media_id, layer


@dataclass(frozen=True)
class FeedStream:
    """One stream a publisher sends: its mid in the publisher's connection."""

    feed: str
    mid: str
    kind: str
    media_id: str
    layer: str


@dataclass(frozen=True)
class Want:
    """The publisher stream one roomcall track is to be received from, and whether Janus is
    to relay it now (False: the track is kept, nothing flows)."""

    feed: str
    mid: str
    kind: str
    send: bool = True


class FeedMap:
    """Feed id -> its streams, from the VideoRoom's ``publishers`` lists, and the member each
    feed belongs to: ``member_of(feed)``, None for a feed of nobody this client receives (the
    server gives every member a ``publisher_id``, in its ``MemberInfo``; its feeds are that id
    and ``<publisher_id>.<suffix>``, see :func:`feed_owner`). Feeds of nobody known are kept,
    for a member announced later.
    """

    def __init__(self, own_feed: str, member_of: Callable[[str], str | None]) -> None:
        self._own = own_feed
        self._member_of = member_of
        self._streams: dict[str, dict[str, FeedStream]] = {}
        """feed id -> mid -> stream."""

    def update(self, publishers: Any) -> None:
        """Take in a ``publishers`` list (of a ``joined`` answer or a ``publishers`` event)."""
        if not isinstance(publishers, list):
            return
        for publisher in publishers:
            if not isinstance(publisher, dict):
                continue
            feed = str(publisher.get("id", ""))
            if feed and feed_owner(feed) != self._own:
                self._streams[feed] = _streams(feed, publisher.get("streams"))

    def remove(self, feed: Any) -> None:
        """The feed stopped publishing or left."""
        self._streams.pop(str(feed), None)

    def streams_of(self, user_id: str) -> list[FeedStream]:
        """What ``user_id`` publishes now."""
        return [s for f, streams in self._streams.items() if self._member_of(f) == user_id
                for s in streams.values()]

    def key_of(self, feed: Any, mid: Any) -> Key | None:
        """The roomcall track a publisher stream carries, if its member is known."""
        stream = self._streams.get(str(feed), {}).get(str(mid))
        user = self._member_of(str(feed))
        if stream is None or user is None:
            return None
        return user, stream.media_id


def feed_owner(feed: str) -> str:
    """The publisher id a feed id belongs to (``alice~3fa1c2.low`` -> ``alice~3fa1c2``)."""
    return feed.split(".", 1)[0]


def _streams(feed: str, raw: Any) -> dict[str, FeedStream]:
    streams: dict[str, FeedStream] = {}
    for item in raw if isinstance(raw, list) else ():
        if not isinstance(item, dict) or item.get("disabled"):
            continue
        kind, mid = item.get("type"), item.get("mid")
        parsed = parse_description(item.get("description"))
        if kind not in ("audio", "video") or not isinstance(mid, str) or parsed is None:
            continue
        streams[mid] = FeedStream(feed, mid, kind, *parsed)
    return streams


def wanted(feeds: FeedMap, users: Iterable[str], profiles: Mapping[Key, TrackProfile]
           ) -> dict[Key, Want]:
    """One wanted stream per roomcall track of ``users``: audio as published; video's layer
    by its profile (HIGH: full, LOW: low, NONE: low and not relayed), the other layer when a
    publisher sends only one."""
    result: dict[Key, Want] = {}
    for user in users:
        layers: dict[str, dict[str, FeedStream]] = {}
        for stream in feeds.streams_of(user):
            layers.setdefault(stream.media_id, {})[stream.layer] = stream
        for media_id, by_layer in layers.items():
            profile = profiles.get((user, media_id), TrackProfile.HIGH)
            first, second = (FULL, LOW) if profile is TrackProfile.HIGH else (LOW, FULL)
            stream = by_layer.get(first) or by_layer[second]
            send = stream.kind == "audio" or profile is not TrackProfile.NONE
            result[(user, media_id)] = Want(stream.feed, stream.mid, stream.kind, send)
    return result
