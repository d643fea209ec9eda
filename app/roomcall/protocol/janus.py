"""An asyncio client of the Janus WebSocket API (Janus 1.x), and Janus's signed core tokens.

One :class:`JanusClient` holds one WebSocket (subprotocol ``janus-protocol``); it carries any
number of sessions, each with plugin handles::

    client = await JanusClient.connect("ws://192.0.2.10:8188", api_secret=secret)
    session = await client.create_session()          # kept alive every 25 s
    handle = await session.attach("janus.plugin.videoroom")
    data = await handle.request({"request": "exists", "room": "r1"})   # synchronous
    data, jsep = await handle.message({"request": "join", ...}, jsep=offer)  # asynchronous
    async for event in handle.events():              # publishers joined/left, hangup, ...
        ...
    await handle.detach(); await session.destroy(); await client.close()

Every wait is bounded (``timeout``, default :data:`REQUEST_TIMEOUT`) and raises
:class:`JanusTimeoutError`; Janus's own errors (core ``error`` frames and plugin answers with
``error_code``) raise :class:`JanusError`; a lost socket fails every waiter with
:class:`JanusClosedError`. This module is part of ``protocol`` so that both the room server
and the SDK use it; it needs aiohttp, a dependency of both, and nothing else of ours.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import itertools
import json
import logging
import secrets
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

log = logging.getLogger(__name__)

SUBPROTOCOL = "janus-protocol"
"""WebSocket subprotocol of the Janus API."""
ADMIN_SUBPROTOCOL = "janus-admin-protocol"
"""WebSocket subprotocol of the Janus Admin API."""
VIDEOROOM = "janus.plugin.videoroom"
"""Package name of the VideoRoom plugin."""
REQUEST_TIMEOUT = 10.0
"""Seconds any request waits for its answer by default."""
CONNECT_TIMEOUT = 5.0
"""Seconds to open the WebSocket by default."""
CLOSE_TIMEOUT = 2.0
"""Seconds :meth:`JanusClient.close` waits for Janus to answer the closing handshake."""
KEEPALIVE_INTERVAL = 25.0
"""Seconds between a session's keepalives (Janus drops a silent session after 60 s)."""
EVENT_QUEUE_SIZE = 1000
"""Unsolicited events kept per handle for a reader that is behind; older ones are dropped."""
TOKEN_REALM = "janus"
"""The realm Janus checks in signed tokens."""

# Janus core error codes (janus/apierror.h) that callers test for.
ERROR_UNAUTHORIZED = 403
ERROR_UNAUTHORIZED_PLUGIN = 405
ERROR_SESSION_NOT_FOUND = 458
ERROR_HANDLE_NOT_FOUND = 459
# VideoRoom error codes (janus_videoroom.c) that callers test for.
VIDEOROOM_NO_SUCH_ROOM = 426
VIDEOROOM_ROOM_EXISTS = 427
VIDEOROOM_NO_SUCH_FEED = 428
VIDEOROOM_UNAUTHORIZED = 433
VIDEOROOM_PUBLISHERS_FULL = 432
VIDEOROOM_ID_EXISTS = 436


class JanusError(Exception):
    """Janus refused a request: ``code`` and ``reason`` as Janus sent them."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"Janus error {code}: {reason}")
        self.code = code
        self.reason = reason


class JanusTimeoutError(JanusError, TimeoutError):
    """No answer within the timeout (code 0)."""

    def __init__(self, reason: str) -> None:
        super().__init__(0, reason)


class JanusClosedError(JanusError, ConnectionError):
    """The WebSocket to Janus is closed or was lost (code 0)."""

    def __init__(self, reason: str = "the connection to Janus is closed") -> None:
        super().__init__(0, reason)


def sign_janus_token(secret: str, expires_at: int, plugins: Iterable[str] = (VIDEOROOM,)
                     ) -> str:
    """A signed core token (``token_auth_secret`` in janus.jcfg) valid until ``expires_at``
    (Unix seconds) for ``plugins``: ``<expiry>,janus,<plugin>...:<base64 HMAC-SHA1>``, what
    Janus's ``janus_auth_check_signature_contains`` verifies."""
    names = list(plugins)
    for name in names:
        if not name or "," in name or ":" in name:
            raise ValueError(f"plugin name {name!r} cannot be put in a token")
    data = ",".join([str(int(expires_at)), TOKEN_REALM, *names])
    digest = hmac.new(secret.encode(), data.encode(), hashlib.sha1).digest()
    return f"{data}:{base64.b64encode(digest).decode()}"


