"""Signalling messages: parse never fails with anything but ProtocolError, and every message
type survives a serialize / parse round trip."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from typing import Any, Literal, Union

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from roomcall.protocol.errors import ErrorCode
from roomcall.protocol.messages import (
    CLIENT_MESSAGES,
    MAX_FRAME_BYTES,
    MESSAGE_TYPES,
    SERVER_MESSAGES,
    Join,
    Kick,
    MemberInfo,
    ProtocolError,
    Relay,
    TrackInfo,
    UserJoined,
    parse,
    serialize,
)

_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=20)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | _TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TEXT, inner, max_size=4),
    max_leaves=12,
)


def _strategy(hint: Any) -> st.SearchStrategy[Any]:
    """Values of the type ``hint`` as the message dataclasses declare their fields."""
    origin = typing.get_origin(hint)
    if hint is bool:
        return st.booleans()
    if hint is int:
        return st.integers(-(2**53), 2**53)
    if hint is float:
        return st.floats(allow_nan=False, allow_infinity=False)
    if hint is str:
        return _TEXT
    if origin is Literal:
        return st.sampled_from(typing.get_args(hint))
    if origin is tuple:
        return st.lists(_strategy(typing.get_args(hint)[0]), max_size=3).map(tuple)
    if origin is dict:
        return st.dictionaries(_TEXT, _JSON, max_size=4)
    if origin in (Union, types.UnionType):
        return st.one_of(*(_strategy(a) for a in typing.get_args(hint)))
    if dataclasses.is_dataclass(hint):
        return _message(typing.cast(type, hint))
    raise AssertionError(f"no strategy for {hint!r}")


def _message(cls: type) -> st.SearchStrategy[Any]:
    hints = typing.get_type_hints(cls)
    return st.builds(cls, **{f.name: _strategy(hints[f.name]) for f in dataclasses.fields(cls)})


ALL_TYPES = sorted(MESSAGE_TYPES.values(), key=lambda cls: cls.type)  # type: ignore[attr-defined]


def test_every_type_is_registered() -> None:
    """Every client and server message type is reachable by its wire name."""
    assert set(MESSAGE_TYPES.values()) == {*CLIENT_MESSAGES, *SERVER_MESSAGES}
    assert all(MESSAGE_TYPES[cls.type] is cls for cls in ALL_TYPES)  # type: ignore[attr-defined]


@pytest.mark.parametrize("cls", ALL_TYPES, ids=lambda cls: cls.type)
@settings(max_examples=60)
@given(data=st.data())
def test_round_trip(cls: type, data: st.DataObject) -> None:
    """serialize then parse gives back an equal message, for every message type."""
    msg = data.draw(_message(cls))
    text = serialize(msg)
    assert json.loads(text)["type"] == cls.type  # type: ignore[attr-defined]
    assert parse(text) == msg
    assert parse(text.encode("utf-8")) == msg


@settings(max_examples=500)
@given(st.text() | st.binary())
def test_arbitrary_text_raises_only_protocol_error(text: str | bytes) -> None:
    """Any text or bytes at all parse to a message or raise ProtocolError with a code."""
    try:
        parse(text)
    except ProtocolError as exc:
        assert exc.code == ErrorCode.INVALID_PARAMETER and exc.message


@settings(max_examples=500)
@given(_JSON)
def test_arbitrary_json_raises_only_protocol_error(value: Any) -> None:
    """Any JSON value parses to a message or raises ProtocolError."""
    try:
        parse(json.dumps(value))
    except ProtocolError as exc:
        assert exc.message


@settings(max_examples=250)
@given(
    kind=st.sampled_from(sorted(MESSAGE_TYPES)),
    fields=st.dictionaries(
        st.sampled_from(["req", "token", "user_data", "version", "session_id", "content",
                         "user_ids", "message_id", "user_id", "tracks", "track_ids", "track_id",
                         "muted", "peer", "data", "room", "permission", "members", "server_time",
                         "heartbeat_interval", "reconnect_window", "resumed", "member", "reason",
                         "code", "message", "timestamp", "kind", "tag"]) | _TEXT,
        _JSON,
        max_size=8,
    ),
)
def test_known_types_with_arbitrary_fields(kind: str, fields: dict[str, Any]) -> None:
    """A known message type with arbitrary field values parses or raises ProtocolError."""
    try:
        msg = parse(json.dumps({**fields, "type": kind}))
    except ProtocolError as exc:
        assert exc.message
    else:
        assert type(msg).type == kind
        assert parse(serialize(msg)) == msg


@pytest.mark.parametrize(
    "frame",
    [
        "", "null", "[]", '"join"', "{}", '{"type": 1}', '{"type": "nope"}',
        '{"type": "kick", "req": "1", "user_id": "bob"}',
        '{"type": "kick", "req": true, "user_id": "bob"}',
        '{"type": "kick", "req": 1e300, "user_id": "bob"}',
        f'{{"type": "kick", "req": {2**60}, "user_id": "bob"}}',
        '{"type": "kick", "req": 1}',
        '{"type": "publish", "req": 1, "tracks": [{"kind": "smell"}]}',
        '{"type": "publish", "req": 1, "tracks": {"kind": "audio"}}',
        '{"type": "relay", "peer": "bob", "data": []}',
        '{"type": "user_joined", "member": "bob"}',
        "[" * 100_000,
        '{"a":' * 20_000 + "1" + "}" * 20_000,
        "x" * (MAX_FRAME_BYTES + 1),
        b"\xff\xfe{}",
    ],
)
def test_bad_frames_raise_protocol_error(frame: str | bytes) -> None:
    """Malformed, mistyped, oversized and deeply nested frames raise ProtocolError."""
    with pytest.raises(ProtocolError) as info:
        parse(frame)
    assert info.value.code == ErrorCode.INVALID_PARAMETER


def test_defaults_fill_missing_optional_fields() -> None:
    """Optional fields may be left out; defaults match the dataclass."""
    msg = parse('{"type": "join", "req": 1, "token": "t"}')
    assert msg == Join(req=1, token="t")


def test_unknown_fields_ignored() -> None:
    """Fields a newer peer adds are ignored, so the protocol can grow additively."""
    assert parse('{"type": "kick", "req": 2, "user_id": "u", "future": [1]}') == Kick(2, "u")


def test_nested_values_round_trip() -> None:
    """Nested members, tracks and opaque relay data survive a round trip."""
    member = MemberInfo("alice", "Alice", "admin", (TrackInfo("t1", "video", "camera"),))
    relay = Relay(peer="bob", data={"sdp": "v=0\r\n", "nested": {"list": [1, 2.5, None]}})
    assert parse(serialize(relay)) == relay
    assert parse(serialize(UserJoined(member=member))) == UserJoined(member=member)


@pytest.mark.parametrize("frame", [
    '{"type":"heartbeat","req":NaN}',
    '{"type":"relay","peer":"bob","data":{"sdp":Infinity}}',
    '{"type":"relay","peer":"bob","data":{"x":-Infinity}}',
    '{"type":"relay","peer":"bob","data":{"x":1e999}}',
])
def test_non_json_numbers_are_refused(frame: str) -> None:
    """NaN, the infinities and numbers beyond a double (read as inf) are not JSON: such a frame
    is refused, so it can never be relayed to another member."""
    with pytest.raises(ProtocolError, match="not JSON"):
        parse(frame)


def test_nan_never_reaches_a_frame() -> None:
    """A message holding NaN cannot be serialised (the old joined frame carried it as the
    bare word NaN, which JSON parsers refuse)."""
    msg = Relay(peer="bob", data={"x": float("nan")})
    with pytest.raises(ValueError, match="not JSON compliant"):
        serialize(msg)
