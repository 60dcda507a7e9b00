"""Redraw a student's figure on the grader's side, from the data it shows, for the feedback page.

Hidden tests read what a student's figure shows as plain data
(:mod:`dlgrade.harness.figures`); :func:`heatmap_png` draws that data again
in the grader's process so the student sees the picture that was graded:
``t.figure(heatmap_png(...), caption)``. Text from the student is drawn
literally and shortened.

The picture is drawn with Pillow, cell by cell, in a few milliseconds (matplotlib
took a tenth of a second per figure, a fifth of a submission's grading time):
matplotlib's "Blues" colours, DejaVu Sans (shipped with matplotlib) when it is
there, the cell values written on cells of up to 10 x 10 grids.
"""
from __future__ import annotations

import functools
import importlib.util
import io
from pathlib import Path

import numpy as np

MAX_SIDE = 30
"""Largest grid drawn (rows or columns)."""
BLUES = ((247, 251, 255), (222, 235, 247), (198, 219, 239), (158, 202, 225), (107, 174, 214),
         (66, 146, 198), (33, 113, 181), (8, 81, 156), (8, 48, 107))
"""matplotlib's "Blues" colour map, from 0 to 1, at nine even steps."""
INK = (34, 34, 34)


def _plain(text, limit: int = 40) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def heatmap_png(values, *, xticks=(), yticks=(), xlabel: str = "", ylabel: str = "", title: str = "") -> bytes:
    """A PNG of ``values`` (a 2-D grid) drawn as a labelled heatmap with each cell's number."""
    from PIL import Image, ImageDraw

    grid = np.asarray(values, dtype=float)
    if grid.ndim != 2 or not grid.size:
        raise ValueError("heatmap_png needs a non-empty 2-D grid")
    grid = grid[:MAX_SIDE, :MAX_SIDE]
    rows, cols = grid.shape
    cell = int(np.clip(320 // max(rows, cols), 10, 44))
    small, label, number = _font(11), _font(12), _font(int(np.clip(cell // 3, 7, 11)))
    xnames = [_plain(t, 12) for t in xticks] if len(xticks) == cols else []
    ynames = [_plain(t, 12) for t in yticks] if len(yticks) == rows else []
    ytick_w = max((_size(small, t)[0] for t in ynames), default=0)
    xtick_h = max((_size(small, t)[0] for t in xnames), default=0)     # written downwards: width becomes height
    line = _size(label, "Ag")[1]
    left = 8 + (line + 6 if ylabel else 0) + ytick_w + 6
    top = 8 + (line + 6 if title else 0)
    bottom = 6 + xtick_h + (line + 10 if xlabel else 0) + 6
    width, height = left + cols * cell + 12, top + rows * cell + bottom
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)

    finite = np.isfinite(grid)
    low, high = (float(grid[finite].min()), float(grid[finite].max())) if finite.any() else (0.0, 0.0)
    peak = float(np.abs(grid[finite]).max()) if finite.any() else 0.0
    for (r, c), v in np.ndenumerate(grid):
        x0, y0 = left + c * cell, top + r * cell
        shade = 0.0 if not np.isfinite(v) or high == low else (v - low) / (high - low)
        draw.rectangle([x0, y0, x0 + cell - 1, y0 + cell - 1], fill=_blues(shade))
        if rows * cols <= 100 and np.isfinite(v):
            text = f"{v:.2g}" if abs(v - round(v)) > 1e-9 else f"{int(round(v))}"
            colour = "white" if peak and abs(v) > 0.6 * peak else "black"
            draw.text((x0 + cell / 2, y0 + cell / 2), text, font=number, fill=colour, anchor="mm")
    draw.rectangle([left - 1, top - 1, left + cols * cell, top + rows * cell], outline=INK)
    for r, name in enumerate(ynames):
        draw.text((left - 6, top + r * cell + cell / 2), name, font=small, fill=INK, anchor="rm")
    for c, name in enumerate(xnames):       # each name written downwards under its column
        tile = _upright(name, small)
        image.paste(tile, (int(left + c * cell + cell / 2 - tile.width / 2), top + rows * cell + 6), tile)
    if xlabel:
        draw.text((left + cols * cell / 2, height - 8), _plain(xlabel), font=label, fill=INK, anchor="md")
    if ylabel:
        tile = _upright(_plain(ylabel), label)
        image.paste(tile, (8, int(top + rows * cell / 2 - tile.height / 2)), tile)
    if title:
        draw.text((left + cols * cell / 2, 8), _plain(title, 60), font=label, fill=INK, anchor="ma")
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def _upright(text: str, font):
    """``text`` on a transparent tile, turned to read from bottom to top."""
    from PIL import Image, ImageDraw

    w, h = _size(font, text)
    tile = Image.new("RGBA", (w + 2, h + 4), (255, 255, 255, 0))
    ImageDraw.Draw(tile).text((1, 2), text, font=font, fill=INK)
    return tile.rotate(90, expand=True)


def _blues(shade: float) -> tuple[int, int, int]:
    """The colour of ``shade`` (0 to 1) on the "Blues" map, interpolated between its steps."""
    at = min(max(shade, 0.0), 1.0) * (len(BLUES) - 1)
    i = min(int(at), len(BLUES) - 2)
    f = at - i
    return tuple(int(round(a + (b - a) * f)) for a, b in zip(BLUES[i], BLUES[i + 1]))


def _size(font, text: str) -> tuple[int, int]:
    left, top, right, bottom = font.getbbox(text or " ")
    return int(right - left), int(bottom - top)


@functools.lru_cache(maxsize=8)
def _font(size: int):
    from PIL import ImageFont

    spec = importlib.util.find_spec("matplotlib")
    for location in (spec.submodule_search_locations or []) if spec else []:
        path = Path(location) / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf"
        if path.is_file():
            return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size)
