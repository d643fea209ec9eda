"""Signal bars: a member's network quality (``network_quality_changed``) as 0-4 lit bars.

The bars show the worse of the uplink and downlink grades; the words for both are in the
tooltip. UNKNOWN (nothing measured yet) lights no bar.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter

from roomcall.sdk import NetworkGrade, NetworkQuality

BARS = {NetworkGrade.UNKNOWN: 0, NetworkGrade.POOR: 1, NetworkGrade.FAIR: 2,
        NetworkGrade.GOOD: 3, NetworkGrade.EXCELLENT: 4}
"""Lit bars per grade."""
_COLOURS = {0: QColor("#8a8d94"), 1: QColor("#e0443e"), 2: QColor("#e0a526"),
            3: QColor("#3ddc84"), 4: QColor("#3ddc84")}
_UNLIT = QColor(255, 255, 255, 70)
SIZE = (26, 18)
"""The bars' image size in logical pixels (a dark pill with four bars)."""


def worse(quality: NetworkQuality) -> NetworkGrade:
    """The worse of the two directions; a known grade beats UNKNOWN.

    >>> worse(NetworkQuality(NetworkGrade.GOOD, NetworkGrade.POOR)).name
    'POOR'
    >>> worse(NetworkQuality(NetworkGrade.UNKNOWN, NetworkGrade.FAIR)).name
    'FAIR'
    """
    known = [g for g in (quality.uplink, quality.downlink) if g is not NetworkGrade.UNKNOWN]
    return min(known, key=lambda g: BARS[g]) if known else NetworkGrade.UNKNOWN


def bars(quality: NetworkQuality) -> int:
    """Lit bars for ``quality``: 0 (unknown) to 4 (excellent)."""
    return BARS[worse(quality)]


def grade_name(grade: NetworkGrade) -> str:
    """A grade in words, in the interface's language."""
    names = {
        NetworkGrade.UNKNOWN: QCoreApplication.translate("SignalBars", "not measured yet"),
        NetworkGrade.EXCELLENT: QCoreApplication.translate("SignalBars", "excellent"),
        NetworkGrade.GOOD: QCoreApplication.translate("SignalBars", "good"),
        NetworkGrade.FAIR: QCoreApplication.translate("SignalBars", "fair"),
        NetworkGrade.POOR: QCoreApplication.translate("SignalBars", "poor"),
    }
    return names[grade]


def describe(quality: NetworkQuality) -> str:
    """Both directions in words, for a tooltip."""
    return QCoreApplication.translate(
        "SignalBars", "Network: sending {uplink}, receiving {downlink}").format(
        uplink=grade_name(quality.uplink), downlink=grade_name(quality.downlink))


def bars_image(lit: int, ratio: float = 1.0) -> QImage:
    """Four rising bars, ``lit`` of them coloured by how many, on a dark pill."""
    width, height = SIZE
    image = QImage(int(width * ratio), int(height * ratio),
                   QImage.Format.Format_ARGB32_Premultiplied)
    image.setDevicePixelRatio(ratio)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 150))
        painter.drawRoundedRect(QRectF(0, 0, width, height), 5, 5)
        colour = _COLOURS[lit]
        for index in range(4):
            bar_h = 3 + index * 3
            rect = QRectF(5 + index * 4.5, height - 3 - bar_h, 3, bar_h)
            painter.setBrush(colour if index < lit else _UNLIT)
            painter.drawRoundedRect(rect, 1, 1)
    finally:
        painter.end()
    return image
