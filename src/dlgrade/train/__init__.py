"""Training and measuring models: the engine behind every graded training run.

    from dlgrade.train import Recipe, fit, evaluate, seeded

    recipe = Recipe(optimizer="adam", lr=1e-3, batch_size=64, epochs=1)
    with seeded(0):
        model = make_mlp()
    result = fit(model, (X_train, y_train), recipe, seed=0, eval_data=(X_test, y_test))
    accuracy = evaluate(model, (X_test, y_test))

``data`` arguments are ``(X, y)`` pairs or datasets with ``.train``/``.test`` pairs.
"""
from __future__ import annotations

from dlgrade.train.engine import STOP_REASONS, EpochMetrics, FitResult, fit
from dlgrade.train.evaluation import count_parameters, evaluate, predict
from dlgrade.train.recipe import LOSSES, OPTIMIZERS, Recipe
from dlgrade.train.seeding import build_seeded, seeded

__all__ = [
    "LOSSES",
    "OPTIMIZERS",
    "STOP_REASONS",
    "EpochMetrics",
    "FitResult",
    "Recipe",
    "build_seeded",
    "count_parameters",
    "evaluate",
    "fit",
    "predict",
    "seeded",
]
