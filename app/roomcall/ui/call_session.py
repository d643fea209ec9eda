"""One call as the window shows it: SDK events (through the bridge) onto the grid and panel.

The session owns the ``RTCClient`` of the call, its bridge, the local media and the render
tasks; it holds no room state itself and reads members from the client whenever an event
says they changed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

from PySide6.QtCore import QObject, Signal

from roomcall.aio import TaskSet
from roomcall.protocol.errors import DisconnectReason, ErrorCode
from roomcall.ui.bridge import ClientBridge
from roomcall.ui.chat import (
    decode_chat,
    decode_room_title,
    encode_chat,
    encode_room_title,
    people_here_text,
)
from roomcall.ui.end_call import confirm_kick
from roomcall.ui.errors import closed_text, describe_error, removed_by_host_text
from roomcall.ui.frame_renderer import RenderedFrame, TrackRenderer
from roomcall.ui.kick import DEFAULT_GRACE_SECONDS, HostKicker, is_kick_request
from roomcall.ui.local_media import Devices, LocalMedia
from roomcall.ui.room_panel import RoomPanel
from roomcall.ui.room_view import display_name, is_admin, state_name, track_muted
from roomcall.ui.video_grid import VideoGrid

log = logging.getLogger(__name__)

ENDED_LEFT = "left"
ENDED_KICKED = "kicked"
ENDED_ERROR = "error"
ENDED_CLOSED = "closed"


class CallSession(QObject):
    """Drives the grid and the panel from one client's events, and their buttons back.

    Signals:
        ended(kind, text): the call is over: ``"left"`` (the person left), ``"kicked"`` (the
            host removed them), ``"closed"`` (the server ended the session: the host ended
            the call, the person joined from another window, ...) or ``"error"``; ``text`` is
            what to tell the person ("" for a plain leave). Emitted once, after everything
            was torn down.
        leave_requested(): the person pressed Leave (the window asks a host what to do).
    """

    ended = Signal(str, str)
    leave_requested = Signal()

    def __init__(self, client: Any, *, grid: VideoGrid, panel: RoomPanel, media: LocalMedia,
                 user_data: str, kick_grace: float = DEFAULT_GRACE_SECONDS,
                 playout: Any = None, devices: Devices | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.bridge = ClientBridge(self)
        self.grid = grid
        self.panel = panel
        self.media = media
        self.user_data = user_data
        self.kicker = HostKicker(client, kick_grace)
        self.room_title = ""
        """The room's name as its host typed it ("" until known): the host tells newcomers."""
        self.prompt: QObject | None = None
        """The last question asked (e.g. "Remove Bob?"), for tests to answer."""
        self._playout = playout
        self.devices = devices
        self._renderers: dict[str, TrackRenderer] = {}
        self._tasks = TaskSet(log, "call")
        self._closing = False
        self._ended = False
        self._finished = asyncio.Event()
        self._joining = False
        self._ending_room = False  # this member ended the call: its own "closed" is no news
        self.bridge.attach(client)
        b = self.bridge
        b.connection_state_changed.connect(self._on_state)
        b.user_joined.connect(self._on_user_joined)
        b.user_left.connect(self._on_user_left)
        b.user_reconnecting.connect(lambda uid: self._set_status(uid, self.tr("reconnecting…")))
        b.user_reconnected.connect(lambda uid: self._set_status(uid, ""))
        b.user_published.connect(lambda uid, _tracks: self._refresh_member(uid))
        b.user_unpublished.connect(lambda uid, _tracks: self._refresh_member(uid))
        b.mute_state_changed.connect(lambda uid, _track, _muted: self._refresh_member(uid))
        b.track_subscribed.connect(self._on_track)
        b.track_unsubscribed.connect(self._on_track_ended)
        b.message_received.connect(self._on_message)
        b.permission_changed.connect(lambda uid, _permission: self._refresh_member(uid))
        # Lambdas connected to the panel have no receiver object: keep the connections to
        # cut them when the call ends, or a later call's panel would still drive this one.
        self._panel_links = [
            panel.kick_requested.connect(self._confirm_kick),
            panel.make_host_requested.connect(lambda uid: self._spawn(self.make_host(uid))),
            panel.leave_requested.connect(self.leave_requested),
            panel.chat_send.connect(lambda text: self._spawn(self._send_chat(text))),
            panel.microphone_toggled.connect(lambda on: self._spawn(self._set_microphone(on))),
            panel.camera_toggled.connect(lambda on: self._spawn(self._set_camera(on))),
            panel.camera_chosen.connect(lambda dev: self._spawn(self._switch_camera(dev))),
            panel.microphone_chosen.connect(
                lambda dev: self._spawn(self._switch_microphone(dev))),
            panel.speaker_chosen.connect(self._choose_speaker),
        ]

    # --- the call ------------------------------------------------------------------------------

    async def join(self, token: str) -> None:
        """Join, then open and publish local media. Raises the SDK's ``JoinError``."""
        self.panel.set_local_name(self.user_data)
        self.panel.show_state("CONNECTING")
        self.panel.chat.clear()
        self._joining = True  # members listed at join are "here", not "joined"
        try:
            await self.client.join(token, self.user_data)
        except BaseException:
            self.bridge.detach()
            raise
        finally:
            self._joining = False
        self.panel.chat.add_notice(people_here_text(
            [display_name(u, u.user_id) for u in self.client.remote_users]))
        tile = self.grid.add_tile(self._local_id, local=True)
        tile.set_identity(self.user_data or self._local_id, self.client.permission == "admin")
        self.panel.set_room_name(self.room_title or str(getattr(self.client, "room", "") or ""))
        self.panel.show_state(self.client.connection_state)
        self.panel.refresh_members(self.client)
        await self.media.open()
        self._start_preview()
        tile.set_muted(audio=self.media.audio is None, video=self.media.video is None)
        self.panel.set_media_state(camera=self.media.video is not None,
                                   microphone=self.media.audio is not None,
                                   camera_available=self.media.video is not None,
                                   microphone_available=self.media.audio is not None)
        self._report_media_problems()
        await self.media.publish(self.client)
        if self._playout is not None:
            try:
                await self._playout.start()
            except Exception:
                # No sound must never cost the person the call.
                log.exception("audio playout failed to start")
            else:
                if self._playout.error is not None:
                    log.info("no audio output: %s", self._playout.error)

    async def leave(self) -> None:
        """Leave the room and tear everything down; ``ended("left", "")`` follows."""
        await self._finish(ENDED_LEFT, "")

    def kick(self, user_id: str) -> None:
        """The host's Kick: ``kickOut`` now, the server's kick after the grace period."""
        if self.client.permission != "admin":
            log.warning("kick of %s refused locally: not the host", user_id)
            return
        self.panel.chat.add_notice(self.tr("Asking {name} to leave…").format(
            name=display_name(self.client.get_remote_user(user_id), user_id)))
        self._spawn(self.kicker.kick(user_id))

    def _confirm_kick(self, user_id: str) -> None:
        name = display_name(self.client.get_remote_user(user_id), user_id)
        def answered(choice: str) -> None:
            self.prompt = None  # the dialog deletes itself once closed
            if choice == "kick":
                self.kick(user_id)

        self.prompt = confirm_kick(self.panel.window(), name, answered)

    async def make_host(self, user_id: str) -> None:
        """Hand the host role to ``user_id`` (this member becomes a plain member)."""
        try:
            await self.client.transfer_host(user_id)
        except Exception as exc:
            self.panel.chat.add_notice(describe_error(getattr(exc, "code", None)))

    async def end_for_everyone(self) -> None:
        """The host ends the call: every member's session closes; then this one ends."""
        self._ending_room = True
        try:
            await self.client.end_room()
        except Exception as exc:
            log.warning("ending the room failed: %r", exc)
        await self._finish(ENDED_LEFT, "")

    async def hand_over_and_leave(self, user_id: str) -> None:
        """Make ``user_id`` the host, then leave; the room stays open."""
        await self.make_host(user_id)
        await self.leave()

    @property
    def active(self) -> bool:
        """True until the call has ended."""
        return not self._ended

    # --- events -------------------------------------------------------------------------------

    def _on_state(self, state: Any, info: Any) -> None:
        self.panel.show_state(state)
        if state_name(state) != "DISCONNECTED" or self._closing:
            return
        reason = getattr(info, "reason", None)
        code = int(getattr(info, "error_code", 0) or 0)
        closed = closed_text(info)
        if self._ending_room:
            self._spawn(self._finish(ENDED_LEFT, ""))
        elif closed is not None:
            kind = ENDED_KICKED if getattr(info, "removed_by_host", False) else ENDED_CLOSED
            self._spawn(self._finish(kind, closed))
        elif reason == DisconnectReason.KICKED_OUT:
            self._spawn(self._finish(ENDED_KICKED, removed_by_host_text()))
        elif reason == DisconnectReason.ROOM_CLOSED:
            self._spawn(self._finish(ENDED_ERROR, describe_error(ErrorCode.ROOM_CLOSED)))
        elif reason == DisconnectReason.LEAVE:
            self._spawn(self._finish(ENDED_LEFT, ""))
        else:
            self._spawn(self._finish(ENDED_ERROR, describe_error(code or None)))

    def _on_user_joined(self, user_id: str, user_data: str) -> None:
        self.grid.add_tile(user_id)
        self._refresh_member(user_id)
        if not self._joining:
            self.panel.chat.add_notice(self.tr("{name} joined").format(
                name=user_data.strip() or user_id))
        if self.room_title and self.client.permission == "admin":
            self._spawn(self.client.send_message(encode_room_title(self.room_title), [user_id]))

    def _on_user_left(self, user_id: str) -> None:
        self.kicker.on_user_left(user_id)
        for key in [k for k in self._renderers if k.startswith(f"{user_id}/")]:
            self._spawn(self._renderers.pop(key).stop())
        if self._playout is not None:
            self._call_playout("remove_track", user_id)
        tile = self.grid.tile(user_id)
        name = tile.name if tile is not None else user_id
        self.grid.remove_tile(user_id)
        self.panel.refresh_members(self.client)
        self.panel.chat.add_notice(self.tr("{name} left").format(name=name))

    def _refresh_member(self, user_id: str) -> None:
        user = self.client.get_remote_user(user_id)
        tile = self.grid.tile(user_id)
        if tile is not None and user is not None:
            tile.set_identity(display_name(user, user_id), is_admin(user))
            tile.set_muted(audio=track_muted(user, "audio"), video=track_muted(user, "video"))
        self.panel.refresh_members(self.client)

    def _set_status(self, user_id: str, text: str) -> None:
        self.panel.set_member_status(user_id, text)

    def _on_track(self, user_id: str, track: Any) -> None:
        if self._closing:
            return
        if track.kind == "audio":
            if self._playout is not None:
                self._call_playout("add_track", user_id, track)
            return
        tile = self.grid.tile(user_id) or self.grid.add_tile(user_id)
        key = f"{user_id}/{track.track_id}"
        old = self._renderers.pop(key, None)
        if old is not None:
            self._spawn(old.stop())
        renderer = TrackRenderer(track, tile.show_frame, tile.box_size, on_ended=tile.clear_video)
        self._renderers[key] = renderer
        renderer.start()

    def _on_track_ended(self, user_id: str, track: Any) -> None:
        renderer = self._renderers.pop(f"{user_id}/{track.track_id}", None)
        if renderer is not None:
            self._spawn(renderer.stop())
        tile = self.grid.tile(user_id)
        if tile is not None and track.kind == "video":
            tile.clear_video()

    def _on_message(self, message: Any) -> None:
        if is_kick_request(self.client, message):
            self._spawn(self._finish(ENDED_KICKED, removed_by_host_text()))
            return
        title = decode_room_title(message.content)
        if title is not None:
            if is_admin(self.client.get_remote_user(message.user_id)):
                self.room_title = title
                self.panel.set_room_name(title)
            return
        text = decode_chat(message.content)
        if text is None:
            return
        sender = display_name(self.client.get_remote_user(message.user_id), message.user_id)
        self.panel.chat.add_line(sender, text, message.timestamp / 1000)

    @property
    def _local_id(self) -> str:
        """The local tile's key: the user id the server gave, or "me" before one is known."""
        return str(self.client.user_id or "me")

    def _local_frame(self, frame: RenderedFrame) -> None:
        tile = self.grid.tile(self._local_id)
        if tile is not None and self.media.camera_on:
            tile.show_frame(frame)

    def _start_preview(self) -> None:
        local_id = self._local_id
        tile = self.grid.tile(local_id)
        preview = self.media.preview()
        old = self._renderers.pop(f"{local_id}/preview", None)
        if old is not None:
            self._spawn(old.stop())
        if preview is not None and tile is not None:
            renderer = TrackRenderer(preview, self._local_frame, tile.box_size,
                                     on_ended=tile.clear_video)
            self._renderers[f"{local_id}/preview"] = renderer
            renderer.start()

    def _report_media_problems(self) -> None:
        problems, self.media.problems = self.media.problems, []
        if problems:
            self.panel.chat.add_notice(" ".join(describe_error(c) for c in problems))

    # --- requests -----------------------------------------------------------------------------

    async def _switch_camera(self, device_id: str) -> None:
        if await self.media.switch_camera(self._device(device_id)):
            self._start_preview()
        self._report_media_problems()

    async def _switch_microphone(self, device_id: str) -> None:
        await self.media.switch_microphone(self._device(device_id))
        self._report_media_problems()

    def _choose_speaker(self, device_id: str) -> None:
        if self._playout is not None:
            self._call_playout("set_output_device", self._device(device_id))

    def _device(self, device_id: str) -> Any:
        return self.devices.find(device_id) if self.devices is not None and device_id else None

    async def _send_chat(self, text: str) -> None:
        try:
            await self.client.send_message(encode_chat(text))
        except Exception as exc:
            self.panel.chat.add_notice(describe_error(getattr(exc, "code", None)))
            return
        self.panel.chat.add_line(self.user_data or self.tr("You"), text, None, own=True)

    async def _set_camera(self, on: bool) -> None:
        await self.media.set_camera(on)
        tile = self.grid.tile(self._local_id)
        if tile is not None:
            tile.set_muted(video=not on)

    async def _set_microphone(self, on: bool) -> None:
        await self.media.set_microphone(on)
        tile = self.grid.tile(self._local_id)
        if tile is not None:
            tile.set_muted(audio=not on)

    # --- teardown -----------------------------------------------------------------------------

    async def _finish(self, kind: str, text: str) -> None:
        if self._closing:
            # Someone else is already tearing the call down: return once they are done, so
            # that whoever awaits leave() sees the call ended.
            await self._finished.wait()
            return
        self._closing = True
        for link in self._panel_links:
            QObject.disconnect(link)
        self.kicker.cancel_all()
        try:
            await self.client.leave()
        except Exception:
            log.exception("leaving the room failed")
        self.bridge.detach()
        await self._stop_media()
        self.grid.clear()
        self.panel.clear_members()
        self.panel.show_state("DISCONNECTED")
        self._tasks.cancel()
        await self._tasks.wait()
        self._ended = True
        self._finished.set()
        self.ended.emit(kind, text)

    async def _stop_media(self) -> None:
        renderers, self._renderers = list(self._renderers.values()), {}
        for renderer in renderers:
            await renderer.stop()
        if self._playout is not None:
            try:
                await self._playout.stop()
            except Exception:
                log.exception("stopping audio playout failed")
        await self.media.close()

    def _call_playout(self, method: str, *args: Any) -> None:
        try:
            getattr(self._playout, method)(*args)
        except Exception:
            log.exception("audio playout %s failed", method)

    def _spawn(self, coro: Awaitable[Any]) -> None:
        self._tasks.spawn(coro)
