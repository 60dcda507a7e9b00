"""What every export needs: the instances to write for each question, and rubric summaries."""
from __future__ import annotations

from dlgrade.quiz.spec import Question, Quiz
from dlgrade.quiz.variant import Instance, make_instance, student_seed

EXPORT_SEED_ID = "dlgrade-export"


def variants(question: Question, count: int) -> list[Instance]:
    """Fixed instances of ``question`` for an LMS, choices in bank order.

    A question without parameters has one instance. A parameterised one gets
    ``count`` distinct parameter draws (fewer if there are fewer combinations);
    the first always uses the first value of every parameter.
    """
    if not question.params:
        return [make_instance(question, 0, values={}, shuffle=False)]
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
    return out


def named_instances(quiz: Quiz, topic: str, n_variants: int):
    """``(question, instance, name)`` for every question of ``topic``, its follow-ups and their
    variants, in bank order; a variant's name is ``<id>-v<k>``."""
    for q in quiz.questions:
        if q.topic != topic:
            continue
        for fq in (q, *q.follow_ups):
            insts = variants(fq, n_variants)
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
