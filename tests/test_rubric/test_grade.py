"""The rubric contract shared with the notebook exercises (dlgrade.rubric.grade)."""
from __future__ import annotations

import dataclasses
import inspect

import pytest

from dlgrade.errors import SpecError
from dlgrade.rubric.grade import KeyPoint, Rubric, RubricResult, grade_text, load_rubrics

RUBRIC = Rubric.from_dict({
    "min_words": 8,
    "contradictions": ["always better"],
    "key_points": [
        {"id": "linear", "weight": 1, "phrases": ["linear decision boundary", "straight line", "hyperplane"]},
        {"id": "xor", "weight": 2, "phrases": ["not linearly separable"]},
        {"id": "hidden", "phrases": ["hidden layer", "nonlinear*"]},
    ]})
PROMPT = "Why can't a single-layer perceptron solve XOR?"


def test_public_signatures_match_the_contract():
    """Do load_rubrics, grade_text and the dataclasses have the agreed shapes?"""
    assert list(inspect.signature(load_rubrics).parameters) == ["path"]
    params = inspect.signature(grade_text).parameters
    assert list(params)[:2] == ["rubric", "text"] and params["prompt"].kind is inspect.Parameter.KEYWORD_ONLY
    for cls in (KeyPoint, Rubric, RubricResult):
        assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen
    assert {f.name for f in dataclasses.fields(RubricResult)} >= {"score", "found", "missing", "needs_review", "reasons"}


def test_full_answer_scores_one_and_lists_found_points():
    """Does an answer making every point get 1.0 with all ids found, in rubric order?"""
    r = grade_text(RUBRIC, "A perceptron draws a straight line, but XOR is not linearly separable; "
                           "a hidden layer fixes it.", prompt=PROMPT)
    assert r.score == 1.0 and r.found == ["linear", "xor", "hidden"] and r.missing == []
    assert not r.needs_review


def test_partial_credit_follows_weights():
    """Is the score the found share of the total weight (2 of 4 here)?"""
    r = grade_text(RUBRIC, "The two classes of XOR are not linearly separable, so it fails on them.")
    assert r.score == pytest.approx(0.5) and r.found == ["xor"] and r.missing == ["linear", "hidden"]


def test_robust_to_case_punctuation_and_plurals():
    """Do 'HIDDEN-LAYERS', 'Hyperplanes' and 'NOT linearly SEPARABLE!!' still match?"""
    r = grade_text(RUBRIC, "HYPERPLANES only: the data are NOT linearly SEPARABLE!! Use hidden-layers.")
    assert r.found == ["linear", "xor", "hidden"]


def test_echo_of_the_prompt_earns_nothing():
    """Does an answer that merely repeats the question score 0 (with a reason), even with a key word?"""
    r = grade_text(RUBRIC, "A single-layer perceptron can't solve XOR.", prompt=PROMPT)
    assert r.score == 0 and "repeats the question" in r.reasons[0]


def test_phrases_present_in_the_prompt_never_earn_credit():
    """Is a key phrase that the prompt already contains ignored when it appears in the answer?"""
    rubric = Rubric.from_dict({"key_points": [{"id": "p", "phrases": ["hidden layer"]},
                                              {"id": "q", "phrases": ["nonlinear activation"]}]})
    text = "You need a hidden layer here, it really helps the network a lot in practice."
    assert grade_text(rubric, text).found == ["p"]
    assert grade_text(rubric, text, prompt="Why does a hidden layer help?").found == []


def test_keyword_list_is_capped_and_flagged():
    """Is a bare list of rubric terms capped at 25% and flagged for review?"""
    r = grade_text(RUBRIC, "hyperplane, not linearly separable, hidden layer, nonlinearity, straight line, XOR")
    assert r.score == pytest.approx(0.25) and r.needs_review
    assert any("keyword list" in x for x in r.reasons)


def test_contradiction_costs_points_and_flags():
    """Does a stated misconception subtract the penalty and flag the answer?"""
    r = grade_text(RUBRIC, "A perceptron draws a straight line and is always better than an MLP for XOR.")
    assert r.score == 0.0 and r.needs_review and any("misconception" in x for x in r.reasons)


