"""The local person's camera and microphone: opened, previewed, published, muted.

The camera source is read by one task of our own and fanned out to the published track and
the local preview, so the preview keeps running whatever the SDK's encoder does (muted, no
peers yet) and the encoder never competes with the preview for frames.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from roomcall.aio import cancel_and_wait
from roomcall.media import devices as media_devices
from roomcall.media.devices import DeviceInfo
from roomcall.protocol.errors import ErrorCode
from roomcall.ui.room_view import Publisher

if TYPE_CHECKING:
    from roomcall.sdk import LocalPublication

log = logging.getLogger(__name__)


class _Subscriber:
    """Newest-frame slot of one reader of a :class:`LocalFeed`."""

    def __init__(self) -> None:
        self.latest: Any = None
        self.fresh = asyncio.Event()
        self.ended = False

    def put(self, frame: Any) -> None:
        self.latest = frame
        self.fresh.set()

    def end(self) -> None:
        self.ended = True
        self.fresh.set()

    async def next(self) -> Any:
        await self.fresh.wait()
        self.fresh.clear()
        if self.ended:
            raise MediaStreamError
        return self.latest


class FeedTrack(MediaStreamTrack):
    """The track handed to ``publish``: the feed's newest frame each time it is read."""

    def __init__(self, kind: str, subscriber: _Subscriber) -> None:
        super().__init__()
        self.kind = kind
        self._subscriber = subscriber

    async def recv(self) -> Any:
        """The next frame from the feed's source."""
        if self.readyState != "live":
            raise MediaStreamError
        return await self._subscriber.next()


class FeedTap:
    """A preview reader of a :class:`LocalFeed` (anything with ``recv()``)."""

    def __init__(self, subscriber: _Subscriber) -> None:
        self._subscriber = subscriber

    async def recv(self) -> Any:
        """The next frame from the feed's source; MediaStreamError once it ended."""
        return await self._subscriber.next()


