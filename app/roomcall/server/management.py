"""Qiniu's v3 RTC management API (apps, room users, kick, active rooms) plus roomcall's own
create-room and close-room calls, on the room server's aiohttp application.

Every request must carry a valid ``Authorization: Qiniu <AccessKey>:<signature>`` (see
:mod:`roomcall.protocol.mac`), else 401. Bodies may be JSON (Qiniu's Go, Java, PHP and Node SDKs)
or ``application/x-www-form-urlencoded`` (Qiniu's Python SDK, whose values arrive as text:
``maxUsers=4``, ``noAutoKickUser=True``), and must say so in their Content-Type: only then does
the signature cover the body, so any other non-empty body is refused (400) unread.

POST and DELETE change state, so they must carry a signed ``X-Qiniu-Date`` (Qiniu's Python and
Go SDKs send one) and are carried out once: a second arrival of the same signed request inside
the date window (a replay, or a client repeating itself within the same second) gets 401 if it
would change anything, or the answer of a request that changes nothing (404 or 615 for what is
already gone). GETs may come without a date and are not remembered: they change nothing.

Answers are JSON; every one carries an ``X-Reqid`` header, without which Qiniu's Python SDK
discards a successful answer; unknown routes and methods get the same JSON shape.
``docs/management-api.md`` describes each route.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from aiohttp import web

from roomcall.protocol.mac import DATE_HEADER, MacError, body_signed, signed_date, verify_request
from roomcall.protocol.messages import SIGNAL_PATH
from roomcall.protocol.token import ROOM_NAME_RE, USER_ID_RE
from roomcall.server.replay import ReplayCache, ReplayCacheFull
from roomcall.server.store import AppInfo, AppStore, StorageFull

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
"""Largest request body read (an app's settings take a few hundred bytes)."""

DEFAULT_ROOM_LIMIT = 100
"""Rooms per page of ``GET /v3/apps/<AppID>/rooms`` without ``limit`` (or with 0)."""

MAX_ROOM_LIMIT = 1000
"""Largest page; a larger ``limit`` is reduced to this."""

STATUS_NOT_ACTIVE = 615
"""Qiniu's status for a call on a room (or user) that is not active."""

STATUS_STORAGE_FULL = 507
"""The status when the database cannot grow (SQLite's "database or disk is full")."""

BODY_TYPES = frozenset({"application/json", "application/x-www-form-urlencoded"})
"""Media types a request body may have (its signature covers it; the API can read it)."""

STATE_CHANGING = frozenset({"POST", "DELETE"})
"""Methods that must be dated and are carried out once per signature."""

_ROOM_PREFIX_RE = re.compile(r"[a-zA-Z0-9_-]{0,64}")  # a room name's characters, 0-64
_APP_FIELDS = {"hub": "hub", "title": "title", "maxUsers": "max_users",
               "noAutoKickUser": "no_auto_kick_user", "sfuThreshold": "sfu_threshold"}
_WHOLE_FIELDS = ("maxUsers", "sfuThreshold")
"""App fields that are whole numbers from 0."""
_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})

_REPLAYED = web.RequestKey("roomcall.replayed", bool)
"""True when this signed request was already carried out once."""

_Answer = tuple[int, Any]
_Endpoint = Callable[[web.Request, bytes], _Answer]
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class RoomDirectory(Protocol):
    """What the management API needs from the rooms of the running server (synchronous)."""

    def room_users(self, app_id: str, room: str) -> list[str] | None:
        """User ids of the room's members in join order; None if the room is not active."""

    def kick_user(self, app_id: str, room: str, user_id: str, ban: bool = False) -> bool | None:
        """Remove the member (it gets KICKED_OUT): True; False if no such member; None if the
        room is not active. ``ban``: its user id is refused until readmitted or the room ends."""

    def active_rooms(self, app_id: str) -> list[str]:
        """Names of the app's active rooms, sorted."""

    def create_room(self, app_id: str, room: str) -> bool:
        """Open an empty room (it closes if nobody joins in time); False if it is active."""

    def close_room(self, app_id: str, room: str) -> bool:
        """Close the room (members get ROOM_CLOSED); False if it is not active."""

    def close_app(self, app_id: str) -> None:
        """Close every room of the app (its members get ROOM_CLOSED)."""


