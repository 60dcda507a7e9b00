"""Bulk grading, composed: the steps every submission goes through, and the batch around them.

Per submission, in order (each step is a function ``step(job, grading, worker)``
in its own module)::

    load_notebook -> sanitize_notebook -> execute_notebook -> run_tests
                  -> collect_figures -> score_submission

then the main thread writes the result (``results/<name>.json``, journaled).
When the batch is done, the reports (gradebook CSV, feedback and summary HTML)
are rebuilt from all results. Outputs go to ``<out>/<exercise id>/``, so one
``out`` folder holds several exercises.

Parallel workers, devices and the progress bar: :mod:`.run_workers`.
"""
from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from dlgrade.errors import DlgradeError, SpecError, SubmissionError
from dlgrade.grade.collect_figures import collect_figures
from dlgrade.grade.execute_notebook import execute_notebook
from dlgrade.grade.job import Grading, Job, SubmissionFile
from dlgrade.grade.journal import Journal, remove_temporary
from dlgrade.atomic import write_atomic
from dlgrade.grade.keys import grader_version, grading_secret
from dlgrade.grade.late_policy import SUBMITTED_AT, check_times, load_policy, unmatched_times
from dlgrade.grade.load_submissions import Found, find_submissions, load_notebook
from dlgrade.grade.run_cluster import run_batch_cluster
from dlgrade.grade.run_tests import run_tests
from dlgrade.grade.run_workers import default_worker_factory, hidden_paths, plan_devices, progress_bar, run_batch
from dlgrade.grade.sanitize_notebook import sanitize_notebook
from dlgrade.grade.score import score_submission
from dlgrade.grade.write_reports import Reports, write_reports
from dlgrade.harness.context import load_trusted
from dlgrade.harness.course import find_course
from dlgrade.harness.notebook import read_notebook
from dlgrade.harness.questions import QuestionResult, load_questions
from dlgrade.names import readable
from dlgrade.sandbox.limits import Limits

log = logging.getLogger(__name__)

SANDBOXES = ("bwrap", "none", "auto")
"""``bwrap``: the bubblewrap sandbox, required (grading stops, saying why, where it cannot start);
``none``: no isolation at all (student code runs with the grader's rights; the results say so);
``auto``: the same as ``bwrap`` (it never falls back to ``none``)."""
STEPS = (load_notebook, sanitize_notebook, execute_notebook, run_tests, collect_figures, score_submission)
"""What happens to each submission, in order."""


@dataclass(frozen=True)
class BatchSummary:
    """What one ``grade`` call did."""

    exercise: str
    profile: str
    out: Path
    """The exercise's output folder (``<out>/<exercise id>``)."""
    students: int
    submissions: int
    """Notebook files found (more than ``students`` when there are duplicates)."""
    graded: int
    """Submissions graded by this call."""
    resumed: int
    """Submissions already in the journal, not graded again."""
    statuses: dict = field(default_factory=dict)
    """Submission status -> count (graded, unreadable, not_run, grader_error)."""
    duplicates: dict = field(default_factory=dict)
    """Student id -> their files, for students with more than one file."""
    needs_review: tuple[str, ...] = ()
    """Student ids with at least one item an instructor should look at."""
    ignored: tuple[str, ...] = ()
    """Input files left out, with the reason."""
    identity: tuple[str, ...] = ()
    """Student ids to check: look-alikes of other ids, file names that are not UTF-8 or name another student
    than the notebook's metadata (see :mod:`.check_ids`)."""
    mean_percent: float = 0.0
    isolation: str = ""
    seconds: float = 0.0
    timings: dict = field(default_factory=dict)
    """Seconds of the batch's own work in this process: ``results`` (writing each result and its journal
    line) and ``reports`` (gradebook, feedback pages and summary, rebuilt at the end)."""
    gradebook: Path | None = None
    summary: Path | None = None

    def describe(self) -> str:
        """A few lines for the terminal."""
        lines = [f"{self.exercise} ({self.profile}): {self.students} student(s), {self.submissions} file(s); "
                 f"graded {self.graded}, resumed {self.resumed} in {self.seconds:.1f} s; "
                 f"mean {self.mean_percent:.1f}%"]
        odd = {k: v for k, v in self.statuses.items() if k != "graded"}
        if odd:
            lines.append("  " + ", ".join(f"{v} {k}" for k, v in sorted(odd.items())))
        if self.duplicates:
            lines.append(f"  {len(self.duplicates)} student(s) with several files (no score until resolved): "
                         + ", ".join(self.duplicates))
        if self.needs_review:
            lines.append(f"  {len(self.needs_review)} student(s) with answers to review")
        if self.ignored:
            lines.append(f"  {len(self.ignored)} input file(s) ignored (see the summary)")
        if self.identity:
            lines.append(f"  {len(self.identity)} student id(s) to check (look-alike ids, file names that are not "
                         f"UTF-8 or disagree with the metadata; see the summary): "
                         + ", ".join(map(repr, self.identity[:5])))
        if self.isolation:
            lines.append(f"  isolation: {self.isolation}")
        if self.isolation.startswith("none"):
            lines.append("  UNSANDBOXED: the notebooks ran with your own rights (--sandbox none)")
        lines.append(f"  gradebook: {self.gradebook}\n  summary:   {self.summary}")
        return "\n".join(lines)


