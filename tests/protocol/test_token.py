"""RoomToken signing and verification: the reference vector, Qiniu's SDK, and bad tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from qiniu.services.pili.rtc_server_manager import get_room_token

from roomcall.protocol.errors import ErrorCode
from roomcall.protocol.token import (
    ROOM_NAME_RE,
    USER_ID_RE,
    RoomAccess,
    TokenError,
    read_room_token,
    sign_room_token,
    verify_room_token,
)

AK = "test-access-key"
SK = "test-secret-key"
KEYS = {AK: SK, "DUMMY_AK": "DUMMY_SK"}
NOW = 1_700_000_000.0
LATER = int(NOW) + 3600

WORKED_EXAMPLE = (
    "DUMMY_AK:WCdrzyvkfG5Ft16Piz5fKnzyosQ=:eyJhcHBJZCI6ImFwcGlkMTIzIiwicm9vbU5hbWUiOiJyb29tXzAwM"
    "SIsInVzZXJJZCI6InVzZXJfMDAxIiwiZXhwaXJlQXQiOjE3MDAwMDAwMDAsInBlcm1pc3Npb24iOiJhZG1pbiJ9"
)


def _verify(token: str, now: float = NOW) -> RoomAccess:
    return verify_room_token(token, KEYS.get, now=now)


def _mint(payload: bytes, secret: str = SK, access_key: str = AK) -> str:
    """A correctly signed token around arbitrary payload bytes."""
    enc = base64.urlsafe_b64encode(payload).decode()
    sign = base64.urlsafe_b64encode(
        hmac.new(secret.encode(), enc.encode(), hashlib.sha1).digest()
    ).decode()
    return f"{access_key}:{sign}:{enc}"


def _mint_json(fields: dict[str, Any]) -> str:
    return _mint(json.dumps(fields).encode())


def _valid_fields(**override: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "appId": "app1", "roomName": "room_1", "userId": "user-1", "expireAt": LATER,
        "permission": "user",
    }
    fields.update(override)
    return {k: v for k, v in fields.items() if v is not ...}


def _code(token: str, now: float = NOW) -> int:
    with pytest.raises(TokenError) as info:
        _verify(token, now)
    assert info.value.message
    return info.value.code


# --- the reference vector and Qiniu's SDK -------------------------------------------------


def test_worked_example_is_byte_exact() -> None:
    """The reference's worked example signs to exactly the published token."""
    access = RoomAccess("appid123", "room_001", "user_001", 1700000000, "admin")
    assert sign_room_token("DUMMY_AK", "DUMMY_SK", access) == WORKED_EXAMPLE


def test_worked_example_verifies() -> None:
    """The published token verifies to its grant one second before it expires."""
    access = verify_room_token(WORKED_EXAMPLE, KEYS.get, now=1699999999)
    assert access == RoomAccess("appid123", "room_001", "user_001", 1700000000, "admin")


def test_worked_example_expires() -> None:
    """The published token is refused with 10002 once its expireAt has passed."""
    assert _code(WORKED_EXAMPLE, now=1700000001) == ErrorCode.TOKEN_EXPIRED


def test_leeway_forgives_clock_difference() -> None:
    """A token expired by less than the leeway still verifies."""
    access = verify_room_token(WORKED_EXAMPLE, KEYS.get, now=1700000005, leeway=10)
    assert access.expire_at == 1700000000


