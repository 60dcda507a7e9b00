"""Objects the forest tests and self-checks build on the student's side.

Built on the student's side by ``sub.make(name, ...)`` (see ``dlgrade.harness.factories``): this file
is sent there with the request, so it holds nothing secret.
"""
from dlgrade.harness.factories import factory


@factory("forest")
def make_forest(X, y, n_estimators: int = 10, random_state: int = 0):
    """A small scikit-learn random forest fitted on ``(X, y)``: a known model for table questions."""
    from sklearn.ensemble import RandomForestClassifier

    forest = RandomForestClassifier(n_estimators=int(n_estimators), random_state=int(random_state))
    return forest.fit(X, y)


@factory("sleeper")
def make_sleeper(seconds: float):
    """A callable that sleeps ``seconds`` and returns the arguments it got: a known job to time."""
    import time

    class Sleeper:
        def __call__(self, *args, **kwargs):
            time.sleep(float(seconds))
            return {"args": list(args), "kwargs": dict(kwargs)}

    return Sleeper()
