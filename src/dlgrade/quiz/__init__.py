"""The quiz stage: question banks with keys, taking, grading and exporting quizzes.

Entry points (keyword-only options; the CLI ``dlgrade quiz ...`` wraps them):

* :func:`list_quizzes` (``quiz list``), :func:`take` (``quiz take``),
  :func:`grade` (``quiz grade``), :func:`export` (``quiz export``),
  :func:`evaluate_rubrics` (``quiz evaluate``: rubric agreement with human scores);
* :func:`open_quiz` for notebooks: ``open_quiz("concepts", student="s1").answer(qid, "B")``;
* the rubric engine lives in :mod:`dlgrade.rubric` (``load_rubrics``, ``grade_text``), shared
  with the notebook exercises' short-answer questions; its names are re-exported here.

Nothing here imports torch.
"""
from __future__ import annotations

from dlgrade.quiz.bank import list_quizzes, load_quiz, resolve_quiz
from dlgrade.quiz.evaluate import evaluate_rubrics
from dlgrade.quiz.exporters import export
from dlgrade.quiz.gradebook import grade
from dlgrade.rubric import KeyPoint, Rubric, RubricResult, grade_text, load_rubrics
from dlgrade.quiz.score import Feedback
from dlgrade.quiz.session import QuizSession, open_quiz
from dlgrade.quiz.spec import Question, Quiz
from dlgrade.quiz.take import take
from dlgrade.quiz.variant import make_paper, student_seed

__all__ = ["list_quizzes", "load_quiz", "resolve_quiz", "take", "grade", "export", "evaluate_rubrics",
           "open_quiz", "QuizSession", "Feedback", "Quiz", "Question", "KeyPoint", "Rubric", "RubricResult",
           "grade_text", "load_rubrics", "make_paper", "student_seed"]