@dataclass(frozen=True)
class JanusEvent:
    """An unsolicited frame for a handle: a plugin event not answering a request of ours
    (``kind`` ``"event"``, e.g. VideoRoom's publishers joined or left, kicked, talking), or a
    core notice (``"webrtcup"``, ``"media"``, ``"slowlink"``, ``"hangup"``, ``"detached"``,
    ``"trickle"``)."""

    kind: str
    data: dict[str, Any]
    """The plugin's data (``plugindata.data``); empty for core notices."""
    jsep: dict[str, Any] | None
    raw: dict[str, Any]
    """The whole frame, for the fields of core notices (``reason``, ``type``, ``receiving``)."""


@dataclass
class _Waiter:
    future: asyncio.Future[dict[str, Any]]
    final: frozenset[str]
    """The ``janus`` values that answer the transaction (an ``ack`` may come first)."""


def _plugin_data(frame: dict[str, Any]) -> dict[str, Any]:
    plugindata = frame.get("plugindata")
    data = plugindata.get("data") if isinstance(plugindata, dict) else None
    return data if isinstance(data, dict) else {}


def _raise_plugin_error(data: dict[str, Any]) -> None:
    if "error_code" in data or "error" in data:
        raise JanusError(int(data.get("error_code") or 0), str(data.get("error", "")))


