"""Registering the ``roomcall://`` scheme on Linux: a .desktop file so that clicking an invite
link opens the app at the pre-join screen (``roomcall --join <link>``).

``packaging/roomcall.desktop`` is the same file for distribution packages; ``roomcall
--install-desktop-entry`` writes it for the current user, with the running ``roomcall``'s
path, and runs ``xdg-mime`` if present. Qt-free.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

FILE_NAME = "roomcall.desktop"
MIME_TYPE = "x-scheme-handler/roomcall"


def desktop_entry(executable: str = "roomcall") -> str:
    """The text of the .desktop file launching ``executable``."""
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        "Name=roomcall\n"
        "GenericName=Video call\n"
        "Comment=Small-group video calls\n"
        f"Exec={executable} --join %u\n"
        "Icon=roomcall\n"
        "Terminal=false\n"
        "Categories=Network;VideoConference;\n"
        f"MimeType={MIME_TYPE};\n"
    )


def _applications_dir() -> Path:
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "applications"


def _executable() -> str:
    found = shutil.which("roomcall")
    if found:
        return shlex.quote(found)
    # Run from a checkout (python -m roomcall): launch it the same way.
    return f"{shlex.quote(sys.executable)} -m roomcall"


def install_desktop_entry(applications: Path | None = None, executable: str | None = None,
                          *, register: bool = True) -> Path:
    """Write the .desktop file for this user and (``register``) make it the ``roomcall://``
    handler with ``xdg-mime``."""
    folder = applications or _applications_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / FILE_NAME
    path.write_text(desktop_entry(executable or _executable()), encoding="utf-8")
    if not register:
        return path
    update = shutil.which("update-desktop-database")
    if update:
        subprocess.run([update, str(folder)], check=False, capture_output=True)
    xdg_mime = shutil.which("xdg-mime")
    if xdg_mime:
        subprocess.run([xdg_mime, "default", FILE_NAME, MIME_TYPE], check=False,
                       capture_output=True)
    return path


def install_command() -> int:
    """``roomcall --install-desktop-entry``: install, say where; exit status."""
    if not sys.platform.startswith("linux"):
        print("roomcall: --install-desktop-entry is for Linux; see packaging/README.md for "
              "macOS and Windows", file=sys.stderr)
        return 2
    path = install_desktop_entry()
    print(f"roomcall: wrote {path}; roomcall:// links now open roomcall")
    return 0
