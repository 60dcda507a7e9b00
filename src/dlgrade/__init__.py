"""dlgrade: auto-graded exercises for "The Deep Learning Landscape".

Students call ``check("q1")`` inside an assignment notebook; instructors use the
``dlgrade`` command. Heavy modules (torch, sklearn) are imported on first use.
"""
from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["check", "__version__"]


def check(question: str | None = None, **options):
    """Run the public self-checks of ``question`` (all when None) against this notebook's kernel."""
    from dlgrade.check import check_in_kernel

    return check_in_kernel(question, **options)
