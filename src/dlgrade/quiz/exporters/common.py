"""What every export needs: the instances to write for each question, and rubric summaries.

**Choice order.** A file every student shares (an LMS import, the handout
without a student id) cannot be shuffled per student, so its order must not
give the key away either: :func:`export_order` spreads the correct option of
the single-choice questions evenly over the letters (a seeded schedule, so the
same bank always gives the same file), and multiple-select options are in a
seeded order. Questions marked ``shuffle: false`` keep the bank's order. LMS
formats also set the LMS's own shuffle flag, so each student sees another
order there.
"""
from __future__ import annotations

from dataclasses import replace

from dlgrade.quiz.spec import Question, Quiz
from dlgrade.quiz.variant import Instance, make_instance, seeded_order, student_seed

EXPORT_SEED_ID = "dlgrade-export"


def export_order(quiz: Quiz) -> dict[str, int]:
    """Question id -> the letter index (0 = A) at which each single-choice question's key is written.

    Letters are dealt in seeded rounds of A, B, C, D, ... over the questions in bank order, so
    the keys spread evenly; a question with fewer options takes the index modulo its size.
    """
    seed = student_seed(EXPORT_SEED_ID, quiz.id)
    singles = [q for q in quiz.all_questions() if q.type == "single" and q.shuffle]
    width = max((len(q.choices) for q in singles), default=1)
    out: dict[str, int] = {}
    for start in range(0, len(singles), width):
        letters = seeded_order(seed, f"round\x1f{start}", list(range(width)))
        for q, letter in zip(singles[start:start + width], letters):
            out[q.id] = letter % len(q.choices)
    return out


def arrange(inst: Instance, seed: int, key_at: int | None) -> Instance:
    """``inst`` with its options in a seeded order; for single choice, the key moved to ``key_at``."""
    q = inst.question
    if not inst.choices or not q.shuffle:
        return inst
    choices = seeded_order(seed, f"export\x1f{q.id}", list(q.choices))
    if key_at is not None and q.type == "single":
        right = next(c for c in choices if c.correct)
        others = [c for c in choices if c is not right]
        choices = others[:key_at] + [right] + others[key_at:]
    return replace(inst, choices=tuple(choices))


def variants(question: Question, count: int, *, key_at: int | None = None) -> list[Instance]:
    """Fixed instances of ``question`` for an export, options arranged by :func:`arrange`.

    A question without parameters has one instance. A parameterised one gets
    ``count`` distinct parameter draws (fewer if there are fewer combinations);
    the first always uses the first value of every parameter.
    """
    seed = student_seed(EXPORT_SEED_ID, question.id)
    if not question.params:
        return [arrange(make_instance(question, 0, values={}, shuffle=False), seed, key_at)]
    first = {p.name: p.values[0] for p in question.params}
    out = [make_instance(question, 0, values=first, shuffle=False)]
    seen = {tuple(sorted(first.items()))}
    for k in range(count * 20):
        if len(out) >= count:
            break
        inst = make_instance(question, student_seed(f"v{k}", EXPORT_SEED_ID), shuffle=False)
        sig = tuple(sorted(inst.values.items()))
        if sig not in seen:
            seen.add(sig)
            out.append(inst)
    return [arrange(i, seed, key_at) for i in out]


def named_instances(quiz: Quiz, topic: str, n_variants: int):
    """``(question, instance, name)`` for every question of ``topic``, its follow-ups and their
    variants, in bank order; a variant's name is ``<id>-v<k>``."""
    order = export_order(quiz)
    for q in quiz.questions:
        if q.topic != topic:
            continue
        for fq in (q, *q.follow_ups):
            insts = variants(fq, n_variants, key_at=order.get(fq.id))
            for k, inst in enumerate(insts, 1):
                yield fq, inst, (fq.id if len(insts) == 1 else f"{fq.id}-v{k}")


def pooled(quiz: Quiz) -> dict[str, int]:
    """Topic -> how many of its questions each student draws."""
    return {p.topic: p.draw for p in quiz.pools}


def plain_phrases(question: Question) -> list[str] | None:
    """Accepted phrasings of a short question that an LMS can match as text, or None.

    Only a rubric with one key point, no extra groups, and phrases without
    ``|`` or ``*`` syntax qualifies; anything else is exported as an essay.
    """
    r = question.rubric
    if question.type != "short" or r is None or len(r.key_points) != 1:
        return None
    kp = r.key_points[0]
    if kp.requires_all or any("|" in p or "*" in p for p in kp.phrases):
        return None
    return list(kp.phrases)


def rubric_lines(question: Question) -> list[str]:
    """The rubric as plain lines (for grader information and answer keys)."""
    r = question.rubric
    if r is None:
        return []
    total = r.total_weight
    lines = [f"{kp.title} ({kp.weight:g}/{total:g}): {'; '.join(kp.phrases)}"
             + (f" AND each of: {' / '.join('|'.join(g) for g in kp.requires_all)}" if kp.requires_all else "")
             for kp in r.key_points]
    if r.min_words:
        lines.append(f"Expect at least {r.min_words} words.")
    if r.contradictions:
        lines.append(f"Misconceptions (-{r.contradiction_penalty:.0%} each): {'; '.join(r.contradictions)}")
    return lines
