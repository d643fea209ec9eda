"""RoomServer: signalling and the management API on one port, in-process.

>>> async def main(data_dir):                                      # doctest: +SKIP
...     server = RoomServer(ServerConfig(port=0, data_dir=data_dir))
...     await server.start()
...     token = server.token("room_1", "alice", admin=True)
...     ...  # RTCClient(server.url).join(token)
...     await server.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from aiohttp import web

from roomcall.protocol.errors import ErrorCode
from roomcall.protocol.messages import CAUSE_ENDED, CAUSE_SHUTDOWN, SIGNAL_PATH, Closed
from roomcall.protocol.token import RoomAccess, sign_room_token
from roomcall.server.admission import Admission, Listener, connection_cap, listening_socket
from roomcall.server.config import ConfigError, ServerConfig
from roomcall.server.health import Health, add_health_route
from roomcall.server.invite_api import AddressLimiter, add_invite_routes
from roomcall.server.janus_rooms import JanusRooms
from roomcall.server.management import add_management_routes
from roomcall.server.room import RoomSettings
from roomcall.server.rooms import Rooms
from roomcall.server.sfu import SfuPool
from roomcall.server.signalling import Signalling
from roomcall.server.store import AppInfo, AppStore

_log = logging.getLogger(__name__)

STOP_MESSAGES = {
    CAUSE_SHUTDOWN: "the server is shutting down",
    CAUSE_ENDED: "the host ended the call",
}
"""What members are told when :meth:`RoomServer.stop` closes their rooms, by ``cause``."""


class RoomServer:
    """The room server: WebSocket signalling at ``SIGNAL_PATH`` and Qiniu's v3 management API,
    served from one aiohttp site, with apps and keys kept in the data folder's store."""

    def __init__(self, config: ServerConfig | None = None, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.config = config or ServerConfig()
        self._clock = clock
        self._store: AppStore | None = None
        self._signalling: Signalling | None = None
        self._runner: web.AppRunner | None = None
        self._health: Health | None = None
        self._listener: Listener | None = None
        self.admission: Admission | None = None
        """Who holds connections now, and how many were refused (set by :meth:`start`)."""
        self._keys: tuple[str, str] = ("", "")
        self._port = 0
        self.default_app: AppInfo | None = None
        """The store's default app (set by :meth:`start`)."""
        self.keys_created = False
        """True if :meth:`start` generated the keys in use (show them to the operator once)."""
        self.sfu: SfuPool | None = None
        """The Janus instances (with ``[sfu]`` instances configured; set by :meth:`start`)."""
        self.janus: JanusRooms | None = None
        """The rooms' VideoRooms on them (set by :meth:`start`)."""

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the store (creating keys and the default app on first run) and listen."""
        if self._runner is not None:
            raise RuntimeError("the server is already running")
        if (self.config.access_key is None) != (self.config.secret_key is None):
            raise ConfigError("set both access_key and secret_key, or neither")
        store = AppStore.open(self.config.data_dir, clock=self._clock)
        try:
            stored_ak, stored_sk = store.keys()
            self._keys = (self.config.access_key or stored_ak,
                          self.config.secret_key or stored_sk)
            self.keys_created = store.keys_created and self.config.access_key is None
            self.default_app = store.ensure_default_app()
            limits = self.config.limits
            admission = Admission(total=connection_cap(limits.max_connections),
                                  per_address=limits.max_connections_per_address)
            signalling = Signalling(self.config, secret_for=self._secret_for,
                                    settings_for=self._settings_for, clock=self._clock,
                                    seated=admission.seated)
            app = web.Application()
            app.router.add_get(SIGNAL_PATH, signalling.handle)
            add_management_routes(app, store=store, rooms=signalling,
                                  secret_for=self._secret_for, clock=self._clock)
            sfu = self._sfu_for(signalling)
            self._health = add_health_route(app, apps=store, rooms=signalling, sfu=sfu)
            add_invite_routes(app, rooms=lambda: signalling.rooms, mint=self._mint_user,
                              secret_for=self._secret_for, clock=self._clock,
                              limiter=AddressLimiter(self.config.redeem_rate,
                                                     self.config.redeem_burst))
            # aiohttp's keep-alive timer starts at accept, and closes a connection whose
            # request has not arrived whole when it fires: the handshake deadline.
            runner = web.AppRunner(app, handle_signals=False, access_log=None,
                                   keepalive_timeout=limits.handshake_timeout)
            await runner.setup()
        except BaseException:
            store.close()
            raise
        handler_factory = runner.server
        assert handler_factory is not None  # set by setup()
        try:
            # Our own accept loop instead of web.TCPSite: every connection is admitted (or
            # closed) right after accept(), see admission.py.
            sock = listening_socket(self.config.host, self.config.port)
        except BaseException:
            await runner.cleanup()
            store.close()
            raise
        listener = Listener(sock, admission, handler_factory)
        if sfu is not None:
            await sfu.start()  # each instance tried once: the first rooms find them up
        self._store, self._signalling, self._runner = store, signalling, runner
        self._listener, self.admission = listener, admission
        self._port = listener.port
        _log.info("room server listening on %s (at most %d connections, %d per address)",
                  self.url, admission.total, limits.max_connections_per_address)

    async def stop(self, *, cause: str = CAUSE_SHUTDOWN, grace: float = 1.0) -> None:
        """Close every room (members get ``closed`` ROOM_CLOSED with ``cause``: ``"shutdown"``,
        "the server is shutting down", or ``"ended"``, "the host ended the call", for a server
        embedded in the host's app), give sockets ``grace`` seconds to flush, drop the rest,
        stop listening and close the store. Safe to call twice."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        if self._health is not None:
            self._health.stopping = True
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        if self._signalling is not None:
            message = STOP_MESSAGES.get(cause, STOP_MESSAGES[CAUSE_SHUTDOWN])
            closed = Closed("ROOM_CLOSED", ErrorCode.ROOM_CLOSED, message, cause)
            await self._signalling.close_all(closed, grace)
        if self.janus is not None and self.sfu is not None:
            # The closed rooms' VideoRooms are destroyed before the links close.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.config.sfu.request_timeout):
                    await self.janus.drain()
            await self.sfu.stop()
        await runner.cleanup()
        if self._store is not None:
            self._store.close()
        _log.info("room server stopped")

    async def __aenter__(self) -> RoomServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- what clients and tests need ------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL for clients, e.g. ``ws://127.0.0.1:7880`` (signalling at ``SIGNAL_PATH``)."""
        return f"ws://{self._url_host()}:{self._port}"

    @property
    def http_url(self) -> str:
        """Base URL of the management API, e.g. ``http://127.0.0.1:7880``."""
        return f"http://{self._url_host()}:{self._port}"

    @property
    def port(self) -> int:
        """The port listened on (the real one when the config asked for 0)."""
        return self._port

    @property
    def keys(self) -> tuple[str, str]:
        """``(access_key, secret_key)`` in use."""
        return self._keys

    @property
    def store(self) -> AppStore:
        """The app store (apps and keys)."""
        if self._store is None:
            raise RuntimeError("the server is not started")
        return self._store

    @property
    def rooms(self) -> Rooms:
        """The rooms core, for inspection (change rooms only through clients or the API)."""
        if self._signalling is None:
            raise RuntimeError("the server is not started")
        return self._signalling.rooms

    def token(self, room: str, user: str, *, admin: bool = False, ttl: float = 3600,
              app_id: str | None = None) -> str:
        """A RoomToken signed with the server's keys, for the default app unless ``app_id``."""
        if self.default_app is None:
            raise RuntimeError("the server is not started")
        access = RoomAccess(app_id=app_id or self.default_app.app_id, room_name=room,
                            user_id=user, expire_at=int(self._clock() + ttl),
                            permission="admin" if admin else "user")
        return sign_room_token(self._keys[0], self._keys[1], access)

    # --- internals ------------------------------------------------------------------------

    def _sfu_for(self, signalling: Signalling) -> SfuPool | None:
        """The pool of ``[sfu]`` instances wired to the rooms (None without instances)."""
        if not self.config.sfu.instances:
            return None
        rooms = signalling.rooms
        pool = SfuPool(self.config.sfu, load=lambda key: len(rooms.room_users(*key) or ()))
        janus = JanusRooms(pool, tokens=lambda key: rooms.room_tokens(*key),
                           placed=signalling.place, lost=lambda key: rooms.unplace(*key))
        signalling.media = janus.submit
        self.sfu, self.janus = pool, janus
        return pool

    def _url_host(self) -> str:
        host = self.config.host
        if host in ("", "0.0.0.0"):
            return "127.0.0.1"
        if host == "::":
            return "[::1]"
        return f"[{host}]" if ":" in host else host

    def _mint_user(self, app_id: str, room: str, user_id: str, expire_at: int) -> str:
        access = RoomAccess(app_id=app_id, room_name=room, user_id=user_id, expire_at=expire_at)
        return sign_room_token(self._keys[0], self._keys[1], access)

    def _secret_for(self, access_key: str) -> str | None:
        return self._keys[1] if access_key == self._keys[0] else None

    def _settings_for(self, app_id: str) -> RoomSettings | None:
        app = self.store.get_app(app_id)
        if app is None:
            return None
        return RoomSettings(max_users=app.max_users, no_auto_kick_user=app.no_auto_kick_user,
                            sfu_threshold=app.sfu_threshold)
