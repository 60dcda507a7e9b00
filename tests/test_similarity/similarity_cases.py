"""A labelled set of copied and independent submissions, generated from each exercise's samples and mutants.

**Bases** (independent authors): the reference solution, every sample in
``autograder/<ex>/samples``, and the reference with each single-bug mutant of
``autograder/<ex>/mutants.yaml`` applied. What a base wrote itself is
the code of the questions where it has passages found neither in the template
nor in the reference (those are excluded by design: they are what every
solution contains).

**Copies**: each base with its own code, transformed the way copiers do:
renamed variables, reordered functions, changed comments and whitespace, split
and merged cells, a few edits, and all of these at once.

**Labels** of a pair: a copy with its base or with another copy of it must be
flagged (when the base has code that no other base has); two submissions from
different bases whose own code lies in different questions are independent and
must not be. Pairs of bases with their own code in the same question (two
students who made the same mistake on the same line) are not labelled either way.

Written answers are labelled separately: each distinct answer in the samples
is a base; copies change case, punctuation and spacing, reorder the sentences,
or swap a few words; different answers are independent.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from dlgrade.harness.course import find_course
from dlgrade.harness.notebook import code_cells, read_notebook, short_answers
from dlgrade.similarity.load_work import Layout, Work, read_layout, top_level, work_from_record
from dlgrade.similarity.find_pairs import Settings, boilerplate_prints
from dlgrade.similarity.fingerprint import kgram_hashes
from dlgrade.similarity.normalise_code import normalise
from dlgrade.similarity.shingle_text import content_words, vocabulary

ROOT = Path(__file__).resolve().parents[2]
AUTOGRADER = ROOT / "autograder"
EXERCISES = sorted(p.parent.name for p in (ROOT / "autograder").glob("*/exercise.yaml"))
CODE_TRANSFORMS = ("rename", "reorder", "comments", "split_merge", "edits", "all")
TEXT_TRANSFORMS = ("case", "reorder", "words", "all")
OWN_K, OWN_MIN = 8, 3
"""A base wrote code of its own in a question when at least ``OWN_MIN`` runs of ``OWN_K`` normalised tokens
there are found neither in the template nor in the reference nor in another base (else a copy of it cannot be
told from them, or from another student who made the same change)."""
MIN_WORDS = 8
"""Written answers with fewer content words are too short to tell a copy from a coincidence."""
_NAME = re.compile(r"(?<![.\w])([A-Za-z_]\w*)\b")


@dataclass
class Case:
    """One exercise's labelled set."""

    exercise: str
    kind: str
    """``code`` or ``text``."""
    layout: Layout
    works: list[Work] = field(default_factory=list)
    origin: list[str] = field(default_factory=list)
    """Per work: the base it comes from."""
    own: dict[str, frozenset] = field(default_factory=dict)
    """Base -> the questions where it wrote code no other base has (or the written question, for text bases):
    its copies are labelled."""
    wrote: dict[str, frozenset] = field(default_factory=dict)
    """Base -> the questions where it has any code not in the template or the reference (code sets only)."""
    bases: dict[str, list[dict]] = field(default_factory=dict)
    """Base -> its code cells (code sets only)."""
    unmeasurable: int = 0
    """Copies of bases with nothing of their own to compare (code only from the template or the reference,
    a written answer of a few words): not labelled, by design."""

    def populations(self) -> list[list[int]]:
        """Classes to compare, each pair of works in exactly one: the bases alone, then the bases with the
        copies of one base (a class with one group of copiers, as in a real course)."""
        bases = [i for i, w in enumerate(self.works) if w.key == self.origin[i]]
        out = [bases]
        for name in dict.fromkeys(self.origin):
            copies = [i for i, w in enumerate(self.works) if self.origin[i] == name and w.key != name]
            if copies:
                out.append(bases + copies)
        return out

    def counted(self, i: int, j: int, population: int) -> bool:
        """Whether pair (i, j) is counted in population number ``population`` (0: the bases alone)."""
        is_base = [self.works[x].key == self.origin[x] for x in (i, j)]
        return all(is_base) if population == 0 else not all(is_base)

    def label(self, i: int, j: int) -> bool | None:
        """True: a copy; False: independent; None: not labelled."""
        a, b = self.origin[i], self.origin[j]
        if a == b:
            return True if self.own[a] else None
        if self.kind == "text":
            return False  # different authors answering the same question
        return False if not self.wrote[a] & self.wrote[b] else None


def cells_of(nb) -> list[dict]:
    return [{"index": c.index, "cell_id": c.cell_id, "role": c.role, "source": c.source} for c in code_cells(nb)]