@pytest.mark.parametrize(
    "room_access",
    [
        {"appId": "app1", "roomName": "room_1", "userId": "alice", "expireAt": LATER,
         "permission": "admin"},
        {"permission": "user", "expireAt": LATER, "userId": "bob_2", "roomName": "r-o-o-m",
         "appId": "app1"},
        {"userId": "carol", "appId": "app1", "expireAt": LATER, "roomName": "abc"},
        {"roomName": "x" * 64, "appId": "app1", "permission": "admin", "userId": "u" * 50,
         "expireAt": LATER},
    ],
)
def test_qiniu_sdk_tokens_verify_unchanged(room_access: dict[str, Any]) -> None:
    """Tokens minted by Qiniu's Python SDK (spaced JSON, any key order) verify as minted."""
    token = get_room_token(AK, SK, room_access)
    # the SDK's JSON has spaces, so re-serialising compactly would break the signature
    assert b": " in base64.urlsafe_b64decode(token.split(":")[2])
    access = _verify(token)
    assert access == RoomAccess(
        room_access["appId"], room_access["roomName"], room_access["userId"],
        room_access["expireAt"], room_access.get("permission", "user"),
    )


def test_qiniu_sdk_verifies_our_tokens() -> None:
    """Our signature equals the one Qiniu's SDK computes over the same encoded text."""
    ours = sign_room_token(AK, SK, RoomAccess("app1", "room_1", "user_1", LATER, "admin"))
    enc = ours.split(":")[2]
    theirs = get_room_token(AK, SK, json.loads(base64.urlsafe_b64decode(enc)))
    assert _verify(theirs) == _verify(ours)


def test_missing_padding_accepted() -> None:
    """A token whose base64 lost its '=' padding in transit still verifies."""
    # one of three consecutive payload lengths needs padding
    token = next(t for t in map(_mint_json, (_valid_fields(appId="a" * n) for n in (1, 2, 3)))
                 if t.endswith("="))
    ak, sign, enc = token.split(":")
    assert sign.endswith("=")
    assert _verify(f"{ak}:{sign.rstrip('=')}:{enc.rstrip('=')}").app_id.startswith("a")


def test_unpadded_signed_data_accepted() -> None:
    """A token whose signer encoded the data without padding (raw URL base64) verifies."""
    payload = next(p for p in (json.dumps(_valid_fields(appId="a" * n)).encode() for n in (1, 2, 3))
                   if len(p) % 3)
    enc = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    sign = base64.urlsafe_b64encode(hmac.new(SK.encode(), enc.encode(), hashlib.sha1).digest())
    assert _verify(f"{AK}:{sign.decode()}:{enc}").app_id.startswith("a")


def test_empty_permission_means_user() -> None:
    """An empty permission (Go's zero value) is read as "user"."""
    assert _verify(_mint_json(_valid_fields(permission=""))).permission == "user"


def test_surrounding_whitespace_ignored() -> None:
    """A token pasted with a trailing newline still verifies."""
    assert _verify(WORKED_EXAMPLE + "\n", now=1).user_id == "user_001"


# --- bad tokens -------------------------------------------------------------------------


def test_forged_signature_refused() -> None:
    """A token signed with another secret is refused with 10001."""
    token = _mint_json(_valid_fields())
    forged = _mint(base64.urlsafe_b64decode(token.split(":")[2]), secret="guess")
    assert _code(forged) == ErrorCode.TOKEN_ERROR


def test_tampered_payload_refused() -> None:
    """Changing the payload (admin instead of user) under the old signature gives 10001."""
    ak, sign, _ = _mint_json(_valid_fields()).split(":")
    enc = base64.urlsafe_b64encode(json.dumps(_valid_fields(permission="admin")).encode())
    assert _code(f"{ak}:{sign}:{enc.decode()}") == ErrorCode.TOKEN_ERROR


def test_unknown_access_key_refused() -> None:
    """A token naming an access key the server does not know gives 10001."""
    assert _code(_mint_json(_valid_fields()).replace(AK, "other-key", 1)) == ErrorCode.TOKEN_ERROR


@pytest.mark.parametrize("cut", [1, 10, 40, -1, -5, -30])
def test_truncated_token_refused(cut: int) -> None:
    """A token cut anywhere is refused with 10001."""
    token = _mint_json(_valid_fields())
    assert not token.endswith("=")  # else cutting only lost padding, which is forgiven
    assert _code(token[:cut]) == ErrorCode.TOKEN_ERROR


