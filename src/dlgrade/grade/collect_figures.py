"""Step 5: keep the figures the notebook drew, for the student's feedback.

The worker's PNG files live in its scratch folder, which goes away with the
submission; the valid ones are copied to ``figures/<result name>/fig-N.png``
in the output folder. Files that are not PNGs, or too large, are left out.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from dlgrade.grade.job import Grading, Job

MAX_FIGURES = 12
MAX_FIGURE_BYTES = 4 << 20
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def collect_figures(job: Job, grading: Grading, worker) -> None:
    folder = grading.out / "figures" / job.item.result_name
    if folder.exists():
        shutil.rmtree(folder)
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
        if not data.startswith(PNG_MAGIC):
            continue
        kept += 1
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"fig-{kept}.png").write_bytes(data)
        job.figures.append(f"figures/{job.item.result_name}/fig-{kept}.png")