def code_case(exercise: str, *, seed: int = 0) -> Case:
    ex = find_course(ROOT).exercise(exercise)
    layout = read_layout(ex.template_path, ex.solution_path)
    reference = read_notebook(ex.solution_path)
    bases = {"reference": cells_of(reference)}
    for path in sorted(ex.samples_dir.glob("*.ipynb")):
        bases[f"sample:{path.stem}"] = cells_of(read_notebook(path))
    for mutant in yaml.safe_load((AUTOGRADER / exercise / "mutants.yaml").read_text(encoding="utf-8")) or []:
        bases[f"mutant:{mutant['name']}"] = apply_edit(bases["reference"], mutant["find"], mutant["replace"],
                                                       mutant.get("cell"))
    case = Case(exercise, "code", layout, bases=bases)
    boilerplate = boilerplate_prints(layout, Settings(k=OWN_K))
    rng = random.Random(seed)
    grams = {name: {q: {h for ts in runs for h in kgram_hashes(ts, OWN_K)} - boilerplate
                    for q, runs in question_tokens(cells, layout).items()} for name, cells in bases.items()}
    for name, cells in bases.items():
        others = set().union(*(g for other, qs in grams.items() if other != name for g in qs.values()))
        case.own[name] = frozenset(q for q, g in grams[name].items() if len(g - others) >= OWN_MIN)
        case.wrote[name] = frozenset(q for q, g in grams[name].items() if g)
        own_grams = set().union(*(g - others for g in grams[name].values()))
        case.works.append(work(name, cells, layout))
        case.origin.append(name)
        for t in CODE_TRANSFORMS:
            copy = transform_code(cells, t, layout, rng)
            # A copy whose edits removed what its base alone wrote (a one-line deletion, edited over)
            # shares nothing distinctive with it any more: not a copy that can be told from the others.
            kept = {h for runs in question_tokens(copy, layout).values() for ts in runs
                    for h in kgram_hashes(ts, OWN_K)} & own_grams
            if not case.own[name] or len(kept) < OWN_MIN:
                case.unmeasurable += 1
                continue
            case.works.append(work(f"{name}~{t}", copy, layout))
            case.origin.append(name)
    return case


def text_case(exercise: str, *, seed: int = 0) -> Case:
    ex = find_course(ROOT).exercise(exercise)
    layout = read_layout(ex.template_path, ex.solution_path)
    answers: dict[str, tuple[str, str]] = {}
    for path in [ex.solution_path] + sorted(ex.samples_dir.glob("*.ipynb")):
        for q, text in short_answers(read_notebook(path)).items():
            if text and "Write your answer here" not in text and text not in {a for _, a in answers.values()}:
                answers[f"{path.stem}:{q}"] = (q, text)
    case = Case(exercise, "text", layout)
    rng = random.Random(seed)
    for name, (q, text) in answers.items():
        enough = len(content_words(text, exclude=vocabulary(layout.prompts.get(q, "")))) >= MIN_WORDS
        case.own[name] = frozenset({q}) if enough else frozenset()
        case.unmeasurable += 0 if enough else len(TEXT_TRANSFORMS)
        versions = [(name, text)] + [(f"{name}~{t}", transform_text(text, t, rng)) for t in TEXT_TRANSFORMS]
        for key, body in versions:
            case.works.append(work_from_record(key, {"student_id": key, "code": [], "answers": {q: body}}, layout))
            case.origin.append(name)
    return case


def work(key: str, cells: list[dict], layout: Layout) -> Work:
    return work_from_record(key, {"student_id": key, "code": cells, "answers": {}}, layout)


def question_tokens(cells: list[dict], layout: Layout) -> dict[str, list[list[str]]]:
    """Question -> the normalised tokens of each of its top-level statements."""
    w = work("probe", cells, layout)
    return {q: [[t.text for t in normalise(w.cells[c.cell], keep=layout.keep) if c.first <= t.line <= c.last]
                for c in chunks] for q, chunks in w.code.items()}


def apply_edit(cells: list[dict], find: str, replace: str, cell_id: str | None) -> list[dict]:
    out, done = [], False
    for c in cells:
        c = dict(c)
        if not done and find in c["source"] and (cell_id is None or c["cell_id"] == cell_id):
            c["source"] = c["source"].replace(find, replace, 1)
            done = True
        out.append(c)
    if not done:
        raise ValueError(f"mutant text not found: {find!r}")
    return out


# --- code transforms ---------------------------------------------------------------------------------------

def transform_code(cells: list[dict], kind: str, layout: Layout, rng: random.Random) -> list[dict]:
    cells = [dict(c) for c in cells]
    steps = CODE_TRANSFORMS[:-1] if kind == "all" else (kind,)
    for step in steps:
        cells = globals()[f"_code_{step}"](cells, layout, rng)
    return cells


def _answers(cells):
    return [c for c in cells if c["role"] in ("answer", None)]


def _code_rename(cells, layout, rng):
    chosen = set()
    for c in _answers(cells):
        for m in _NAME.finditer(_strip_strings(c["source"])):
            chosen.add(m.group(1))
    import builtins
    import keyword

    fixed = set(layout.keep) | set(dir(builtins)) | set(keyword.kwlist) | set(keyword.softkwlist)
    names = sorted(n for n in chosen if n not in fixed and not _is_attribute_only(n, cells))
    mapping = {n: f"{n[0]}{rng.randrange(10, 99)}_{'abcdefgh'[rng.randrange(8)]}" for n in names}
    for c in _answers(cells):
        c["source"] = _NAME.sub(lambda m: mapping.get(m.group(1), m.group(1)), c["source"])
    return cells