class JanusClient:
    """One WebSocket to a Janus instance; see the module docstring. Use :meth:`connect`."""

    def __init__(self, http: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse, *,
                 url: str, api_secret: str | None, token: str | None,
                 admin_secret: str | None = None) -> None:
        self.url = url
        self._http = http
        self._ws = ws
        self._api_secret = api_secret
        self._admin_secret = admin_secret
        self.token = token
        """The core token every later request carries; set a renewed one here."""
        self._ids = (f"{secrets.token_hex(4)}-{n}" for n in itertools.count(1))
        self._waiters: dict[str, _Waiter] = {}
        self._sessions: dict[int, JanusSession] = {}
        self._closed = asyncio.Event()
        self._stopped: list[asyncio.Task[Any]] = []
        """Keepalive tasks of ended sessions and a pending close, awaited by :meth:`close`."""
        self._close_reason = "the connection to Janus is closed"
        self._reader = asyncio.create_task(self._read(), name=f"janus-reader {url}")

    @classmethod
    async def connect(cls, url: str, *, api_secret: str | None = None, token: str | None = None,
                      admin_secret: str | None = None,
                      timeout: float = CONNECT_TIMEOUT) -> JanusClient:  # noqa: ASYNC109
        """Open the WebSocket to ``url``; every request then carries ``api_secret`` and/or
        ``token`` (a core token, :func:`sign_janus_token`). With ``admin_secret``, ``url`` is
        the Admin API and requests carry that instead (``send({"janus": "list_sessions"})``).
        Raises :class:`JanusClosedError` if Janus cannot be reached,
        :class:`JanusTimeoutError` after ``timeout``."""
        http = aiohttp.ClientSession()
        protocol = SUBPROTOCOL if admin_secret is None else ADMIN_SUBPROTOCOL
        try:
            async with asyncio.timeout(timeout):
                # A closing handshake with a hung Janus must not hold close() for long.
                ws = await http.ws_connect(url, protocols=(protocol,), autoping=True,
                                           max_msg_size=16 * 1024 * 1024,
                                           timeout=aiohttp.ClientWSTimeout(
                                               ws_close=CLOSE_TIMEOUT))
        except TimeoutError:
            await http.close()
            raise JanusTimeoutError(f"no WebSocket to {url} within {timeout} s") from None
        except (aiohttp.ClientError, OSError) as exc:
            await http.close()
            raise JanusClosedError(f"cannot reach Janus at {url}: {exc}") from exc
        except BaseException:
            await http.close()
            raise
        return cls(http, ws, url=url, api_secret=api_secret, token=token,
                   admin_secret=admin_secret)

    @property
    def closed(self) -> bool:
        """True once the socket is closed (locally or lost)."""
        return self._closed.is_set()

    async def wait_closed(self) -> None:
        """Return when the socket is closed or lost."""
        await self._closed.wait()

    async def create_session(self, *, keepalive: float = KEEPALIVE_INTERVAL,
                             timeout: float = REQUEST_TIMEOUT  # noqa: ASYNC109
                             ) -> JanusSession:
        """A new Janus session, kept alive every ``keepalive`` seconds; a keepalive that gets
        no answer within ``timeout`` closes the client (the instance is gone or hung)."""
        answer = await self.send({"janus": "create"}, timeout=timeout)
        session = JanusSession(self, int(answer["data"]["id"]), keepalive, timeout)
        self._sessions[session.id] = session
        return session

    async def send(self, frame: dict[str, Any], *, final: Iterable[str] = ("success",),
                   timeout: float = REQUEST_TIMEOUT) -> dict[str, Any]:  # noqa: ASYNC109
        """Send ``frame`` as a new transaction (secrets added) and return the first answer
        whose ``janus`` is in ``final``; core ``error`` answers raise :class:`JanusError`."""
        if self.closed:
            raise JanusClosedError(self._close_reason)
        transaction = next(self._ids)
        body = {**frame, "transaction": transaction}
        if self._api_secret is not None:
            body["apisecret"] = self._api_secret
        if self.token is not None:
            body["token"] = self.token
        if self._admin_secret is not None:
            body["admin_secret"] = self._admin_secret
        waiter = _Waiter(asyncio.get_running_loop().create_future(), frozenset(final))
        self._waiters[transaction] = waiter
        try:
            await self._ws.send_str(json.dumps(body))
            async with asyncio.timeout(timeout):
                return await waiter.future
        except TimeoutError:
            raise JanusTimeoutError(
                f"no answer to {frame.get('janus')} within {timeout} s") from None
        except (ConnectionError, aiohttp.ClientError) as exc:
            raise JanusClosedError(f"sending to Janus failed: {exc}") from exc
        finally:
            self._waiters.pop(transaction, None)

    async def close(self) -> None:
        """Close the socket (sessions are not destroyed: Janus times them out, or destroy
        them first); every waiter fails with :class:`JanusClosedError`."""
        if self._close_reason == "the connection to Janus is closed":
            self._close_reason = "the connection to Janus was closed"
        with contextlib.suppress(Exception):
            await self._ws.close()
        await self._reader
        await self._http.close()
        others = [t for t in self._stopped if t is not asyncio.current_task()]
        self._stopped.clear()
        if others:
            await asyncio.wait(others)

    def abort(self, reason: str) -> None:
        """Close the socket in the background (from code that cannot await), e.g. when Janus
        stopped answering: waiters fail with :class:`JanusClosedError` saying ``reason``."""
        if not self.closed:
            self._close_reason = reason
            self._stopped.append(asyncio.ensure_future(self.close()))

    # --- reading ------------------------------------------------------------------------------

    async def _read(self) -> None:
        try:
            async for message in self._ws:
                if message.type != aiohttp.WSMsgType.TEXT:
                    continue
                try:
                    frame = json.loads(message.data)
                except ValueError:
                    log.warning("Janus %s sent a frame that is not JSON", self.url)
                    continue
                if isinstance(frame, dict):
                    self._dispatch(frame)
        except Exception:  # a broken socket ends the reader like a closed one
            log.exception("reading from Janus %s failed", self.url)
        finally:
            if self._close_reason == "the connection to Janus is closed":
                self._close_reason = f"the connection to Janus {self.url} was lost"
            self._closed.set()
            for waiter in self._waiters.values():
                if not waiter.future.done():
                    waiter.future.set_exception(JanusClosedError(self._close_reason))
            for session in list(self._sessions.values()):
                session._ended()
            self._sessions.clear()

    def _dispatch(self, frame: dict[str, Any]) -> None:
        kind = frame.get("janus")
        waiter = self._waiters.get(str(frame.get("transaction", "")))
        if waiter is not None and not waiter.future.done():
            if kind == "error":
                error = frame.get("error") or {}
                waiter.future.set_exception(
                    JanusError(int(error.get("code", 0)), str(error.get("reason", ""))))
                return
            if kind in waiter.final:
                waiter.future.set_result(frame)
                return
            if kind == "ack":
                return
        session = self._sessions.get(int(frame.get("session_id") or 0))
        if session is None:
            if kind not in ("ack", "success"):
                log.debug("Janus %s: frame for no session of ours: %s", self.url, kind)
            return
        if kind == "timeout":
            log.warning("Janus %s timed session %d out", self.url, session.id)
            self._sessions.pop(session.id, None)
            session._ended()
            return
        handle = session.handles.get(int(frame.get("sender") or 0))
        if handle is not None:
            handle._deliver(frame)

    def _forget(self, session: JanusSession) -> None:
        self._sessions.pop(session.id, None)


