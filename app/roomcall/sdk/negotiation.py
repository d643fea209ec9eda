"""The mesh's negotiation payloads, carried in ``Relay.data`` between two members.

Values with :func:`parse_payload` / :func:`encode_payload`; anything malformed raises
:class:`RelayError` (a relay comes from another client, so it is untrusted input). On the wire
(all JSON objects)::

    {"type": "offer", "sdp": str, "pc": offerer_pc_id, "seq": int, "slots": {mid: media_id}}
    {"type": "answer", "sdp": str, "pc": answerer_pc_id, "to": offerer_pc_id, "seq": int}
    {"type": "renegotiate", "pc": answerer_pc_id, "tracks": [{"id": media_id, "kind": kind}]}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

MAX_SLOTS: Final = 256
"""More m-lines than any offer of ours can carry within the relay size limit."""


class RelayError(ValueError):
    """A relay payload that is not a negotiation message we understand."""


@dataclass(frozen=True)
class TrackSpec:
    """One track the answerer wants to send: its media_id and kind."""

    media_id: str
    kind: str


@dataclass(frozen=True)
class Offer:
    """SDP offer from the pair's offerer; ``slots`` maps mid -> the answerer's media_id."""

    sdp: str
    pc: str
    seq: int
    slots: dict[str, str]


@dataclass(frozen=True)
class Answer:
    """SDP answer to offer ``seq`` of connection ``to``, from the answerer's connection ``pc``."""

    sdp: str
    pc: str
    to: str
    seq: int


@dataclass(frozen=True)
class Renegotiate:
    """The answerer asks for a new offer carrying ``tracks`` (all the tracks it sends)."""

    pc: str
    tracks: list[TrackSpec]


Payload = Offer | Answer | Renegotiate


def _text(data: dict[str, Any], key: str, *, limit: int = 256) -> str:
    value = data.get(key)
    if not isinstance(value, str) or len(value) > limit:
        raise RelayError(f"{key!r} must be a string of at most {limit} characters")
    return value


def _seq(data: dict[str, Any]) -> int:
    value = data.get("seq")
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise RelayError("'seq' must be a non-negative integer")
    return value


def _slots(value: Any) -> dict[str, str]:
    if not isinstance(value, dict) or len(value) > MAX_SLOTS:
        raise RelayError("'slots' must be an object of mid -> media id")
    slots: dict[str, str] = {}
    for mid, media_id in value.items():
        if not isinstance(mid, str) or not isinstance(media_id, str):
            raise RelayError("'slots' must map strings to strings")
        slots[mid] = media_id
    return slots


def _tracks(value: Any) -> list[TrackSpec]:
    if not isinstance(value, list) or len(value) > MAX_SLOTS:
        raise RelayError("'tracks' must be a list")
    tracks = []
    for item in value:
        if not isinstance(item, dict):
            raise RelayError("each track must be an object")
        kind = item.get("kind")
        if kind not in ("audio", "video"):
            raise RelayError("track 'kind' must be 'audio' or 'video'")
        tracks.append(TrackSpec(_text(item, "id"), kind))
    return tracks


def parse_payload(data: Any) -> Payload:
    """The negotiation message in ``data``; raises :class:`RelayError` if it is not one."""
    if not isinstance(data, dict):
        raise RelayError("payload must be an object")
    kind = data.get("type")
    if kind == "offer":
        return Offer(
            _text(data, "sdp", limit=1 << 20), _text(data, "pc"), _seq(data),
            _slots(data.get("slots", {})),
        )
    if kind == "answer":
        return Answer(
            _text(data, "sdp", limit=1 << 20), _text(data, "pc"), _text(data, "to"), _seq(data)
        )
    if kind == "renegotiate":
        return Renegotiate(_text(data, "pc"), _tracks(data.get("tracks", [])))
    raise RelayError(f"unknown payload type {kind!r}")


def encode_payload(payload: Payload) -> dict[str, Any]:
    """The JSON object for ``payload``."""
    if isinstance(payload, Offer):
        return {"type": "offer", "sdp": payload.sdp, "pc": payload.pc, "seq": payload.seq,
                "slots": dict(payload.slots)}
    if isinstance(payload, Answer):
        return {"type": "answer", "sdp": payload.sdp, "pc": payload.pc, "to": payload.to,
                "seq": payload.seq}
    return {"type": "renegotiate", "pc": payload.pc,
            "tracks": [{"id": t.media_id, "kind": t.kind} for t in payload.tracks]}
