"""The room server's Janus instances: one kept-alive link to each, which are up, and where a
new room goes (the least loaded instance that is up).

Each :class:`JanusLink` holds a WebSocket, a session (keepalive every
``[sfu] keepalive_interval`` seconds) and one VideoRoom handle for the server's requests. An
unanswered keepalive or request, or a closed socket, marks the instance down and tells the
:class:`SfuPool`'s listener (:mod:`roomcall.server.janus_rooms` then moves its rooms); the
link tries again every ``retry_interval`` seconds and tells the listener when it is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Collection
from typing import Any

from roomcall.aio import TaskSet
from roomcall.protocol.janus import (
    ERROR_HANDLE_NOT_FOUND,
    ERROR_SESSION_NOT_FOUND,
    VIDEOROOM,
    JanusClient,
    JanusClosedError,
    JanusError,
    JanusHandle,
    JanusTimeoutError,
)
from roomcall.server.config import JanusInstanceConfig, SfuConfig

log = logging.getLogger(__name__)

RoomKey = tuple[str, str]
"""(app id, room name)."""


class JanusDown(Exception):
    """The instance is down (not connected, or it failed while asked)."""


class JanusLink:
    """The server's connection to one Janus instance; see the module docstring."""

    def __init__(self, config: JanusInstanceConfig, sfu: SfuConfig,
                 changed: Callable[[JanusLink], None]) -> None:
        self.config = config
        self.url = config.url
        self.up = False
        """True while connected with a live session and handle."""
        self.rooms: set[RoomKey] = set()
        """Rooms whose VideoRoom is on this instance (kept by janus_rooms)."""
        self.failures = 0
        """How many times the instance went down (or could not be reached) since start."""
        self._sfu = sfu
        self._changed = changed
        self._client: JanusClient | None = None
        self._handle: JanusHandle | None = None
        self._first_attempt = asyncio.Event()
        self._stopping = False

    async def run(self) -> None:
        """Connect, stay connected, reconnect every ``retry_interval`` s; until cancelled."""
        try:
            while not self._stopping:
                try:
                    await self._connect()
                except JanusError as exc:
                    self.failures += 1
                    self._first_attempt.set()
                    log.warning("Janus %s unreachable: %s", self.url, exc)
                else:
                    self._set_up(True)
                    self._first_attempt.set()
                    assert self._client is not None
                    await self._client.wait_closed()
                    self.failures += 1
                    self._set_up(False)
                    log.warning("Janus %s is down", self.url)
                await self._close_client()
                await asyncio.sleep(self._sfu.retry_interval)
        finally:
            await self._close_client()

    async def first_attempt(self) -> None:
        """Return once the first connection attempt has succeeded or failed."""
        await self._first_attempt.wait()

    async def request(self, body: dict[str, Any]) -> dict[str, Any]:
        """A synchronous VideoRoom request with the server's secrets: the plugin's answer.
        Raises :class:`JanusDown` when the instance is down or fails to answer (and marks
        it down), :class:`JanusError` when Janus refuses the request."""
        handle, client = self._handle, self._client
        if not self.up or handle is None or client is None:
            raise JanusDown(f"Janus {self.url} is down")
        try:
            return await handle.request(body, timeout=self._sfu.request_timeout)
        except JanusTimeoutError:
            client.abort(f"Janus {self.url} did not answer within "
                         f"{self._sfu.request_timeout:g} s")
            raise JanusDown(f"Janus {self.url} did not answer") from None
        except JanusClosedError:
            raise JanusDown(f"Janus {self.url} is down") from None

    async def end_sessions(self, opaque_id: str) -> int:
        """End (through the Admin API) every Janus session with a handle attached with
        ``opaque_id``: a removed member's publishers, subscriptions and all. The number of
        sessions ended; 0 without an ``admin_url``. Raises :class:`JanusDown` if the Admin
        API cannot be reached, :class:`JanusError` if it refuses."""
        if not self.config.admin_url or not opaque_id:
            return 0
        timeout = self._sfu.request_timeout
        try:
            admin = await JanusClient.connect(self.config.admin_url,
                                              admin_secret=self.config.admin_secret,
                                              timeout=timeout)
        except (JanusClosedError, JanusTimeoutError) as exc:
            raise JanusDown(str(exc)) from None
        try:
            doomed: list[int] = []
            listed = await admin.send({"janus": "list_sessions"}, timeout=timeout)
            for session_id in listed.get("sessions", []):
                try:
                    handles = await admin.send({"janus": "list_handles",
                                                "session_id": session_id}, timeout=timeout)
                    for handle_id in handles.get("handles", []):
                        info = await admin.send({"janus": "handle_info", "session_id": session_id,
                                                 "handle_id": handle_id}, timeout=timeout)
                        if info.get("info", {}).get("opaque_id") == opaque_id:
                            doomed.append(session_id)
                            break
                except JanusError as exc:  # a session or handle gone meanwhile
                    if exc.code not in (ERROR_SESSION_NOT_FOUND, ERROR_HANDLE_NOT_FOUND):
                        raise
            for session_id in doomed:
                with contextlib.suppress(JanusError):  # gone by itself meanwhile
                    await admin.send({"janus": "destroy_session", "session_id": session_id},
                                     timeout=timeout)
            return len(doomed)
        except (JanusClosedError, JanusTimeoutError) as exc:
            raise JanusDown(str(exc)) from None
        finally:
            await admin.close()

    def stop(self) -> None:
        """Stop reconnecting (cancel :meth:`run` to end it now)."""
        self._stopping = True

    async def _connect(self) -> None:
        client = await JanusClient.connect(self.url, api_secret=self.config.api_secret,
                                           timeout=self._sfu.request_timeout)
        self._client = client
        session = await client.create_session(keepalive=self._sfu.keepalive_interval,
                                              timeout=self._sfu.request_timeout)
        self._handle = await session.attach(VIDEOROOM, timeout=self._sfu.request_timeout)

    async def _close_client(self) -> None:
        client, self._client, self._handle = self._client, None, None
        if client is not None:
            await client.close()

    def _set_up(self, up: bool) -> None:
        if up != self.up:
            self.up = up
            log.info("Janus %s: %s", self.url, "up" if up else "down")
            self._changed(self)


