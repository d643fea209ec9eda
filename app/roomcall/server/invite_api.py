"""Redeeming invite links over HTTP: ``POST /v1/invites/<code>/redeem`` and a look at a link,
``GET /v1/invites/<code>``, on the room server's aiohttp application.

Both are unauthenticated (the code is the secret, at least 128 random bits) and limited per
source address, so guessing codes is hopeless and flooding costs the flooder only. The rooms
core decides; this shell reads the request, mints the RoomToken and answers JSON. Creating and
revoking links is a host request over signalling (``docs/protocol.md``).
"""

from __future__ import annotations

import json
import logging
import math
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from aiohttp import web

from roomcall.protocol.errors import ErrorCode
from roomcall.protocol.messages import SIGNAL_PATH
from roomcall.protocol.token import TokenError, verify_room_token
from roomcall.server.room import RoomError
from roomcall.server.rooms import Rooms

log = logging.getLogger(__name__)

INVITE_PATH = "/v1/invites/{code}"
REDEEM_PATH = "/v1/invites/{code}/redeem"
MAX_BODY_BYTES = 4096
"""Largest redemption body (a name and a previous token take a few hundred bytes)."""
MAX_ADDRESSES = 10_000
"""Source addresses whose rate limit is remembered at once (the least recent go first)."""

_STATUS: dict[int, int] = {
    ErrorCode.INVALID_PARAMETER: 400,
    ErrorCode.KICKED_OUT: 403,
    ErrorCode.INVITE_NOT_FOUND: 404,
    ErrorCode.INVITE_EXPIRED: 410,
    ErrorCode.INVITE_USED_UP: 410,
    ErrorCode.RATE_LIMITED: 429,
}

Mint = Callable[[str, str, str, int], str]
"""``mint(app_id, room, user_id, expire_at)``: a user RoomToken signed with the server's keys."""


class AddressLimiter:
    """A token bucket per source address: ``rate`` requests per second, ``burst`` at once."""

    def __init__(self, rate: float, burst: int, max_addresses: int = MAX_ADDRESSES) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._max = max_addresses
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def wait(self, address: str, now: float) -> float:
        """0 if ``address`` may make a request now (one is counted), else seconds to wait."""
        tokens, last = self._buckets.pop(address, (self._burst, now))
        tokens = min(self._burst, tokens + max(0.0, now - last) * self._rate)
        if tokens >= 1.0:
            tokens -= 1.0
            delay = 0.0
        else:
            delay = (1.0 - tokens) / self._rate
        self._buckets[address] = (tokens, now)
        while len(self._buckets) > self._max:
            self._buckets.popitem(last=False)
        return delay


def add_invite_routes(app: web.Application, *, rooms: Callable[[], Rooms], mint: Mint,
                      secret_for: Callable[[str], str | None], clock: Callable[[], float],
                      limiter: AddressLimiter) -> None:
    """Register the redemption routes on ``app`` (``rooms`` gives the running rooms core)."""
    api = _InviteApi(rooms, mint, secret_for, clock, limiter)
    app.router.add_post(REDEEM_PATH, api.redeem)
    app.router.add_get(INVITE_PATH, api.peek)


class _InviteApi:
    def __init__(self, rooms: Callable[[], Rooms], mint: Mint,
                 secret_for: Callable[[str], str | None], clock: Callable[[], float],
                 limiter: AddressLimiter) -> None:
        self._rooms = rooms
        self._mint = mint
        self._secret_for = secret_for
        self._clock = clock
        self._limiter = limiter

    async def redeem(self, request: web.Request) -> web.Response:
        """A RoomToken of the link's room for the redeemer, as a new or returning user."""
        now = self._clock()
        try:
            self._limit(request, now)
            name, previous = await self._body(request)
            invite, user_id, name = self._rooms().host.redeem_invite(
                request.match_info["code"], name, self._holder(previous), now)
        except RoomError as exc:
            return _error(exc)
        expire_at = math.ceil(invite.expires_at)
        token = self._mint(invite.app_id, invite.room, user_id, expire_at)
        log.info("invite of %s/%s redeemed by %s (%s)", invite.app_id, invite.room, user_id,
                 request.remote)
        scheme = "wss" if request.secure else "ws"
        return _json(200, {"token": token, "room": invite.room, "userId": user_id,
                           "name": name, "url": f"{scheme}://{request.host}",
                           "signalPath": SIGNAL_PATH, "expiresAt": expire_at})

    async def peek(self, request: web.Request) -> web.Response:
        """What a link is for, before redeeming it: its room and a personal invite's name."""
        now = self._clock()
        try:
            self._limit(request, now)
            invite = self._rooms().invites.get(request.match_info["code"])
            if invite is None or now >= invite.expires_at:
                raise RoomError(ErrorCode.INVITE_NOT_FOUND, "this invite link is not valid")
        except RoomError as exc:
            return _error(exc)
        return _json(200, {"room": invite.room, "personal": invite.personal,
                           "name": invite.name, "expiresAt": math.ceil(invite.expires_at)})

    def _limit(self, request: web.Request, now: float) -> None:
        delay = self._limiter.wait(str(request.remote), now)
        if delay > 0:
            raise _RateLimited(delay)

    async def _body(self, request: web.Request) -> tuple[str, str]:
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            raise RoomError(ErrorCode.INVALID_PARAMETER, f"body over {MAX_BODY_BYTES} bytes")
        body = await request.content.read(MAX_BODY_BYTES + 1)
        if len(body) > MAX_BODY_BYTES:
            raise RoomError(ErrorCode.INVALID_PARAMETER, f"body over {MAX_BODY_BYTES} bytes")
        try:
            raw: Any = json.loads(body) if body.strip() else {}
        except (ValueError, RecursionError):
            raise RoomError(ErrorCode.INVALID_PARAMETER, "body is not JSON") from None
        if not isinstance(raw, dict):
            raise RoomError(ErrorCode.INVALID_PARAMETER, "body must be a JSON object")
        name, previous = raw.get("name", ""), raw.get("token", "")
        if not isinstance(name, str) or not isinstance(previous, str):
            raise RoomError(ErrorCode.INVALID_PARAMETER, "name and token must be text")
        if any(_unencodable(text) for text in (name, previous)):
            raise RoomError(ErrorCode.INVALID_PARAMETER, "name is not valid Unicode")
        return name, previous

    def _holder(self, token: str) -> tuple[str, str, str] | None:
        """(app, room, user) of a genuine token (expired or not), or None: it proves who a
        returning redeemer was."""
        if not token:
            return None
        try:
            access = verify_room_token(token, self._secret_for, now=0.0)
        except TokenError:
            return None
        return (access.app_id, access.room_name, access.user_id)


class _RateLimited(RoomError):
    def __init__(self, delay: float) -> None:
        super().__init__(ErrorCode.RATE_LIMITED,
                         f"too many attempts from this address; try again in {delay:.0f} s")
        self.retry_after = max(1, math.ceil(delay))


def _unencodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _error(exc: RoomError) -> web.Response:
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, _RateLimited) else None
    return _json(_STATUS.get(exc.code, 400), {"error": exc.message, "code": exc.code}, headers)


def _json(status: int, payload: dict[str, Any],
          headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, text=json.dumps(payload, ensure_ascii=False),
                        content_type="application/json", headers=headers)
