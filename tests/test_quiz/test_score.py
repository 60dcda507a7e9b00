"""Scoring one response (dlgrade.quiz.score): choices, partial credit, numbers, open answers."""
from __future__ import annotations

import pytest

from dlgrade.quiz.parse import question_from_dict
from dlgrade.quiz.score import ResponseError, parse_number, score_response
from dlgrade.quiz.variant import make_instance

from .conftest import interview, multi, numeric, single


def _inst(d, **kw):
    return make_instance(question_from_dict(d, "test.yaml"), 0, shuffle=False, **kw)


@pytest.mark.parametrize("response,fraction", [
    ("A,C", 1.0), ("a; c", 1.0), ("C", 0.5), ("A,B,C", 0.5), ("A,B,C,D", 0.0), ("B,D", 0.0), ("B", 0.0)])
def test_multi_select_partial_credit_is_right_minus_wrong(response, fraction):
    """Is multi-select credit max(0, (right - wrong) / number right), as documented?"""
    fb = score_response(_inst(multi()), response)
    assert fb.points == pytest.approx(2 * fraction)


def test_single_choice_accepts_letter_or_text_and_rejects_two_letters():
    """Does a single-choice answer work as a letter or the option text, and is 'A,B' refused with a reason?"""
    inst = _inst(single())
    assert score_response(inst, "b").points == 1
    assert score_response(inst, "Second").points == 1
    fb = score_response(inst, "A,B")
    assert fb.points == 0 and "more than one" in fb.reasons[0]
    assert score_response(inst, "Z").points == 0


def test_options_written_out_as_an_lms_reports_them_are_read():
    """A responses report from an LMS writes the chosen options' texts, several joined by '; ' or line breaks:
    are they read like letters, whatever the case, spacing and final full stop?"""
    inst = _inst(multi(choices=[{"text": "Weight sharing: one filter everywhere.", "correct": True},
                                {"text": "w1"}, {"text": "Locality, small kernels", "correct": True},
                                {"text": "w2"}]))
    assert score_response(inst, "Weight sharing: one filter everywhere.; Locality, small kernels").points == 2
    assert score_response(inst, "weight sharing:  one filter everywhere\nLocality, small kernels.").points == 2
    assert score_response(inst, "Weight sharing: one filter everywhere.; w1").points == 0
    assert score_response(_inst(single()), "Second.").points == 1
    fb = score_response(_inst(single()), "first; second")
    assert fb.points == 0 and "more than one" in fb.reasons[0]


def test_an_answer_that_cannot_be_read_is_flagged_for_review_not_only_scored_zero():
    """An answer in a format the grader does not read (a JSON list, an option that is not one) scores 0: is
    it flagged for an instructor, with the reason, so that it is not taken for a wrong answer?"""
    for inst, response in ((_inst(single()), '["A", "B"]'), (_inst(multi()), "Q"),
                           (_inst(numeric(), values={"a": 2, "b": 20}), "twenty-two")):
        fb = score_response(inst, response)
        assert fb.points == 0 and fb.needs_review, response
        assert fb.reasons[0].startswith("the answer could not be read: "), fb.reasons
    right = score_response(_inst(single()), "B")
    wrong = score_response(_inst(single()), "A")
    assert not right.needs_review and not wrong.needs_review


@pytest.mark.parametrize("text,value", [("535,818", 535818), ("535 818", 535818), ("1.5e8", 1.5e8),
                                        ("150 million", 150e6), ("15.3%", 15.3), ("-2", -2), ("0.75.", 0.75)])
def test_numbers_are_read_as_students_write_them(text, value):
    """Are separators, exponents, 'million' and a trailing % understood?"""
    assert parse_number(text) == pytest.approx(value)


def test_garbage_is_not_a_number():
    """Is a non-number reported, not silently scored?"""
    with pytest.raises(ResponseError):
        parse_number("about five")


def test_numeric_key_is_computed_from_the_students_values_within_tolerance():
    """Is the numeric key the formula at the student's values, with the tolerance applied?"""
    inst = _inst(numeric(tolerance=0.5), values={"a": 2, "b": 20})
    assert inst.key == 22 and "2 + 20" in inst.prompt and "= 22" in inst.explanation
    assert score_response(inst, "22.4").points == 1
    assert score_response(inst, "23").points == 0


def test_open_answer_lists_found_and_missing_key_points():
    """Does an interview answer get the rubric fraction and name what was found and missed?"""
    fb = score_response(_inst(interview()), "My cats purr all evening when they are happy and calm.")
    assert fb.points == pytest.approx(2.5)
    assert fb.found == ["purr"] and fb.missing == ["bark"] and fb.model_answer


def test_empty_response_is_reported_as_not_answered():
    """Is a blank answer scored 0 and marked unanswered (not silently skipped)?"""
    fb = score_response(_inst(single()), "  ")
    assert fb.points == 0 and not fb.answered and "Not answered" in fb.verdict


def test_percent_sign_means_hundredths_unless_the_unit_is_percent():
    """Is '80%' read as 0.8 for a fraction question but as 80 for a question in %?"""
    def fixed(**over):
        d = {k: v for k, v in numeric(params={}, explanation="see notes", **over).items() if k != "formula"}
        return _inst(d)

    frac = fixed(answer=0.8, tolerance=0.005, prompt="What fraction?")
    pct = fixed(answer=80, unit="%", prompt="What percentage?")
    assert score_response(frac, "80%").points == 1 and score_response(frac, "0.8").points == 1
    assert score_response(pct, "80%").points == 1 and score_response(pct, "80").points == 1
