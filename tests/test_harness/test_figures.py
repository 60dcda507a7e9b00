"""Figures judged by what they show: the figure reader and the confusion heatmap question (q5).

Each case defines ``plot_confusion_matrix`` as a student might, runs the hidden
q5 of the confusion exercise on it in-process, and compares the points earned
with what the drawing deserves, whichever library drew it.
"""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

COMMON = """
import numpy as np
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
"""

IMSHOW = """
def plot_confusion_matrix(cm, class_names):
    cm = np.asarray(cm)
    fig, ax = plt.subplots()
    image = ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(len(class_names)), labels=class_names)
    ax.set_yticks(range(len(class_names)), labels=class_names)
    ax.set_xlabel("Predicted")
    ax.set_ylabel("True")
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            ax.text(j, i, str(cm[i, j]), ha="center", va="center")
    fig.colorbar(image, ax=ax)
    return fig
"""

SEABORN = """
import seaborn as sns

def plot_confusion_matrix(cm, class_names):
    fig = plt.figure(figsize=(10, 8))
    sns.heatmap(cm, annot=True, fmt="d", cmap="Blues", xticklabels=class_names, yticklabels=class_names)
    plt.xlabel("Predicted")
    plt.ylabel("True")
    return fig
"""

SEABORN_SHARES = """
import seaborn as sns

def plot_confusion_matrix(cm, class_names):
    cm = np.asarray(cm)
    fig, ax = plt.subplots()
    sns.heatmap(cm / cm.sum(axis=1, keepdims=True), annot=True, fmt=".0%", ax=ax,
                xticklabels=class_names, yticklabels=class_names)
    ax.set(xlabel="Predicted label", ylabel="Actual label")
    return fig
"""

PCOLORMESH = """
def plot_confusion_matrix(cm, class_names):
    cm = np.asarray(cm)
    k = len(class_names)
    fig, ax = plt.subplots()
    ax.pcolormesh(np.arange(k + 1), np.arange(k + 1), cm, cmap="Blues")
    ax.invert_yaxis()
    ax.set_xticks(np.arange(k) + 0.5, labels=class_names)
    ax.set_yticks(np.arange(k) + 0.5, labels=class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    return fig
"""

MATSHOW = """
def plot_confusion_matrix(cm, class_names):
    fig, ax = plt.subplots()
    ax.matshow(np.asarray(cm))
    ax.set_xticks(range(len(class_names)), labels=class_names)
    ax.set_yticks(range(len(class_names)), labels=class_names)
    ax.set_xlabel("Predicted")
    ax.set_ylabel("True")
    return ax
"""

TRANSPOSED_NOTES = IMSHOW.replace("ax.text(j, i, str(cm[i, j])", "ax.text(i, j, str(cm[i, j])")
SHIFTED_TICKS = IMSHOW.replace("ax.set_xticks(range(len(class_names))", "ax.set_xticks(range(1, len(class_names) + 1)")
ROTATED_NAMES = IMSHOW.replace("ax.set_yticks(range(len(class_names)), labels=class_names)",
                               "ax.set_yticks(range(len(class_names)), labels=class_names[1:] + class_names[:1])")
TRANSPOSED_IMAGE = IMSHOW.replace("ax.imshow(cm,", "ax.imshow(cm.T,").replace("str(cm[i, j])", "str(cm.T[i, j])")
NO_NAMES = """
def plot_confusion_matrix(cm, class_names):
    fig = plt.figure()
    plt.imshow(cm, cmap="Blues")
    plt.xlabel("Predicted")
    plt.ylabel("True")
    plt.colorbar()
    return fig
"""
LINE_PLOT = """
def plot_confusion_matrix(cm, class_names):
    fig, ax = plt.subplots()
    ax.plot(np.asarray(cm).ravel())
    ax.set_xlabel("Predicted")
    ax.set_ylabel("True")
    return fig
"""

CASES = {
    "imshow": (IMSHOW, 3),
    "seaborn-lesson": (SEABORN, 3),
    "seaborn-row-shares": (SEABORN_SHARES, 3),
    "pcolormesh": (PCOLORMESH, 3),
    "matshow-returns-axes": (MATSHOW, 3),
    "annotations-transposed": (TRANSPOSED_NOTES, 2),
    "x-ticks-shifted-by-one": (SHIFTED_TICKS, 1),
    "row-names-rotated": (ROTATED_NAMES, 2),
    "image-transposed": (TRANSPOSED_IMAGE, 2),
    "no-class-names": (NO_NAMES, 2),
    "not-a-heatmap": (LINE_PLOT, 0),
}


@pytest.fixture(scope="module")
def q5():
    from dlgrade.harness.course import Exercise
    from dlgrade.harness.questions import load_questions

    exercise = Exercise.load(ROOT, "confusion")
    question = next(q for q in load_questions(exercise.tests_path) if q.id == "q5")
    return exercise, question


@pytest.mark.parametrize("case", CASES)
def test_heatmap_earns_what_it_shows(q5, case):
    """Does q5 give each drawing the points its content deserves, whichever library drew it?"""
    import matplotlib.pyplot as plt

    from dlgrade.harness.context import Context
    from dlgrade.harness.questions import run_question
    from dlgrade.harness.submission import LocalSubmission

    exercise, question = q5
    source, deserved = CASES[case]
    ns: dict = {"__name__": "__main__"}
    exec(compile(textwrap.dedent(COMMON + source), f"<{case}>", "exec"), ns)  # noqa: S102 - test code
    for student in ("a",):
        result = run_question(question, LocalSubmission(ns), Context(exercise, "quick", student_id=student))
        plt.close("all")
        detail = "; ".join(f"{c.message}: {c.passed} {c.detail}" for c in result.checks)
        assert result.earned == deserved, f"{case} ({student}): {result.earned}/3 ({detail}) {result.error}"


def test_parse_number_reads_what_annotations_print():
    """Are counts, decimals, percentages and thousands separators read with the resolution they show?"""
    from dlgrade.harness.figures import agrees, parse_number

    assert parse_number("17") == (17.0, 1.0)
    assert parse_number("1,234") == (1234.0, 1.0)
    value, step = parse_number("85%")
    assert value == pytest.approx(0.85) and step == pytest.approx(0.01)
    assert parse_number("0.125")[1] == pytest.approx(0.001)
    assert parse_number("cat") is None and parse_number("") is None
    assert agrees(0.8461, parse_number("85%")) and not agrees(0.8461, parse_number("84%"))
    assert agrees(17, parse_number("17")) and not agrees(1, parse_number("17"))


def test_decision_regions_needs_the_points_at_their_place():
    """Does a decision-boundary figure that draws the right number of points in the wrong places fail?"""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from dlgrade.harness.figures import decision_regions, read_figure

    X = np.array([[0.0, 1.0], [1.0, 3.0], [2.0, 0.5]])
    xx, yy = np.meshgrid(np.linspace(-1, 3, 5), np.linspace(0, 4, 5))
    judged = {}
    for name, ys in (("right", X[:, 1]), ("wrong columns", X[:, 0])):
        fig, ax = plt.subplots()
        ax.contourf(xx, yy, (xx > yy).astype(int))
        ax.scatter(X[:, 0], ys, c=[0, 1, 0])
        judged[name] = decision_regions(read_figure(fig), len(X), where=X)
        plt.close(fig)
    assert judged["right"] == (True, "")
    assert not judged["wrong columns"][0] and "at their place" in judged["wrong columns"][1]
