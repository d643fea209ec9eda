"""PyInstaller runtime hook: on Linux, ``ctypes.util.find_library`` looks in the bundle first.

sounddevice loads PortAudio with ``find_library("portaudio")``, which on Linux asks only the
system (``ldconfig``). PyInstaller bundles ``libportaudio.so.2`` when the build machine has it,
but patches ``find_library`` on Windows only, so without this hook a machine lacking the
system's libportaudio2 would have no audio in the bundled app although the library is there.
"""

import ctypes.util
import glob
import os
import sys
from collections.abc import Callable


def install(bundle_dir: str) -> None:
    """Make ``find_library(name)`` return ``bundle_dir/lib<name>.so*`` when there is one."""
    system_find_library: Callable[[str], str | None] = ctypes.util.find_library

    def find_library(name: str) -> str | None:
        candidates = sorted(glob.glob(os.path.join(bundle_dir, f"lib{glob.escape(name)}.so*")))
        # The shortest name is the soname (libportaudio.so.2), not a fully versioned file.
        return min(candidates, key=len) if candidates else system_find_library(name)

    ctypes.util.find_library = find_library


if getattr(sys, "frozen", False) and sys.platform.startswith("linux"):
    install(sys._MEIPASS)  # type: ignore[attr-defined]  # set by PyInstaller's bootloader