class LocalFeed:
    """Reads ``source`` continuously and gives each reader (the published track, previews)
    the newest frame."""

    def __init__(self, source: MediaStreamTrack) -> None:
        self.source = source
        self._subscribers: list[_Subscriber] = []
        publish_slot = self._add()
        self.track = FeedTrack(source.kind, publish_slot)
        self._task: asyncio.Task[None] | None = None

    def tap(self) -> FeedTap:
        """A new reader for a preview."""
        return FeedTap(self._add())

    def start(self) -> None:
        """Start reading the source on the running loop."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._pump())

    async def stop(self) -> None:
        """Stop reading, end every reader and stop the source."""
        task, self._task = self._task, None
        if task is not None:
            await cancel_and_wait(task)
        for subscriber in self._subscribers:
            subscriber.end()
        self.track.stop()
        self.source.stop()

    def _add(self) -> _Subscriber:
        subscriber = _Subscriber()
        self._subscribers.append(subscriber)
        return subscriber

    async def _pump(self) -> None:
        try:
            while True:
                frame = await self.source.recv()
                for subscriber in self._subscribers:
                    subscriber.put(frame)
        except MediaStreamError:
            log.info("local %s source ended", self.source.kind)
            for subscriber in self._subscribers:
                subscriber.end()


@dataclass
class Devices:
    """What this computer offers (lists may be empty)."""

    cameras: list[DeviceInfo] = field(default_factory=list)
    microphones: list[DeviceInfo] = field(default_factory=list)
    speakers: list[DeviceInfo] = field(default_factory=list)

    def find(self, device_id: str | None) -> DeviceInfo | None:
        """The device with ``device_id`` in any list, or None."""
        for device in (*self.cameras, *self.microphones, *self.speakers):
            if device.id == device_id:
                return device
        return None


def list_devices() -> Devices:
    """Cameras, microphones and speakers as ``roomcall.media.devices`` finds them."""
    devices = Devices()
    for lister, target in ((media_devices.list_cameras, devices.cameras),
                           (media_devices.list_microphones, devices.microphones),
                           (media_devices.list_speakers, devices.speakers)):
        try:
            target.extend(lister())
        except Exception:
            # A broken device list must not keep the person out of a call.
            log.exception("listing devices failed")
    return devices


class LocalMedia:
    """The camera and microphone of one call: opened at join, published, muted, closed.

    ``synthetic`` sends a test pattern and a tone instead of devices (chosen by the person
    when there is no camera, or by ``ROOMCALL_SYNTHETIC_MEDIA=1``). ``problems`` lists the
    error codes of devices that could not be opened (23001 camera, 23006 microphone).

    Whether the camera and microphone send is the SDK publication's ``muted``, read after
    each awaited change: :attr:`camera_on` and :attr:`microphone_on` never run ahead of what
    the other members receive.
    """

    def __init__(self, label: str, *, synthetic: bool = False,
                 camera: DeviceInfo | None = None, microphone: DeviceInfo | None = None) -> None:
        self.label = label
        self.synthetic = synthetic
        self.camera = camera
        self.microphone = microphone
        self.video: LocalFeed | None = None
        self.audio: MediaStreamTrack | None = None
        self.problems: list[int] = []
        self._client: Publisher | None = None
        self._video_pub: LocalPublication | None = None
        self._audio_pub: LocalPublication | None = None

    @property
    def camera_on(self) -> bool:
        """True while video is sent (before publishing: while a camera is open)."""
        if self._video_pub is not None:
            return not self._video_pub.muted
        return self.video is not None

    @property
    def microphone_on(self) -> bool:
        """True while audio is sent (before publishing: while a microphone is open)."""
        if self._audio_pub is not None:
            return not self._audio_pub.muted
        return self.audio is not None

    async def open(self) -> None:
        """Open the sources (missing devices are recorded in ``problems``, not raised).

        Devices open on an executor thread: the OS may take a while to start a camera.
        """
        loop = asyncio.get_running_loop()
        video = await loop.run_in_executor(None, self._open_video)
        if video is not None:
            self.video = LocalFeed(video)
            self.video.start()
        self.audio = await loop.run_in_executor(None, self._open_audio)

    def preview(self) -> FeedTap | None:
        """A reader of the camera for the local tile, or None without a camera."""
        return self.video.tap() if self.video is not None else None

    async def publish(self, client: Publisher) -> None:
        """Publish what was opened on ``client`` (again after a rejoin, mute states kept)."""
        self._client = client
        # Published before (a session that ended): keep what the person had muted.
        video_off, audio_off = not self.camera_on, not self.microphone_on
        if self.video is not None:
            (self._video_pub,) = await client.publish([self.video.track], tag="camera")
            if video_off:
                await client.set_muted(self._video_pub, True)
        if self.audio is not None:
            (self._audio_pub,) = await client.publish([self.audio], tag="microphone")
            if audio_off:
                await client.set_muted(self._audio_pub, True)

    async def set_camera(self, on: bool) -> None:
        """Send (True) or stop sending (False) video. Raises the SDK's ``RTCError`` when the
        change did not happen (e.g. 21002 while reconnecting); :attr:`camera_on` says what
        is true either way."""
        if self._client is not None and self._video_pub is not None:
            await self._client.set_muted(self._video_pub, not on)

    async def set_microphone(self, on: bool) -> None:
        """Send (True) or stop sending (False) audio; raises like :meth:`set_camera`."""
        if self._client is not None and self._audio_pub is not None:
            await self._client.set_muted(self._audio_pub, not on)

    async def switch_camera(self, device: DeviceInfo | None) -> bool:
        """Send video from ``device`` from now on; False (and a problem) if it cannot open."""
        self.camera = device
        if self.synthetic:
            return True
        track = await asyncio.get_running_loop().run_in_executor(None, self._open_video)
        if track is None:
            return False
        sending = self.camera_on or self.video is None  # a first camera starts on
        old, self.video = self.video, LocalFeed(track)
        self.video.start()
        if self._client is not None:
            if self._video_pub is not None:
                await self._client.unpublish([self._video_pub])
                self._video_pub = None
            (self._video_pub,) = await self._client.publish([self.video.track], tag="camera")
            if not sending:
                await self._client.set_muted(self._video_pub, True)
        if old is not None:
            await old.stop()
        return True

    async def switch_microphone(self, device: DeviceInfo | None) -> bool:
        """Send audio from ``device`` from now on; False (and a problem) if it cannot open."""
        self.microphone = device
        if self.synthetic:
            return True
        track = await asyncio.get_running_loop().run_in_executor(None, self._open_audio)
        if track is None:
            return False
        sending = self.microphone_on or self.audio is None
        old, self.audio = self.audio, track
        if self._client is not None:
            if self._audio_pub is not None:
                await self._client.unpublish([self._audio_pub])
                self._audio_pub = None
            (self._audio_pub,) = await self._client.publish([track], tag="microphone")
            if not sending:
                await self._client.set_muted(self._audio_pub, True)
        if old is not None:
            old.stop()
        return True

    async def close(self) -> None:
        """Stop every source (the client unpublishes by leaving)."""
        self._client = None
        self._video_pub = self._audio_pub = None
        if self.video is not None:
            await self.video.stop()
            self.video = None
        if self.audio is not None:
            self.audio.stop()
            self.audio = None

    def _open_video(self) -> MediaStreamTrack | None:
        if self.synthetic:
            from roomcall.media.synthetic import SyntheticVideoTrack

            return SyntheticVideoTrack(self.label)
        try:
            return media_devices.open_camera(self.camera)
        except media_devices.DeviceError as exc:
            log.info("no camera: %s", exc)
            self.problems.append(int(exc.code or ErrorCode.CAMERA_OPEN_FAILED))
            return None

    def _open_audio(self) -> MediaStreamTrack | None:
        if self.synthetic:
            from roomcall.media.synthetic import SyntheticAudioTrack

            return SyntheticAudioTrack()
        try:
            return media_devices.open_microphone(self.microphone)
        except media_devices.DeviceError as exc:
            log.info("no microphone: %s", exc)
            self.problems.append(int(exc.code or ErrorCode.MICROPHONE_OPEN_FAILED))
            return None


def device_pairs(devices: Sequence[DeviceInfo]) -> list[tuple[str, str]]:
    """``(device_id, name)`` pairs for a picker, the default device first."""
    ordered = sorted(devices, key=lambda d: not d.is_default)
    return [(d.id, d.name) for d in ordered]