class ApiError(Exception):
    """A request that gets an error answer ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def add_management_routes(
    app: web.Application,
    *,
    store: AppStore,
    rooms: RoomDirectory,
    secret_for: Callable[[str], str | None],
    clock: Callable[[], float],
) -> None:
    """Register every management route on ``app``.

    ``secret_for`` maps an access key to its secret key (None: unknown key); ``clock`` gives
    Unix seconds, for the ``X-Qiniu-Date`` check and the replay cache. Error answers that
    aiohttp makes itself (unknown path, wrong method) get the API's JSON shape too.
    """
    api = _ManagementApi(store, rooms, secret_for, clock)
    app.middlewares.append(_json_errors)
    routes: list[tuple[str, str, _Endpoint]] = [
        ("POST", "/v3/apps", api.create_app),
        ("GET", "/v3/apps", api.list_apps),
        ("GET", "/v3/apps/{app_id}", api.get_app),
        ("POST", "/v3/apps/{app_id}", api.update_app),
        ("DELETE", "/v3/apps/{app_id}", api.delete_app),
        ("GET", "/v3/apps/{app_id}/rooms", api.list_active_rooms),
        ("POST", "/v3/apps/{app_id}/rooms/{room}", api.create_room),
        ("DELETE", "/v3/apps/{app_id}/rooms/{room}", api.close_room),
        ("GET", "/v3/apps/{app_id}/rooms/{room}/users", api.list_users),
        ("DELETE", "/v3/apps/{app_id}/rooms/{room}/users/{user_id}", api.kick_user),
    ]
    for method, path, endpoint in routes:
        app.router.add_route(method, path, api.wrap(endpoint))


class _ManagementApi:
    def __init__(
        self,
        store: AppStore,
        rooms: RoomDirectory,
        secret_for: Callable[[str], str | None],
        clock: Callable[[], float],
    ) -> None:
        self._store = store
        self._rooms = rooms
        self._secret_for = secret_for
        self._clock = clock
        self._replays = ReplayCache()

    def wrap(self, endpoint: _Endpoint) -> _Handler:
        """The aiohttp handler: read the body, authenticate, run ``endpoint``, answer JSON."""

        async def handle(request: web.Request) -> web.StreamResponse:
            reqid = secrets.token_hex(8)
            try:
                body = await _read_body(request)
                signed_at = self._authenticate(request, body)
                _check_body(request, body)
                request[_REPLAYED] = self._seen_before(request, signed_at)
                status, payload = endpoint(request, body)
            except ApiError as exc:
                status, payload = exc.status, {"error": exc.message}
            except StorageFull:  # the store has logged it
                status, payload = STATUS_STORAGE_FULL, {"error": "server storage is full"}
            except Exception:
                log.exception("management %s %s failed (reqid %s)", request.method,
                              request.path, reqid)
                status, payload = 500, {"error": "internal error"}
            log.debug("management %s %s -> %d (reqid %s)", request.method, request.path,
                      status, reqid)
            return json_answer(status, payload, reqid)

        return handle

    def _authenticate(self, request: web.Request, body: bytes) -> int | None:
        """Verify the signature; the signed ``X-Qiniu-Date`` (Unix seconds) or None."""
        # the signature covers the request target exactly as sent, still percent-encoded
        path, _, raw_query = request.raw_path.partition("?")
        try:
            verify_request(
                request.headers.get("Authorization"),
                secret_for=self._secret_for,
                method=request.method,
                path=path,
                raw_query=raw_query,
                host=request.headers.get("Host", ""),
                content_type=request.headers.get("Content-Type"),
                headers=request.headers,
                body=body,
                now=self._clock(),
            )
            signed_at = signed_date(request.headers)
            if signed_at is None and request.method in STATE_CHANGING:
                raise MacError(f"{DATE_HEADER} is required on POST and DELETE requests (it "
                               "bounds how long a captured request can be replayed)")
        except MacError as exc:
            log.info("management %s %s from %s refused: %s", request.method, request.path,
                     request.remote, exc.message)
            raise ApiError(401, f"unauthorized: {exc.message}") from None
        return signed_at

    def _seen_before(self, request: web.Request, signed_at: int | None) -> bool:
        """Remember a state-changing request's signature; True if it was carried out before."""
        if request.method not in STATE_CHANGING or signed_at is None:
            return False
        try:
            # the signature alone names the request: it is an HMAC over all of it
            signature = request.headers["Authorization"].rpartition(":")[2].strip()
            fresh = self._replays.add(signature, signed_at=signed_at, now=self._clock())
        except ReplayCacheFull as exc:
            log.warning("management %s %s refused: replay cache full (%s)", request.method,
                        request.path, exc)
            raise ApiError(429, "too many state-changing requests in the last 15 minutes; "
                           "try again later") from None
        if not fresh:
            log.info("management %s %s from %s: replayed signature", request.method,
                     request.path, request.remote)
        return not fresh

    # --- apps --------------------------------------------------------------------------

    def create_app(self, request: web.Request, body: bytes) -> _Answer:
        _before_change(request)
        fields = app_fields(request.content_type, body)
        return 200, _store_call(lambda: self._store.create_app(**fields)).to_json()

    def list_apps(self, request: web.Request, body: bytes) -> _Answer:
        return 200, [app.to_json() for app in self._store.list_apps()]

    def get_app(self, request: web.Request, body: bytes) -> _Answer:
        return 200, self._app(request).to_json()

    def update_app(self, request: web.Request, body: bytes) -> _Answer:
        app_id = self._app(request).app_id
        _before_change(request)
        fields = app_fields(request.content_type, body)
        app = _store_call(lambda: self._store.update_app(app_id, **fields))
        if app is None:  # deleted meanwhile
            raise ApiError(404, "app not found")
        return 200, app.to_json()

    def delete_app(self, request: web.Request, body: bytes) -> _Answer:
        app_id = request.match_info["app_id"]
        if self._store.get_app(app_id) is not None:
            _before_change(request)
        if not self._store.delete_app(app_id):
            raise ApiError(404, "app not found")
        # deleted first, so no new join can reopen a room while they close
        self._rooms.close_app(app_id)
        return 200, {}

    # --- rooms -------------------------------------------------------------------------

    def list_active_rooms(self, request: web.Request, body: bytes) -> _Answer:
        app_id = self._app(request).app_id
        query = request.rel_url.query
        prefix = query.get("prefix", "")
        if not _ROOM_PREFIX_RE.fullmatch(prefix):
            raise ApiError(400, f"bad prefix: must match {_ROOM_PREFIX_RE.pattern}")
        offset = _count(query, "offset", 0)
        limit = min(_count(query, "limit", 0) or DEFAULT_ROOM_LIMIT, MAX_ROOM_LIMIT)
        matching = [name for name in self._rooms.active_rooms(app_id) if name.startswith(prefix)]
        page = matching[offset:offset + limit]
        after = offset + len(page)
        return 200, {"end": after >= len(matching), "offset": after, "rooms": page}

    def create_room(self, request: web.Request, body: bytes) -> _Answer:
        app_id, room = self._app(request).app_id, _room(request)
        if self._rooms.room_users(app_id, room) is None:
            _before_change(request)
        created = self._rooms.create_room(app_id, room)
        return 200, {"room": room, "created": created}

    def close_room(self, request: web.Request, body: bytes) -> _Answer:
        app_id, room = self._app(request).app_id, _room(request)
        if self._rooms.room_users(app_id, room) is not None:
            _before_change(request)
        if not self._rooms.close_room(app_id, room):
            raise ApiError(STATUS_NOT_ACTIVE, "room not active")
        return 200, {}

    def list_users(self, request: web.Request, body: bytes) -> _Answer:
        app_id, room = self._app(request).app_id, _room(request)
        users = self._rooms.room_users(app_id, room)
        if users is None:
            raise ApiError(STATUS_NOT_ACTIVE, "room not active")
        return 200, {"users": [{"userId": user_id} for user_id in users]}

    def kick_user(self, request: web.Request, body: bytes) -> _Answer:
        app_id, room = self._app(request).app_id, _room(request)
        user_id = request.match_info["user_id"]
        if not USER_ID_RE.fullmatch(user_id):
            raise ApiError(400, f"bad user id: must match {USER_ID_RE.pattern}")
        # Qiniu's kick has no ban; ``?ban=true`` (roomcall's) keeps the user out of the room.
        ban = request.rel_url.query.get("ban", "false").lower()
        if ban not in _TRUE | _FALSE:
            raise ApiError(400, "bad ban: must be true or false")
        if ban in _TRUE or user_id in (self._rooms.room_users(app_id, room) or ()):
            _before_change(request)
        kicked = self._rooms.kick_user(app_id, room, user_id, ban in _TRUE)
        if kicked is None:
            raise ApiError(STATUS_NOT_ACTIVE, "room not active")
        if not kicked:
            raise ApiError(STATUS_NOT_ACTIVE, "user not found")
        return 200, {}

    def _app(self, request: web.Request) -> AppInfo:
        app = self._store.get_app(request.match_info["app_id"])
        if app is None:
            raise ApiError(404, "app not found")
        return app


