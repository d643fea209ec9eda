"""The v3 management API over HTTP: authentication, every route's answer and its errors."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from roomcall.protocol.errors import ErrorCode
from roomcall.protocol.mac import DATE_HEADER, format_date, sign_request
from roomcall.protocol.messages import Closed, Error, Join
from roomcall.server import RoomServer
from roomcall.server.management import MAX_BODY_BYTES, ApiError, app_fields
from roomcall.server.store import AppStore

from .conftest import JoinMember
from .signal_client import SignalClient


@dataclass
class Reply:
    """An answer: status, parsed JSON body and headers."""

    status: int
    body: Any
    headers: Mapping[str, str]


@dataclass(frozen=True)
class Signed:
    """A signed request, ready to send (and to send again, byte for byte)."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes


class Api:
    """Signs and sends management requests to one server."""

    def __init__(self, session: aiohttp.ClientSession, base: str, ak: str, sk: str) -> None:
        self.session = session
        self.base = base
        self.ak = ak
        self.sk = sk

    def sign(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
        raw: bytes | None = None,
        content_type: str | None = None,
        sign: bool = True,
        secret: str | None = None,
        date: float | None = None,
        dated: bool = True,
        nonce: bool = True,
    ) -> Signed:
        """``method path`` signed (unless told otherwise), dated now (or ``date``) unless
        ``dated=False``, with a unique ``X-Qiniu-Nonce`` unless ``nonce=False`` (so that two
        identical calls of a test are two requests, not a replay)."""
        body = b""
        if json_body is not None:
            body, content_type = json.dumps(json_body).encode(), "application/json"
        elif form is not None:
            body, content_type = urlencode(form).encode(), "application/x-www-form-urlencoded"
        elif raw is not None:
            body = raw
        headers: dict[str, str] = {}
        if content_type:
            headers["Content-Type"] = content_type
        if dated:
            headers[DATE_HEADER] = format_date(time.time() if date is None else date)
        if nonce:
            headers["X-Qiniu-Nonce"] = secrets.token_hex(8)
        url = self.base + path
        parts = urlsplit(url)
        if sign:
            headers["Authorization"] = sign_request(
                self.ak, secret or self.sk, method=method, path=parts.path,
                raw_query=parts.query, host=parts.netloc, content_type=content_type,
                headers=headers, body=body)
        return Signed(method, url, headers, body)

    async def send(self, request: Signed, *, tamper: bytes | None = None) -> Reply:
        """Send a signed request (with ``tamper`` as its body instead, if given)."""
        async with self.session.request(
                request.method, request.url, data=tamper or request.body or None,
                headers=request.headers, skip_auto_headers=["Content-Type"]) as resp:
            text = await resp.text()
            return Reply(resp.status, json.loads(text) if text else None, resp.headers)

    async def call(self, method: str, path: str, *, tamper: bytes | None = None,
                   **options: Any) -> Reply:
        """Sign ``method path`` (see :meth:`sign`), send it and read the JSON answer."""
        return await self.send(self.sign(method, path, **options), tamper=tamper)


@pytest.fixture
async def server(room_server: RoomServer) -> RoomServer:
    return room_server


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def api(server: RoomServer, session: aiohttp.ClientSession) -> Api:
    ak, sk = server.store.keys()
    return Api(session, server.http_url, ak, sk)


async def new_app(api: Api, **fields: Any) -> str:
    reply = await api.call("POST", "/v3/apps", json_body=fields)
    assert reply.status == 200, reply.body
    return str(reply.body["appId"])


# --- authentication ------------------------------------------------------------------------


async def test_unsigned_request_is_refused(api: Api, server: RoomServer) -> None:
    """A request without Authorization gets 401 with a JSON error and creates nothing."""
    reply = await api.call("POST", "/v3/apps", json_body={"title": "x"}, sign=False)
    assert reply.status == 401
    assert "Authorization" in reply.body["error"]
    assert reply.headers["X-Reqid"]
    assert server.store.list_apps() == [server.default_app]


@pytest.mark.parametrize("path", ["/v3/apps", "/v3/apps/nosuchapp/rooms/room1/users",
                                  "/v3/apps/nosuchapp/rooms"])
async def test_every_route_needs_a_signature(api: Api, path: str) -> None:
    """Even a lookup of something that does not exist answers 401 before 404."""
    reply = await api.call("GET", path, sign=False)
    assert reply.status == 401