def main(paths, *, exercise: str, profile: str = "quick", workers: int | None = None,
         out: Path = Path("dlgrade-out"), regrade: bool = False, course: str | Path | None = None,
         progress: bool = True, device: str = "auto", gpu_jobs: int = 1, sandbox: str = "bwrap",
         only: tuple[str, ...] = (), cluster: str | None = None, resources: dict | None = None,
         submitted_at: Path | None = None, worker_factory: Callable | None = None) -> BatchSummary:
    """Grade the notebooks under ``paths`` for ``exercise``; outputs in ``out/<exercise>/``.

    Several exercises: one call each with the same ``out`` (each gets its own
    folder and gradebook). ``regrade`` grades everything again (otherwise what
    the journal has is kept). ``only``: student ids to grade again (nothing
    else is graded; the reports still cover the whole class). ``submitted_at``: a CSV of student ids
    and submission times for the late policy (kept in the output folder; see :mod:`.late_policy`).
    ``sandbox``: see :data:`SANDBOXES`
    (student code never runs unsandboxed unless "none" is asked for). ``worker_factory`` (default: the sandboxed
    :class:`dlgrade.sandbox.Worker`) is called with the Worker's keyword
    arguments; tests pass a stand-in. ``cluster``: a Dask scheduler address or ``local:N``
    (:mod:`.run_cluster`); ``resources``: the Dask worker resources each submission asks for
    (``{"GPU": 1}``).
    """
    start = time.perf_counter()
    if sandbox not in SANDBOXES:
        raise DlgradeError(f"unknown sandbox {sandbox!r}: use {', '.join(SANDBOXES)}")
    grading = prepare(exercise, profile=profile, out=out, course=course)
    out = Path(out)
    times = check_times(Path(submitted_at)) if submitted_at is not None else None
    found = find_submissions(paths, inputs_dir=out / "inputs")
    if times is not None:
        write_atomic(grading.out / SUBMITTED_AT, times)
        unmatched = unmatched_times(Path(submitted_at), {f.student_id for f in found.files})
        if unmatched:
            log.warning("%s: %d row(s) name no submission among the inputs, and are not used (first: %s)",
                        readable(str(submitted_at)), len(unmatched), ", ".join(unmatched[:3]))
    journal = Journal(grading.out / "journal.jsonl")
    remove_temporary(grading.out)
    keys = set() if regrade else journal.keys()
    only = set(only or ())
    missing = sorted(only - {f.student_id for f in found.files})
    if missing:
        raise DlgradeError(f"--only {missing[0]}: no submission of this student among the inputs",
                           hint="use the student ids of gradebook.csv's student_id column")
    todo = [f for f in found.files if (f.student_id in only if only else
                                       regrade or not journal.is_done(grading, f, keys))]
    log.info("%s: %d submission(s), %d to grade", grading.exercise.id, len(found.files), len(todo))
    isolation = ""
    timings = {"results": 0.0}
    if todo:
        factory = worker_factory or default_worker_factory()
        devices = plan_devices(workers, device, gpu_jobs, len(todo))
        # The worker loads the profile's datasets once, before forking a process per submission.
        grading.out.mkdir(parents=True, exist_ok=True)  # it must exist to be hidden from the sandbox
        options = {"course_root": grading.exercise.root, "preload": tuple(grading.profile.data.items()),
                   "sandbox": sandbox, "hidden_paths": hidden_paths(paths, out, grading.exercise.root),
                   "threads": grading.profile.threads, "limits": profile_limits(grading), "huge_pages": True}
        with progress_bar(progress, len(todo), grading.exercise.id) as advance:
            def finish(job: Job) -> None:
                nonlocal isolation
                t0 = time.perf_counter()
                journal.record(grading, job.item, job.record)
                timings["results"] += time.perf_counter() - t0
                isolation = isolation or job.isolation
                advance()

            if cluster:
                spec = {"exercise": exercise, "profile": profile, "out": str(out.resolve()),
                        "course": str(grading.exercise.root)}
                run_batch_cluster(todo, address=cluster, spec=spec, factory=factory, options=options,
                                  device=device, resources=resources, on_done=finish)
            else:
                run_batch(todo, functools.partial(grade_one, grading=grading), devices=devices,
                          gpu_jobs=gpu_jobs, factory=factory, options=options, on_done=finish)
    t0 = time.perf_counter()
    reports = write_reports(grading, found)
    timings["reports"] = time.perf_counter() - t0
    isolation = isolation or next((r["isolation"] for r in reports.records.values() if r), "")
    return _summary(grading, reports.found, reports, graded=len(todo), isolation=isolation,
                    seconds=time.perf_counter() - start, timings=timings)


