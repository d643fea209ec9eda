"""A machine-readable code drawn into video frames: sender identity, frame counter, send time.

The code is a grid of big black/white cells across the top quarter of a frame: one row of
fixed sync cells (presence check and black/white threshold) and five rows of data cells
(160 bits: magic, identity, counter, send time in ms, CRC-32, pad). Cell positions are
fractions of the frame size, so a scaled frame decodes the same way, and every cell is at
least 1/32 of the width wide, which VP8 at a few hundred kbps keeps intact.

>>> info = PatternInfo(identity=identity_code("alice"), counter=7, sent_at_ms=1234)
>>> plane = np.zeros((480, 640), dtype=np.uint8)
>>> draw_code(plane, info)
>>> read_code(plane) == info
True
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from dataclasses import dataclass
from typing import Final

import av
import numpy as np
import numpy.typing as npt

COLUMNS: Final = 32
"""Cells across the frame."""
ROWS_PER_FRAME: Final = 24
"""A cell is 1/24 of the frame's height (20 px at 480 lines)."""
DATA_ROWS: Final = 5
CODE_ROWS: Final = 1 + DATA_ROWS
"""Rows used by the code: the sync row, then the data rows."""

BLACK: Final = 16
WHITE: Final = 235
_MIN_CONTRAST: Final = 60
"""Smallest white-minus-black difference (in luma) accepted as a code being present."""

_MAGIC: Final = 0xC5
_PAD: Final = 0x3A
_SYNC_WORD: Final = 0xB38F_1A6D
"""Sync row cells (1 = white): mixed runs so a flat or striped image does not pass."""
_MS_MASK: Final = (1 << 48) - 1
_COUNTER_MASK: Final = (1 << 32) - 1

# Sample points inside each cell, as fractions of its size: away from the edges, where
# compression rings and scaling blends neighbours.
_SAMPLE_OFFSETS: Final = np.array([0.3, 0.5, 0.7])

Plane = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class PatternInfo:
    """What a test pattern frame says about itself."""

    identity: int
    """32-bit identity code of the sender's label (:func:`identity_code`)."""
    counter: int
    """Frame number since the source started, modulo 2**32."""
    sent_at_ms: int
    """Wall-clock send time, ``time.time()`` in ms modulo 2**48."""


def identity_code(label: str) -> int:
    """A stable 32-bit code for ``label``: the first 4 bytes of its SHA-1."""
    return int.from_bytes(hashlib.sha1(label.encode("utf-8")).digest()[:4], "big")


def _bits_of(data: bytes) -> npt.NDArray[np.uint8]:
    return np.unpackbits(np.frombuffer(data, dtype=np.uint8))


_SYNC_BITS: Final = _bits_of(_SYNC_WORD.to_bytes(4, "big"))


def encode_bits(info: PatternInfo) -> npt.NDArray[np.uint8]:
    """The code's cells as a ``(CODE_ROWS, COLUMNS)`` array of 0/1, sync row first."""
    body = struct.pack(
        ">BII6s",
        _MAGIC,
        info.identity & 0xFFFF_FFFF,
        info.counter & _COUNTER_MASK,
        (info.sent_at_ms & _MS_MASK).to_bytes(6, "big"),
    )
    data = body + struct.pack(">IB", zlib.crc32(body), _PAD)
    return np.concatenate([_SYNC_BITS, _bits_of(data)]).reshape(CODE_ROWS, COLUMNS)


def decode_bits(bits: npt.NDArray[np.uint8]) -> PatternInfo | None:
    """Inverse of :func:`encode_bits`; None when the sync, magic, pad or CRC do not match."""
    if not np.array_equal(bits[0], _SYNC_BITS):
        return None
    data = np.packbits(bits[1:].reshape(-1)).tobytes()
    body, (crc, pad) = data[:15], struct.unpack(">IB", data[15:])
    if body[0] != _MAGIC or pad != _PAD or zlib.crc32(body) != crc:
        return None
    _, identity, counter, ms = struct.unpack(">BII6s", body)
    return PatternInfo(identity=identity, counter=counter, sent_at_ms=int.from_bytes(ms, "big"))


class CodeGeometry:
    """Pixel layout of the code for one frame size: which cell each pixel belongs to."""

    def __init__(self, width: int, height: int) -> None:
        if width < COLUMNS or height < ROWS_PER_FRAME:
            raise ValueError(f"frame {width}x{height} is too small for the code")
        self.width = width
        self.height = height
        self.code_height = -(-height * CODE_ROWS // ROWS_PER_FRAME)
        # Cell index of every column / row of pixels in the code area.
        self._col_cell = (np.arange(width) * COLUMNS // width).astype(np.intp)
        self._row_cell = (np.arange(self.code_height) * ROWS_PER_FRAME // height).astype(np.intp)

    def render(self, bits: npt.NDArray[np.uint8]) -> Plane:
        """The code area as a luma plane of ``(code_height, width)``."""
        levels = np.where(bits.astype(bool), WHITE, BLACK).astype(np.uint8)
        # Widen the few cell rows first, then repeat whole rows: 5x faster than one 2-D take.
        result: Plane = levels[:, self._col_cell][self._row_cell]
        return result


def draw_code(plane: Plane, info: PatternInfo) -> None:
    """Draw the code for ``info`` into the top of a luma ``plane`` in place."""
    height, width = plane.shape
    geometry = CodeGeometry(width, height)
    plane[: geometry.code_height, :] = geometry.render(encode_bits(info))


def read_code(plane: Plane) -> PatternInfo | None:
    """Read the code from a luma ``plane`` of any size; None if absent or damaged."""
    height, width = plane.shape
    if width < COLUMNS or height < ROWS_PER_FRAME:
        return None
    cell_w = width / COLUMNS
    cell_h = height / ROWS_PER_FRAME
    xs = ((np.arange(COLUMNS)[:, None] + _SAMPLE_OFFSETS[None, :]) * cell_w).astype(np.intp)
    ys = ((np.arange(CODE_ROWS)[:, None] + _SAMPLE_OFFSETS[None, :]) * cell_h).astype(np.intp)
    samples = plane[np.ix_(ys.ravel(), xs.ravel())].astype(np.float32)
    n = len(_SAMPLE_OFFSETS)
    means = samples.reshape(CODE_ROWS, n, COLUMNS, n).mean(axis=(1, 3))
    sync = means[0]
    white = sync[_SYNC_BITS == 1].mean()
    black = sync[_SYNC_BITS == 0].mean()
    if white - black < _MIN_CONTRAST:
        return None
    bits = (means > (white + black) / 2).astype(np.uint8)
    return decode_bits(bits)


_LUMA_FIRST: Final = frozenset({"gray", "yuv420p", "yuvj420p", "yuv422p", "yuv444p", "nv12"})


def luma_plane(frame: av.VideoFrame) -> Plane:
    """The frame's luma as an ``(height, width)`` array (a view when the format allows)."""
    if frame.format.name in _LUMA_FIRST:
        plane = frame.planes[0]
        rows = np.frombuffer(memoryview(plane), dtype=np.uint8).reshape(-1, plane.line_size)
        view: Plane = rows[: frame.height, : frame.width]
        return view
    return np.asarray(frame.to_ndarray(format="gray"), dtype=np.uint8)


def decode_pattern(frame: av.VideoFrame) -> PatternInfo | None:
    """What the test pattern in ``frame`` says, or None if there is none or it is damaged.

    Works on frames of any size (the code scales with the frame) and after lossy coding;
    a checksum makes a wrong value all but impossible (never returned silently).
    """
    return read_code(luma_plane(frame))