async def test_wrong_secret_is_refused(api: Api) -> None:
    """A signature made with another secret key gets 401."""
    reply = await api.call("GET", "/v3/apps", secret="not-the-secret")
    assert reply.status == 401
    assert "signature" in reply.body["error"]


async def test_unknown_access_key_is_refused(api: Api) -> None:
    """A request signed with an access key the server does not know gets 401."""
    other = Api(api.session, api.base, "someone-else", api.sk)
    reply = await other.call("GET", "/v3/apps")
    assert reply.status == 401
    assert "access key" in reply.body["error"]


async def test_tampered_body_is_refused(api: Api) -> None:
    """Changing the body after signing invalidates the signature."""
    reply = await api.call("POST", "/v3/apps", json_body={"maxUsers": 2},
                           tamper=b'{"maxUsers": 200}')
    assert reply.status == 401


async def test_stale_date_is_refused_and_fresh_date_accepted(api: Api) -> None:
    """An X-Qiniu-Date 20 minutes old gets 401; a current one is accepted."""
    stale = await api.call("GET", "/v3/apps", date=time.time() - 20 * 60)
    assert stale.status == 401
    assert DATE_HEADER in stale.body["error"]
    fresh = await api.call("GET", "/v3/apps", date=time.time())
    assert fresh.status == 200


# --- apps ----------------------------------------------------------------------------------


async def test_create_app_from_json(api: Api) -> None:
    """A JSON body sets every field and the answer has Qiniu's shape (and roomcall's
    sfuThreshold)."""
    reply = await api.call("POST", "/v3/apps", json_body={
        "hub": "hub1", "title": "team", "maxUsers": 4, "noAutoKickUser": True,
        "sfuThreshold": 6, "mergePublishRtmp": {"enable": True}})
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("application/json")
    app = reply.body
    assert set(app) == {"appId", "hub", "title", "maxUsers", "noAutoKickUser", "createdAt",
                        "updatedAt", "sfuThreshold"}
    assert (app["hub"], app["title"], app["maxUsers"], app["noAutoKickUser"],
            app["sfuThreshold"]) == ("hub1", "team", 4, True, 6)
    assert app["createdAt"] == app["updatedAt"] and app["createdAt"].endswith("Z")


async def test_create_app_from_form_values(api: Api) -> None:
    """Form bodies carry text values, as Qiniu's Python SDK sends them."""
    reply = await api.call("POST", "/v3/apps", form={
        "title": "formed", "maxUsers": "4", "noAutoKickUser": "True"})
    assert reply.status == 200
    assert (reply.body["title"], reply.body["maxUsers"], reply.body["noAutoKickUser"]) == (
        "formed", 4, True)
    off = await api.call("POST", "/v3/apps", form={"noAutoKickUser": "False"})
    assert off.body["noAutoKickUser"] is False


async def test_sfu_threshold_is_updated_and_checked(api: Api) -> None:
    """An update sets sfuThreshold (form text or JSON); a negative, fractional or textual
    value is a 400 naming the field, and the app keeps its value."""
    app = (await api.call("POST", "/v3/apps", json_body={"title": "sfu"})).body
    assert app["sfuThreshold"] == 4
    path = f"/v3/apps/{app['appId']}"
    assert (await api.call("POST", path, form={"sfuThreshold": "0"})).body["sfuThreshold"] == 0
    for bad in ({"sfuThreshold": -1}, {"sfuThreshold": 2.5}, {"sfuThreshold": "3"}):
        refused = await api.call("POST", path, json_body=bad)
        assert refused.status == 400 and "sfuThreshold" in refused.body["error"], refused.body
    assert (await api.call("GET", path)).body["sfuThreshold"] == 0


