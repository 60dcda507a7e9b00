"""What a matplotlib figure shows, as plain data, whatever library drew it.

Hidden tests judge a figure by its content, not by the call that made it:
``imshow``, ``matshow``, ``pcolormesh`` and ``seaborn.heatmap`` all leave a grid
of coloured cells; ``contourf``, ``pcolormesh`` and ``imshow`` all fill regions.

:func:`read_figure` runs on the student's side (it is registered as the grader
object ``"figure_data"``, so ``sub.make("figure_data", fig)`` returns its
result): it lays the figure out once without rendering and returns numbers and
strings only. The verdicts are computed on the grader's side from that data by
:func:`judge_heatmap` (built on :func:`cell_grid`, :func:`tick_at` and
:func:`parse_number`), for the hidden tests and the self-checks alike.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from dlgrade.harness.errors import StudentError
from dlgrade.harness.factories import factory

MAX_CELLS = 10_000
"""Largest grid of cells read from one image or mesh (a confusion matrix has K x K)."""
MAX_TEXTS = 2_000
"""Most annotations read from one axes."""
MAX_POINTS = 2_000
"""Most scatter positions read from one axes: collections up to this size, in drawing order
(larger ones, a grid drawn as dots, are counted but not read)."""


@factory("figure_data")
def read_figure(obj) -> dict:
    """The content of a Figure (or of the Figure an Axes belongs to) as plain data.

    Returns ``{"type": class name, "axes": [axes data...]}``; see :func:`read_axes`.
    """
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    if isinstance(obj, Axes):
        obj = obj.get_figure()
    if not isinstance(obj, Figure):
        raise StudentError("bad_output", f"expected a matplotlib Figure, got {type(obj).__name__}")
    try:
        obj.draw_without_rendering()    # lays out ticks and their labels as a saved image would show them
    except Exception as exc:  # noqa: BLE001 - a figure that cannot be drawn is the student's problem
        raise StudentError("exception", f"the figure cannot be drawn: {type(exc).__name__}: {exc}") from None
    return {"type": type(obj).__name__, "axes": [read_axes(ax) for ax in obj.get_axes()]}


def read_axes(ax) -> dict:
    """One Axes: labels, ticks, limits, image and mesh grids, filled contours, annotations and points."""
    from matplotlib.collections import PathCollection, PolyCollection, QuadMesh
    from matplotlib.contour import ContourSet

    grids = []
    for image in ax.get_images():
        array = np.ma.filled(np.ma.asarray(image.get_array(), dtype=float), np.nan)
        if array.ndim == 2 and array.size <= MAX_CELLS:
            left, right, bottom, top = (float(v) for v in image.get_extent())
            first_row = top if image.origin == "upper" else bottom
            last_row = bottom if image.origin == "upper" else top
            grids.append({"kind": "image", "values": array,
                          "x_edges": np.linspace(left, right, array.shape[1] + 1),
                          "y_edges": np.linspace(first_row, last_row, array.shape[0] + 1)})
    fills, points, xy = [], 0, []
    for artist in ax.collections:
        if isinstance(artist, QuadMesh):
            coords = np.asarray(artist.get_coordinates(), dtype=float)
            rows, cols = coords.shape[0] - 1, coords.shape[1] - 1
            values = np.ma.filled(np.ma.asarray(artist.get_array(), dtype=float), np.nan)
            if rows * cols <= MAX_CELLS and values.size == rows * cols:
                grids.append({"kind": "mesh", "values": values.reshape(rows, cols),
                              "x_edges": coords[0, :, 0], "y_edges": coords[:, 0, 1]})
        elif isinstance(artist, ContourSet):
            if artist.filled:
                fills.append({"kind": "contourf", "regions": _non_empty_paths(artist),
                              "levels": [float(v) for v in artist.levels]})
        elif isinstance(artist, PathCollection):
            offsets = np.ma.filled(np.ma.asarray(artist.get_offsets(), dtype=float), np.nan).reshape(-1, 2)
            points += len(offsets)
            if len(xy) + len(offsets) <= MAX_POINTS:
                xy += offsets.tolist()
        elif isinstance(artist, PolyCollection):
            fills.append({"kind": "polygons", "regions": len(artist.get_paths()), "levels": []})
    points += sum(len(line.get_xdata()) for line in ax.get_lines() if line.get_marker() not in (None, "", "None"))
    texts = []
    to_data = ax.transData.inverted()
    for text in ax.texts[:MAX_TEXTS]:
        x, y = to_data.transform(text.get_transform().transform(text.get_position()))
        texts.append({"text": text.get_text(), "x": float(x), "y": float(y)})
    return {
        "xlabel": ax.get_xlabel(), "ylabel": ax.get_ylabel(), "title": ax.get_title(),
        "xlim": [float(v) for v in ax.get_xlim()], "ylim": [float(v) for v in ax.get_ylim()],
        "xticks": _ticks(ax.xaxis, ax.get_xlim()), "yticks": _ticks(ax.yaxis, ax.get_ylim()),
        "grids": grids, "fills": fills, "texts": texts, "points": int(points), "point_xy": xy,
    }


def _ticks(axis, limits) -> list:
    low, high = sorted(limits)
    out = []
    for pos, label in zip(axis.get_majorticklocs(), axis.get_majorticklabels()):
        if low - 1e-9 <= pos <= high + 1e-9:
            out.append([float(pos), label.get_text()])
    return out


def _non_empty_paths(contours) -> int:
    paths = contours.get_paths() if hasattr(contours, "get_paths") else []
    return sum(1 for p in paths if len(p.vertices))


# -- grader side ---------------------------------------------------------------------------

def cell_grid(axes: dict, shape: tuple[int, int] | None = None) -> dict | None:
    """The image or mesh of ``axes`` drawn as a grid of cells (of ``shape`` when given), or None.

    Returns ``{"values": (rows, cols) array, "x": cell centres (cols,), "y": cell centres (rows,),
    "width": cell width, "height": cell height, "kind": "image" | "mesh"}``.
    """
    for grid in axes.get("grids", []):
        values = np.asarray(grid["values"], dtype=float)
        if values.ndim != 2 or (shape is not None and values.shape != tuple(shape)):
            continue
        xe, ye = np.asarray(grid["x_edges"], float), np.asarray(grid["y_edges"], float)
        if len(xe) != values.shape[1] + 1 or len(ye) != values.shape[0] + 1:
            continue
        return {"values": values, "x": (xe[:-1] + xe[1:]) / 2, "y": (ye[:-1] + ye[1:]) / 2,
                "width": float(np.abs(np.diff(xe)).min()), "height": float(np.abs(np.diff(ye)).min()),
                "kind": grid["kind"]}
    return None


def tick_at(ticks: list, position: float, spacing: float) -> str | None:
    """The label of the tick within half a cell of ``position`` (None when there is none or it is blank)."""
    near = [(abs(pos - position), label) for pos, label in ticks if abs(pos - position) < spacing / 2]
    if not near:
        return None
    label = min(near)[1].strip()
    return label or None


def cell_at(grid: dict, x: float, y: float) -> tuple[int, int] | None:
    """(row, column) of the cell of ``grid`` containing the point (x, y), or None."""
    cols = np.flatnonzero(np.abs(grid["x"] - x) <= grid["width"] / 2 + 1e-9)
    rows = np.flatnonzero(np.abs(grid["y"] - y) <= grid["height"] / 2 + 1e-9)
    if len(rows) == 0 or len(cols) == 0:
        return None
    return int(rows[0]), int(cols[0])


_NUMBER = re.compile(r"^[-+]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?(e[-+]?\d+)?$", re.IGNORECASE)


def parse_number(text: str) -> tuple[float, float] | None:
    """An annotation as ``(value, resolution)``: "17" -> (17, 1), "0.85" -> (0.85, 0.01), "85%" -> (0.85, 0.01).

    The resolution is the step of the last digit shown (a percentage is read as a
    fraction). None when the text is not a number.
    """
    text = text.strip().replace("\u2212", "-")
    percent = text.endswith("%")
    body = text[:-1].strip() if percent else text
    if not body or not _NUMBER.match(body) or not re.search(r"\d", body):
        return None
    value = float(body.replace(",", ""))
    mantissa = re.split(r"[eE]", body)[0]
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    exponent = int(re.split(r"[eE]", body)[1]) if re.search(r"[eE]", body) else 0
    resolution = 10.0 ** (exponent - decimals)
    if percent:
        return value / 100, resolution / 100
    return value, resolution


def agrees(value: float, shown: tuple[float, float]) -> bool:
    """Does an annotation ``shown`` (value, resolution) display ``value`` rounded to its digits?"""
    number, resolution = shown
    return math.isfinite(value) and abs(number - value) <= resolution / 2 + 1e-9 * max(1.0, abs(value))


@dataclass(frozen=True)
class Heatmap:
    """What a figure shows of a confusion matrix ``cm`` drawn with class ``names``."""

    found: bool
    """A K x K grid of coloured cells (image or mesh) is in one of the axes."""
    labels: bool = False
    """The x axis is labelled as predicted, the y axis as true (or actual)."""
    labels_detail: str = ""
    named: bool = False
    """Each column and each row of cells has a class name as its tick label."""
    named_detail: str = ""
    content: bool = False
    """Every cell shows cm[true, predicted] (counts or shares) of the classes its ticks name (row i as
    true class i when no tick names a class), and every number written on a cell is that cell's."""
    content_detail: str = ""
    values: tuple = ()
    """The grid of cell values as drawn (rows of numbers), for redrawing it on the grader's side."""
    xticks: tuple = ()
    """The tick label under each column of cells."""
    yticks: tuple = ()
    """The tick label beside each row of cells."""
    xlabel: str = ""
    ylabel: str = ""


