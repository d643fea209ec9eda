"""Qiniu MAC verification against requests signed by Qiniu's official Python SDK."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st
from qiniu import QiniuMacAuth
from qiniu.auth import QiniuMacRequestsAuth
from qiniu.services.pili.rtc_server_manager import RtcServer
from qiniu.utils import canonical_mime_header_key

from roomcall.protocol.mac import (
    MacError,
    canonical_header_key,
    format_date,
    parse_date,
    sign_request,
    signing_data,
    verify_request,
)
from tests.waiting import scaled

AK = "mac-access-key"
SK = "mac-secret-key"
KEYS = {AK: SK}
BASE = "http://127.0.0.1:7880"


@dataclass
class Req:
    """The parts of a received request the verifier looks at."""

    method: str
    path: str
    raw_query: str
    host: str
    content_type: str | None
    headers: dict[str, str]
    body: bytes
    authorization: str | None = field(default=None)

    def verify(self, now: float | None = None, **change: Any) -> str:
        parts = {**self.__dict__, **change}
        authorization = parts.pop("authorization")
        return verify_request(
            authorization, secret_for=KEYS.get, now=time.time() if now is None else now, **parts
        )


def _qiniu_signed(method: str, url: str, **kwargs: Any) -> Req:
    """A request as Qiniu's SDK signs it (QiniuMacRequestsAuth on a requests request)."""
    prepared = requests.Request(method, url, **kwargs).prepare()
    prepared = QiniuMacRequestsAuth(QiniuMacAuth(AK, SK))(prepared)
    parts = urlsplit(prepared.url)
    body = prepared.body or b""
    return Req(
        method=method,
        path=parts.path,
        raw_query=parts.query,
        host=parts.netloc,
        content_type=prepared.headers.get("Content-Type"),
        headers=dict(prepared.headers),
        body=body.encode() if isinstance(body, str) else body,
        authorization=prepared.headers["Authorization"],
    )


# --- requests signed by Qiniu's SDK ---------------------------------------------------------

SDK_REQUESTS = {
    "get-with-query": ("GET", f"{BASE}/v3/apps/app1/rooms?prefix=room&offset=0&limit=5", {}),
    "get-plain": ("GET", f"{BASE}/v3/apps/app1/rooms/room_1/users", {}),
    "post-form": ("POST", f"{BASE}/v3/apps", {"data": {"title": "t", "maxUsers": 4,
                                                      "noAutoKickUser": True}}),
    "post-json": ("POST", f"{BASE}/v3/apps/app1", {"json": {"maxUsers": 4, "title": "标题"}}),
    "delete": ("DELETE", f"{BASE}/v3/apps/app1/rooms/room_1/users/user_1", {}),
}


@pytest.mark.parametrize("name", sorted(SDK_REQUESTS))
def test_qiniu_signed_request_verifies(name: str) -> None:
    """Requests signed by Qiniu's SDK (GET + query, form POST, JSON POST, DELETE) verify."""
    method, url, kwargs = SDK_REQUESTS[name]
    req = _qiniu_signed(method, url, **kwargs)
    assert "X-Qiniu-Date" in req.headers  # the SDK signs a timestamp by default
    assert req.verify() == AK


def test_json_body_is_signed() -> None:
    """A JSON POST carries its body in the signature: a changed body fails."""
    req = _qiniu_signed("POST", f"{BASE}/v3/apps/app1", json={"maxUsers": 4})
    assert req.content_type == "application/json"
    with pytest.raises(MacError):
        req.verify(body=b'{"maxUsers": 400}')


@pytest.mark.parametrize(
    "change",
    [
        {"path": "/v3/apps/app2"},
        {"method": "DELETE"},
        {"raw_query": "prefix=other"},
        {"host": "evil.example:7880"},
        {"body": b"title=t&maxUsers=400&noAutoKickUser=True"},
        {"content_type": "application/json"},
    ],
)
def test_tampered_request_fails(change: dict[str, Any]) -> None:
    """Changing any signed part of a form POST after signing fails verification."""
    req = _qiniu_signed("POST", f"{BASE}/v3/apps?prefix=x", data={"title": "t", "maxUsers": 4})
    assert req.verify() == AK
    with pytest.raises(MacError):
        req.verify(**change)


def test_tampered_date_fails() -> None:
    """Moving the signed X-Qiniu-Date (to replay later) breaks the signature."""
    req = _qiniu_signed("GET", f"{BASE}/v3/apps")
    headers = {**req.headers, "X-Qiniu-Date": format_date(time.time() + 600)}
    with pytest.raises(MacError, match="signature"):
        req.verify(headers=headers)