async def test_create_app_with_empty_body_uses_defaults(api: Api) -> None:
    """No body means Qiniu's defaults: no user limit, newer joins replace older ones."""
    reply = await api.call("POST", "/v3/apps", content_type="application/x-www-form-urlencoded")
    assert reply.status == 200
    assert (reply.body["maxUsers"], reply.body["noAutoKickUser"], reply.body["title"]) == (
        0, False, "")


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"json_body": {"maxUsers": -1}}, "maxUsers"),
        ({"json_body": {"maxUsers": "4"}}, "maxUsers"),
        ({"json_body": {"noAutoKickUser": "yes"}}, "noAutoKickUser"),
        ({"json_body": {"title": 3}}, "title"),
        ({"json_body": ["title"]}, "object"),
        ({"form": {"maxUsers": "four"}}, "maxUsers"),
        ({"form": {"noAutoKickUser": "maybe"}}, "noAutoKickUser"),
        ({"raw": b"{not json", "content_type": "application/json"}, "JSON"),
        ({"raw": b"title=\xff", "content_type": "application/x-www-form-urlencoded"}, "UTF-8"),
    ],
)
async def test_bad_app_fields_get_400(api: Api, server: RoomServer, kwargs: dict[str, Any],
                                      needle: str) -> None:
    """Invalid settings are refused with 400 naming the problem, and nothing is created."""
    reply = await api.call("POST", "/v3/apps", **kwargs)
    assert reply.status == 400
    assert needle in reply.body["error"]
    assert server.store.list_apps() == [server.default_app]


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=8)
_FIELD_NAMES = st.sampled_from(["hub", "title", "maxUsers", "noAutoKickUser", "other"])
_BODIES = st.one_of(
    st.binary(max_size=200),
    st.dictionaries(_FIELD_NAMES, _JSON_VALUES).map(lambda d: json.dumps(d).encode()),
    st.dictionaries(_FIELD_NAMES, st.text(max_size=12)).map(lambda d: urlencode(d).encode()),
)


@given(content_type=st.sampled_from(["application/json", "application/x-www-form-urlencoded",
                                     "text/plain", "application/octet-stream", ""]),
       body=_BODIES)
def test_any_body_gives_settings_or_400(tmp_path_factory: pytest.TempPathFactory,
                                        content_type: str, body: bytes) -> None:
    """Whatever the body, parsing gives valid store arguments or a 400, never a crash."""
    try:
        fields = app_fields(content_type, body)
    except ApiError as exc:
        assert exc.status == 400 and exc.message
        return
    assert set(fields) <= {"hub", "title", "max_users", "no_auto_kick_user"}
    store = AppStore.open(tmp_path_factory.mktemp("store"))
    try:
        app = store.create_app(**fields)
    except ValueError as exc:
        assert str(exc)  # out-of-range values: the API answers 400 with this text
    else:
        assert store.get_app(app.app_id) == app
    finally:
        store.close()


async def test_oversized_body_gets_413(api: Api) -> None:
    """A body over the limit is refused before it is parsed."""
    reply = await api.call("POST", "/v3/apps", json_body={"title": "x" * MAX_BODY_BYTES})
    assert reply.status == 413


async def test_get_list_update_delete_app(api: Api, server: RoomServer,
                                          join_member: JoinMember) -> None:
    """The app routes read, list, change and delete apps; unknown ids get 404."""
    assert server.default_app is not None
    first = await new_app(api, title="one")
    second = await new_app(api, title="two")
    listed = await api.call("GET", "/v3/apps")
    assert [app["appId"] for app in listed.body] == [server.default_app.app_id, first, second]
    got = await api.call("GET", f"/v3/apps/{first}")
    assert got.status == 200 and got.body == listed.body[1]

    updated = await api.call("POST", f"/v3/apps/{first}", json_body={"maxUsers": 9})
    assert updated.status == 200
    assert (updated.body["title"], updated.body["maxUsers"]) == ("one", 9)
    form_updated = await api.call("POST", f"/v3/apps/{first}", form={"noAutoKickUser": "true"})
    assert form_updated.body["noAutoKickUser"] is True and form_updated.body["maxUsers"] == 9
    bad = await api.call("POST", f"/v3/apps/{first}", json_body={"maxUsers": -5})
    assert bad.status == 400
    assert (await api.call("GET", f"/v3/apps/{first}")).body["maxUsers"] == 9

    member = await join_member(server, server.token("room-a", "alice", app_id=first))
    deleted = await api.call("DELETE", f"/v3/apps/{first}")
    assert (deleted.status, deleted.body) == (200, {})
    closed = await member.wait_for(Closed)
    assert (closed.reason, closed.code) == ("ROOM_CLOSED", ErrorCode.ROOM_CLOSED)
    for method, path in [("GET", f"/v3/apps/{first}"), ("DELETE", f"/v3/apps/{first}"),
                         ("POST", f"/v3/apps/{first}")]:
        reply = await api.call(method, path)
        assert (reply.status, reply.body) == (404, {"error": "app not found"})
    remaining = [app["appId"] for app in (await api.call("GET", "/v3/apps")).body]
    assert remaining == [server.default_app.app_id, second]


