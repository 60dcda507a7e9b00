"""Re-export of :mod:`dlgrade.rubric.textmatch`."""
from __future__ import annotations

from dlgrade.rubric.textmatch import *  # noqa: F401,F403
