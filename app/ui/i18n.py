"""User interface languages: English (the source text) and Simplified Chinese.

Translations are Qt ``.qm`` files in ``resources/i18n`` (built from the ``.ts`` sources with
``pyside6-lrelease``). Installing a translator makes Qt send ``LanguageChange`` to every
widget, and each widget re-sets its texts, so the language switches without a restart.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

log = logging.getLogger(__name__)

LANGUAGES = {"en": "English", "zh_CN": "中文 (简体)"}
"""Languages offered, by code, with the name each language calls itself."""

_installed: list[QTranslator] = []
_current = "en"


def resources_dir() -> Path:
    """``resources/`` beside the ``app`` package (also inside a PyInstaller bundle)."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle is not None:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


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