def _class_of(label: str | None, names: list[str]) -> int | None:
    """The class a tick label names: a class name, or an integer index when the ticks are numbers."""
    if label is None:
        return None
    if label in names:
        return names.index(label)
    number = parse_number(label)
    if number is not None and float(number[0]).is_integer() and 0 <= number[0] < len(names):
        return int(number[0])
    return None


def judge_heatmap(data: dict, cm, names: list[str]) -> Heatmap:
    """Read the heatmap of ``cm`` in figure ``data`` (from :func:`read_figure`) the way a reader would."""
    cm = np.asarray(cm)
    k = len(names)
    ax = grid = None
    for candidate in data.get("axes", []):
        grid = cell_grid(candidate, (k, k))
        if grid is not None:
            ax = candidate
            break
    if grid is None:
        return Heatmap(found=False)
    xlabel, ylabel = str(ax["xlabel"]), str(ax["ylabel"])
    labels = bool(re.search(r"pred", xlabel, re.IGNORECASE) and re.search(r"true|actual", ylabel, re.IGNORECASE))

    col_ticks = [tick_at(ax["xticks"], x, grid["width"]) for x in grid["x"]]
    row_ticks = [tick_at(ax["yticks"], y, grid["height"]) for y in grid["y"]]
    named = sorted(map(str, col_ticks)) == sorted(names) and sorted(map(str, row_ticks)) == sorted(names)

    shown = np.asarray(grid["values"], float)
    cols = [_class_of(label, names) for label in col_ticks]
    rows = [_class_of(label, names) for label in row_ticks]
    complete = None not in cols + rows and sorted(cols) == list(range(k)) and sorted(rows) == list(range(k))
    named_cells = any(label in names for label in col_ticks + row_ticks)
    # Cells are read by the class their ticks name; without class names (no ticks, or numbered ones
    # that do not cover the classes) row i of the picture is taken as true class i.
    order = (np.array(rows), np.array(cols)) if complete else (np.arange(k), np.arange(k))
    cmf = cm.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = (cmf / cmf.sum(axis=1, keepdims=True), cmf / cmf.sum())
    candidates = [c[np.ix_(*order)] for c in (cmf, *shares)]
    matches = [c for c in candidates if np.allclose(shown, c, atol=1e-6, equal_nan=True)]
    if named_cells and not complete:
        matches = []   # names on some cells, missing or doubled on others: the picture cannot be read
    transposed = not matches and any(np.allclose(shown, c.T, atol=1e-6, equal_nan=True) for c in candidates)
    wrong_notes = []
    for note in ax["texts"]:
        number = parse_number(note["text"])
        cell = cell_at(grid, note["x"], note["y"]) if number is not None else None
        if cell is None:
            continue
        r, c = cell
        if not (agrees(shown[r, c], number) or agrees(candidates[0][r, c], number)):
            wrong_notes.append(f"{note['text']!r} on the cell of true {row_ticks[r]}, predicted {col_ticks[c]}")
    where = "read by the tick labels" if complete else "row by row as drawn"
    detail = ("the tick labels do not name one class per row and per column" if named_cells and not complete
              else "the picture looks transposed" if transposed else
              f"the cells, {where}, are not cm" if not matches else "")
    if wrong_notes:
        detail = (detail + "; " if detail else "") + "annotations that disagree: " + ", ".join(wrong_notes[:3])
    return Heatmap(found=True, labels=labels, labels_detail=f"x: {xlabel!r}, y: {ylabel!r}",
                   named=named, named_detail=f"under the columns {col_ticks}, beside the rows {row_ticks}",
                   content=bool(matches) and not wrong_notes, content_detail=detail,
                   values=tuple(map(tuple, shown.tolist())), xticks=tuple(map(str, col_ticks)),
                   yticks=tuple(map(str, row_ticks)), xlabel=xlabel, ylabel=ylabel)


