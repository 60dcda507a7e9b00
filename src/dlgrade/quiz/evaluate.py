"""``dlgrade quiz evaluate``: how closely rubric grading agrees with human scores.

The labelled set (``quizzes/rubric-eval/labelled.yaml``) holds answers to the
bank's open questions, each with a human score in points, a category
(strong, partial, wrong, off-topic, keyword-stuffed) and a split (``dev``: the
answers rubric phrasings were tuned on; ``holdout``: written afterwards and
never tuned on). Agreement is reported as mean absolute error in points and as
exact agreement of score bands: low (< 1/3 of the points), mid, high (>= 2/3).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from dlgrade.errors import SpecError
from dlgrade.quiz.bank import bank_dir, list_quizzes
from dlgrade.rubric.grade import SemanticMatcher
from dlgrade.quiz.score import score_response
from dlgrade.quiz.variant import make_instance

CATEGORIES = ("strong", "partial", "wrong", "off-topic", "stuffed")
SPLITS = ("dev", "holdout")


@dataclass(frozen=True)
class LabelledAnswer:
    """One answer with the score a human grader gave it."""

    quiz: str
    """Quiz id."""
    question: str
    """Question id (short or interview)."""
    answer: str
    """The answer text."""
    human: float
    """The human score, in points of the question."""
    category: str
    """strong, partial, wrong, off-topic or stuffed."""
    split: str
    """dev or holdout."""


@dataclass(frozen=True)
class Scored:
    """A labelled answer with the automatic score."""

    item: LabelledAnswer
    auto: float
    max_points: float
    needs_review: bool


def band(points: float, max_points: float) -> str:
    """low / mid / high thirds of the points."""
    f = points / max_points
    return "low" if f < 1 / 3 - 1e-9 else "mid" if f < 2 / 3 - 1e-9 else "high"


@dataclass(frozen=True)
class Agreement:
    """Agreement figures over a set of scored answers."""

    scored: tuple[Scored, ...] = field(repr=False)

    def _subset(self, pred) -> "Agreement":
        return Agreement(tuple(s for s in self.scored if pred(s)))

    @property
    def n(self) -> int:
        return len(self.scored)

    @property
    def mae(self) -> float:
        """Mean absolute error in points."""
        return sum(abs(s.auto - s.item.human) for s in self.scored) / self.n if self.n else 0.0

    @property
    def mae_fraction(self) -> float:
        """Mean absolute error as a fraction of each question's points."""
        return sum(abs(s.auto - s.item.human) / s.max_points for s in self.scored) / self.n if self.n else 0.0

    @property
    def band_agreement(self) -> float:
        """Share of answers whose automatic band equals the human band."""
        if not self.n:
            return 0.0
        return sum(band(s.auto, s.max_points) == band(s.item.human, s.max_points) for s in self.scored) / self.n

    @property
    def flagged(self) -> int:
        return sum(s.needs_review for s in self.scored)

    @property
    def big_errors(self) -> list[Scored]:
        """Answers off by at least 40% of the points."""
        return [s for s in self.scored if abs(s.auto - s.item.human) >= 0.4 * s.max_points]

    def by(self, attr: str) -> dict[str, "Agreement"]:
        keys = dict.fromkeys(getattr(s.item, attr) for s in self.scored)
        return {k: self._subset(lambda s, k=k: getattr(s.item, attr) == k) for k in keys}

    def as_markdown(self) -> str:
        """A table of the figures: all answers, per split, per category, per question."""
        def row(name: str, a: "Agreement") -> str:
            big = a.big_errors
            return (f"| {name} | {a.n} | {a.mae:.2f} | {a.mae_fraction:.1%} | {a.band_agreement:.0%} | "
                    f"{a.flagged} | {len(big)} ({sum(s.needs_review for s in big)} flagged) |")
        lines = ["| answers | n | MAE (points) | MAE (share of points) | band agreement | flagged for review "
                 "| off by >= 40% |", "|---|---|---|---|---|---|---|", row("all", self)]
        lines += [row(f"split: {k}", v) for k, v in self.by("split").items()]
        lines += [row(f"category: {k}", v) for k, v in self.by("category").items()]
        lines += [row(f"question: {k}", v) for k, v in self.by("question").items()]
        return "\n".join(lines)


def default_labelled_path(bank: str | Path | None = None) -> Path:
    return bank_dir(bank) / "rubric-eval" / "labelled.yaml"


def load_labelled(path: str | Path) -> list[LabelledAnswer]:
    """Read the labelled set; errors name the file and item."""
    import yaml

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError(f"{path}: labelled set not found") from None
    if not isinstance(data, Mapping) or not isinstance(data.get("items"), list):
        raise SpecError(f"{path}: expected a mapping with 'items' (and an optional default 'quiz')")
    default_quiz = data.get("quiz")
    out = []
    for i, item in enumerate(data["items"]):
        where = f"{path}: items[{i}]"
        if not isinstance(item, Mapping):
            raise SpecError(f"{where}: must be a mapping")
        unknown = set(item) - {"quiz", "question", "answer", "human", "category", "split", "note"}
        if unknown:
            raise SpecError(f"{where}: unknown field {sorted(unknown)[0]!r}")
        quiz = item.get("quiz", default_quiz)
        values: dict[str, Any] = {k: item.get(k) for k in ("question", "answer", "category", "split")}
        for k, v in values.items():
            if not isinstance(v, str) or not v.strip():
                raise SpecError(f"{where}.{k}: must be a non-empty string")
        if values["category"] not in CATEGORIES:
            raise SpecError(f"{where}.category: must be one of {', '.join(CATEGORIES)}")
        if values["split"] not in SPLITS:
            raise SpecError(f"{where}.split: must be one of {', '.join(SPLITS)}")
        human = item.get("human")
        if isinstance(human, bool) or not isinstance(human, (int, float)) or human < 0:
            raise SpecError(f"{where}.human: must be a non-negative number of points")
        if not isinstance(quiz, str):
            raise SpecError(f"{where}.quiz: must name the quiz (here or at the top level)")
        out.append(LabelledAnswer(quiz, values["question"], values["answer"].strip(), float(human),
                                  values["category"], values["split"]))
    return out


def evaluate_rubrics(labelled: str | Path | None = None, *, bank: str | Path | None = None,
                     matcher: SemanticMatcher | None = None) -> Agreement:
    """Grade every labelled answer and return the agreement with the human scores."""
    path = Path(labelled) if labelled is not None else default_labelled_path(bank)
    items = load_labelled(path)
    quizzes = {q.id: q for q in list_quizzes(bank if bank is not None else path.parent.parent)}
    scored = []
    for i, item in enumerate(items):
        if item.quiz not in quizzes:
            raise SpecError(f"{path}: items[{i}].quiz: unknown quiz {item.quiz!r}")
        try:
            question = quizzes[item.quiz].question(item.question)
        except KeyError:
            raise SpecError(f"{path}: items[{i}].question: {item.question!r} is not in quiz {item.quiz!r}") from None
        if not question.is_open:
            raise SpecError(f"{path}: items[{i}].question: {item.question!r} is not a short/interview question")
        if item.human > question.points:
            raise SpecError(f"{path}: items[{i}].human: {item.human:g} is more than the {question.points:g} points")
        fb = score_response(make_instance(question, 0), item.answer, matcher=matcher)
        scored.append(Scored(item, fb.points, question.points, fb.needs_review))
    return Agreement(tuple(scored))
