"""A tiny 5x7 bitmap font for stamping labels into test-pattern frames (no font files needed).

Covers digits, Latin letters (lower case is drawn as upper case) and ``-_.@:#``; other
characters are drawn as a box.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

GLYPH_WIDTH: Final = 5
GLYPH_HEIGHT: Final = 7

# Each glyph: 7 rows of 5 columns, "#" on. Rows are separated by "/".
_FONT: Final[dict[str, str]] = {
    "0": ".###./#...#/#..##/#.#.#/##..#/#...#/.###.",
    "1": "..#../.##../..#../..#../..#../..#../.###.",
    "2": ".###./#...#/....#/...#./..#../.#.../#####",
    "3": "####./....#/....#/.###./....#/....#/####.",
    "4": "...#./..##./.#.#./#..#./#####/...#./...#.",
    "5": "#####/#..../####./....#/....#/#...#/.###.",
    "6": ".###./#..../#..../####./#...#/#...#/.###.",
    "7": "#####/....#/...#./..#../.#.../.#.../.#...",
    "8": ".###./#...#/#...#/.###./#...#/#...#/.###.",
    "9": ".###./#...#/#...#/.####/....#/....#/.###.",
    "A": ".###./#...#/#...#/#####/#...#/#...#/#...#",
    "B": "####./#...#/#...#/####./#...#/#...#/####.",
    "C": ".###./#...#/#..../#..../#..../#...#/.###.",
    "D": "####./#...#/#...#/#...#/#...#/#...#/####.",
    "E": "#####/#..../#..../####./#..../#..../#####",
    "F": "#####/#..../#..../####./#..../#..../#....",
    "G": ".###./#...#/#..../#.###/#...#/#...#/.####",
    "H": "#...#/#...#/#...#/#####/#...#/#...#/#...#",
    "I": ".###./..#../..#../..#../..#../..#../.###.",
    "J": "..###/...#./...#./...#./...#./#..#./.##..",
    "K": "#...#/#..#./#.#../##.../#.#../#..#./#...#",
    "L": "#..../#..../#..../#..../#..../#..../#####",
    "M": "#...#/##.##/#.#.#/#.#.#/#...#/#...#/#...#",
    "N": "#...#/#...#/##..#/#.#.#/#..##/#...#/#...#",
    "O": ".###./#...#/#...#/#...#/#...#/#...#/.###.",
    "P": "####./#...#/#...#/####./#..../#..../#....",
    "Q": ".###./#...#/#...#/#...#/#.#.#/#..#./.##.#",
    "R": "####./#...#/#...#/####./#.#../#..#./#...#",
    "S": ".####/#..../#..../.###./....#/....#/####.",
    "T": "#####/..#../..#../..#../..#../..#../..#..",
    "U": "#...#/#...#/#...#/#...#/#...#/#...#/.###.",
    "V": "#...#/#...#/#...#/#...#/#...#/.#.#./..#..",
    "W": "#...#/#...#/#...#/#.#.#/#.#.#/#.#.#/.#.#.",
    "X": "#...#/#...#/.#.#./..#../.#.#./#...#/#...#",
    "Y": "#...#/#...#/.#.#./..#../..#../..#../..#..",
    "Z": "#####/....#/...#./..#../.#.../#..../#####",
    "-": "...../...../...../.###./...../...../.....",
    "_": "...../...../...../...../...../...../#####",
    ".": "...../...../...../...../...../.##../.##..",
    "@": ".###./#...#/#.###/#.#.#/#.###/#..../.###.",
    ":": "...../.##../.##../...../.##../.##../.....",
    "#": ".#.#./#####/.#.#./.#.#./#####/.#.#./.....",
    " ": "...../...../...../...../...../...../.....",
    "?": "#####/#...#/#...#/#...#/#...#/#...#/#####",
}


def _bitmap(pattern: str) -> npt.NDArray[np.bool_]:
    return np.array([[c == "#" for c in row] for row in pattern.split("/")], dtype=bool)


_BITMAPS: Final = {char: _bitmap(pattern) for char, pattern in _FONT.items()}


def text_mask(text: str) -> npt.NDArray[np.bool_]:
    """``text`` as a boolean ``(7, 6 * len(text))`` mask, one blank column after each glyph."""
    mask = np.zeros((GLYPH_HEIGHT, (GLYPH_WIDTH + 1) * len(text)), dtype=bool)
    for index, char in enumerate(text.upper()):
        glyph = _BITMAPS.get(char, _BITMAPS["?"])
        x = index * (GLYPH_WIDTH + 1)
        mask[:, x : x + GLYPH_WIDTH] = glyph
    return mask


def stamp_text(
    plane: npt.NDArray[np.uint8], text: str, x: int, y: int, scale: int, value: int
) -> None:
    """Draw ``text`` into ``plane`` at ``(x, y)``, each font pixel ``scale`` px, clipped."""
    if not text or scale < 1:
        return
    mask = np.kron(text_mask(text), np.ones((scale, scale), dtype=bool))
    height = min(mask.shape[0], plane.shape[0] - y)
    width = min(mask.shape[1], plane.shape[1] - x)
    if height <= 0 or width <= 0:
        return
    region = plane[y : y + height, x : x + width]
    region[mask[:height, :width]] = value
