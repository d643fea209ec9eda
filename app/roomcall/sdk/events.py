"""The events an :class:`~roomcall.sdk.client.RTCClient` emits, and the emitter that delivers them.

Every event name is declared in :data:`EventName`; this table is the one place that documents
them. Register with ``client.on(name, handler)``, or as a decorator::

    @client.on("user_joined")
    def greet(user_id: str, user_data: str) -> None: ...

``client.once(name, handler)`` (also a decorator) calls the handler for the next event only;
``client.off(name, handler)`` removes either kind.

============================= ==================================================================
event                         handler arguments
============================= ==================================================================
``connection_state_changed``  ``(state: ConnectionState, info: ConnectionInfo | None)``;
                              ``info`` on DISCONNECTED (reason, error_code, error_message),
                              else None.
``user_joined``               ``(user_id: str, user_data: str)``; also fired right after
                              CONNECTED for every member already in the room.
``user_left``                 ``(user_id: str)``
``user_reconnecting``         ``(user_id: str)``: the member lost its connection; its seat is kept.
``user_reconnected``          ``(user_id: str)``
``user_published``            ``(user_id: str, tracks: list[TrackInfo])``; also fired after
                              ``user_joined`` for tracks a member had published before.
``user_unpublished``          ``(user_id: str, tracks: list[TrackInfo])``
``track_subscribed``          ``(user_id: str, track: RemoteTrack)``: media of a remote track
                              arrives; ``await track.recv()`` gives decoded frames.
``track_unsubscribed``        ``(user_id: str, track: RemoteTrack)``: unpublished, or its publisher
                              left (fired before ``user_left``), or its peer connection is
                              being restarted, or the room's media moved to another topology
                              (mesh to SFU, one SFU to another: a new ``track_subscribed``
                              follows at once, or once media flows again); its ``recv()``
                              ends.
``message_received``          ``(message: Message)``
``mute_state_changed``        ``(user_id: str, track: TrackInfo, muted: bool)``
``peer_state_changed``        ``(user_id: str, state: PeerState)``: the media path to a remote
                              member, CONNECTING from the moment it is known (negotiating,
                              checking connectivity), CONNECTED once ICE and DTLS are up,
                              RECOVERING while a connection that failed, closed, did not
                              connect within 7 s or went silent for 6 s is replaced by a
                              fresh one, FAILED after 3
                              such connections in a row (e.g. both behind NATs with no relay);
                              a FAILED pair keeps retrying while both are in the room and
                              reports CONNECTED if the path comes back. Only on a real change;
                              none after ``user_left`` (rule: :mod:`roomcall.sdk.pair_state`).
``permission_changed``        ``(user_id: str, permission: str)``: a member (this client
                              included: then ``client.permission`` changed) became ``"admin"``
                              or ``"user"``, e.g. when the host handed the role over.
``volume_indication``         ``(levels: dict[str, float])``: every interval set with
                              ``client.enable_volume_indication(ms)``, user id -> level 0.0-1.0
                              for every member with audio, the local user included (its
                              published audio; a muted track reads 0). RMS in dBFS mapped
                              from -60 dBFS (0.0) to 0 dBFS (1.0): speech reads about
                              0.3-0.8, silence 0 (:mod:`roomcall.media.level`).
``network_quality_changed``   ``(user_id: str, quality: NetworkQuality)``: a member's (the
                              local user's included) uplink / downlink grade changed, or
                              became known; evaluated every 3 s (grades and thresholds:
                              :mod:`roomcall.sdk.quality`).
============================= ==================================================================

After RECONNECTED, what changed while the client was away is announced with these same
events, each change exactly once. Inside any handler, ``client.remote_users`` holds exactly the
users announced so far: a user is listed from its ``user_joined`` on and gone in its
``user_left``.

Handlers may be plain functions or coroutine functions (each call runs as its own task). A
handler that raises is logged and never breaks the client or other handlers.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, overload

from roomcall.aio import TaskSet

log = logging.getLogger(__name__)

EventName = Literal[
    "connection_state_changed",
    "user_joined",
    "user_left",
    "user_reconnecting",
    "user_reconnected",
    "user_published",
    "user_unpublished",
    "track_subscribed",
    "track_unsubscribed",
    "message_received",
    "mute_state_changed",
    "peer_state_changed",
    "permission_changed",
    "volume_indication",
    "network_quality_changed",
]
"""Every event an RTCClient emits (the module docstring lists their arguments)."""

EVENT_NAMES: frozenset[str] = frozenset(typing.get_args(EventName))

Handler = Callable[..., Any]
"""A plain function or a coroutine function taking the event's arguments."""
H = typing.TypeVar("H", bound=Handler)