def prepare(exercise: str, *, profile: str, out: Path, course=None) -> Grading:
    """Everything a batch of ``exercise`` is graded with; SpecError when the exercise is incomplete."""
    ex = find_course(course).exercise(exercise)
    prof = ex.profile(profile)
    try:
        template = read_notebook(ex.template_path)
    except SubmissionError as exc:
        raise SpecError(f"template notebook of '{ex.id}': {exc}", hint=f"run: dlgrade assign {ex.id}") from None
    questions = tuple(q for q in load_questions(ex.tests_path) if not q.public)
    if not questions:
        raise SpecError(f"{ex.tests_path}: no graded questions")
    load_policy(ex)  # a broken late policy stops here, before any grading
    secret = grading_secret(ex)
    return Grading(ex, prof, questions, template, secret, grader_version(ex, secret), Path(out) / ex.id,
                   data_provenance(prof))


def profile_limits(grading: Grading) -> Limits:
    """The resource limits of the profile (exercise.yaml), on top of the grader's defaults."""
    given = grading.profile.limits
    names = {"memory_mb": "memory_bytes", "processes": "processes", "cpu_seconds": "cpu_seconds"}
    values = {names[k]: (v << 20 if k == "memory_mb" else v) for k, v in given.items() if k in names}
    try:
        return Limits(**values)
    except ValueError as exc:
        raise SpecError(f"{grading.exercise.spec_dir / 'exercise.yaml'}: profiles.{grading.profile.name}: {exc}") \
            from None


def data_provenance(profile) -> dict:
    """For each dataset of ``profile``: its options, and the source the grader loaded it from."""
    out = {}
    for name, options in sorted(profile.data.items()):
        info = load_trusted(name, options).info
        out[name] = {"options": dict(options), "source": info.source, "location": info.location,
                     "description": info.description}
    return out


def grade_one(item: SubmissionFile, worker, *, grading: Grading) -> Job:
    """Run :data:`STEPS` on one submission. Only known errors of the set-up (a broken exercise spec,
    a sandbox that cannot start: :class:`DlgradeError`) escape; they stop the batch."""
    job = Job(item)
    start = time.perf_counter()
    try:
        for step in STEPS:
            t0 = time.perf_counter()
            step(job, grading, worker)
            job.timings[step.__name__] = time.perf_counter() - t0
    except DlgradeError:
        raise
    except Exception as exc:  # noqa: BLE001 - one broken submission never stops the batch
        log.exception("grading %s failed", item.origin)
        job.problem = {"kind": "grader_error",
                       "message": f"the grader failed on this notebook ({type(exc).__name__}: {exc})"[:500]}
        done = {r.id for r in job.results}
        job.results += [QuestionResult(q.id, q.title, q.points, 0.0, (), {"kind": "not_run", "message":
                        "not graded: the grader failed"}, needs_review=True)
                        for q in grading.questions if q.id not in done]
        try:
            score_submission(job, grading, worker)
        except Exception:  # noqa: BLE001 - the same notebook broke the record: keep it without what it holds
            log.debug("recording %s failed; recorded without its answers and code", item.origin, exc_info=True)
            job.nb = None
            score_submission(job, grading, worker)
    finally:
        if job.sub is not None and hasattr(job.sub, "close"):
            t0 = time.perf_counter()
            try:
                job.sub.close()
            except Exception as exc:  # noqa: BLE001 - the result is already computed
                log.warning("%s: graded (the result is kept), but ending its process failed: %s: %s",
                            item.origin, type(exc).__name__, exc)
                log.debug("closing the submission of %s failed", item.origin, exc_info=True)
            job.timings["close"] = time.perf_counter() - t0
    job.record["timings"] = {k: round(v, 3) for k, v in job.timings.items()} | {
        "total": round(time.perf_counter() - start, 3)}
    return job


def _summary(grading: Grading, found: Found, reports: Reports, *, graded: int, isolation: str,
             seconds: float, timings: dict | None = None) -> BatchSummary:
    records = [r for r in reports.records.values() if r is not None]
    statuses: dict[str, int] = {}
    for r in records:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    single = [r for r in records if r["student_id"] not in found.duplicates]
    mean = sum(r["percent"] for r in single) / len(single) if single else 0.0
    return BatchSummary(
        grading.exercise.id, grading.profile.name, grading.out,
        students=len({f.student_id for f in found.files}), submissions=len(found.files),
        graded=graded, resumed=len(found.files) - graded, statuses=statuses,
        duplicates=dict(found.duplicates),
        needs_review=tuple(sorted({r["student_id"] for r in records if r["needs_review"]
                                   and r["student_id"] not in found.duplicates})),
        ignored=found.ignored, identity=tuple(sorted({f.student_id for f in found.files if f.notes})),
        mean_percent=round(mean, 2), isolation=isolation, seconds=seconds,
        timings={k: round(v, 3) for k, v in (timings or {}).items()},
        gradebook=reports.gradebook, summary=reports.summary)
