"""Draw roomcall's application icon and write it as PNG, Windows .ico and macOS .icns.

The icon is vector-drawn with QPainter at every size (no scaling blur at 16 px) and needs no
display: run it with ``QT_QPA_PLATFORM=offscreen``. The .ico and .icns containers are written
here with PNG-compressed entries, which Windows Vista+ and macOS 10.7+ read, so neither Pillow
nor a macOS host is needed:

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/make_icons.py

The outputs are committed under ``resources/icons``; rerun only when the design changes.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QGuiApplication,
    QImage,
    QLinearGradient,
    QPainter,
    QPainterPath,
    QPen,
)

ICON_DIR = Path(__file__).resolve().parent.parent / "resources" / "icons"
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# icns element types holding PNG data, by pixel size.
ICNS_TYPES = {16: b"icp4", 32: b"icp5", 64: b"icp6", 128: b"ic07", 256: b"ic08",
              512: b"ic09", 1024: b"ic10"}
PNG_SIZES = (32, 64, 128, 512)  # roomcall.png is the 256 px one


def draw(size: int) -> QImage:
    """Return the icon drawn at ``size`` x ``size`` pixels on a transparent background."""
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.scale(size / 100.0, size / 100.0)

    # Rounded tile with a blue-to-teal gradient (macOS-style margin so it sits with other icons).
    tile = QRectF(6, 6, 88, 88)
    gradient = QLinearGradient(QPointF(6, 6), QPointF(94, 94))
    gradient.setColorAt(0.0, QColor("#2f6fe4"))
    gradient.setColorAt(1.0, QColor("#18b5a4"))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QBrush(gradient))
    painter.drawRoundedRect(tile, 20, 20)

    # Camera: a rounded body and a lens wedge, in white.
    painter.setBrush(QColor("#ffffff"))
    painter.drawRoundedRect(QRectF(20, 34, 42, 32), 7, 7)
    wedge = QPainterPath()
    wedge.moveTo(64, 46)
    wedge.lineTo(80, 36)
    wedge.lineTo(80, 64)
    wedge.lineTo(64, 54)
    wedge.closeSubpath()
    painter.drawPath(wedge)

    # A green "live" dot on the body; it gets an outline so it reads at 16 px.
    painter.setPen(QPen(QColor("#ffffff"), 2.5))
    painter.setBrush(QColor("#3ddc84"))
    painter.drawEllipse(QPointF(66, 30), 8, 8)
    painter.end()
    return image


def png_bytes(image: QImage) -> bytes:
    """Encode ``image`` as PNG in memory."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise RuntimeError("PNG encoding failed")
    buffer.close()
    return bytes(data.data())


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """Build an ICO file whose entries are PNG images (ICONDIR, ICONDIRENTRYs, data)."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = 6 + 16 * len(sizes)
    entries, blobs = b"", b""
    for size in sizes:
        blob = pngs[size]
        dim = 0 if size >= 256 else size  # 0 means 256 in an ICONDIRENTRY
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(blob), offset)
        blobs += blob
        offset += len(blob)
    return header + entries + blobs


def icns_bytes(pngs: dict[int, bytes]) -> bytes:
    """Build an ICNS file: 'icns' + total length, then (type, length, PNG data) elements."""
    body = b""
    for size in sorted(pngs):
        blob = pngs[size]
        body += ICNS_TYPES[size] + struct.pack(">I", 8 + len(blob)) + blob
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main() -> int:
    """Write resources/icons/roomcall{,-SIZE}.png, roomcall.ico and roomcall.icns."""
    _app = QGuiApplication(sys.argv)  # QImage text/AA paths want a GUI application
    ICON_DIR.mkdir(parents=True, exist_ok=True)
    cache = {size: png_bytes(draw(size)) for size in {*ICO_SIZES, *ICNS_TYPES, *PNG_SIZES}}
    (ICON_DIR / "roomcall.png").write_bytes(cache[256])
    for size in PNG_SIZES:
        (ICON_DIR / f"roomcall-{size}.png").write_bytes(cache[size])
    (ICON_DIR / "roomcall.ico").write_bytes(ico_bytes({s: cache[s] for s in ICO_SIZES}))
    (ICON_DIR / "roomcall.icns").write_bytes(icns_bytes({s: cache[s] for s in ICNS_TYPES}))
    for path in sorted(ICON_DIR.iterdir()):
        print(f"{path.stat().st_size:>8}  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
