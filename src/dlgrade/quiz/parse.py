"""Reading quiz mappings (from YAML) into the dataclasses of :mod:`dlgrade.quiz.spec`, field by field.

Every error names the file, the question id and the field, e.g.
``quizzes/numbers.yaml: mlp-params: answer: must be a number``.
"""
from __future__ import annotations

import math
import re
from typing import Any, Mapping

from dlgrade.errors import SpecError
from dlgrade.quiz import formula as fx
from dlgrade.rubric.grade import Rubric, echoed_phrases
from dlgrade.quiz.spec import (
    DEFAULT_POINTS,
    DIFFICULTIES,
    QUESTION_TYPES,
    Choice,
    NumericKey,
    Param,
    Pool,
    Question,
    Quiz,
)

_ID_RE = re.compile(r"[a-z0-9][a-z0-9_.-]*")
_PLACEHOLDER_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")

_COMMON = {"id", "type", "topic", "difficulty", "prompt", "explanation", "source", "points", "follow_ups",
           "optional"}
_BY_TYPE = {
    "single": {"choices", "shuffle"},
    "multi": {"choices", "shuffle"},
    "numeric": {"answer", "formula", "tolerance", "rel_tolerance", "params", "unit"},
    "short": {"rubric", "model_answer"},
    "interview": {"rubric", "model_answer"},
}


def _err(where: str, field: str, msg: str) -> SpecError:
    return SpecError(f"{where}: {field}: {msg}")


def _text(d: Mapping, key: str, where: str, *, required: bool = True, default: str = "") -> str:
    value = d.get(key, None)
    if value is None:
        if required:
            raise _err(where, key, "is required")
        return default
    if not isinstance(value, str) or (required and not value.strip()):
        raise _err(where, key, f"must be a non-empty string, got {value!r}")
    return value.strip()