def _is_attribute_only(name, cells) -> bool:
    text = "\n".join(c["source"] for c in _answers(cells))
    return not re.search(rf"(?<![.\w]){re.escape(name)}\b", text)


def _strip_strings(source: str) -> str:
    return re.sub(r'("""|\'\'\')[\s\S]*?\1|"[^"\n]*"|\'[^\'\n]*\'', '""', source)


def _code_reorder(cells, layout, rng):
    for c in _answers(cells):
        statements = top_level(c["source"])
        if len(statements) < 2:
            continue
        lines = c["source"].splitlines()
        blocks = ["\n".join(lines[first - 1:last]) for _, first, last in statements]
        c["source"] = "\n\n".join(reversed(blocks)) + "\n"
    return cells


def _code_comments(cells, layout, rng):
    for c in _answers(cells):
        out = []
        for line in c["source"].splitlines():
            code = re.sub(r"\s+#.*$", "", line) if '"' not in line and "'" not in line else line
            if code.strip().startswith("#"):
                continue
            code = re.sub(r",(?=\S)", ", ", code.replace(" = ", "  =  ")).rstrip()
            out.append(code)
            if rng.random() < 0.3 and code.strip():
                indent = code[:len(code) - len(code.lstrip())]
                out.append(f"{indent}# step {rng.randrange(100)}")
            if rng.random() < 0.2:
                out.append("")
        c["source"] = "# my solution\n" + "\n".join(out) + "\n"
    return cells


def _code_split_merge(cells, layout, rng):
    out, merged = [], False
    answer_positions = [i for i, c in enumerate(cells) if c["role"] == "answer"]
    for i, c in enumerate(cells):
        statements = top_level(c["source"]) if c["role"] in ("answer", None) else []
        if len(statements) >= 2 and not merged:
            lines = c["source"].splitlines()
            cut = statements[1][1] - 1
            out.append(dict(c, source="\n".join(lines[:cut]) + "\n"))
            out.append({"index": c["index"], "cell_id": f"new-{i}", "role": None, "source": "\n".join(lines[cut:])})
            continue
        out.append(c)
    # Merge: the last answer cell's code moves into the one before it (the check cell between stays).
    if len(answer_positions) >= 2:
        last, before = cells[answer_positions[-1]], cells[answer_positions[-2]]
        target = next(c for c in out if c["cell_id"] == before["cell_id"])
        source = next(c for c in out if c["cell_id"] == last["cell_id"])
        target["source"] = target["source"].rstrip("\n") + "\n\n" + source["source"]
        source["source"] = ""
    for n, c in enumerate(out):
        c["index"] = n
    return out


def _code_edits(cells, layout, rng):
    answers = [c for c in _answers(cells) if c["source"].strip()]
    for _ in range(3):
        if not answers:
            break
        c = rng.choice(answers)
        lines = c["source"].splitlines()
        body = [i for i, line in enumerate(lines) if line.startswith("    ") and line.strip()
                and not line.rstrip().endswith(":") and not line.strip().startswith(("#", '"', "'"))]
        if not body:
            continue
        i = rng.choice(body)
        indent = lines[i][:len(lines[i]) - len(lines[i].lstrip())]
        names = _NAME.findall(_strip_strings(lines[i])) or ["x"]
        v = rng.choice(names)
        shapes = [f"print({v!r}, {v})", f"assert {v} is not None", f"{v}_copy = {v}", f"print(len(str({v})))",
                  f"if {v} is None:\n{indent}    {v} = {rng.randrange(9)}", f"_ = {v}"]
        choice = rng.randrange(len(shapes) + 1)
        if choice < len(shapes):
            lines.insert(i + rng.randrange(2), indent + shapes[choice])
        else:
            lines[i] = lines[i].replace(" + ", " - ", 1) if " + " in lines[i] else lines[i] + "  # changed"
        c["source"] = "\n".join(lines) + "\n"
    return cells


# --- text transforms ---------------------------------------------------------------------------------------

SYNONYMS = {"because": "since", "only": "just", "single": "one", "so": "thus", "can": "could", "no": "not any",
            "line": "boundary", "model": "network", "gets": "reaches", "makes": "renders", "layer": "stage"}


def transform_text(text: str, kind: str, rng: random.Random) -> str:
    steps = TEXT_TRANSFORMS[:-1] if kind == "all" else (kind,)
    for step in steps:
        if step == "case":
            text = re.sub(r"\s+", "  ", text.lower()).replace(",", " ,").replace(".", " !")
        elif step == "reorder":
            sentences = [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]
            text = " ".join(reversed(sentences))
        elif step == "words":
            words = text.split(" ")
            places = [i for i, w in enumerate(words) if w.lower().strip(",.") in SYNONYMS]
            for i in rng.sample(places, min(3, len(places))):
                words[i] = SYNONYMS[words[i].lower().strip(",.")]
            text = " ".join(words)
    return text