@pytest.mark.parametrize(
    "token",
    ["", "   ", "abc", "a:b", "a:b:c:d", ":x:y", f"{AK}::", f"{AK}:!!!:eyJ9",
     f"{AK}:abc:not base64", f"{AK}:abc:é"],
)
def test_malformed_shapes_refused(token: str) -> None:
    """Tokens without the AccessKey:sign:data shape or with bad base64 give 10001."""
    assert _code(token) == ErrorCode.TOKEN_ERROR


@pytest.mark.parametrize(
    "payload",
    [b"", b"not json", b"[1,2,3]", b'"string"', b"\xff\xfe\x00garbage", b"{" * 5000,
     b'{"appId": "a", "expireAt": 1' + b"0" * 5000 + b"}"],
)
def test_signed_non_json_refused(payload: bytes) -> None:
    """A correctly signed payload that is not a JSON object gives 10001."""
    assert _code(_mint(payload)) == ErrorCode.TOKEN_ERROR


def test_non_base64_data_refused() -> None:
    """A correctly signed data part that is not decodable base64 gives 10001."""
    enc = "A"  # one character: no base64 decodes to this length
    sign = base64.urlsafe_b64encode(hmac.new(SK.encode(), enc.encode(), hashlib.sha1).digest())
    assert _code(f"{AK}:{sign.decode()}:{enc}") == ErrorCode.TOKEN_ERROR


@pytest.mark.parametrize(
    "override",
    [
        {"roomName": "ab"}, {"roomName": "x" * 65}, {"roomName": "room name"},
        {"roomName": "room/1"}, {"roomName": "room_1\n"}, {"roomName": 123},
        {"userId": "ab"}, {"userId": "u" * 51}, {"userId": "us.er"}, {"userId": None},
        {"appId": ""}, {"appId": 5}, {"appId": ...},
        {"expireAt": "1700003600"}, {"expireAt": 1700003600.5}, {"expireAt": True},
        {"expireAt": -1}, {"expireAt": 2**64}, {"expireAt": ...},
        {"permission": "root"}, {"permission": "Admin"}, {"permission": 1},
        {"permission": ["admin"]},
    ],
)
def test_bad_fields_refused(override: dict[str, Any]) -> None:
    """A signed token with a field of the wrong type or pattern gives 10001, even unexpired."""
    assert _code(_mint_json(_valid_fields(**override))) == ErrorCode.TOKEN_ERROR


def test_malformed_beats_expired() -> None:
    """A token both malformed and expired reports the malformation (10001)."""
    assert _code(_mint_json(_valid_fields(roomName="no", expireAt=1))) == ErrorCode.TOKEN_ERROR


def test_non_string_token_refused() -> None:
    """A non-string where a token belongs (from a JSON frame) gives 10001, not TypeError."""
    with pytest.raises(TokenError) as info:
        verify_room_token(None, KEYS.get, now=NOW)  # type: ignore[arg-type]
    assert info.value.code == ErrorCode.TOKEN_ERROR


@pytest.mark.parametrize(
    "access",
    [
        RoomAccess("app1", "no", "user_1", LATER),
        RoomAccess("app1", "room_1", "bad user", LATER),
        RoomAccess("", "room_1", "user_1", LATER),
        RoomAccess("app1", "room_1", "user_1", LATER, "root"),  # type: ignore[arg-type]
    ],
)
def test_sign_refuses_what_verify_would(access: RoomAccess) -> None:
    """Signing a grant no verifier accepts raises ValueError instead of minting it."""
    with pytest.raises(ValueError):
        sign_room_token(AK, SK, access)


def test_patterns_exported() -> None:
    """The exported patterns are Qiniu's field rules."""
    assert ROOM_NAME_RE.fullmatch("a_b-C9") and not ROOM_NAME_RE.fullmatch("a b")
    assert USER_ID_RE.fullmatch("u" * 50) and not USER_ID_RE.fullmatch("u" * 51)