async def test_update_applies_to_rooms_created_afterwards(
        api: Api, server: RoomServer, join_member: JoinMember,
        clients: list[SignalClient]) -> None:
    """A room opened before maxUsers changes keeps its settings; a new room gets the new ones."""
    app_id = await new_app(api)
    await join_member(server, server.token("before", "alice", app_id=app_id))
    reply = await api.call("POST", f"/v3/apps/{app_id}", form={"maxUsers": "1"})
    assert reply.body["maxUsers"] == 1
    await join_member(server, server.token("before", "bob", app_id=app_id))

    await join_member(server, server.token("after", "alice", app_id=app_id))
    bob = await SignalClient.connect(server.url)
    clients.append(bob)
    await bob.send(Join(req=7, token=server.token("after", "bob", app_id=app_id)))
    await bob.expect(Error, req=7, code=ErrorCode.ROOM_FULL)


# --- rooms ---------------------------------------------------------------------------------


async def test_room_routes_of_unknown_app_get_404(api: Api) -> None:
    """Every room route answers 404 for an app that does not exist."""
    for method, path in [("GET", "/v3/apps/nosuchapp/rooms"),
                         ("POST", "/v3/apps/nosuchapp/rooms/room1"),
                         ("DELETE", "/v3/apps/nosuchapp/rooms/room1"),
                         ("GET", "/v3/apps/nosuchapp/rooms/room1/users"),
                         ("DELETE", "/v3/apps/nosuchapp/rooms/room1/users/user1")]:
        reply = await api.call(method, path)
        assert (reply.status, reply.body) == (404, {"error": "app not found"}), path


async def test_inactive_room_gets_615(api: Api) -> None:
    """Listing users, kicking and closing in a room that is not active answer 615."""
    app_id = await new_app(api)
    for method, path in [("GET", f"/v3/apps/{app_id}/rooms/quiet/users"),
                         ("DELETE", f"/v3/apps/{app_id}/rooms/quiet/users/user1"),
                         ("DELETE", f"/v3/apps/{app_id}/rooms/quiet")]:
        reply = await api.call(method, path)
        assert (reply.status, reply.body) == (615, {"error": "room not active"}), path


async def test_bad_names_get_400(api: Api) -> None:
    """Room names and user ids outside Qiniu's patterns are refused with 400."""
    app_id = await new_app(api)
    for method, path, needle in [
        ("POST", f"/v3/apps/{app_id}/rooms/ab", "room name"),
        ("GET", f"/v3/apps/{app_id}/rooms/bad.room/users", "room name"),
        ("DELETE", f"/v3/apps/{app_id}/rooms/{'r' * 65}", "room name"),
        ("DELETE", f"/v3/apps/{app_id}/rooms/room1/users/u", "user id"),
        ("GET", f"/v3/apps/{app_id}/rooms?prefix=a.b", "prefix"),
        ("GET", f"/v3/apps/{app_id}/rooms?offset=-1", "offset"),
        ("GET", f"/v3/apps/{app_id}/rooms?limit=ten", "limit"),
    ]:
        reply = await api.call(method, path)
        assert reply.status == 400, path
        assert needle in reply.body["error"], path


async def test_create_list_and_close_rooms(api: Api) -> None:
    """Created rooms are listed as active; closing one removes it; closing twice is 615."""
    app_id = await new_app(api)
    created = await api.call("POST", f"/v3/apps/{app_id}/rooms/meeting-1")
    assert (created.status, created.body) == (200, {"room": "meeting-1", "created": True})
    again = await api.call("POST", f"/v3/apps/{app_id}/rooms/meeting-1")
    assert again.body == {"room": "meeting-1", "created": False}
    await api.call("POST", f"/v3/apps/{app_id}/rooms/meeting-2")
    listed = await api.call("GET", f"/v3/apps/{app_id}/rooms")
    assert listed.body == {"end": True, "offset": 2, "rooms": ["meeting-1", "meeting-2"]}
    users = await api.call("GET", f"/v3/apps/{app_id}/rooms/meeting-1/users")
    assert (users.status, users.body) == (200, {"users": []})

    closed = await api.call("DELETE", f"/v3/apps/{app_id}/rooms/meeting-1")
    assert (closed.status, closed.body) == (200, {})
    again_closed = await api.call("DELETE", f"/v3/apps/{app_id}/rooms/meeting-1")
    assert again_closed.status == 615
    listed = await api.call("GET", f"/v3/apps/{app_id}/rooms")
    assert listed.body["rooms"] == ["meeting-2"]