@pytest.mark.parametrize("skew", [-901, 901, 3600, -86400])
def test_date_skew_beyond_fifteen_minutes_fails(skew: float) -> None:
    """A correctly signed request whose date is more than 15 minutes off is refused."""
    req = _qiniu_signed("DELETE", f"{BASE}/v3/apps/app1")
    signed_at = parse_date(req.headers["X-Qiniu-Date"])
    assert req.verify(now=signed_at + 899) == AK
    with pytest.raises(MacError, match="X-Qiniu-Date"):
        req.verify(now=signed_at - skew)


def test_malformed_date_fails() -> None:
    """A signed but malformed X-Qiniu-Date is refused."""
    headers = {"X-Qiniu-Date": "2024-01-31 23:59:59"}
    auth = sign_request(AK, SK, method="GET", path="/v3/apps", raw_query="", host="h",
                        content_type=None, headers=headers, body=b"")
    with pytest.raises(MacError, match="X-Qiniu-Date"):
        verify_request(auth, secret_for=KEYS.get, method="GET", path="/v3/apps", raw_query="",
                       host="h", content_type=None, headers=headers, body=b"", now=time.time())


def test_request_without_date_accepted() -> None:
    """Qiniu's SDK with timestamp signing disabled (and the Go SDK) sends no date: accepted."""
    prepared = requests.Request("GET", f"{BASE}/v3/apps").prepare()
    prepared = QiniuMacRequestsAuth(QiniuMacAuth(AK, SK, True))(prepared)
    assert "X-Qiniu-Date" not in prepared.headers
    assert verify_request(
        prepared.headers["Authorization"], secret_for=KEYS.get, method="GET", path="/v3/apps",
        raw_query="", host="127.0.0.1:7880", content_type=prepared.headers["Content-Type"],
        headers=dict(prepared.headers), body=b"", now=0,
    ) == AK


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Qiniu", "Qiniu ", "Bearer x:y", f"QBox {AK}:sig", f"Qiniu {AK}", f"Qiniu {AK}:",
     "Qiniu :sig", "Qiniu unknown-key:sig", f"Qiniu {AK}:wrong", f"Qiniu {AK}:签名"],
)
def test_bad_authorization_fails(authorization: str | None) -> None:
    """A missing, garbled, unknown-key or mis-signed Authorization header is refused."""
    req = _qiniu_signed("GET", f"{BASE}/v3/apps")
    with pytest.raises(MacError) as info:
        req.verify(authorization=authorization)
    assert info.value.message


def test_wrong_secret_fails() -> None:
    """A request signed with another secret for a known access key is refused."""
    auth = sign_request(AK, "not-the-secret", method="GET", path="/v3/apps", raw_query="",
                        host="h", content_type=None, headers={}, body=b"")
    with pytest.raises(MacError, match="signature"):
        verify_request(auth, secret_for=KEYS.get, method="GET", path="/v3/apps", raw_query="",
                       host="h", content_type=None, headers={}, body=b"", now=0)


# --- our signer and the signed text -----------------------------------------------------------


def test_signing_data_layout() -> None:
    """The signed text follows the reference: request line, Host, Content-Type, sorted
    canonical X-Qiniu-* headers, blank line, body."""
    data = signing_data(
        "POST", "/v3/apps", "a=1", "example.com", "application/json",
        {"x-qiniu-zeta": "z", "X-QINIU-ALPHA": "a", "X-Other": "ignored", "X-Qiniu-": "empty"},
        b'{"k":1}',
    )
    assert data == (b"POST /v3/apps?a=1\nHost: example.com\nContent-Type: application/json\n"
                    b"X-Qiniu-Alpha: a\nX-Qiniu-Zeta: z\n\n{\"k\":1}")


@pytest.mark.parametrize("content_type", [None, "", "application/octet-stream"])
def test_body_unsigned_without_text_content_type(content_type: str | None) -> None:
    """Without a Content-Type, or with application/octet-stream, the body is not signed."""
    data = signing_data("PUT", "/p", "", "h", content_type, {}, b"binary")
    assert not data.endswith(b"binary") and data.endswith(b"\n\n")


def test_our_signature_matches_qiniu_sdk() -> None:
    """sign_request produces the Authorization Qiniu's SDK computes for the same request."""
    req = _qiniu_signed("POST", f"{BASE}/v3/apps?x=1", data={"title": "t"})
    ours = sign_request(AK, SK, method=req.method, path=req.path, raw_query=req.raw_query,
                        host=req.host, content_type=req.content_type, headers=req.headers,
                        body=req.body)
    assert ours == req.authorization


def test_date_format_round_trip() -> None:
    """format_date and parse_date agree, in UTC, with Qiniu's YYYYMMDDTHHMMSSZ format."""
    assert format_date(1700000000) == "20231114T221320Z"
    assert parse_date("20231114T221320Z") == 1700000000


_TCHAR = "!#$%&*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


@given(st.text(st.sampled_from(_TCHAR), min_size=1))
def test_canonical_header_key_matches_qiniu(name: str) -> None:
    """Header names are canonicalised exactly as Qiniu's SDK (and Go's net/http) do."""
    assert canonical_header_key(name) == canonical_mime_header_key(name)