def json_answer(status: int, payload: Any, reqid: str,
                headers: Mapping[str, str] | None = None) -> web.Response:
    """A JSON answer with ``X-Reqid`` (``reason`` Qiniu's for 615)."""
    return web.Response(
        status=status,
        reason="Not Active" if status == STATUS_NOT_ACTIVE else None,
        # allow_nan=False: NaN and Infinity are not JSON; nothing may put them in an answer
        text=json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False),
        content_type="application/json",
        headers={**(headers or {}), "X-Reqid": reqid},
    )


@web.middleware
async def _json_errors(request: web.Request, handler: _Handler) -> web.StreamResponse:
    """aiohttp's own error answers (unknown path 404, wrong method 405, ...) as the API's JSON
    ``{"error": ...}`` with ``X-Reqid``, except on the signalling path."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or request.path == SIGNAL_PATH:
            raise
        allow = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        return json_answer(exc.status, {"error": exc.reason.lower()}, secrets.token_hex(8),
                           allow)


def _before_change(request: web.Request) -> None:
    """Refuse to carry out a replayed request (see the module docstring); call it right before
    the endpoint changes state, after the checks whose answers change nothing."""
    if request.get(_REPLAYED):
        raise ApiError(401, "unauthorized: replayed request: this signature was already used "
                       "(sign each POST and DELETE anew; two identical ones within one second "
                       "need a distinguishing X-Qiniu-* header)")


def _check_body(request: web.Request, body: bytes) -> None:
    """Refuse a body the signature does not cover or the API cannot read."""
    if not body:
        return
    content_type = request.headers.get("Content-Type")
    media_type = (content_type or "").partition(";")[0].strip().lower()
    if not body_signed(content_type) or media_type not in BODY_TYPES:
        raise ApiError(400, "a request body needs Content-Type application/json or "
                       "application/x-www-form-urlencoded (only then does the signature "
                       f"cover it); got {content_type or 'none'}")


async def _read_body(request: web.Request) -> bytes:
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise ApiError(413, f"body larger than {MAX_BODY_BYTES} bytes")
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise ApiError(413, f"body larger than {MAX_BODY_BYTES} bytes") from None
    if len(body) > MAX_BODY_BYTES:
        raise ApiError(413, f"body larger than {MAX_BODY_BYTES} bytes")
    return body


def _room(request: web.Request) -> str:
    room = request.match_info["room"]
    if not ROOM_NAME_RE.fullmatch(room):
        raise ApiError(400, f"bad room name: must match {ROOM_NAME_RE.pattern}")
    return room


def _count(query: Mapping[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
        raise ApiError(400, f"bad {name}: must be a whole number from 0")
    return int(raw)


def _store_call(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except ValueError as exc:  # the store's messages name the field and the rule
        raise ApiError(400, str(exc)) from None


def app_fields(content_type: str, body: bytes) -> dict[str, Any]:
    """:class:`AppStore` keyword arguments from a create / update body, or :class:`ApiError`
    (400). ``content_type`` is the media type without parameters: JSON for
    ``application/json``, else form data (the caller has refused other types). Fields Qiniu
    has that roomcall does not use (``mergePublishRtmp``, ...) are ignored; a JSON null counts
    as absent."""
    if not body.strip():
        return {}
    if content_type.lower() == "application/json":
        return _json_fields(body)
    return _form_fields(body)


def _json_fields(body: bytes) -> dict[str, Any]:
    try:
        raw = json.loads(body)
    except (ValueError, RecursionError):
        raise ApiError(400, "body is not valid JSON") from None
    if not isinstance(raw, dict):
        raise ApiError(400, "body must be a JSON object")
    fields: dict[str, Any] = {}
    for name, field in _APP_FIELDS.items():
        value = raw.get(name)
        if value is None:
            continue
        if name in ("hub", "title") and not isinstance(value, str):
            raise ApiError(400, f"{name} must be a string")
        if name in _WHOLE_FIELDS and (not isinstance(value, int) or isinstance(value, bool)):
            raise ApiError(400, f"{name} must be an integer")
        if name == "noAutoKickUser" and not isinstance(value, bool):
            raise ApiError(400, "noAutoKickUser must be true or false")
        fields[field] = value
    return fields


def _form_fields(body: bytes) -> dict[str, Any]:
    try:
        pairs = urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True,
                                       errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise ApiError(400, "body is not valid UTF-8 form data") from None
    seen: dict[str, str] = {}
    for name, value in pairs:
        if name in seen:
            raise ApiError(400, f"{name} is given more than once")
        seen[name] = value
    fields: dict[str, Any] = {}
    for name, field in _APP_FIELDS.items():
        if name not in seen:
            continue
        value = seen[name]
        if name in _WHOLE_FIELDS:
            if not (value.isascii() and value.isdigit()) or len(value) > 9:
                raise ApiError(400, f"{name} must be a whole number from 0")
            fields[field] = int(value)
        elif name == "noAutoKickUser":
            # Python's str(True) is "True": that is what Qiniu's Python SDK sends
            lowered = value.lower()
            if lowered not in _TRUE | _FALSE:
                raise ApiError(400, "noAutoKickUser must be true or false")
            fields[field] = lowered in _TRUE
        else:
            fields[field] = value
    return fields