class JanusSession:
    """A Janus session: its handles and its keepalive (:meth:`JanusClient.create_session`)."""

    def __init__(self, client: JanusClient, session_id: int, keepalive: float,
                 timeout: float) -> None:
        self.client = client
        self.id = session_id
        self._interval = keepalive
        self._timeout = timeout
        self.handles: dict[int, JanusHandle] = {}
        self.alive = True
        """False once destroyed, timed out by Janus, or its connection lost."""
        self._keepalive = asyncio.create_task(self._keep_alive(),
                                              name=f"janus-keepalive {session_id}")

    async def attach(self, plugin: str = VIDEOROOM, *, opaque_id: str | None = None,
                     timeout: float = REQUEST_TIMEOUT  # noqa: ASYNC109
                     ) -> JanusHandle:
        """A new handle on ``plugin`` (Janus checks a signed token names the plugin: 405),
        tagged with ``opaque_id`` if given."""
        frame: dict[str, Any] = {"janus": "attach", "session_id": self.id, "plugin": plugin}
        if opaque_id is not None:
            frame["opaque_id"] = opaque_id
        answer = await self.client.send(frame, timeout=timeout)
        handle = JanusHandle(self, int(answer["data"]["id"]), plugin)
        self.handles[handle.id] = handle
        return handle

    async def keepalive(self, *, timeout: float = REQUEST_TIMEOUT) -> None:  # noqa: ASYNC109
        """One keepalive, answered by an ``ack``; raises if Janus does not answer."""
        await self.client.send({"janus": "keepalive", "session_id": self.id},
                               final=("ack",), timeout=timeout)

    async def destroy(self, *, timeout: float = REQUEST_TIMEOUT) -> None:  # noqa: ASYNC109
        """Destroy the session on Janus (its handles go with it); a session already gone
        (connection lost, timed out) is only forgotten."""
        if self.alive and not self.client.closed:
            try:
                await self.client.send({"janus": "destroy", "session_id": self.id},
                                       timeout=timeout)
            except JanusClosedError:
                pass
            except JanusError as exc:
                if exc.code != ERROR_SESSION_NOT_FOUND:
                    raise
        self.client._forget(self)
        self._ended()

    async def _keep_alive(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.keepalive(timeout=self._timeout)
            except JanusClosedError:
                return
            except JanusError as exc:
                # A keepalive Janus does not answer means the instance is gone or hung: close
                # the socket, so that everyone waiting on it learns at once.
                log.warning("Janus %s: keepalive of session %d failed (%s); closing",
                            self.client.url, self.id, exc)
                self.client.abort(f"Janus {self.client.url} stopped answering keepalives")
                return

    def _ended(self) -> None:
        self.alive = False
        if self._keepalive is not asyncio.current_task() and not self._keepalive.done():
            self._keepalive.cancel()
            self.client._stopped.append(self._keepalive)
        for handle in list(self.handles.values()):
            handle._ended()
        self.handles.clear()


@dataclass(eq=False)
class JanusHandle:
    """A plugin handle: requests to the plugin, trickle, and the plugin's unsolicited events.
    Made by :meth:`JanusSession.attach`."""

    session: JanusSession
    id: int
    plugin: str
    _events: asyncio.Queue[JanusEvent | None] = field(
        default_factory=lambda: asyncio.Queue(EVENT_QUEUE_SIZE))
    attached: bool = True
    """False once detached, or its session or connection ended."""

    async def request(self, body: dict[str, Any], *, timeout: float = REQUEST_TIMEOUT  # noqa: ASYNC109
                      ) -> dict[str, Any]:
        """A synchronous plugin request (VideoRoom ``create``, ``destroy``, ``exists``,
        ``kick``, ``allowed``, ``listparticipants``, ...): the plugin's answer data. An answer
        with ``error_code`` raises :class:`JanusError` with the plugin's code (e.g. 433)."""
        answer = await self._send({"janus": "message", "body": body}, ("success", "event"),
                                  timeout)
        data = _plugin_data(answer)
        _raise_plugin_error(data)
        return data

    async def message(self, body: dict[str, Any], jsep: dict[str, Any] | None = None, *,
                      timeout: float = REQUEST_TIMEOUT  # noqa: ASYNC109
                      ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """An asynchronous plugin request (``join``, ``publish``, ``configure``, ``start``,
        ``subscribe``, ``update``, ...) with an optional SDP ``jsep``: waits past Janus's
        ``ack`` for the event answering it; returns its data and jsep (Janus's offer or
        answer). A plugin error raises :class:`JanusError`."""
        frame: dict[str, Any] = {"janus": "message", "body": body}
        if jsep is not None:
            frame["jsep"] = jsep
        answer = await self._send(frame, ("event", "success"), timeout)
        data = _plugin_data(answer)
        _raise_plugin_error(data)
        answer_jsep = answer.get("jsep")
        return data, answer_jsep if isinstance(answer_jsep, dict) else None

    async def trickle(self, candidate: dict[str, Any] | None = None, *,
                      candidates: list[dict[str, Any]] | None = None,
                      timeout: float = REQUEST_TIMEOUT) -> None:  # noqa: ASYNC109
        """Send one ICE ``candidate`` (``{"candidate", "sdpMid", "sdpMLineIndex"}``), a list of
        ``candidates``, or (neither) the end of candidates."""
        frame: dict[str, Any] = {"janus": "trickle"}
        if candidates is not None:
            frame["candidates"] = candidates
        else:
            frame["candidate"] = candidate if candidate is not None else {"completed": True}
        await self._send(frame, ("ack",), timeout)

    async def hangup(self, *, timeout: float = REQUEST_TIMEOUT) -> None:  # noqa: ASYNC109
        """Close the handle's PeerConnection, keeping the handle."""
        await self._send({"janus": "hangup"}, ("success",), timeout)

    async def events(self) -> AsyncIterator[JanusEvent]:
        """The handle's unsolicited events as they come; ends when the handle is detached or
        its session or connection ends. One reader at a time."""
        while True:
            event = await self._events.get()
            if event is None:
                return
            yield event

    async def next_event(self, kind: str = "event", *,
                         timeout: float = REQUEST_TIMEOUT) -> JanusEvent:  # noqa: ASYNC109
        """The next unsolicited event of ``kind`` (others before it are dropped); raises
        :class:`JanusTimeoutError`, or :class:`JanusClosedError` if the handle ends first."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    event = await self._events.get()
                    if event is None:
                        raise JanusClosedError("the handle ended")
                    if event.kind == kind:
                        return event
        except TimeoutError:
            raise JanusTimeoutError(f"no {kind} on handle {self.id} within {timeout} s"
                                    ) from None

    async def detach(self, *, timeout: float = REQUEST_TIMEOUT) -> None:  # noqa: ASYNC109
        """Detach from the plugin (leaving whatever room the handle was in); a handle already
        gone is only forgotten."""
        if self.attached and self.session.alive and not self.session.client.closed:
            try:
                await self._send({"janus": "detach"}, ("success",), timeout)
            except JanusClosedError:
                pass
            except JanusError as exc:
                if exc.code not in (ERROR_HANDLE_NOT_FOUND, ERROR_SESSION_NOT_FOUND):
                    raise
        self.session.handles.pop(self.id, None)
        self._ended()

    async def _send(self, frame: dict[str, Any], final: Iterable[str],
                    timeout: float) -> dict[str, Any]:  # noqa: ASYNC109
        if not self.attached:
            raise JanusClosedError(f"handle {self.id} is detached")
        return await self.session.client.send(
            {**frame, "session_id": self.session.id, "handle_id": self.id},
            final=final, timeout=timeout)

    def _deliver(self, frame: dict[str, Any]) -> None:
        kind = str(frame.get("janus", ""))
        jsep = frame.get("jsep")
        event = JanusEvent(kind, _plugin_data(frame), jsep if isinstance(jsep, dict) else None,
                           frame)
        if self._events.full():
            self._events.get_nowait()
            log.warning("Janus handle %d: events not read, the oldest dropped", self.id)
        self._events.put_nowait(event)
        if kind == "detached":
            self.session.handles.pop(self.id, None)
            self._ended()

    def _ended(self) -> None:
        if not self.attached:
            return
        self.attached = False
        if self._events.full():
            self._events.get_nowait()
        self._events.put_nowait(None)
