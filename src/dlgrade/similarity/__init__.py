"""Similar submissions: code and written answers compared across a graded batch, question by question.

``main(exercise, out=...)`` reads the results ``dlgrade grade`` wrote in
``<out>/<exercise>/results/``, compares every pair of submissions through an
inverted index of fingerprints (:mod:`.find_pairs`), and writes
``similarity.html`` (ranked pairs per question, side by side, shared regions
highlighted; groups of three or more) and ``similarity.csv`` (pair scores) next
to the gradebook. A flagged pair is a reason to look, not evidence.

Steps: :mod:`.load_work` (answers per question, what is excluded) ->
:mod:`.normalise_code` / :mod:`.shingle_text` -> :mod:`.fingerprint` ->
:mod:`.find_pairs` -> :mod:`.cluster_pairs` -> :mod:`.write_report`.
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

from dlgrade.harness.course import find_course
from dlgrade.similarity.cluster_pairs import clusters
from dlgrade.similarity.find_pairs import (Pair, Settings, boilerplate_prints, code_docs, score_pairs,
                                           text_docs)
from dlgrade.similarity.load_work import Layout, Work, read_layout, read_works

__all__ = ["Comparison", "Settings", "compare", "main"]


@dataclass(frozen=True)
class Comparison:
    """Every question's scored pairs for one batch."""

    exercise: str
    works: list[Work]
    pairs: dict[str, list[Pair]]
    """Question -> pairs sharing enough fingerprints to be scored, flagged first, best first."""
    kinds: dict[str, str]
    """Question -> ``code`` or ``text``."""
    groups: list[list[int]]
    """Submissions linked by flagged pairs (any question), at least ``settings.min_cluster`` of them."""
    settings: Settings
    seconds: float = 0.0
    html: Path | None = None
    csv: Path | None = None

    def flagged(self, question: str | None = None) -> list[Pair]:
        questions = [question] if question else list(self.pairs)
        return [p for q in questions for p in self.pairs.get(q, []) if p.flagged]

    def flagged_keys(self) -> set[tuple[str, str]]:
        """Flagged pairs as sorted pairs of result keys, any question."""
        return {tuple(sorted((self.works[p.a].key, self.works[p.b].key))) for p in self.flagged()}

    def describe(self) -> str:
        """A few lines for the terminal."""
        lines = [f"{self.exercise}: {len(self.works)} submission(s) compared in {self.seconds:.1f} s; "
                 f"{len(self.flagged_keys())} pair(s) flagged, {len(self.groups)} group(s) of "
                 f"{self.settings.min_cluster} or more"]
        for q, pairs in self.pairs.items():
            flagged = [p for p in pairs if p.flagged]
            if flagged:
                top = ", ".join(f"{self.works[p.a].student_id} + {self.works[p.b].student_id} ({p.score:.0%})"
                                for p in flagged[:5])
                more = f", and {len(flagged) - 5} more" if len(flagged) > 5 else ""
                lines.append(f"  {q} ({self.kinds[q]}): {len(flagged)} pair(s): {top}{more}")
        for group in self.groups:
            lines.append("  group: " + ", ".join(self.works[i].student_id for i in group))
        lines.append("  a flagged pair is a reason to look, not evidence")
        if self.html:
            lines.append(f"  report: {self.html}\n  scores: {self.csv}")
        return "\n".join(lines)


def compare(works: list[Work], layout: Layout, *, exercise: str = "", settings: Settings = Settings()) -> Comparison:
    """Score every pair of ``works`` on every question of ``layout``."""
    start = time.perf_counter()
    ignore = boilerplate_prints(layout, settings)
    pairs, kinds = {}, {}
    for q in layout.code_questions:
        kinds[q] = "code"
        pairs[q] = score_pairs(code_docs(works, q, layout, settings, ignore), question=q, kind="code",
                               ignore=ignore, settings=settings, n_works=len(works))
    for q in layout.text_questions:
        kinds[q] = "text"
        pairs[q] = score_pairs(text_docs(works, q, layout, settings), question=q, kind="text", ignore=set(),
                               settings=settings, n_works=len(works))
    # Two files of one student (a resubmission) are not a pair to look at.
    pairs = {q: [p for p in ps if works[p.a].student_id != works[p.b].student_id] for q, ps in pairs.items()}
    links = [(p.a, p.b) for ps in pairs.values() for p in ps if p.flagged]
    return Comparison(exercise, works, pairs, kinds, clusters(links, min_size=settings.min_cluster), settings,
                      seconds=time.perf_counter() - start)


def main(exercise: str, *, out: Path = Path("dlgrade-out"), course: str | Path | None = None,
         code_threshold: float = Settings.code_threshold, text_threshold: float = Settings.text_threshold,
         write: bool = True) -> Comparison:
    """Compare the graded submissions of ``exercise`` in ``out/<exercise>/``; writes the HTML and CSV reports.

    ``code_threshold`` / ``text_threshold``: the share of the smaller answer's
    fingerprints two answers must share to be flagged.
    """
    from dlgrade.similarity.write_report import write_csv, write_html

    start = time.perf_counter()
    ex = find_course(course).exercise(exercise)
    layout = read_layout(ex.template_path, ex.solution_path)
    folder = Path(out) / ex.id
    works = read_works(folder / "results", ex.id, layout)
    settings = dataclasses.replace(Settings(), code_threshold=code_threshold, text_threshold=text_threshold)
    result = compare(works, layout, exercise=ex.id, settings=settings)
    if write:
        html, csv = write_html(result, folder / "similarity.html"), write_csv(result, folder / "similarity.csv")
        result = dataclasses.replace(result, html=html, csv=csv)
    return dataclasses.replace(result, seconds=time.perf_counter() - start)
