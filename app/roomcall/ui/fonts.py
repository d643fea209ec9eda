"""Whether Chinese text can be drawn: without a CJK font every character is an empty box."""

from __future__ import annotations

import sys

from PySide6.QtGui import QFontDatabase

FONT_PACKAGES = {
    "linux": "fonts-noto-cjk",
}
"""The font package to install, by platform (Debian and Ubuntu name it so)."""


def has_cjk_font() -> bool:
    """True when some installed font covers Simplified Chinese."""
    return bool(QFontDatabase.families(QFontDatabase.WritingSystem.SimplifiedChinese))


def missing_font_hint(language: str) -> str:
    """A hint to show when ``language`` needs a CJK font that is not installed, else "".

    The hint is English on purpose: it shows exactly when Chinese text cannot be drawn.
    """
    if not language.startswith("zh") or has_cjk_font():
        return ""
    package = FONT_PACKAGES.get("linux" if sys.platform.startswith("linux") else sys.platform)
    if package:
        return (f"No Chinese font is installed, so Chinese text shows as empty boxes. "
                f"Install one, e.g. on Debian or Ubuntu: sudo apt-get install {package}, "
                f"then restart roomcall.")
    return ("No Chinese font is installed, so Chinese text shows as empty boxes. Install a "
            "font that covers Chinese (e.g. Noto Sans CJK), then restart roomcall.")