async def test_active_rooms_prefix_and_paging(api: Api) -> None:
    """prefix filters, offset/limit page, and the answer's offset continues the listing."""
    app_id = await new_app(api)
    other = await new_app(api)
    for name in ["alpha-1", "alpha-2", "alpha-3", "beta-1", "alpha-4"]:
        await api.call("POST", f"/v3/apps/{app_id}/rooms/{name}")
    await api.call("POST", f"/v3/apps/{other}/rooms/alpha-9")

    page = await api.call("GET", f"/v3/apps/{app_id}/rooms?prefix=alpha&offset=0&limit=3")
    assert page.body == {"end": False, "offset": 3, "rooms": ["alpha-1", "alpha-2", "alpha-3"]}
    rest = await api.call("GET", f"/v3/apps/{app_id}/rooms?prefix=alpha&offset=3&limit=3")
    assert rest.body == {"end": True, "offset": 4, "rooms": ["alpha-4"]}
    beyond = await api.call("GET", f"/v3/apps/{app_id}/rooms?prefix=alpha&offset=10")
    assert beyond.body == {"end": True, "offset": 10, "rooms": []}
    none = await api.call("GET", f"/v3/apps/{app_id}/rooms?prefix=gamma")
    assert none.body == {"end": True, "offset": 0, "rooms": []}


async def test_list_users_and_kick(api: Api, server: RoomServer,
                                   join_member: JoinMember) -> None:
    """Members are listed in Qiniu's shape; a kick removes one (KICKED_OUT); an absent user
    is 615."""
    app_id = await new_app(api)
    await join_member(server, server.token("room1", "alice", app_id=app_id))
    bob = await join_member(server, server.token("room1", "bob", app_id=app_id))
    users = await api.call("GET", f"/v3/apps/{app_id}/rooms/room1/users")
    assert users.body == {"users": [{"userId": "alice"}, {"userId": "bob"}]}

    kicked = await api.call("DELETE", f"/v3/apps/{app_id}/rooms/room1/users/bob")
    assert (kicked.status, kicked.body) == (200, {})
    closed = await bob.wait_for(Closed)
    assert (closed.reason, closed.code) == ("KICKED_OUT", ErrorCode.KICKED_OUT)
    users = await api.call("GET", f"/v3/apps/{app_id}/rooms/room1/users")
    assert users.body == {"users": [{"userId": "alice"}]}
    absent = await api.call("DELETE", f"/v3/apps/{app_id}/rooms/room1/users/bob")
    assert (absent.status, absent.body) == (615, {"error": "user not found"})


async def test_close_room_closes_members(api: Api, server: RoomServer,
                                         join_member: JoinMember) -> None:
    """Closing a room with members gives each of them ROOM_CLOSED and ends the room."""
    app_id = await new_app(api)
    members = [await join_member(server, server.token("room2", user, app_id=app_id))
               for user in ("alice", "bob")]
    reply = await api.call("DELETE", f"/v3/apps/{app_id}/rooms/room2")
    assert (reply.status, reply.body) == (200, {})
    for member in members:
        closed = await member.wait_for(Closed)
        assert (closed.reason, closed.code) == ("ROOM_CLOSED", ErrorCode.ROOM_CLOSED)
    users = await api.call("GET", f"/v3/apps/{app_id}/rooms/room2/users")
    assert users.status == 615


# --- the body the signature does not cover -----------------------------------------------


@pytest.mark.parametrize("content_type", [None, "application/octet-stream", "text/plain"])
async def test_body_outside_the_signature_is_refused(api: Api, server: RoomServer,
                                                     content_type: str | None) -> None:
    """A body sent without a Content-Type that puts it under the signature (none, or
    octet-stream: signed as if empty) or one the API does not read is refused with 400 and
    never acted on: no app with injected settings, the default app untouched."""
    assert server.default_app is not None
    injected = b'{"title": "injected", "maxUsers": 1}'
    for path in ("/v3/apps", f"/v3/apps/{server.default_app.app_id}"):
        signed = api.sign("POST", path, raw=injected if content_type == "text/plain" else b"",
                          content_type=content_type)
        reply = await api.send(signed, tamper=injected)
        assert reply.status == 400, (path, reply.body)
        assert "Content-Type application/json or application/x-www-form-urlencoded" in (
            reply.body["error"])
        assert reply.headers["X-Reqid"]
    assert server.store.list_apps() == [server.default_app]


