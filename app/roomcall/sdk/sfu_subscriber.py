"""This member's one multistream VideoRoom subscriber: one RTCPeerConnection receiving every
wanted stream of every member, one m-line per roomcall track.

Janus offers, we answer (``start``). :meth:`Subscriber.apply` moves the subscription to what
is wanted (:func:`roomcall.sdk.sfu_feeds.wanted`) with the fewest changes:

- a new track: ``join`` (the first time) or ``update`` with ``subscribe``: a new m-line, and
  Janus re-offers;
- a track gone: ``update`` with ``unsubscribe`` by subscriber mid;
- another layer of the same track (the profile changed): ``switch`` the m-line to the other
  stream, no renegotiation: the receiving track object stays, its pictures change size;
- not visible (profile NONE): ``configure`` the m-line with ``send: false``, and back.

After every offer the subscriber's mids are mapped to roomcall tracks again from Janus's
``streams`` list (``feed_id`` + ``feed_mid``), and each receiver track whose roomcall track
changed is reported (``on_track`` / ``on_track_ended``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from aiortc import RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack

from roomcall.protocol.janus import JanusHandle
from roomcall.sdk.compat import close_connection, set_local_description
from roomcall.sdk.peer_config import new_connection
from roomcall.sdk.sfu_feeds import FeedMap, Key, Want

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Slot:
    """One m-line of the subscription: the publisher stream it carries now."""

    sub_mid: str
    feed: str
    mid: str
    send: bool


class Subscriber:
    """The subscription of one member in one VideoRoom; calls must not overlap (the SFU runs
    them one at a time)."""

    def __init__(self, handle: JanusHandle, room: str, room_token: str, private_id: Any,
                 ice_servers: list[RTCIceServer], feeds: FeedMap,
                 on_track: Callable[[Key, MediaStreamTrack], None],
                 on_track_ended: Callable[[Key], None]) -> None:
        self.handle = handle
        self._room = room
        self._token = room_token
        self._private_id = private_id
        self._feeds = feeds
        self._on_track = on_track
        self._on_track_ended = on_track_ended
        self.pc: RTCPeerConnection = new_connection(ice_servers)
        self._joined = False
        self._slots: dict[Key, Slot] = {}
        self._mids: dict[str, Key] = {}
        """Subscriber mid -> the roomcall track its receiver track carries (reported)."""

    @property
    def keys(self) -> set[Key]:
        """The roomcall tracks subscribed."""
        return set(self._slots)

    def key_of_mid(self, mid: str | None) -> Key | None:
        """The roomcall track the m-line ``mid`` carries now (reported), if any."""
        return self._mids.get(mid) if mid is not None else None

    async def apply(self, wants: dict[Key, Want]) -> None:
        """Move the subscription to ``wants``."""
        add = [w for k, w in wants.items() if k not in self._slots]
        remove = [s for k, s in self._slots.items() if k not in wants]
        if add and not self._joined:
            body: dict[str, Any] = {
                "request": "join", "ptype": "subscriber", "room": self._room,
                "token": self._token, "autoupdate": False,
                "streams": [{"feed": w.feed, "mid": w.mid} for w in add]}
            if self._private_id is not None:
                body["private_id"] = self._private_id
            data, offer = await self.handle.message(body)
            self._joined = True
            await self._took(data, offer)
        elif add or remove:
            body = {"request": "update"}
            if add:
                body["subscribe"] = [{"feed": w.feed, "mid": w.mid} for w in add]
            if remove:
                body["unsubscribe"] = [{"sub_mid": s.sub_mid} for s in remove]
            data, offer = await self.handle.message(body)
            await self._took(data, offer)
        switch = [(k, w) for k, w in wants.items()
                  if k in self._slots and (self._slots[k].feed, self._slots[k].mid)
                  != (w.feed, w.mid)]
        if switch:
            await self.handle.message({"request": "switch", "streams": [
                {"feed": w.feed, "mid": w.mid, "sub_mid": self._slots[k].sub_mid}
                for k, w in switch]})
            for k, w in switch:
                self._slots[k] = replace(self._slots[k], feed=w.feed, mid=w.mid)
        pause = [(k, w) for k, w in wants.items()
                 if k in self._slots and self._slots[k].send != w.send]
        if pause:
            await self.handle.message({"request": "configure", "streams": [
                {"mid": self._slots[k].sub_mid, "send": w.send} for k, w in pause]})
            for k, w in pause:
                self._slots[k] = replace(self._slots[k], send=w.send)

    async def offered(self, data: dict[str, Any], offer: dict[str, Any]) -> None:
        """Janus re-offered by itself (an ``updated`` event): answer it."""
        await self._took(data, offer)

    async def close(self) -> None:
        """Close the connection; every reported track ends."""
        for key in list(self._mids.values()):
            self._on_track_ended(key)
        self._mids.clear()
        self._slots.clear()
        await close_connection(self.pc)

    async def _took(self, data: dict[str, Any], offer: dict[str, Any] | None) -> None:
        """Janus's answer to a subscription change: its streams, and an offer to answer."""
        streams = data.get("streams")
        if isinstance(streams, list):
            self._slots = {}
            for stream in streams:
                if not isinstance(stream, dict) or not stream.get("active", True):
                    continue
                if stream.get("type") not in ("audio", "video"):
                    continue
                key = self._feeds.key_of(stream.get("feed_id"), stream.get("feed_mid"))
                if key is None:
                    continue
                self._slots[key] = Slot(str(stream.get("mid")), str(stream.get("feed_id")),
                                        str(stream.get("feed_mid")),
                                        bool(stream.get("send", True)))
        if offer is None:
            return
        await self.pc.setRemoteDescription(RTCSessionDescription(offer["sdp"], offer["type"]))
        await set_local_description(self.pc, await self.pc.createAnswer())
        answer = self.pc.localDescription
        await self.handle.message({"request": "start"},
                                  jsep={"type": answer.type, "sdp": answer.sdp})
        self._report()

    def _report(self) -> None:
        """Tell which roomcall track each receiver now carries (changes only)."""
        now = {slot.sub_mid: key for key, slot in self._slots.items()}
        receivers = {t.mid: t.receiver.track for t in self.pc.getTransceivers()
                     if t.mid is not None and t.receiver.track is not None}
        for mid, key in list(self._mids.items()):
            if now.get(mid) != key or mid not in receivers:
                del self._mids[mid]
                self._on_track_ended(key)
        for mid, key in now.items():
            if mid in receivers and mid not in self._mids:
                self._mids[mid] = key
                self._on_track(key, receivers[mid])
