"""``dlgrade grade``: bulk grading of student notebooks in a sandbox.

Entry point: :func:`main` (see :mod:`dlgrade.grade.pipeline` for how the steps
are composed). Outputs, in ``<out>/<exercise id>/``:

* ``results/<student>.json`` per submission: per-question points, checks,
  messages, timings, data options, versions (schema in :mod:`.score`);
* ``gradebook.csv``: one row per student (:mod:`.write_gradebook`);
* ``feedback/<student>.html`` per submission and ``summary.html`` for the class;
* ``journal.jsonl``: what is done, so that a rerun resumes (:mod:`.journal`).

Names are resolved on first use, so importing a module of this package does
not load the whole pipeline. The sandbox the notebooks run in is
:mod:`dlgrade.sandbox`.
"""
from __future__ import annotations

__all__ = ["main", "BatchSummary", "STEPS"]


def __getattr__(name: str):
    if name in __all__:
        from dlgrade.grade import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'dlgrade.grade' has no attribute {name!r}")