# --- replays -----------------------------------------------------------------------------


async def test_twenty_replays_of_a_create_make_one_app(api: Api, server: RoomServer) -> None:
    """The same signed create sent 20 times creates one app; the other 19 get 401."""
    signed = api.sign("POST", "/v3/apps", json_body={"title": "once"}, nonce=False)
    replies = await asyncio.gather(*(api.send(signed) for _ in range(20)))
    assert sorted(r.status for r in replies) == [200] + [401] * 19
    assert all("replayed request" in r.body["error"] for r in replies if r.status == 401)
    assert [app.title for app in server.store.list_apps()] == ["default", "once"]


async def test_replayed_update_is_refused(api: Api, server: RoomServer) -> None:
    """Replaying an update after a later one would roll the app back: it is refused."""
    app_id = await new_app(api)
    first = api.sign("POST", f"/v3/apps/{app_id}", json_body={"maxUsers": 2})
    assert (await api.send(first)).status == 200
    assert (await api.call("POST", f"/v3/apps/{app_id}", json_body={"maxUsers": 5})
            ).status == 200
    replay = await api.send(first)
    assert replay.status == 401 and "replayed" in replay.body["error"]
    stored = server.store.get_app(app_id)
    assert stored is not None and stored.max_users == 5


async def test_replayed_kick_of_a_rejoined_member_is_refused(
        api: Api, server: RoomServer, join_member: JoinMember) -> None:
    """A replayed kick while the user is gone answers 615 like any repeat; once the user has
    joined again the replay is refused (401) and the user stays."""
    app_id = await new_app(api)
    bob = await join_member(server, server.token("room1", "bob", app_id=app_id))
    kick = api.sign("DELETE", f"/v3/apps/{app_id}/rooms/room1/users/bob", nonce=False)
    assert (await api.send(kick)).status == 200
    await bob.wait_for(Closed)
    repeat = await api.send(kick)
    assert (repeat.status, repeat.body) == (615, {"error": "user not found"})
    await join_member(server, server.token("room1", "bob", app_id=app_id))
    replay = await api.send(kick)
    assert replay.status == 401 and "replayed" in replay.body["error"]
    assert server.rooms.room_users(app_id, "room1") == ["bob"]


async def test_identical_gets_are_not_replays(api: Api) -> None:
    """GETs change nothing, so the same signed GET may be sent again (polling)."""
    signed = api.sign("GET", "/v3/apps", nonce=False)
    assert [(await api.send(signed)).status for _ in range(3)] == [200, 200, 200]


async def test_undated_requests_only_for_gets(api: Api, server: RoomServer) -> None:
    """Without X-Qiniu-Date a GET is served, but a POST or DELETE is refused (401 naming the
    header): without a date nothing bounds how long it could be replayed."""
    assert (await api.call("GET", "/v3/apps", dated=False)).status == 200
    assert server.default_app is not None
    for method, path in [("POST", "/v3/apps"),
                         ("DELETE", f"/v3/apps/{server.default_app.app_id}")]:
        reply = await api.call(method, path, dated=False)
        assert reply.status == 401, path
        assert "X-Qiniu-Date is required on POST and DELETE" in reply.body["error"]
    assert server.store.list_apps() == [server.default_app]


# --- error answers -------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "status", "error"), [
    ("GET", "/v3/nothing", 404, "not found"),
    ("GET", "/v2/apps", 404, "not found"),
    ("PUT", "/v3/apps", 405, "method not allowed"),
])
async def test_unknown_routes_answer_qiniu_json(api: Api, method: str, path: str, status: int,
                                                error: str) -> None:
    """An unknown path or method gets the API's JSON error with X-Reqid, not plain text."""
    reply = await api.call(method, path)
    assert (reply.status, reply.body) == (status, {"error": error})
    assert reply.headers["Content-Type"].startswith("application/json")
    assert reply.headers["X-Reqid"]
    if status == 405:
        assert "POST" in reply.headers["Allow"]


async def test_undecodable_text_gets_a_clean_400(api: Api, server: RoomServer) -> None:
    """A title with a lone surrogate ("\\ud800") gets 400 naming the field, without Python's
    codec message."""
    reply = await api.call("POST", "/v3/apps", raw=b'{"title": "a\\ud800"}',
                           content_type="application/json")
    assert (reply.status, reply.body) == (
        400, {"error": "title must be Unicode text (it has a lone surrogate)"})
    assert server.store.list_apps() == [server.default_app]