def decision_regions(data: dict, n_points: int, where=None) -> tuple[bool, str]:
    """Does figure ``data`` fill regions (contourf, pcolormesh, imshow) and draw ``n_points`` points on them?

    With ``where`` (an ``(n_points, 2)`` array), every one of those points must be drawn at its
    place as a scatter point (a plot of the wrong columns draws the right number elsewhere).
    Returns ``(ok, why not)``.
    """
    filled = [ax for ax in data.get("axes", []) if any(f["regions"] for f in ax["fills"])
              or any(np.asarray(g["values"]).size >= 4 for g in ax["grids"])]
    if not filled:
        return False, "no filled regions (contourf, pcolormesh or imshow)"
    most = max(ax["points"] for ax in filled)
    if most < n_points:
        return False, f"{most} of the {n_points} points drawn over the regions"
    if where is not None:
        where = np.asarray(where, dtype=float).reshape(-1, 2)
        placed = 0
        for ax in filled:
            drawn = np.asarray(ax.get("point_xy") or np.zeros((0, 2)), dtype=float).reshape(-1, 2)
            if len(drawn):
                gap = np.abs(where[:, None, :] - drawn[None, :, :]).max(axis=2).min(axis=1)
                placed = max(placed, int((gap <= 1e-6 * (1 + np.abs(where).max())).sum()))
        if placed < len(where):
            return False, f"{placed} of the {len(where)} points drawn at their place (x = first column, y = second)"
    return True, ""