def _check(name: str) -> None:
    if name not in EVENT_NAMES:
        raise ValueError(f"unknown event {name!r}; known: {', '.join(sorted(EVENT_NAMES))}")


@dataclass(frozen=True)
class Message:
    """A custom message as received (``QNCustomMessage``)."""

    message_id: str
    user_id: str
    """The sender, as the server saw it (it cannot be forged by the sender)."""
    content: str
    timestamp: int
    """Server time when the message was relayed, milliseconds since the Unix epoch."""


class EventEmitter:
    """Named events with isolated handlers.

    A coroutine handler runs as a task; the emitter keeps a reference to every such task until
    it ends (so none is garbage-collected half way) and can wait for them with :meth:`drain`.
    """

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = {}
        self._once: dict[str, list[Handler]] = {}
        self._tasks = TaskSet(log, "event handler")

    @overload
    def on(self, name: EventName) -> Callable[[H], H]: ...
    @overload
    def on(self, name: EventName, handler: H) -> H: ...

    def on(self, name: EventName, handler: Handler | None = None) -> Any:
        """Call ``handler`` on every ``name`` event; returns ``handler``. Without a handler,
        returns a decorator that registers the function it decorates."""
        _check(name)
        if handler is None:
            return lambda fn: self.on(name, fn)
        self._handlers.setdefault(name, []).append(handler)
        return handler

    @overload
    def once(self, name: EventName) -> Callable[[H], H]: ...
    @overload
    def once(self, name: EventName, handler: H) -> H: ...

    def once(self, name: EventName, handler: Handler | None = None) -> Any:
        """Like :meth:`on`, but ``handler`` is called for the next ``name`` event only."""
        _check(name)
        if handler is None:
            return lambda fn: self.once(name, fn)
        self._once.setdefault(name, []).append(handler)
        self._handlers.setdefault(name, []).append(handler)
        return handler

    def off(self, name: EventName, handler: Handler) -> None:
        """Stop calling ``handler`` for ``name``; unknown handlers are ignored."""
        handlers = self._handlers.get(name, [])
        if handler in handlers:
            handlers.remove(handler)
        once = self._once.get(name, [])
        if handler in once:
            once.remove(handler)

    def emit(self, name: EventName, *args: Any) -> None:
        """Call every handler of ``name`` with ``args`` now (coroutines are scheduled)."""
        for handler in list(self._handlers.get(name, ())):
            once = self._once.get(name, [])
            if handler in once:
                once.remove(handler)
                self.off(name, handler)
            try:
                result = handler(*args)
            except Exception:
                log.exception("handler %r of %s raised", handler, name)
                continue
            if inspect.isawaitable(result):
                self._tasks.spawn(self._guard(name, handler, result), name=f"event-{name}")

    async def drain(self) -> None:
        """Wait until every coroutine handler started so far has finished."""
        await self._tasks.wait()

    @staticmethod
    async def _guard(name: str, handler: Handler, awaitable: typing.Awaitable[Any]) -> None:
        try:
            await awaitable
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("handler %r of %s raised", handler, name)
