"""Step 5: keep the figures for the student's feedback.

Two kinds: the figures the notebook drew while it ran (the worker's PNG files
live in its scratch folder, which goes away with the submission), kept as
``figures/<result name>/fig-N.png``; and those a hidden test drew on the
grader's side for a question (``t.figure(png, caption)``, e.g. the student's
heatmap redrawn from its data), kept as ``figures/<result name>/<qid>-N.png``
and shown under that question. Files that are not PNGs, or too large, are
left out.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from dlgrade.grade.job import Grading, Job
from dlgrade.sandbox.exchange import PNG_MAGIC
from dlgrade.sandbox.limits import MAX_FIGURE_BYTES

MAX_FIGURES = 12


def _valid(data: bytes) -> bool:
    return data.startswith(PNG_MAGIC) and len(data) <= MAX_FIGURE_BYTES


def collect_figures(job: Job, grading: Grading, worker) -> None:
    folder = grading.out / "figures" / job.item.result_name
    if folder.exists():
        shutil.rmtree(folder)
    for result in job.results:
        kept = []
        for caption, data in list(getattr(result, "figures", ()))[:MAX_FIGURES]:
            if not isinstance(data, (bytes, bytearray)) or not _valid(bytes(data)):
                continue
            folder.mkdir(parents=True, exist_ok=True)
            name = f"{job.item.result_name}/{result.id}-{len(kept) + 1}.png"
            (grading.out / "figures" / name).write_bytes(bytes(data))
            kept.append({"caption": str(caption)[:200], "path": f"figures/{name}"})
        if kept:
            job.question_figures[result.id] = kept
    if job.sub is None:
        return
    kept = 0
    for src in list(getattr(job.sub, "figures", []) or [])[:MAX_FIGURES]:
        src = Path(src)
        try:
            if src.is_symlink() or not src.is_file() or src.stat().st_size > MAX_FIGURE_BYTES:
                continue
            data = src.read_bytes()
        except OSError:
            continue
        if not _valid(data):
            continue
        kept += 1
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"fig-{kept}.png").write_bytes(data)
        job.figures.append(f"figures/{job.item.result_name}/fig-{kept}.png")
