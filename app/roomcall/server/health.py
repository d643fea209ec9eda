"""``GET /healthz``: a cheap, unauthenticated liveness answer for load balancers and service
managers.

200 ``{"status": "ok", "rooms": N, "members": M, "version": "..."}`` while serving; 503 with
``"status": "stopping"`` once the server has begun to stop, so a balancer takes it out of
rotation before its listener closes. It reveals counts only, no names of rooms or people.
With ``[sfu]`` instances it adds ``"sfu"``: each Janus instance's URL (members are given it
anyway), whether the server reaches it (``up``), the rooms and members placed on it and how
often it went down.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from aiohttp import web

from roomcall import __version__
from roomcall.server.sfu import SfuPool
from roomcall.server.store import AppInfo

HEALTH_PATH = "/healthz"
"""Where the health answer is served."""


class _Apps(Protocol):
    def list_apps(self) -> list[AppInfo]: ...


class _Rooms(Protocol):
    def active_rooms(self, app_id: str) -> list[str]: ...

    def room_users(self, app_id: str, room: str) -> list[str] | None: ...


class Health:
    """The health endpoint's state: what it counts, and whether the server is stopping."""

    def __init__(self, apps: _Apps, rooms: _Rooms, sfu: SfuPool | None = None) -> None:
        self._apps = apps
        self._rooms = rooms
        self._sfu = sfu
        self.stopping = False
        """Set when the server begins to stop: answers become 503."""

    def counts(self) -> tuple[int, int]:
        """``(open rooms, members)`` across every app."""
        rooms = members = 0
        for app in self._apps.list_apps():
            for room in self._rooms.active_rooms(app.app_id):
                rooms += 1
                members += len(self._rooms.room_users(app.app_id, room) or ())
        return rooms, members

    async def handle(self, request: web.Request) -> web.Response:
        """aiohttp handler of :data:`HEALTH_PATH`."""
        body: dict[str, Any]
        if self.stopping:
            status, body = 503, {"status": "stopping", "version": __version__}
        else:
            rooms, members = self.counts()
            status, body = 200, {"status": "ok", "rooms": rooms, "members": members,
                                 "version": __version__}
            if self._sfu is not None:
                body["sfu"] = self._sfu.status()
        return web.Response(status=status, text=json.dumps(body, allow_nan=False),
                            content_type="application/json",
                            headers={"Cache-Control": "no-store"})


def add_health_route(app: web.Application, *, apps: _Apps, rooms: _Rooms,
                     sfu: SfuPool | None = None) -> Health:
    """Serve :data:`HEALTH_PATH` on ``app`` (with ``sfu``'s instances, if any); set
    ``stopping`` on the returned object when the server begins to stop."""
    health = Health(apps, rooms, sfu)
    app.router.add_get(HEALTH_PATH, health.handle, allow_head=True)
    return health
