"""What a device picker shows: the device's own name, and where it comes from.

PortAudio on Linux lists ALSA's virtual devices by their plugin names ("default", "pulse",
"pipewire"): those get a readable name; every audio device shows its host API (ALSA,
Windows WASAPI, Core Audio, ...) as PortAudio names it, because one sound card can be listed
once per API. Cameras show the name their driver gives (the v4l2 card name on Linux).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication

from roomcall.media.devices import DeviceInfo


def _virtual_name(name: str) -> str | None:
    tr = QCoreApplication
    if name == "default":
        return tr.translate("Devices", "System default")
    if name == "sysdefault":
        return tr.translate("Devices", "System default (sound card)")
    if name == "pulse":
        return tr.translate("Devices", "PulseAudio sound server")
    if name == "pipewire":
        return tr.translate("Devices", "PipeWire sound server")
    return None


def device_label(device: DeviceInfo) -> str:
    """``"Built-in Audio Analog Stereo (ALSA)"``, ``"System default (ALSA)"``, a camera's
    name; the default device is marked."""
    label = device.name
    virtual = None
    if device.kind != "camera":
        api, _, name = device.id.partition("/")
        virtual = _virtual_name(name)
        label = virtual or name or device.name
        if api:
            label = f"{label} ({api})"
    if device.is_default and virtual is None:  # "System default, default" says it twice
        label = QCoreApplication.translate("Devices", "{device}, default").format(device=label)
    return label


def device_choices(devices: Sequence[DeviceInfo]) -> list[tuple[str, str]]:
    """``(device_id, label)`` pairs for a picker, the default device first."""
    ordered = sorted(devices, key=lambda d: not d.is_default)
    return [(d.id, device_label(d)) for d in ordered]
