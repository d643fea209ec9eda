"""Capture processing: echo cancellation, noise suppression, automatic gain, high-pass filter.

WebRTC's audio processing module (AEC3, NS, AGC2) through ``pywebrtc-audio``: the canceller
needs the far end exactly as it reached the speaker, so the playout's output callback writes
every block it hands to the device into a :class:`FarEndReference`, with PortAudio's
``outputBufferDacTime - currentTime``; the microphone's :class:`CaptureProcessor` reads the
same number of samples for each captured block, in order, and tells the canceller the delay
from handing the far end over to hearing it again (the output delay, less what the reference
still holds, plus the input delay ``currentTime - inputBufferAdcTime``), smoothed and changed
only when it moves by 10 ms or more so that it stays steady.

The processor is not thread-safe: a :class:`CaptureProcessor` creates and uses it only on the
thread that calls :meth:`CaptureProcessor.process` (PortAudio's input thread); options set
from elsewhere are picked up there on the next block.

>>> CaptureOptions().echo_cancellation, CaptureOptions.off().enabled
(True, False)
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import statistics
import threading
import time
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

__all__ = ["CaptureOptions", "CaptureProcessor", "FarEndReference", "device_delay",
           "shared_far_end"]

logger = logging.getLogger(__name__)

_Mono = npt.NDArray[np.int16]
_Block = npt.NDArray[np.int16]

FAR_RATE: Final = 48_000
"""Rate of the far-end reference (the playout's)."""
_IDLE_S: Final = 0.2
"""A playout that wrote nothing for this long is not playing: the far end is silence."""
_SLACK: Final = FAR_RATE * 30 // 1000
"""Far-end samples kept between the newest written and the next read, so that an input
callback arriving a little before its output callback still finds its samples."""
_MAX_BACKLOG: Final = FAR_RATE * 250 // 1000
_DELAY_STEP_MS: Final = 10
_DELAY_WINDOW: Final = 50


@dataclass(frozen=True)
class CaptureOptions:
    """What the microphone's audio goes through before it is sent (each on by default)."""

    echo_cancellation: bool = True
    """Remove what the speakers play from the microphone (WebRTC AEC3), so people without
    headphones do not hear themselves back."""
    noise_suppression: bool = True
    """Attenuate steady background noise (fans, hum, traffic) between and under speech."""
    auto_gain_control: bool = True
    """Bring a quiet or loud talker to a steady level (WebRTC AGC2, digital gain only)."""
    high_pass_filter: bool = True
    """Remove rumble and DC below about 80 Hz (always applied when echo cancellation is on,
    as in Chrome)."""
    noise_suppression_level: int = 2
    """0-3: about 6, 12, 18 or 21 dB of suppression."""

    def __post_init__(self) -> None:
        if not 0 <= self.noise_suppression_level <= 3:
            raise ValueError(
                f"noise_suppression_level must be 0-3, got {self.noise_suppression_level}")

    @classmethod
    def off(cls) -> CaptureOptions:
        """No processing at all: the microphone's samples are sent as captured."""
        return cls(echo_cancellation=False, noise_suppression=False, auto_gain_control=False,
                   high_pass_filter=False)

    @property
    def enabled(self) -> bool:
        """True when any processing is on."""
        return (self.echo_cancellation or self.noise_suppression or self.auto_gain_control
                or self.high_pass_filter)


class FarEndReference:
    """The audio the playout wrote to the output device, mono at 48 kHz, for the canceller.

    :meth:`write` runs in the output callback, :meth:`read` in the input callback; a lock
    held for a copy keeps them consistent. The reader takes samples in order, never skipping
    or repeating one, so the echo path the canceller learns stays put; it re-aligns (counted
    in ``resyncs``) only when the two callbacks drift apart by more than the slack allows.

    Args:
        capacity_ms: Far-end history kept.

    Attributes:
        resyncs: Times the reader had to re-align (a stall, or device clocks drifting).
    """

    def __init__(self, capacity_ms: int = 500) -> None:
        self._ring = np.zeros(FAR_RATE * capacity_ms // 1000, np.int16)
        self._written = 0
        self._cursor = 0
        self._synced = False
        self._last_block = 0
        self._last_write = -1.0
        self._output_delay = 0.0
        self._lock = threading.Lock()
        self.resyncs = 0

    def write(self, samples: _Block, output_delay_s: float | None = None) -> None:
        """Record ``(frames, channels)`` int16 just handed to the device; its first sample
        plays ``output_delay_s`` from now (PortAudio's DAC time less its current time)."""
        mono = samples if samples.ndim == 1 else (
            samples.astype(np.int32).sum(axis=1) // samples.shape[1]).astype(np.int16)
        n = min(len(mono), len(self._ring))
        with self._lock:
            start = self._written % len(self._ring)
            first = min(n, len(self._ring) - start)
            self._ring[start : start + first] = mono[:first]
            self._ring[: n - first] = mono[first:n]
            self._written += n
            self._last_block = n
            self._last_write = time.monotonic()
            if output_delay_s is not None and 0.0 <= output_delay_s < 1.0:
                self._output_delay = output_delay_s

    def read(self, n: int) -> tuple[_Mono, float]:
        """The next ``n`` far-end samples and the seconds until the first is heard (0 when the
        playout is idle: then the samples are silence)."""
        now = time.monotonic()
        with self._lock:
            if self._last_write < 0 or now - self._last_write > _IDLE_S:
                self._synced = False
                return np.zeros(n, np.int16), 0.0
            backlog = self._written - self._cursor
            if not self._synced or backlog < n or backlog > _MAX_BACKLOG:
                if self._synced:
                    self.resyncs += 1
                    logger.debug("far end re-aligned (backlog %d samples)", backlog)
                self._cursor = max(0, self._written - n - _SLACK)
                self._synced = True
            start = self._cursor % len(self._ring)
            index = (start + np.arange(n)) % len(self._ring)
            far = self._ring[index]
            ahead = self._written - self._last_block - self._cursor  # newer samples before it
            self._cursor += n
            delay = self._output_delay - ahead / FAR_RATE - (now - self._last_write)
        return far, max(0.0, delay)


def device_delay(time_info: Any, stamp: str) -> float | None:
    """Seconds between PortAudio's ``currentTime`` and the block's ``stamp`` in a stream
    callback's timing: ``"outputBufferDacTime"`` (until it is heard) or
    ``"inputBufferAdcTime"`` (since it was captured). None when the host API reports no
    times (or a test called the callback)."""
    at = getattr(time_info, stamp, 0.0)
    now = getattr(time_info, "currentTime", 0.0)
    if not at or not now:
        return None
    return abs(float(at - now))


_shared = FarEndReference()


def shared_far_end() -> FarEndReference:
    """The process's far-end reference: what the default playout writes and the default
    microphone cancels (a desktop app has one speaker and one microphone)."""
    return _shared


def _new_processor(options: CaptureOptions, sample_rate: int) -> Any:
    import pywebrtc_audio  # a compiled extension: loaded when first needed

    return pywebrtc_audio.AudioProcessor(
        sample_rate=sample_rate,
        num_channels=1,
        echo_cancellation=options.echo_cancellation,
        noise_suppression=options.noise_suppression,
        auto_gain_control=options.auto_gain_control,
        high_pass_filter=options.high_pass_filter,
        ns_level=options.noise_suppression_level,
    )


class CaptureProcessor:
    """The microphone's processing, run block by block on the capture thread.

    Args:
        options: What to apply (see :class:`CaptureOptions`).
        far_end: Where the playout's output comes from (None: no echo cancellation
            reference, the canceller then sees silence).
        sample_rate: The microphone's rate (the far end is resampled to it).
        channels: The microphone's channels; processing is mono and the result is copied to
            each channel.

    Attributes:
        stream_delay_ms: The echo delay told to the canceller (None before the first block).
        gain_db: The automatic gain applied to the last block (0 with gain control off).
        error: Why processing is off although asked for (the library failed to load), or None.
    """

    def __init__(self, options: CaptureOptions, far_end: FarEndReference | None, *,
                 sample_rate: int = 48_000, channels: int = 1) -> None:
        self.far_end = far_end
        self.sample_rate = sample_rate
        self.channels = channels
        self.stream_delay_ms: int | None = None
        self.gain_db = 0.0
        self.error: str | None = None
        self._options = options
        self._pending: CaptureOptions | None = options
        self._processor: Any = None
        self._delays: collections.deque[float] = collections.deque(maxlen=_DELAY_WINDOW)

    @property
    def options(self) -> CaptureOptions:
        """The options in force (or about to be, from the next block on)."""
        return self._pending or self._options

    def set_options(self, options: CaptureOptions) -> None:
        """Change the processing from any thread; applied from the next block on."""
        self._pending = options

    def process(self, block: _Block, input_delay_s: float | None = None) -> _Block:
        """Process ``(frames, channels)`` int16 captured ``input_delay_s`` ago.

        ``frames`` must be a whole number of 10 ms (the processor works in 10 ms steps and
        would pad a partial one). Capture thread only.
        """
        pending, self._pending = self._pending, None
        if pending is not None:
            self._apply(pending)
        processor = self._processor
        if processor is None:
            return block
        mono = block[:, 0] if self.channels == 1 else (
            block.astype(np.int32).sum(axis=1) // self.channels).astype(np.int16)
        far: _Mono | None = None
        if self._options.echo_cancellation:
            far, render_delay = self._far(len(mono))
            self._update_delay(render_delay + max(0.0, input_delay_s or 0.0))
        out: _Mono = processor.process(mono, far)
        if self._options.auto_gain_control:
            self.gain_db = float(processor.gain_db)
        return np.repeat(out[:, None], self.channels, axis=1)

    def _apply(self, options: CaptureOptions) -> None:
        self._options = options
        self._processor = None
        self._delays.clear()
        self.stream_delay_ms = None
        self.gain_db = 0.0
        if not options.enabled:
            return
        try:
            self._processor = _new_processor(options, self.sample_rate)
        except (ImportError, OSError, RuntimeError, ValueError) as exc:
            self.error = f"capture processing unavailable: {exc}"
            logger.warning("%s; the microphone is sent unprocessed", self.error)
            return
        self.error = None
        logger.info("capture processing: %s", ", ".join(
            f.name for f in dataclasses.fields(options) if getattr(options, f.name) is True))

    def _far(self, n: int) -> tuple[_Mono, float]:
        if self.far_end is None:
            return np.zeros(n, np.int16), 0.0
        if self.sample_rate == FAR_RATE:
            return self.far_end.read(n)
        # Another microphone rate: take the matching span of 48 kHz audio and interpolate.
        wanted = round(n * FAR_RATE / self.sample_rate)
        far, delay = self.far_end.read(wanted)
        positions = np.arange(n) * (wanted / n)
        resampled = np.interp(positions, np.arange(wanted), far.astype(np.float64))
        return resampled.astype(np.int16), delay

    def _update_delay(self, seconds: float) -> None:
        self._delays.append(seconds * 1000)
        estimate = statistics.median(self._delays)
        current = self.stream_delay_ms
        if current is None or abs(estimate - current) >= _DELAY_STEP_MS:
            self.stream_delay_ms = round(estimate)
            self._processor.stream_delay_ms = self.stream_delay_ms