def _number(value: Any, where: str, field: str, *, minimum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _err(where, field, f"must be a number, got {value!r}")
    if minimum is not None and value < minimum:
        raise _err(where, field, f"must be at least {minimum}, got {value!r}")
    return value


def _choices(d: Mapping, where: str, qtype: str) -> tuple[Choice, ...]:
    raw = d.get("choices")
    if not isinstance(raw, list) or len(raw) < 2:
        raise _err(where, "choices", "must be a list of at least two options")
    out = []
    for i, c in enumerate(raw):
        if isinstance(c, str):
            c = {"text": c}
        if not isinstance(c, Mapping):
            raise _err(where, f"choices[{i}]", "must be a mapping with 'text' and optional 'correct', 'feedback'")
        unknown = set(c) - {"text", "correct", "feedback"}
        if unknown:
            raise _err(where, f"choices[{i}]", f"unknown field {sorted(unknown)[0]!r}")
        correct = c.get("correct", False)
        if not isinstance(correct, bool):
            raise _err(where, f"choices[{i}].correct", f"must be true or false, got {correct!r}")
        out.append(Choice(_text(c, "text", f"{where}: choices[{i}]"), correct,
                          _text(c, "feedback", where, required=False)))
    if len({c.text for c in out}) != len(out):
        raise _err(where, "choices", "two options have the same text")
    n_correct = sum(c.correct for c in out)
    if qtype == "single" and n_correct != 1:
        raise _err(where, "choices", f"a single-choice question needs exactly one correct option, has {n_correct}")
    if qtype == "multi" and n_correct < 1:
        raise _err(where, "choices", "a multiple-select question needs at least one correct option")
    if len(out) > 26:
        raise _err(where, "choices", "at most 26 options (lettered A-Z)")
    return tuple(out)


def _params(d: Mapping, where: str) -> tuple[Param, ...]:
    raw = d.get("params", {})
    if not isinstance(raw, Mapping):
        raise _err(where, "params", "must map parameter names to {values: [...]} or {range: [start, stop, step]}")
    out = []
    for name, spec in raw.items():
        field = f"params.{name}"
        if not isinstance(name, str) or not name.isidentifier():
            raise _err(where, field, "parameter names must be identifiers")
        if isinstance(spec, list):
            spec = {"values": spec}
        if not isinstance(spec, Mapping) or len(spec) != 1 or not ({"values", "range"} & set(spec)):
            raise _err(where, field, "must be {values: [...]} or {range: [start, stop, step]}")
        if "values" in spec:
            values = spec["values"]
            if not isinstance(values, list) or not values:
                raise _err(where, field + ".values", "must be a non-empty list of numbers")
            values = [_number(v, where, field + ".values") for v in values]
        else:
            r = spec["range"]
            if not (isinstance(r, list) and len(r) == 3 and all(isinstance(v, int) and not isinstance(v, bool)
                                                                  for v in r) and r[2] > 0 and r[0] <= r[1]):
                raise _err(where, field + ".range", "must be [start, stop, step] integers, stop inclusive")
            values = list(range(r[0], r[1] + 1, r[2]))
        out.append(Param(name, tuple(values)))
    return tuple(out)


def _numeric(d: Mapping, where: str, params: tuple[Param, ...]) -> NumericKey:
    has_answer, has_formula = "answer" in d, "formula" in d
    if has_answer == has_formula:
        raise _err(where, "answer", "a numeric question needs exactly one of 'answer' or 'formula'")
    value = formula = None
    if has_answer:
        value = _number(d["answer"], where, "answer")
        if params:
            raise _err(where, "params", "parameters need a 'formula' key, not a fixed 'answer'")
    else:
        formula = d["formula"]
        try:
            used = fx.names(formula)
        except fx.FormulaError as exc:
            raise _err(where, "formula", str(exc)) from None
        missing = used - {p.name for p in params}
        if missing:
            raise _err(where, "formula", f"uses {sorted(missing)[0]!r}, which is not in params")
        for combo in _corners(params):
            try:
                fx.evaluate(formula, combo)
            except fx.FormulaError as exc:
                raise _err(where, "formula", f"{exc} (with {combo})") from None
    tol = _number(d.get("tolerance", 0), where, "tolerance", minimum=0)
    rel = _number(d.get("rel_tolerance", 0), where, "rel_tolerance", minimum=0)
    unit = _text(d, "unit", where, required=False)
    return NumericKey(value, formula, float(tol), float(rel), unit)


def _corners(params: tuple[Param, ...]) -> list[dict[str, float]]:
    """First, last and every value of each parameter against the others' first values."""
    base = {p.name: p.values[0] for p in params}
    out = [dict(base)]
    for p in params:
        for v in p.values:
            out.append({**base, p.name: v})
    return out


def _check_placeholders(text: str, names: set[str], where: str, field: str) -> None:
    for name in _PLACEHOLDER_RE.findall(text):
        if name not in names:
            raise _err(where, field, f"placeholder {{{name}}} is not a parameter")


def _check_echo(rubric: Rubric, prompt: str, where: str) -> None:
    for kp_id, phrase in echoed_phrases(rubric, _PLACEHOLDER_RE.sub(" ", prompt))[:1]:
        raise _err(where, f"rubric.{kp_id}", f"phrase {phrase!r} occurs in the prompt, "
                   "so it can never earn credit (the echo rule): use a phrase that shows understanding")


def question_from_dict(d: Any, where: str, *, parent: str | None = None) -> Question:
    """Validate one question mapping (``where`` names the file) and build a :class:`Question`."""
    if not isinstance(d, Mapping):
        raise SpecError(f"{where}: each question must be a mapping")
    qid = d.get("id")
    if not isinstance(qid, str) or not _ID_RE.fullmatch(qid):
        raise SpecError(f"{where}: question id {qid!r}: must be lower case letters, digits, '-', '_' or '.'")
    at = f"{where}: {qid}"
    qtype = d.get("type")
    if qtype not in QUESTION_TYPES:
        raise _err(at, "type", f"must be one of {', '.join(QUESTION_TYPES)}, got {qtype!r}")
    unknown = sorted(set(map(str, d)) - _COMMON - _BY_TYPE[qtype])
    if unknown:
        raise _err(at, unknown[0], f"is not a field of a {qtype} question")
    difficulty = d.get("difficulty")
    if difficulty not in DIFFICULTIES:
        raise _err(at, "difficulty", f"must be one of {', '.join(DIFFICULTIES)}, got {difficulty!r}")
    prompt = _text(d, "prompt", at)
    points = _number(d.get("points", DEFAULT_POINTS[qtype]), at, "points", minimum=0.5)
    fields: dict[str, Any] = {}
    names: set[str] = set()
    if qtype in ("single", "multi"):
        fields["choices"] = _choices(d, at, qtype)
        shuffle = d.get("shuffle", True)
        if not isinstance(shuffle, bool):
            raise _err(at, "shuffle", "must be true or false")
        fields["shuffle"] = shuffle
    elif qtype == "numeric":
        fields["params"] = _params(d, at)
        fields["numeric"] = _numeric(d, at, fields["params"])
        names = {p.name for p in fields["params"]}
    else:
        if "rubric" not in d:
            raise _err(at, "rubric", "is required for short and interview questions")
        rubric = Rubric.from_dict(d["rubric"], where=f"{at}: rubric")
        _check_echo(rubric, prompt, at)
        fields["rubric"] = rubric
        fields["model_answer"] = _text(d, "model_answer", at)
    _check_placeholders(prompt, names, at, "prompt")
    explanation = _text(d, "explanation", at)
    _check_placeholders(explanation, names | {"answer"}, at, "explanation")
    follow_raw = d.get("follow_ups", [])
    if not isinstance(follow_raw, list):
        raise _err(at, "follow_ups", "must be a list of questions")
    if follow_raw and parent is not None:
        raise _err(at, "follow_ups", "a follow-up cannot have follow-ups of its own")
    follow = tuple(question_from_dict(f, where, parent=qid) for f in follow_raw)
    optional = d.get("optional", False)
    if not isinstance(optional, bool):
        raise _err(at, "optional", "must be true or false")
    if optional and parent is None:
        raise _err(at, "optional", "only follow-ups can be optional")
    fields["optional"] = optional
    return Question(id=qid, type=qtype, topic=_text(d, "topic", at), difficulty=difficulty, prompt=prompt,
                    explanation=explanation, source=_text(d, "source", at), points=float(points),
                    follow_ups=follow, parent=parent, **fields)


def quiz_from_dict(d: Any, where: str) -> Quiz:
    """Validate a whole quiz mapping (``where`` is the file name) and build a :class:`Quiz`."""
    if not isinstance(d, Mapping):
        raise SpecError(f"{where}: top level must be a mapping with id, title, questions")
    unknown = sorted(set(map(str, d)) - {"id", "title", "description", "questions", "pools", "shuffle_questions"})
    if unknown:
        raise SpecError(f"{where}: unknown field {unknown[0]!r}")
    qz_id = d.get("id")
    if not isinstance(qz_id, str) or not _ID_RE.fullmatch(qz_id):
        raise SpecError(f"{where}: id: must be lower case letters, digits, '-', '_' or '.', got {qz_id!r}")
    raw = d.get("questions")
    if not isinstance(raw, list) or not raw:
        raise SpecError(f"{where}: questions: must be a non-empty list")
    questions = tuple(question_from_dict(q, where) for q in raw)
    seen: set[str] = set()
    for q in questions:
        for x in (q, *q.follow_ups):
            if x.id in seen:
                raise SpecError(f"{where}: {x.id}: id is used twice")
            seen.add(x.id)
    pools = []
    raw_pools = d.get("pools", [])
    if not isinstance(raw_pools, list):
        raise SpecError(f"{where}: pools: must be a list of {{topic, draw}}")
    for i, p in enumerate(raw_pools):
        if not isinstance(p, Mapping) or set(p) != {"topic", "draw"}:
            raise SpecError(f"{where}: pools[{i}]: must be a mapping with exactly 'topic' and 'draw'")
        count = sum(q.topic == p["topic"] for q in questions)
        if count == 0:
            raise SpecError(f"{where}: pools[{i}].topic: no question has topic {p['topic']!r}")
        draw = p["draw"]
        if isinstance(draw, bool) or not isinstance(draw, int) or not 1 <= draw <= count:
            raise SpecError(f"{where}: pools[{i}].draw: must be an integer from 1 to {count}, got {draw!r}")
        if any(x.topic == p["topic"] for x in pools):
            raise SpecError(f"{where}: pools[{i}].topic: {p['topic']!r} has two pools")
        pools.append(Pool(p["topic"], draw))
    shuffle = d.get("shuffle_questions", False)
    if not isinstance(shuffle, bool):
        raise SpecError(f"{where}: shuffle_questions: must be true or false")
    return Quiz(id=qz_id, title=_text(d, "title", where), description=_text(d, "description", where,
                required=False), questions=questions, pools=tuple(pools), shuffle_questions=shuffle,
                path=where)