def test_canonical_header_key_leaves_invalid_names() -> None:
    """A name with a space or non-ASCII character is left as it is, as Go does."""
    assert canonical_header_key("x qiniu") == "x qiniu"
    assert canonical_header_key("x-qiniu-é") == "x-qiniu-é"


@settings(max_examples=200)
@given(
    authorization=st.none() | st.text(),
    method=st.text(), path=st.text(), raw_query=st.text(), host=st.text(),
    content_type=st.none() | st.text(),
    headers=st.dictionaries(st.text() | st.just("X-Qiniu-Date"), st.text(), max_size=4),
    body=st.binary(),
)
def test_arbitrary_requests_raise_only_mac_error(
    authorization: str | None, method: str, path: str, raw_query: str, host: str,
    content_type: str | None, headers: Mapping[str, str], body: bytes,
) -> None:
    """Any request at all (surrogates included) is either accepted or refused with MacError."""
    try:
        verify_request(authorization, secret_for=lambda key: SK, method=method, path=path,
                       raw_query=raw_query, host=host, content_type=content_type,
                       headers=headers, body=body, now=time.time())
    except MacError as exc:
        assert exc.message


# --- over a real socket: Qiniu's RtcServer against a verifying HTTP endpoint -------------------


@pytest.fixture
async def verifying_server() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """An HTTP server on port 0 that answers 200 for requests our verifier accepts, else 401."""
    seen: list[dict[str, Any]] = []

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            access_key = verify_request(
                request.headers.get("Authorization"), secret_for=KEYS.get,
                method=request.method, path=request.raw_path.split("?", 1)[0],
                raw_query=request.rel_url.raw_query_string, host=request.headers["Host"],
                content_type=request.headers.get("Content-Type"), headers=request.headers,
                body=body, now=time.time(),
            )
        except MacError as exc:
            seen.append({"path": request.path, "ok": False})
            return web.json_response({"error": exc.message}, status=401)
        seen.append({"path": request.path, "query": request.rel_url.raw_query_string,
                     "body": body, "ok": True})
        # Qiniu's SDK discards the body of a 200 without X-Reqid ("server is not qiniu")
        return web.json_response({"accessKey": access_key}, headers={"X-Reqid": "test"})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}", seen
    finally:
        await runner.cleanup()


async def test_rtc_server_calls_verify_over_http(
    verifying_server: tuple[str, list[dict[str, Any]]],
) -> None:
    """Every RtcServer call, sent by Qiniu's SDK over a real socket, passes our verifier."""
    url, seen = verifying_server
    server = RtcServer(QiniuMacAuth(AK, SK))
    server.host = url
    calls = [
        lambda: server.create_app({"hub": "h", "title": "t", "maxUsers": 4}),
        lambda: server.get_app(),
        lambda: server.get_app("app1"),
        lambda: server.update_app("app1", {"noAutoKickUser": True}),
        lambda: server.list_user("app1", "room_1"),
        lambda: server.kick_user("app1", "room_1", "user_1"),
        lambda: server.list_active_rooms("app1", "roo"),
        lambda: server.list_active_rooms("app1"),
        lambda: server.delete_app("app1"),
    ]
    for call in calls:
        ret, info = await asyncio.wait_for(asyncio.to_thread(call), timeout=scaled(10))
        assert info.status_code == 200, info
        assert ret == {"accessKey": AK}
    assert [s["ok"] for s in seen] == [True] * len(calls)
    assert seen[0]["body"] == b"hub=h&title=t&maxUsers=4"
    assert seen[6]["query"] == "prefix=roo"


async def test_mis_signed_call_over_http_refused(
    verifying_server: tuple[str, list[dict[str, Any]]],
) -> None:
    """An RtcServer with the wrong secret gets 401 from the verifying endpoint."""
    url, seen = verifying_server
    server = RtcServer(QiniuMacAuth(AK, "wrong-secret"))
    server.host = url
    _, info = await asyncio.wait_for(asyncio.to_thread(server.get_app), timeout=scaled(10))
    assert info.status_code == 401
    assert seen == [{"path": "/v3/apps", "ok": False}]


async def test_json_post_over_http_verifies(
    verifying_server: tuple[str, list[dict[str, Any]]],
) -> None:
    """A JSON body, as the Go/Java SDKs send it, verifies over a real socket."""
    url, seen = verifying_server

    def post() -> requests.Response:
        return requests.post(f"{url}/v3/apps?x=1", json={"maxUsers": 3, "title": "会议"},
                             auth=QiniuMacRequestsAuth(QiniuMacAuth(AK, SK)), timeout=scaled(10))

    response = await asyncio.wait_for(asyncio.to_thread(post), timeout=scaled(10))
    assert response.status_code == 200
    assert json.loads(seen[0]["body"]) == {"maxUsers": 3, "title": "会议"}
