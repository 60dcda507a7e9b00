"""Re-export of :mod:`dlgrade.rubric.grade` (the rubric engine lives outside the quiz stage)."""
from __future__ import annotations

from dlgrade.rubric.grade import *  # noqa: F401,F403
