"""One call as the window shows it: SDK events (through the bridge) onto the grid and panel.

The session owns the ``RTCClient`` of the call, its bridge, the local media and the render
tasks; it holds no room state itself and reads members from the client whenever an event
says they changed.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QObject, Qt, Signal

from roomcall.aio import TaskSet
from roomcall.media.devices import DeviceError
from roomcall.media.screen import ShareSettings
from roomcall.media.screen_targets import ShareTarget, ShareUnavailable
from roomcall.protocol.errors import DisconnectReason, ErrorCode
from roomcall.sdk import (
    ConnectionInfo,
    ConnectionState,
    JoinError,
    PeerState,
    RemoteTrack,
    RTCError,
)
from roomcall.sdk.events import Message
from roomcall.ui import rejoin
from roomcall.ui.bridge import ClientBridge
from roomcall.ui.call_layout import CallLayout
from roomcall.ui.call_sound import CallSound
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
from roomcall.ui.room_view import (
    SCREEN_TAG,
    CallClient,
    display_name,
    is_admin,
    screen_shares,
    track_muted,
)
from roomcall.ui.screen_share import ScreenShare
from roomcall.ui.share_picker import SharePicker, unavailable_text
from roomcall.ui.video_grid import VideoGrid, screen_key
from roomcall.ui.view_switch import ViewSwitch

if TYPE_CHECKING:
    from roomcall.media.devices import DeviceInfo
    from roomcall.media.playout import AudioPlayout

log = logging.getLogger(__name__)

VOLUME_INTERVAL_MS = 200
"""How often the SDK reports levels: often enough for the ring to light with the first word."""

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

    def __init__(self, client: CallClient, *, grid: VideoGrid, panel: RoomPanel,
                 media: LocalMedia, user_data: str, kick_grace: float = DEFAULT_GRACE_SECONDS,
                 playout: AudioPlayout | None = None, devices: Devices | None = None,
                 screen_share: ScreenShare | None = None,
                 view_switch: ViewSwitch | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.bridge = ClientBridge(self)
        self.grid = grid
        self.panel = panel
        self.media = media
        self.user_data = user_data
        self.kicker = HostKicker(client, kick_grace)
        self._sound = CallSound(playout)
        self.room_title = ""
        """The room's name as its host typed it ("" until known): the host tells newcomers."""
        self.prompt: QObject | None = None
        """The last question asked (e.g. "Remove Bob?"), for tests to answer."""
        self.devices = devices
        self.screen_share = screen_share or ScreenShare()
        """The screen or window this person shares (Share screen in the panel)."""
        self.screen_share.on_ended = self._sharing_ended
        self.share_picker: SharePicker | None = None
        """The open Share screen dialog, for tests to drive."""
        self.call_layout = CallLayout(grid, panel, view_switch, self)
        """What is on stage, who speaks, how each member's link is."""
        self._renderers: dict[str, TrackRenderer] = {}
        self._tasks = TaskSet(log, "call")
        self._token = ""
        self._rejoining = False
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
        b.peer_state_changed.connect(self._on_peer_state)
        b.permission_changed.connect(lambda uid, _permission: self._refresh_member(uid))
        b.volume_indication.connect(
            lambda levels: self.call_layout.show_levels(levels, self._local_id))
        b.network_quality_changed.connect(self.call_layout.show_network_quality)
        # Lambdas connected to the panel have no receiver object: keep the connections to
        # cut them when the call ends, or a later call's panel would still drive this one.
        self._panel_links = [
            panel.kick_requested.connect(self._confirm_kick),
            panel.make_host_requested.connect(lambda uid: self._spawn(self.make_host(uid))),
            panel.leave_requested.connect(self.leave_requested),
            panel.chat_send.connect(lambda text: self._spawn(self._send_chat(text))),
            panel.microphone_toggled.connect(
                lambda on: self._spawn(self._set_sending("microphone", on))),
            panel.camera_toggled.connect(lambda on: self._spawn(self._set_sending("camera", on))),
            panel.camera_chosen.connect(lambda dev: self._spawn(self._switch_camera(dev))),
            panel.microphone_chosen.connect(
                lambda dev: self._spawn(self._switch_microphone(dev))),
            panel.speaker_chosen.connect(self._choose_speaker),
            panel.share_requested.connect(lambda: self._spawn(self.pick_screen())),
            panel.stop_share_requested.connect(lambda: self._spawn(self.stop_sharing())),
            grid.pin_requested.connect(self.call_layout.toggle_pin),
        ]
        if view_switch is not None:
            self._panel_links.append(view_switch.mode_chosen.connect(self.call_layout.choose_view))

    # --- the call ------------------------------------------------------------------------------

    async def join(self, token: str) -> None:
        """Join, then open and publish local media. Raises the SDK's ``JoinError``."""
        self._token = token
        self.panel.set_local_name(self.user_data)
        self.panel.show_state("CONNECTING")
        self.panel.chat.clear()
        self._joining = True  # members listed at join are "here", not "joined"
        self.client.enable_volume_indication(VOLUME_INTERVAL_MS)
        # Levels (the rings) and concealment (the stats) of what the person hears.
        self.client.attach_playout(self._sound.playout)
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
        tile.set_network_quality(self.client.network_quality(self._local_id))
        self.call_layout.update()
        self.panel.set_room_name(self.room_title or self.client.room or "")
        self.panel.show_state(self.client.connection_state)
        self.panel.refresh_members(self.client)
        await self.media.open()
        self._start_preview()
        self.panel.set_media_state(camera_available=self.media.video is not None,
                                   microphone_available=self.media.audio is not None)
        self._show_local_media()
        self._report_media_problems()
        await self.media.publish(self.client)
        self._show_local_media()
        await self._sound.start()

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

    def _on_state(self, state: ConnectionState, info: ConnectionInfo | None) -> None:
        if self._rejoining and state is ConnectionState.DISCONNECTED:
            # A failed attempt between retries: still on the way back (Leave stays usable).
            self.panel.show_state(ConnectionState.CONNECTING)
            return
        self.panel.show_state(state)
        if state is not ConnectionState.DISCONNECTED or self._closing or self._rejoining:
            return
        reason = info.reason if info is not None else None
        code = info.error_code if info is not None else 0
        closed = closed_text(info)
        if self._ending_room:
            self._spawn(self._finish(ENDED_LEFT, ""))
        elif closed is not None:
            kind = ENDED_KICKED if info is not None and info.removed_by_host else ENDED_CLOSED
            self._spawn(self._finish(kind, closed))
        elif rejoin.should_rejoin(info, self._token, time.time()):
            self._rejoining = True
            self.panel.show_state(ConnectionState.CONNECTING)
            self._spawn(self._rejoin())
        elif reason == DisconnectReason.KICKED_OUT:
            self._spawn(self._finish(ENDED_KICKED, removed_by_host_text()))
        elif reason == DisconnectReason.ROOM_CLOSED:
            self._spawn(self._finish(ENDED_ERROR, describe_error(ErrorCode.ROOM_CLOSED)))
        elif reason == DisconnectReason.LEAVE:
            self._spawn(self._finish(ENDED_LEFT, ""))
        else:
            self._spawn(self._finish(ENDED_ERROR, describe_error(code or None)))

    async def _rejoin(self) -> None:
        """Join again after the session expired (the reconnect window passed), with the same
        token and local media, retrying while the server cannot be reached."""
        self.panel.chat.add_notice(self.tr("Connection lost for too long; rejoining the "
                                           "room…"))
        self._drop_remote_members()
        delays = rejoin.delays()
        try:
            while True:
                try:
                    await self.client.join(self._token, self.user_data)
                    break
                except JoinError as exc:
                    if self._closing:
                        return  # the person left meanwhile
                    if not rejoin.retry_join(exc.code, self._token, time.time()):
                        log.info("rejoin failed for good: %s", exc)
                        self._spawn(self._finish(ENDED_ERROR, describe_error(exc.code)))
                        return
                    log.info("rejoin attempt failed: %s", exc)
                await asyncio.sleep(next(delays))
            await self.media.publish(self.client)
            await self.screen_share.republish(self.client)
        finally:
            self._rejoining = False
        self._show_local_media()
        self.panel.refresh_members(self.client)
        self.panel.chat.add_notice(self.tr("Connection lost for too long; rejoined the "
                                           "room."))

    def _drop_remote_members(self) -> None:
        """Forget every remote member's tile, renderers and sound (the session that knew
        them is gone; a new one lists who is there)."""
        local = self._local_id
        for key in [k for k in self._renderers if not k.startswith(f"{local}/")]:
            self._drop_renderer(key)
        for tile in self.grid.tiles():
            if tile.user_id != local:
                self._sound.remove_track(tile.user_id)
                self.grid.remove_tile(tile.key)
        self.call_layout.forget_others(local)
        self.panel.refresh_members(self.client)

    def _on_user_joined(self, user_id: str, user_data: str) -> None:
        self.grid.add_tile(user_id).set_network_quality(self.client.network_quality(user_id))
        self._refresh_member(user_id)  # lays the call out again too
        if not self._joining:
            self.panel.chat.add_notice(self.tr("{name} joined").format(
                name=user_data.strip() or user_id))
        if self.room_title and self.client.permission == "admin":
            self._spawn(self.client.send_message(encode_room_title(self.room_title), [user_id]))

    def _on_user_left(self, user_id: str) -> None:
        self.kicker.on_user_left(user_id)
        for key in [k for k in self._renderers if k.startswith(f"{user_id}/")]:
            self._drop_renderer(key)
        self._sound.remove_track(user_id)
        tile = self.grid.tile(user_id)
        name = tile.name if tile is not None else user_id
        self.grid.remove_user(user_id)
        self.call_layout.forget(user_id)
        self.panel.refresh_members(self.client)
        self.panel.chat.add_notice(self.tr("{name} left").format(name=name))

    def _refresh_member(self, user_id: str) -> None:
        user = self.client.get_remote_user(user_id)
        tile = self.grid.tile(user_id)
        if tile is not None and user is not None:
            tile.set_identity(display_name(user, user_id), is_admin(user))
            tile.set_muted(audio=track_muted(user, "audio"), video=track_muted(user, "video"))
        self._sync_screens(user_id)
        self.panel.refresh_members(self.client)
        self.panel.set_member_sharing(user_id, bool(self.grid.screen_tiles(user_id)))

    def _sync_screens(self, user_id: str) -> None:
        """One tile per screen share ``user_id`` has published (as the SDK lists them)."""
        if self._closing or user_id == self._local_id:
            return
        user = self.client.get_remote_user(user_id)
        shares = {screen_key(user_id, t): t for t in screen_shares(user)}
        for tile in self.grid.screen_tiles(user_id):
            if tile.key not in shares:
                self._drop_renderer(tile.key)
                self.grid.remove_tile(tile.key)
        for track_id in shares.values():
            tile = self.grid.add_screen_tile(user_id, track_id)
            tile.set_identity(display_name(user, user_id), is_admin(user))
            tile.set_network_quality(self.client.network_quality(user_id))
        self.call_layout.update()

    def _on_peer_state(self, user_id: str, state: PeerState) -> None:
        tile = self.grid.tile(user_id)
        if tile is not None:
            tile.set_peer_state(state)
        self.panel.set_member_peer_state(user_id, state)

    def _set_status(self, user_id: str, text: str) -> None:
        self.panel.set_member_status(user_id, text)

    def _on_track(self, user_id: str, track: RemoteTrack) -> None:
        if self._closing:
            return
        if track.kind == "audio":
            self._sound.add_track(user_id, track)
            return
        if track.tag == SCREEN_TAG:
            tile = self.grid.add_screen_tile(user_id, track.track_id)
            user = self.client.get_remote_user(user_id)
            tile.set_identity(display_name(user, user_id), is_admin(user))
        else:
            tile = self.grid.tile(user_id) or self.grid.add_tile(user_id)
        self.call_layout.update()
        key = f"{user_id}/{track.track_id}"
        self._drop_renderer(key)
        renderer = TrackRenderer(track, tile.show_frame, tile.box_size, on_ended=tile.clear_video)
        self._renderers[key] = renderer
        renderer.start()
        # Through an SFU the tile's size picks the layer (small tile: low), hidden: nothing.
        tile.on_view_changed = track.set_profile
        track.set_profile(tile.view_profile())

    def _on_track_ended(self, user_id: str, track: RemoteTrack) -> None:
        self._drop_renderer(f"{user_id}/{track.track_id}")
        key = screen_key(user_id, track.track_id) if track.tag == SCREEN_TAG else user_id
        tile = self.grid.tile(key)
        if tile is not None and track.kind == "video":
            tile.on_view_changed = None
            tile.clear_video()

    def _on_message(self, message: Message) -> None:
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
        self._drop_renderer(f"{local_id}/preview")
        if preview is not None and tile is not None:
            renderer = TrackRenderer(preview, self._local_frame, tile.box_size,
                                     on_ended=tile.clear_video)
            self._renderers[f"{local_id}/preview"] = renderer
            renderer.start()

    def _report_media_problems(self) -> None:
        problems, self.media.problems = self.media.problems, []
        if problems:
            self.panel.chat.add_notice(" ".join(describe_error(c) for c in problems))

    # --- screen sharing -----------------------------------------------------------------------

    async def pick_screen(self) -> SharePicker:
        """Open the Share screen dialog (listing what can be shared, or why nothing can)."""
        problem = ""
        targets: list[ShareTarget] = []
        try:
            targets = await self.screen_share.list_targets()
        except ShareUnavailable as exc:
            problem = unavailable_text(exc.reason)
        except DeviceError as exc:
            log.info("cannot list what to share: %s", exc)
            problem = describe_error(exc.code)
        if self.share_picker is not None:
            self.share_picker.close()
        picker = SharePicker(targets, problem, parent=self.panel.window())
        picker.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        picker.chosen.connect(
            lambda target, settings: self._spawn(self.share(target, settings)))
        picker.destroyed.connect(lambda *_: self._forget_picker(picker))
        self.share_picker = picker
        picker.show()
        self._spawn(self.screen_share.thumbnails(
            targets, functools.partial(self._show_thumbnail, picker)))
        return picker

    def _show_thumbnail(self, picker: SharePicker, target_id: str,
                        picture: npt.NDArray[np.uint8]) -> bool:
        if self.share_picker is not picker:
            return False  # closed (and deleted) meanwhile
        picker.set_thumbnail(target_id, picture)
        return True

    def _forget_picker(self, picker: SharePicker) -> None:
        if self.share_picker is picker:
            self.share_picker = None

    async def share(self, target: ShareTarget, settings: ShareSettings) -> bool:
        """Share ``target`` with everyone; False (and a notice saying why) if it cannot."""
        try:
            await self.screen_share.start(self.client, target, settings)
        except (DeviceError, RTCError) as exc:
            log.info("sharing %s failed: %s", target.id, exc)
            self.panel.chat.add_notice(describe_error(exc.code))
            return False
        if self._closing:  # the call ended meanwhile
            await self.screen_share.stop()
            return False
        self.panel.set_sharing(target)
        return True

    async def stop_sharing(self) -> None:
        """Stop sharing (the others' stage layouts go back to the grid)."""
        await self.screen_share.stop()
        self.panel.set_sharing(None)

    def _sharing_ended(self, error: DeviceError) -> None:
        self.panel.chat.add_notice(self.tr("Screen sharing stopped: the screen or window can "
                                           "no longer be captured."))
        log.info("sharing ended: %s", error)
        self._spawn(self.stop_sharing())

    # --- requests -----------------------------------------------------------------------------

    async def _switch_camera(self, device_id: str) -> None:
        if await self.media.switch_camera(self._device(device_id)):
            self._start_preview()
        self._report_media_problems()

    async def _switch_microphone(self, device_id: str) -> None:
        await self.media.switch_microphone(self._device(device_id))
        self._report_media_problems()

    def _choose_speaker(self, device_id: str) -> None:
        self._sound.set_output_device(self._device(device_id))

    def _device(self, device_id: str) -> DeviceInfo | None:
        return self.devices.find(device_id) if self.devices is not None and device_id else None

    async def _send_chat(self, text: str) -> None:
        try:
            await self.client.send_message(encode_chat(text))
        except RTCError as exc:
            self.panel.chat.add_notice(describe_error(exc.code))
            return
        self.panel.chat.add_line(self.user_data or self.tr("You"), text, None, own=True)

    async def _set_sending(self, device: str, on: bool) -> None:
        """Turn the ``"camera"`` or ``"microphone"`` on or off; on failure the toggle shows
        what is still true and the person reads why."""
        change = self.media.set_camera if device == "camera" else self.media.set_microphone
        try:
            await change(on)
        except RTCError as exc:
            log.info("%s %s refused: %s", device, "on" if on else "off", exc)
            still = {("camera", True): self.tr("Your camera is still off."),
                     ("camera", False): self.tr("Your camera is still on."),
                     ("microphone", True): self.tr("Your microphone is still off."),
                     ("microphone", False): self.tr("Your microphone is still on.")}
            self.panel.chat.add_notice(f"{still[device, on]} {self._why_unchanged(exc)}")
        finally:
            self._show_local_media()

    def _why_unchanged(self, exc: RTCError) -> str:
        if exc.code == ErrorCode.INVALID_STATE:
            return self.tr("The connection to the room is being restored; try again once it "
                           "is back.")
        return describe_error(exc.code)

    def _show_local_media(self) -> None:
        """The toggles and the local tile's marks as the publications are: what the other
        members actually receive."""
        camera, microphone = self.media.camera_on, self.media.microphone_on
        self.panel.set_media_state(camera=camera, microphone=microphone)
        tile = self.grid.tile(self._local_id)
        if tile is not None:
            tile.set_muted(audio=not microphone, video=not camera)

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
        if self.share_picker is not None:
            self.share_picker.close()
        await self.screen_share.stop()
        self.panel.set_sharing(None)
        renderers, self._renderers = list(self._renderers.values()), {}
        for renderer in renderers:
            await renderer.stop()
        await self._sound.stop()
        await self.media.close()

    def _drop_renderer(self, key: str) -> None:
        """Stop the renderer ``key`` (if any): it touches its tile no more from now on (the
        tile may be deleted next), and its tasks are awaited in the background."""
        renderer = self._renderers.pop(key, None)
        if renderer is not None:
            renderer.cancel()
            self._spawn(renderer.stop())

    def _spawn(self, coro: Awaitable[Any]) -> None:
        self._tasks.spawn(coro)