# --- properties ---------------------------------------------------------------------------

_NAME_ALPHABET = st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=10,
)
_FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "appId": _JSON | st.text(min_size=1),
        "roomName": _JSON | st.text(_NAME_ALPHABET, min_size=2, max_size=66),
        "userId": _JSON | st.text(_NAME_ALPHABET, min_size=2, max_size=52),
        "expireAt": _JSON | st.integers(),
        "permission": _JSON | st.sampled_from(["admin", "user", ""]),
    },
)


@settings(max_examples=300)
@given(st.text())
def test_arbitrary_text_raises_only_token_error(text: str) -> None:
    """Any string at all either verifies or raises TokenError with 10001/10002."""
    try:
        verify_room_token(text, lambda ak: SK, now=NOW)
    except TokenError as exc:
        assert exc.code in (ErrorCode.TOKEN_ERROR, ErrorCode.TOKEN_EXPIRED)


@settings(max_examples=300)
@given(st.text(), st.text(), st.text())
def test_arbitrary_parts_raise_only_token_error(ak: str, sign: str, enc: str) -> None:
    """Any three colon-joined strings raise TokenError and nothing else."""
    with pytest.raises(TokenError):
        verify_room_token(f"{ak}:{sign}:{enc}", lambda key: SK, now=NOW)


@settings(max_examples=300)
@given(st.binary())
def test_signed_arbitrary_bytes_raise_only_token_error(payload: bytes) -> None:
    """A correctly signed payload of arbitrary bytes never escapes as another exception."""
    try:
        _verify(_mint(payload))
    except TokenError as exc:
        assert exc.code in (ErrorCode.TOKEN_ERROR, ErrorCode.TOKEN_EXPIRED)


@settings(max_examples=300)
@given(_FIELDS)
def test_signed_arbitrary_fields_verify_or_refuse(fields: dict[str, Any]) -> None:
    """Signed JSON with arbitrary field values gives a well-formed grant or a TokenError."""
    try:
        access = _verify(_mint_json(fields))
    except TokenError as exc:
        assert exc.code in (ErrorCode.TOKEN_ERROR, ErrorCode.TOKEN_EXPIRED)
    else:
        assert ROOM_NAME_RE.fullmatch(access.room_name) and USER_ID_RE.fullmatch(access.user_id)
        assert access.permission in ("admin", "user") and access.expire_at >= NOW


@given(
    app_id=st.text(min_size=1, max_size=40),
    room=st.from_regex(ROOM_NAME_RE, fullmatch=True),
    user=st.from_regex(USER_ID_RE, fullmatch=True),
    expire_at=st.integers(min_value=int(NOW), max_value=2**63 - 1),
    permission=st.sampled_from(["admin", "user"]),
    secret=st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=40),
)
def test_sign_verify_round_trip(
    app_id: str, room: str, user: str, expire_at: int, permission: Any, secret: str
) -> None:
    """Every valid grant signed with any secret verifies back to itself."""
    access = RoomAccess(app_id, room, user, expire_at, permission)
    token = sign_room_token(AK, secret, access)
    assert verify_room_token(token, {AK: secret}.get, now=NOW) == access


def test_read_room_token_states_the_grant_without_verifying() -> None:
    """A client can read what a token grants (even expired, even with a key it lacks), and
    unreadable text is a TokenError."""
    access = read_room_token(WORKED_EXAMPLE)
    assert access == RoomAccess("appid123", "room_001", "user_001", 1700000000, "admin")
    forged = "OTHER:AAAA:" + WORKED_EXAMPLE.split(":")[2]
    assert read_room_token(forged) == access
    for bad in ("", "garbage", "a:b:!!!", "a:b:bm90IGpzb24"):
        with pytest.raises(TokenError):
            read_room_token(bad)
