"""Redraw a student's figure on the grader's side, from the data it shows, for the feedback page.

Hidden tests read what a student's figure shows as plain data
(:mod:`dlgrade.harness.figures`); :func:`heatmap_png` draws that data again
in the grader's process (matplotlib's Agg backend, no pyplot state) so the
student sees the picture that was graded: ``t.figure(heatmap_png(...), caption)``.
Text from the student is drawn literally (no mathtext) and shortened.
"""
from __future__ import annotations

import io

import numpy as np

MAX_SIDE = 30
"""Largest grid drawn (rows or columns)."""


def _plain(text, limit: int = 40) -> str:
    text = str(text)[:limit]
    return text.replace("$", r"\$")


def heatmap_png(values, *, xticks=(), yticks=(), xlabel: str = "", ylabel: str = "", title: str = "") -> bytes:
    """A PNG of ``values`` (a 2-D grid) drawn as a labelled heatmap with each cell's number."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    grid = np.asarray(values, dtype=float)[:MAX_SIDE, :MAX_SIDE]
    if grid.ndim != 2 or not grid.size:
        raise ValueError("heatmap_png needs a non-empty 2-D grid")
    fig = Figure(figsize=(3.6, 3.2), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.imshow(np.nan_to_num(grid), cmap="Blues")
    rows, cols = grid.shape
    if len(xticks) == cols:
        ax.set_xticks(range(cols), labels=[_plain(t, 12) for t in xticks], rotation=45, ha="right")
    if len(yticks) == rows:
        ax.set_yticks(range(rows), labels=[_plain(t, 12) for t in yticks])
    ax.set_xlabel(_plain(xlabel))
    ax.set_ylabel(_plain(ylabel))
    if title:
        ax.set_title(_plain(title, 60), fontsize=9)
    top = np.nanmax(np.abs(grid)) if np.isfinite(grid).any() else 0
    if rows * cols <= 100:
        for (r, c), v in np.ndenumerate(grid):
            text = f"{v:.2g}" if abs(v - round(v)) > 1e-9 else f"{int(round(v))}"
            ax.text(c, r, text, ha="center", va="center", fontsize=8,
                    color="white" if top and abs(v) > 0.6 * top else "black")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()
