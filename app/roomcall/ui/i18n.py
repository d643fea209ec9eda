"""User interface languages: English (the source text) and Simplified Chinese.

Translations are Qt ``.qm`` files in the package data ``roomcall.resources`` (``resources/i18n``
in the source tree, built from the ``.ts`` sources with
``pyside6-lrelease``). Installing a translator makes Qt send ``LanguageChange`` to every
widget, and each widget re-sets its texts, so the language switches without a restart.
"""

from __future__ import annotations

import logging
import sys
from importlib import resources
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

log = logging.getLogger(__name__)

LANGUAGES = {"en": "English", "zh_CN": "中文 (简体)"}
"""Languages offered, by code, with the name each language calls itself."""

_installed: list[QTranslator] = []
_current = "en"


def resources_dir() -> Path:
    """The folder of the package data ``roomcall.resources`` (icons, ``.qm`` translations),
    wherever roomcall is installed: a source checkout, a wheel, or a PyInstaller bundle."""
    root = resources.files("roomcall.resources")
    if isinstance(root, Path):
        return root
    # Qt loads files by path; a bundle that keeps packages in an archive still unpacks data
    # files to the same relative place under its folder.
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle is None:
        raise RuntimeError(f"roomcall.resources is not on a file system: {root}")
    return Path(bundle) / "roomcall" / "resources"


def system_language() -> str:
    """``"zh_CN"`` when the system locale is Chinese, else ``"en"``."""
    return "zh_CN" if QLocale.system().name().lower().startswith("zh") else "en"


def current_language() -> str:
    """The language installed last."""
    return _current


def install_language(lang: str | None) -> str:
    """Switch the running application to ``lang`` (None: the system's); returns the code
    actually used (``"en"`` when no translation for ``lang`` exists)."""
    global _current
    app = QCoreApplication.instance()
    if app is None:
        raise RuntimeError("create the QApplication first")
    wanted = lang if lang in LANGUAGES else system_language()
    for translator in _installed:
        QCoreApplication.removeTranslator(translator)
    _installed.clear()
    _current = "en"
    if wanted == "en":
        return _current
    ours = QTranslator(app)
    if not ours.load(f"roomcall_{wanted}", str(resources_dir() / "i18n")):
        log.warning("no translation for %s in %s", wanted, resources_dir() / "i18n")
        return _current
    QCoreApplication.installTranslator(ours)
    _installed.append(ours)
    qt_base = QTranslator(app)
    qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if qt_base.load(f"qtbase_{wanted}", qt_dir):
        QCoreApplication.installTranslator(qt_base)
        _installed.append(qt_base)
    _current = wanted
    return _current
