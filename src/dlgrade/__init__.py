"""dlgrade: auto-graded exercises for "The Deep Learning Landscape".

Students call ``check("q1")`` inside an assignment notebook; instructors use the
``dlgrade`` command. Heavy modules (torch, sklearn) are imported on first use.
"""
from __future__ import annotations

# The self-check stage is imported here, before the function of the same name is
# defined, so that the name `dlgrade.check` stays the function: Python binds a
# submodule to its parent's attribute only when it first loads it.
from dlgrade import check as _check_stage

__version__ = "0.1.0"
__all__ = ["check", "__version__"]


def check(question: str | None = None, **options):
    """Run the public self-checks of ``question`` (all when None) against this notebook's kernel."""
    return _check_stage.check_in_kernel(question, **options)
