"""The responses file that ``quiz take --save`` and ``QuizSession.save`` keep: every attempt, one counts.

Layout (JSON; ``dlgrade quiz grade`` reads its ``responses`` list)::

    {
      "responses": [                       # the attempt that counts, one per student
        {"student_id": "s1", "quiz": "concepts", "answers": {"xor-mlp-why": "C", ...}}
      ],
      "attempts": [                        # every attempt, in the order they were started
        {"student_id": "s1", "quiz": "concepts", "attempt": 1, "finished": true, "counts": true,
         "answers": {...}, "choice_order": {"xor-mlp-why": [2, 0, 3, 1], ...}, "key": {"xor-mlp-why": "B"}}
      ]
    }

**Which attempt counts:** a student's first finished attempt (later attempts
come after the feedback showed the keys, so they are practice); while none is
finished, the latest one. ``choice_order`` records the permutation each student
saw (bank indices in the order shown as A, B, ...) and ``key`` the letters that
were right in that order, so a dispute can be settled from the file alone. Both
are written only for answered questions, whose feedback has shown the key
already: the file a student keeps never tells more than the student has seen.

A file written by earlier versions (a plain list of ``{"student_id", "answers"}``
rows) is read as one finished attempt per row.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from dlgrade.errors import DlgradeError
from dlgrade.quiz import outputs


@dataclass
class Attempt:
    """One student's run through one quiz."""

    student_id: str
    """Whose attempt."""
    quiz: str
    """Quiz id."""
    number: int
    """1 for the first attempt of this student at this quiz, then 2, 3, ..."""
    answers: dict[str, str] = field(default_factory=dict)
    """Question id -> the response as typed (letters as shown to this student)."""
    finished: bool = False
    """True once the student went through every question (skipped ones stay blank)."""
    choice_order: dict[str, list[int]] = field(default_factory=dict)
    """Question id -> bank indices of the options in the order shown (A first)."""
    key: dict[str, str] = field(default_factory=dict)
    """Question id -> the right letters in the order shown."""
    counts: bool = False
    """Whether this attempt is the one graded (set when the file is written)."""

    def as_dict(self) -> dict:
        return {"student_id": self.student_id, "quiz": self.quiz, "attempt": self.number,
                "finished": self.finished, "counts": self.counts, "answers": self.answers,
                "choice_order": self.choice_order, "key": self.key}


class AttemptsFile:
    """A responses file with every attempt; see the module docstring."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.attempts: list[Attempt] = self._read() if self.path.exists() else []

    def _read(self) -> list[Attempt]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            data = None
        if isinstance(data, list):        # the older layout: one finished row per student
            return [Attempt(str(r.get("student_id", "")), str(r.get("quiz", "")), 1,
                            {str(k): str(v) for k, v in dict(r.get("answers", {})).items()}, True)
                    for r in data if isinstance(r, dict)]
        if not isinstance(data, dict) or not isinstance(data.get("attempts"), list):
            raise DlgradeError(f"{self.path}: exists and is not a dlgrade responses file; not overwriting it",
                               hint="choose another --save file")
        out = []
        for i, a in enumerate(data["attempts"]):
            try:
                out.append(Attempt(str(a["student_id"]), str(a["quiz"]), int(a["attempt"]),
                                   {str(k): str(v) for k, v in a["answers"].items()}, bool(a["finished"]),
                                   {str(k): [int(x) for x in v] for k, v in a.get("choice_order", {}).items()},
                                   {str(k): str(v) for k, v in a.get("key", {}).items()}))
            except (KeyError, TypeError, ValueError, AttributeError):
                raise DlgradeError(f"{self.path}: attempts[{i}] is malformed; not overwriting the file") from None
        return out

    def of(self, student_id: str, quiz: str) -> list[Attempt]:
        """This student's attempts at ``quiz``, oldest first."""
        return [a for a in self.attempts if a.student_id == student_id and a.quiz in (quiz, "")]

    def unfinished(self, student_id: str, quiz: str) -> Attempt | None:
        """The attempt to resume: the student's latest, if it is not finished."""
        mine = self.of(student_id, quiz)
        return mine[-1] if mine and not mine[-1].finished else None

    def new_attempt(self, student_id: str, quiz: str) -> Attempt:
        attempt = Attempt(student_id, quiz, len(self.of(student_id, quiz)) + 1)
        self.attempts.append(attempt)
        return attempt

    def counting(self) -> list[Attempt]:
        """The attempt that counts for each (student, quiz), sorted by student."""
        groups: dict[tuple[str, str], list[Attempt]] = {}
        for a in self.attempts:
            groups.setdefault((a.student_id, a.quiz), []).append(a)
        chosen = [next((a for a in g if a.finished), g[-1]) for g in groups.values()]
        return sorted(chosen, key=lambda a: (a.student_id, a.quiz))

    def write(self) -> Path:
        """Write atomically, marking which attempts count."""
        counting = {id(a) for a in self.counting()}
        for a in self.attempts:
            a.counts = id(a) in counting
        responses = [{"student_id": a.student_id, **({"quiz": a.quiz} if a.quiz else {}), "answers": a.answers}
                     for a in self.counting()]
        data = {"responses": responses, "attempts": [a.as_dict() for a in self.attempts]}
        return outputs.write_text(self.path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