class SfuPool:
    """The links to every configured instance, and the choice of an instance for a room."""

    def __init__(self, config: SfuConfig, load: Callable[[RoomKey], int]) -> None:
        """``load(room)``: the members of a placed room (to weigh instances by)."""
        self.config = config
        self.links = [JanusLink(i, config, self._on_change) for i in config.instances]
        self._load = load
        self._listeners: list[Callable[[JanusLink], None]] = []
        self._tasks = TaskSet(log, "Janus link")

    def listen(self, listener: Callable[[JanusLink], None]) -> None:
        """Call ``listener(link)`` whenever an instance goes up or down."""
        self._listeners.append(listener)

    async def start(self) -> None:
        """Start every link; return once each has tried to connect once (up or not)."""
        for link in self.links:
            self._tasks.spawn(link.run(), name=f"janus-link {link.url}")
        if self.links:
            await asyncio.wait([asyncio.ensure_future(link.first_attempt())
                                for link in self.links])

    async def stop(self) -> None:
        """Close every link."""
        for link in self.links:
            link.stop()
        self._tasks.cancel()
        await self._tasks.wait()

    def choose(self, exclude: Collection[JanusLink] = ()) -> JanusLink | None:
        """The instance for a new room: up, not in ``exclude``, and the least loaded by
        members then rooms placed on it (config order breaks ties); None if none is."""
        up = [link for link in self.links if link.up and link not in exclude]
        if not up:
            return None
        return min(up, key=lambda link: (self.members(link), len(link.rooms)))

    def members(self, link: JanusLink) -> int:
        """Members of the rooms placed on ``link``."""
        return sum(self._load(key) for key in link.rooms)

    def status(self) -> list[dict[str, Any]]:
        """Each instance as the health check shows it: URL, up, rooms and members placed,
        times it went down."""
        return [{"url": link.url, "up": link.up, "rooms": len(link.rooms),
                 "members": self.members(link), "failures": link.failures}
                for link in self.links]

    def _on_change(self, link: JanusLink) -> None:
        for listener in self._listeners:
            try:
                listener(link)
            except Exception:
                log.exception("Janus %s: a listener failed", link.url)
