"""The one place where SDK events become Qt signals.

Widgets never register SDK handlers themselves: they connect to a :class:`ClientBridge`, so a
widget test can drive them by emitting these signals with no room server at all.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtCore import QObject, Signal

from roomcall.sdk.events import EventName, Handler

EVENTS: tuple[EventName, ...] = typing.get_args(EventName)
"""The SDK events the bridge forwards, each to the signal of the same name."""


class EventSource(Protocol):
    """What the bridge needs from ``RTCClient``: its event registration."""

    def on(self, name: EventName, handler: Handler) -> Handler: ...


class ClientBridge(QObject):
    """Qt signals mirroring one ``RTCClient``'s events, emitted on the GUI thread.

    Signals:
        connection_state_changed(state, info): ``ConnectionState`` and its info.
        user_joined(user_id, user_data)
        user_left(user_id)
        user_reconnecting(user_id)
        user_reconnected(user_id)
        user_published(user_id, tracks)
        user_unpublished(user_id, tracks)
        track_subscribed(user_id, track): a receivable remote track.
        track_unsubscribed(user_id, track): its media ended (unpublished, or the user left).
        message_received(message): with ``message_id``, ``user_id``, ``content``, ``timestamp``.
        mute_state_changed(user_id, track, muted)
        peer_state_changed(user_id, state): ``PeerState`` of the media path to that member.
        permission_changed(user_id, permission): ``"admin"`` or ``"user"`` (host hand-off).
        volume_indication(levels): user id -> level 0.0-1.0 (the local user included),
            after ``enable_volume_indication(ms)``.
        network_quality_changed(user_id, quality): a member's ``NetworkQuality``.
    """

    connection_state_changed = Signal(object, object)
    user_joined = Signal(str, str)
    user_left = Signal(str)
    user_reconnecting = Signal(str)
    user_reconnected = Signal(str)
    user_published = Signal(str, object)
    user_unpublished = Signal(str, object)
    track_subscribed = Signal(str, object)
    track_unsubscribed = Signal(str, object)
    message_received = Signal(object)
    mute_state_changed = Signal(str, object, bool)
    peer_state_changed = Signal(str, object)
    permission_changed = Signal(str, str)
    volume_indication = Signal(object)
    network_quality_changed = Signal(str, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._attached = False

    def attach(self, client: EventSource) -> None:
        """Forward ``client``'s events to this bridge's signals (until :meth:`detach`)."""
        self._attached = True
        for name in EVENTS:
            client.on(name, self._forwarder(name))

    def detach(self) -> None:
        """Stop forwarding; events the client still fires are dropped."""
        self._attached = False

    def _forwarder(self, name: EventName) -> Callable[..., None]:
        signal = getattr(self, name)

        def forward(*args: Any) -> None:
            # The SDK runs on the qasync loop, i.e. on the GUI thread: emit directly.
            if self._attached:
                signal.emit(*args)

        return forward
