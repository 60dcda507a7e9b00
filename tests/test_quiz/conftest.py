"""Builders for quiz tests: a question or a whole quiz file in one line."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
BANK = REPO / "quizzes"


def single(qid: str = "q-single", **over) -> dict:
    """A valid single-choice question mapping (B is right in bank order)."""
    return {"id": qid, "type": "single", "topic": "t", "difficulty": "easy", "prompt": "Pick the second.",
            "explanation": "Because.", "source": "Test", "choices": [
                {"text": "first"}, {"text": "second", "correct": True}, {"text": "third"}], **over}


def multi(qid: str = "q-multi", **over) -> dict:
    """A valid multiple-select question: options r1, r2 right; w1, w2 wrong."""
    return {"id": qid, "type": "multi", "topic": "t", "difficulty": "easy", "prompt": "Pick the r ones.",
            "explanation": "r is right.", "source": "Test", "shuffle": False, "choices": [
                {"text": "r1", "correct": True}, {"text": "w1"}, {"text": "r2", "correct": True},
                {"text": "w2"}], **over}


def numeric(qid: str = "q-num", **over) -> dict:
    """A parameterised numeric question: a + b with a in {1,2,3}, b in {10,20}."""
    return {"id": qid, "type": "numeric", "topic": "t", "difficulty": "easy", "prompt": "What is {a} + {b}?",
            "explanation": "{a} + {b} = {answer}.", "source": "Test", "params": {"a": [1, 2, 3], "b": [10, 20]},
            "formula": "a + b", **over}


def interview(qid: str = "q-open", **over) -> dict:
    """An interview question with a two-point rubric about cats and dogs."""
    return {"id": qid, "type": "interview", "topic": "t", "difficulty": "hard",
            "prompt": "Compare two pets.", "explanation": "Cats purr, dogs bark.", "source": "Test",
            "model_answer": "Cats purr while dogs bark loudly.",
            "rubric": {"key_points": [{"id": "purr", "phrases": ["cats purr", "purring"]},
                                      {"id": "bark", "phrases": ["dogs bark", "barking"]}]}, **over}


def write_quiz(folder: Path, questions: list[dict], *, qid: str = "tiny", **top) -> Path:
    """Write a quiz YAML file with these questions and return its path."""
    path = Path(folder) / f"{qid}.yaml"
    path.write_text(yaml.safe_dump({"id": qid, "title": "Tiny quiz", "questions": questions, **top},
                                   sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def tiny_quiz(tmp_path):
    """A bank folder holding one quiz with one question of each kind (+ a follow-up)."""
    follow = dict(interview("q-open.f1"), type="short", points=2)
    write_quiz(tmp_path, [single(), multi(), numeric(), interview(follow_ups=[follow])])
    return tmp_path / "tiny.yaml"
