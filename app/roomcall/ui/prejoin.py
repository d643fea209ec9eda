"""The pre-join screen: check how you look and sound, and who you are, before joining.

A camera preview, a microphone level meter, a speaker test tone, device pickers and the name
field, as video-call apps show them. The preview opens its own ``LocalMedia`` and closes it
before the call opens the devices again (a device is opened by one reader at a time).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from roomcall.aio import TaskSet
from roomcall.media.devices import DeviceInfo
from roomcall.ui.errors import describe_error
from roomcall.ui.frame_renderer import RenderedFrame, TrackRenderer
from roomcall.ui.local_media import Devices, LocalMedia

log = logging.getLogger(__name__)

PREVIEW_SIZE = QSize(400, 300)
TEST_TONE_SECONDS = 1.5
TEST_TONE_HZ = 660.0


def level_percent(frame: Any) -> int:
    """The loudness of an audio frame on a 0-100 meter (dBFS, -60 dB at the left)."""
    samples = frame.to_ndarray().astype(np.float32)
    if samples.size == 0:
        return 0
    scale = 32768.0 if frame.format.name.startswith("s16") else 1.0
    rms = float(np.sqrt(np.mean(np.square(samples / scale))))
    if rms <= 1e-6:
        return 0
    return max(0, min(100, round((20 * math.log10(rms) + 60) * 100 / 60)))


class PreJoinScreen(QWidget):
    """Name, preview, meter, tone and pickers; Join and Back only emit requests.

    Signals:
        join_requested(): "Join now" (the window reads :attr:`display_name` and the pickers).
        back_requested(): back to the first page.
        device_chosen(kind, device_id): a picker changed (kind: camera, microphone, speaker).
    """

    join_requested = Signal()
    back_requested = Signal()
    device_chosen = Signal(str, str)

    def __init__(self, playout_factory: Callable[[], Any],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._playout_factory = playout_factory
        self._media: LocalMedia | None = None
        self._renderer: TrackRenderer | None = None
        self._frame: RenderedFrame | None = None
        self._tasks = TaskSet(log, "pre-join")
        self._meter_task: asyncio.Task[None] | None = None
        self._opening = asyncio.Lock()  # one open or close of the devices at a time
        self._devices = Devices()
        self._room = ""
        self.frames_shown = 0
        self.tone_playing = False

        self.heading = QLabel(self)
        self.heading.setStyleSheet("font-size:22px; font-weight:bold;")
        self.room_label = QLabel(self)
        self.room_label.setWordWrap(True)
        self.preview = QLabel(self)
        self.preview.setFixedSize(PREVIEW_SIZE)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setStyleSheet("background:#1b1b1b; color:#bbb; border-radius:8px;")
        self.name_edit = QLineEdit(self)
        self.name_edit.setMaxLength(64)
        self.camera_picker = QComboBox(self)
        self.microphone_picker = QComboBox(self)
        self.speaker_picker = QComboBox(self)
        for picker in self.pickers.values():
            picker.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            picker.setMinimumContentsLength(20)
        self.meter = QProgressBar(self)
        self.meter.setRange(0, 100)
        self.meter.setTextVisible(False)
        self.meter.setMaximumHeight(10)
        self.tone_button = QPushButton(self)
        self.tone_status = QLabel(self)
        self.tone_status.setWordWrap(True)
        self.error = QLabel(self)
        self.error.setWordWrap(True)
        self.error.setStyleSheet("background:#fde8e7; color:#8a1f1a; border:1px solid #d9453f;"
                                 "border-radius:6px; padding:8px;")
        self.error.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.error.hide()
        self.join_button = QPushButton(self)
        self.join_button.setDefault(True)
        self.join_button.setStyleSheet(
            "QPushButton { background:#2fa57a; color:white; border-radius:4px; padding:6px 18px;"
            " font-weight:bold; } QPushButton:disabled { background:#999; }")
        self.back_button = QPushButton(self)

        self._labels = [QLabel(self) for _ in range(5)]
        form = QFormLayout()
        form.addRow(self._labels[0], self.name_edit)
        form.addRow(self._labels[1], self.camera_picker)
        form.addRow(self._labels[2], self.microphone_picker)
        form.addRow(self._labels[3], self.meter)
        form.addRow(self._labels[4], self.speaker_picker)
        tone_row = QHBoxLayout()
        tone_row.addWidget(self.tone_button)
        tone_row.addWidget(self.tone_status, 1)
        form.addRow(tone_row)
        buttons = QHBoxLayout()
        buttons.addWidget(self.back_button)
        buttons.addStretch(1)
        buttons.addWidget(self.join_button)
        side = QVBoxLayout()
        side.addLayout(form)
        side.addSpacing(12)
        side.addWidget(self.error)
        side.addLayout(buttons)
        side.addStretch(1)
        body = QHBoxLayout()
        body.addWidget(self.preview, 0, Qt.AlignmentFlag.AlignTop)
        body.addSpacing(16)
        body.addLayout(side, 1)
        column = QVBoxLayout()
        column.addStretch(1)
        column.addWidget(self.heading)
        column.addWidget(self.room_label)
        column.addSpacing(8)
        column.addLayout(body)
        column.addStretch(2)
        content = QWidget(self)
        content.setLayout(column)
        content.setMaximumWidth(900)
        outer = QHBoxLayout(self)
        outer.addWidget(content)

        self.join_button.clicked.connect(self.join_requested)
        self.name_edit.returnPressed.connect(self.join_requested)
        self.back_button.clicked.connect(self.back_requested)
        self.tone_button.clicked.connect(lambda: self._tasks.spawn(self.play_test_tone()))
        for kind, picker in self.pickers.items():
            picker.activated.connect(lambda _i, k=kind, p=picker: self._chosen(k, p))
        self._retranslate()

    # --- what the window tells it ---------------------------------------------------------

    @property
    def pickers(self) -> dict[str, QComboBox]:
        """The device pickers by kind."""
        return {"camera": self.camera_picker, "microphone": self.microphone_picker,
                "speaker": self.speaker_picker}

    def set_devices(self, devices: Devices, choices: Mapping[str, Sequence[tuple[str, str]]],
                    chosen: dict[str, str]) -> None:
        """Fill the pickers with ``(device_id, label)`` choices; select ``chosen`` ids."""
        self._devices = devices
        for kind, picker in self.pickers.items():
            picker.clear()
            for device_id, label in choices.get(kind, ()):
                picker.addItem(label, device_id)
            picker.setEnabled(picker.count() > 0)
            if picker.count() == 0:
                picker.addItem(self.tr("None found"), "")
            index = picker.findData(chosen.get(kind, ""))
            if index >= 0:
                picker.setCurrentIndex(index)

    def device(self, kind: str) -> DeviceInfo | None:
        """The device chosen in the ``kind`` picker (None: none or the default)."""
        return self._devices.find(str(self.pickers[kind].currentData() or ""))

    def set_room(self, text: str) -> None:
        """What the person is about to join (e.g. "Invited to standup by a room link")."""
        self._room = text
        self._retranslate()

    def show_error(self, text: str) -> None:
        """Show why joining did not work ("" hides it)."""
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def set_busy(self, busy: bool) -> None:
        """Disable Join while an attempt runs."""
        self.join_button.setEnabled(not busy)

    @property
    def display_name(self) -> str:
        """The name typed, or a default."""
        return self.name_edit.text().strip() or self.tr("Guest")

    # --- the preview ----------------------------------------------------------------------

    async def open_preview(self, label: str, *, synthetic: bool) -> None:
        """Open the chosen camera and microphone (or the synthetic ones) for the preview."""
        async with self._opening:
            await self._close()
            await self._open(label, synthetic)

    async def _open(self, label: str, synthetic: bool) -> None:
        media = LocalMedia(label, synthetic=synthetic, camera=self.device("camera"),
                           microphone=self.device("microphone"))
        self._media = media
        await media.open()
        problems, media.problems = media.problems, []
        self.show_error(" ".join(describe_error(code) for code in problems))
        tap = media.preview()
        if tap is not None:
            self._renderer = TrackRenderer(tap, self._show_frame, self._box_size,
                                           on_ended=self._clear_frame)
            self._renderer.start()
        else:
            self._clear_frame()
        if media.audio is not None:
            self._meter_task = asyncio.get_running_loop().create_task(
                self._measure(media.audio))

    async def close_preview(self) -> None:
        """Close the preview's devices (before the call opens them)."""
        async with self._opening:
            await self._close()

    async def _close(self) -> None:
        task, self._meter_task = self._meter_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        renderer, self._renderer = self._renderer, None
        if renderer is not None:
            await renderer.stop()
        media, self._media = self._media, None
        if media is not None:
            await media.close()
        self.meter.setValue(0)
        self._clear_frame()

    async def stop(self) -> None:
        """Close the preview and stop a test tone (the screen is left)."""
        self._tasks.cancel()
        await self._tasks.wait()
        await self.close_preview()

    @property
    def previewing(self) -> bool:
        """True while the preview's devices are open."""
        return self._media is not None

    def current_image(self) -> Any:
        """A copy of the preview frame shown now, or None."""
        return None if self._frame is None else self._frame.image.copy()

    async def play_test_tone(self) -> bool:
        """Play a short tone on the chosen speaker; False (and why) if nothing can play."""
        if self.tone_playing:
            return False
        self.tone_playing = True
        self.tone_button.setEnabled(False)
        playout = self._playout_factory()
        try:
            playout.set_output_device(self.device("speaker"))
            await playout.start()
            if playout.error is not None:
                self.tone_status.setText(self.tr("No sound output: {error}").format(
                    error=describe_error(getattr(playout.error, "code", None))))
                return False
            from roomcall.media.synthetic import SyntheticAudioTrack

            tone = SyntheticAudioTrack(frequency=TEST_TONE_HZ, amplitude=0.2)
            playout.add_track("test-tone", tone)
            self.tone_status.setText(self.tr("Playing a test tone…"))
            await asyncio.sleep(TEST_TONE_SECONDS)
            playout.remove_track("test-tone")
            tone.stop()
            self.tone_status.setText(self.tr("Did you hear it? If not, pick another speaker."))
            return True
        finally:
            with contextlib.suppress(Exception):
                await playout.stop()
            self.tone_playing = False
            self.tone_button.setEnabled(True)

    # --- inside ---------------------------------------------------------------------------

    async def _measure(self, track: Any) -> None:
        from aiortc.mediastreams import MediaStreamError

        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            self.meter.setValue(level_percent(frame))

    def _show_frame(self, frame: RenderedFrame) -> None:
        self._frame = frame
        self.frames_shown += 1
        self.preview.setPixmap(QPixmap.fromImage(frame.image))

    def _clear_frame(self) -> None:
        self._frame = None
        self.preview.clear()
        self.preview.setText(self.tr("No camera"))

    def _box_size(self) -> tuple[int, int]:
        ratio = self.preview.devicePixelRatioF()
        return (int(PREVIEW_SIZE.width() * ratio), int(PREVIEW_SIZE.height() * ratio))

    def _chosen(self, kind: str, picker: QComboBox) -> None:
        self.device_chosen.emit(kind, str(picker.currentData() or ""))

    def changeEvent(self, event: QEvent) -> None:
        """Retranslate when the language changes."""
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    def _retranslate(self) -> None:
        self.heading.setText(self.tr("Ready to join?"))
        self.room_label.setText(self._room)
        for label, text in zip(self._labels, (self.tr("Your name"), self.tr("Camera"),
                                              self.tr("Microphone"), self.tr("Level"),
                                              self.tr("Speaker")), strict=True):
            label.setText(text)
        self.name_edit.setPlaceholderText(self.tr("How others will see you"))
        self.tone_button.setText(self.tr("Test speaker"))
        self.join_button.setText(self.tr("Join now"))
        self.back_button.setText(self.tr("Back"))
        for picker in self.pickers.values():
            if not picker.isEnabled() and picker.count() == 1 and not picker.itemData(0):
                picker.setItemText(0, self.tr("None found"))
        if self._frame is None:
            self.preview.setText(self.tr("No camera"))