def test_long_on_topic_answer_with_no_point_is_flagged():
    """Is a long answer that uses the topic's words but hits no key point sent to review?"""
    text = ("The perceptron computes a weighted sum of its inputs and applies a step, and for the XOR "
            "problem the weights and the line keep moving during training because the points cannot be split apart")
    r = grade_text(RUBRIC, text)
    assert r.score == 0 and r.needs_review


def test_grading_is_deterministic():
    """Does the same input always give the same result?"""
    text = "It is a linear decision boundary; XOR is not linearly separable."
    assert grade_text(RUBRIC, text, prompt=PROMPT) == grade_text(RUBRIC, text, prompt=PROMPT)


@pytest.mark.parametrize("bad,field", [
    ({}, "key_points"),
    ({"key_points": [{"id": "a"}]}, "phrases"),
    ({"key_points": [{"id": "a", "phrases": ["x"], "weight": -1}]}, "weight"),
    ({"key_points": [{"id": "a", "phrases": "x"}]}, "phrases"),
    ({"key_points": [{"id": "a", "phrases": ["x"]}, {"id": "a", "phrases": ["y"]}]}, "used twice"),
    ({"key_points": [{"id": "a", "phrases": ["x"]}], "min_words": "ten"}, "min_words"),
    ({"key_points": [{"id": "a", "phrases": ["x"], "wieght": 2}]}, "wieght"),
])
def test_invalid_rubrics_name_where_and_field(bad, field):
    """Does each malformed rubric raise SpecError naming the location and the field?"""
    with pytest.raises(SpecError) as err:
        Rubric.from_dict(bad, where="ex.yaml: q1")
    assert "ex.yaml: q1" in str(err.value) and field in str(err.value)


def test_load_rubrics_reads_a_file_and_names_file_and_question_in_errors(tmp_path):
    """Does load_rubrics map ids to Rubrics, and point at file + id when one is broken?"""
    good = tmp_path / "rubrics.yaml"
    good.write_text("q1:\n  key_points:\n    - {id: a, phrases: [gradient descent]}\n")
    rubrics = load_rubrics(good)
    assert set(rubrics) == {"q1"} and grade_text(rubrics["q1"], "we use gradient descent").score == 1
    bad = tmp_path / "bad.yaml"
    bad.write_text("q1:\n  key_points: []\n")
    with pytest.raises(SpecError, match=r"bad\.yaml: q1"):
        load_rubrics(bad)
    with pytest.raises(SpecError, match="not found"):
        load_rubrics(tmp_path / "missing.yaml")
    (tmp_path / "broken.yaml").write_text("q1: [unclosed\n")
    with pytest.raises(SpecError, match="not valid YAML"):
        load_rubrics(tmp_path / "broken.yaml")


# ---------------------------------------------------------------- claims, relations, clauses

def _claims_rubric(**kp_over) -> Rubric:
    return Rubric.from_dict({"claims": True, "key_points": [
        {"id": "dropout", "phrases": ["dropout"]},
        {"id": "decay", "phrases": ["weight decay"]},
        {"id": "memorise", "phrases": ["memori*"]},
        {"id": "scale", "phrases": ["different scale*"], "requires_all": [["gradient*", "learning rate"]],
         "same_sentence": True, **kp_over}]})


def test_keyword_stuffing_written_as_sentences_is_capped_and_flagged():
    """Do terms named in empty sentences ("X is something to think about") earn a quarter and a review flag?"""
    text = ("I believe dropout is something to think about. Weight decay is also important. Memorisation plays "
            "a role here. Different scales and gradients are relevant too.")
    result = grade_text(_claims_rubric(), text)
    assert result.score == pytest.approx(0.25) and result.needs_review and not result.found
    assert any("without saying anything" in r for r in result.reasons)


def test_the_same_terms_stated_as_claims_earn_full_credit():
    """Do the same terms in sentences that say something (because, so, than, imperatives) earn everything?"""
    text = ("The model memorised the training data, so I would add dropout and use weight decay. Features on "
            "different scales give gradients of very different size, which a single learning rate cannot handle.")
    result = grade_text(_claims_rubric(), text)
    assert result.score == 1 and not result.needs_review, result.reasons


