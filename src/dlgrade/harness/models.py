"""Checks on the models a student's code builds, before the grader trains them."""
from __future__ import annotations

import numpy as np

from dlgrade.harness.errors import StudentError


def require_untrained(sub, model, X: np.ndarray, y: np.ndarray, *, what: str, limit: float = 0.5) -> None:
    """Raise :class:`StudentError` when a model that was just built already classifies ``(X, y)``.

    The grader trains the models it scores; a builder that returns a model
    trained beforehand (on the test images, say) would otherwise pass on that
    training rather than the grader's. A freshly initialised classifier sits
    near chance, far below ``limit``.
    """
    accuracy = float((sub.predict(model, X).argmax(axis=1) == y).mean())
    if accuracy > limit:
        raise StudentError("bad_output", f"{what} returned a model that already reaches {accuracy:.0%} on the "
                           "grader's test images before any training: build the model untrained, the grader "
                           "trains it")
