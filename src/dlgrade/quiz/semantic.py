"""Re-export of :mod:`dlgrade.rubric.semantic`."""
from __future__ import annotations

from dlgrade.rubric.semantic import *  # noqa: F401,F403