def test_focus_constructions_and_comparisons_are_claims():
    """Are "what matters is X" and "X matters more than Y" statements rather than empty sentences?"""
    rubric = _claims_rubric()
    assert grade_text(rubric, "What matters here is dropout.").found == ["dropout"]
    assert grade_text(rubric, "Dropout matters more than weight decay.").found == ["dropout", "decay"]


def test_same_sentence_requires_the_relation_not_scattered_words():
    """Does a same_sentence point need its phrase and its group in one sentence?"""
    rubric = _claims_rubric()
    apart = "The features have different scales. Separately, I would tune the learning rate."
    together = "Features on different scales need different learning rates."
    assert "scale" not in grade_text(rubric, apart).found
    assert "scale" in grade_text(rubric, together).found
    with pytest.raises(SpecError, match="same_sentence"):
        Rubric.from_dict({"key_points": [{"id": "x", "phrases": ["a"], "same_sentence": True}]})


def test_a_negation_does_not_reach_past_its_clause_in_claims_rubrics():
    """Is "it does not generalise (overfitting)" credited for overfitting, while "not overfitting" is not?"""
    rubric = Rubric.from_dict({"claims": True, "key_points": [{"id": "over", "phrases": ["overfit*"]}]})
    assert grade_text(rubric, "It does not generalise (overfitting, high variance).").found == ["over"]
    assert grade_text(rubric, "It is not overfitting at all.").found == []


def test_every_exercise_rubric_resists_stuffing_as_sentences():
    """For each exercise's written question, does naming every key point in empty sentences earn <= 30%?"""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "autograder"
    checked = 0
    for path in sorted(root.glob("*/rubrics.yaml")):
        for qid, rubric in load_rubrics(path).items():
            terms = []
            for kp in rubric.key_points:
                phrase = (kp.phrases or kp.requires_all[0])[0]
                terms.append(" ".join(re.sub(r"\*", "", w.split("|")[0]) for w in phrase.split()))
            text = " ".join(f"I believe {t} is something to think about." if i % 2 == 0 else
                            f"{t.capitalize()} is also important here." for i, t in enumerate(terms))
            result = grade_text(rubric, text)
            assert rubric.claims and result.score <= 0.3 and result.needs_review, (path.parent.name, qid, text)
            checked += 1
    assert checked >= 5


def test_harness_and_rubric_engine_do_not_import_the_quiz_stage():
    """Does grading a written answer in the harness load dlgrade.rubric without importing dlgrade.quiz?"""
    import subprocess
    import sys

    code = ("import sys, dlgrade.harness.short_answer, dlgrade.rubric, dlgrade.rubric.semantic; "
            "from dlgrade.rubric import grade_text, load_rubrics; "
            "print(sorted(m for m in sys.modules if m.startswith('dlgrade.quiz')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_sentences_split_as_before_in_one_pass_over_long_runs():
    """Are answers split into sentences at . ! ? ; : line breaks and spaced dashes as before, and are a long
    run of spaces or thousands of sentences (a student's answer) handled without quadratic work?"""
    import re

    from dlgrade.rubric.claims import _BOUNDARY, _SENTENCE_RE, Span, sentences

    old = re.compile(r"(?<=[.!?;:])\s+|\n+|\s+-\s+")
    for text in ("XOR is not separable. A line - or a plane - cannot split it!\n\nSo: add a layer; done?  Yes",
                 "a  -  b", " - leading", "trailing - ", "x -y", "x- y", "1.5 - 2", "tabs\t-\tdash"):
        assert _SENTENCE_RE.split(text) == old.split(text), text
    long_run = "XOR is not linearly separable" + " " * 200_000 + "x"
    assert _SENTENCE_RE.split(long_run) == [long_run]
    many = sentences("a b. " * 30_000)
    joined = Span.join(many)
    assert len(many) == 30_000 and len(joined.toks) == len(joined.raw) == 2 * 30_000 + 29_999 * len(_BOUNDARY)
    assert joined.raw[:2 + len(_BOUNDARY) + 2] == ["a", "b", *_BOUNDARY, "a", "b"]
