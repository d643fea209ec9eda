"""A private PulseAudio server with one null sink (whose monitor is the default source), for
tests and benchmarks that play and capture through the real PortAudio path. CI installs
``pulseaudio``; without it, or without PortAudio, :class:`PulseUnavailable` says why."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from roomcall.media import devices
from roomcall.media.devices import DeviceInfo, list_microphones, list_speakers
from tests.waiting import scaled


class PulseUnavailable(Exception):
    """PulseAudio, PortAudio or ALSA's pulse plugin is missing here."""


@contextlib.contextmanager
def private_pulseaudio() -> Iterator[None]:
    """Run a PulseAudio server in a temporary home and point ``PULSE_SERVER`` at it."""
    if shutil.which("pulseaudio") is None or devices.audio_backend()[0] is None:
        raise PulseUnavailable("needs pulseaudio and PortAudio")
    home = Path(tempfile.mkdtemp(prefix="pa-"))  # short: a unix socket path is limited
    socket = home / "native"
    env = {**os.environ, "HOME": str(home), "PULSE_RUNTIME_PATH": str(home)}
    server = subprocess.Popen(
        ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no",
         f"--load=module-native-protocol-unix socket={socket} auth-anonymous=1",
         "--load=module-null-sink sink_name=roomcall_test"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    before = os.environ.get("PULSE_SERVER")
    try:
        deadline = time.monotonic() + scaled(10)
        while not socket.exists() and server.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)  # the server makes its socket when ready; nothing to wait on
        if not socket.exists():
            raise PulseUnavailable("pulseaudio did not start here")
        os.environ["PULSE_SERVER"] = f"unix:{socket}"
        devices.rescan_audio_devices()
        yield
    finally:
        if before is None:
            os.environ.pop("PULSE_SERVER", None)
        else:
            os.environ["PULSE_SERVER"] = before
        server.terminate()
        server.wait(scaled(10))
        shutil.rmtree(home, ignore_errors=True)
        devices.rescan_audio_devices()


def pulse_devices() -> tuple[DeviceInfo, DeviceInfo]:
    """ALSA's "pulse" speaker and microphone (the null sink and its monitor)."""
    speaker = next((d for d in list_speakers() if d.name == "pulse"), None)
    microphone = next((d for d in list_microphones() if d.name == "pulse"), None)
    if speaker is None or microphone is None:
        raise PulseUnavailable("ALSA's pulse plugin is not installed")
    return speaker, microphone
