"""Student ids an instructor should look at before trusting the gradebook.

Two kinds of notes, attached to the submissions (``SubmissionFile.notes``) and
shown in the gradebook (``needs_review`` says ``identity``) and on the summary
page:

* **look-alike ids**: ``bоb`` (with a Cyrillic ``о``) and ``bob`` are different
  rows of the gradebook but look the same to a reader. Ids are compared by a
  skeleton (Unicode NFKC, case folded, invisible characters removed, common
  Cyrillic and Greek look-alikes mapped to Latin letters); ids that share a
  skeleton are noted, and so is an id that mixes Latin letters with look-alikes
  or contains invisible characters even when nothing else in the batch looks
  like it.
* **conflicts**: the file name names one student and the notebook's metadata
  (``metadata.dlgrade.student_id``) another.

Notes never change whose submission a file is: the rule of
:mod:`.load_submissions` decides that; the notes only say what to check.
"""
from __future__ import annotations

import unicodedata
from collections import defaultdict
from dataclasses import replace

from dlgrade.grade.job import SubmissionFile

LOOK_ALIKES = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
    "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "ԁ": "d", "ӏ": "l", "ԛ": "q",
    "ԝ": "w", "ү": "y", "һ": "h", "ɡ": "g",
    # Greek
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t",
    "υ": "u", "χ": "x", "ω": "w", "ϲ": "c", "ϳ": "j",
    # Latin letters that read as others
    "ı": "i", "ℓ": "l",
}
"""Lower-case characters (after NFKC and case folding) that read as a Latin letter."""


def _invisible(ch: str) -> bool:
    return unicodedata.category(ch) in ("Cf", "Cc", "Zl", "Zp") or ch in "\u115f\u1160\u3164\uffa0"


def skeleton(student_id: str) -> str:
    """What ``student_id`` looks like: NFKC, case folded, invisible characters removed, look-alikes mapped."""
    text = unicodedata.normalize("NFKC", student_id).casefold()
    return "".join(LOOK_ALIKES.get(ch, ch) for ch in text if not _invisible(ch)).strip()


def _odd_characters(student_id: str) -> list[str]:
    """Invisible characters, and look-alikes when the id also has Latin letters: ``U+043E CYRILLIC SMALL LETTER O``."""
    text = unicodedata.normalize("NFKC", student_id)
    latin = any("a" <= ch <= "z" for ch in text.casefold())
    odd = []
    for ch in dict.fromkeys(text):
        if _invisible(ch) or (latin and ch.casefold() in LOOK_ALIKES
                              and not unicodedata.name(ch, "").startswith("LATIN")):
            odd.append(f"U+{ord(ch):04X} {unicodedata.name(ch, 'unnamed character')}")
    return odd


def check_ids(files: list[SubmissionFile]) -> list[SubmissionFile]:
    """``files`` with notes about look-alike ids added (conflicts are noted when a file is identified)."""
    by_skeleton: dict[str, set[str]] = defaultdict(set)
    for f in files:
        by_skeleton[skeleton(f.student_id)].add(f.student_id)
    out = []
    for f in files:
        notes = list(f.notes)
        others = sorted(by_skeleton[skeleton(f.student_id)] - {f.student_id})
        odd = _odd_characters(f.student_id)
        if others:
            notes.append(f"student id {f.student_id!r} looks like {', '.join(map(repr, others))}, another row of "
                         f"this gradebook" + (f" (it contains {', '.join(odd)})" if odd else ""))
        elif odd:
            notes.append(f"student id {f.student_id!r} contains characters that look like others or cannot be "
                         f"seen: {', '.join(odd)}")
        out.append(replace(f, notes=tuple(notes)) if notes != list(f.notes) else f)
    return out


def conflict_note(file_id: str, id_source: str, metadata_id: str | None, used: str) -> str | None:
    """A note when the file name (``file_id``, from ``id_source``) and the metadata name different students."""
    if metadata_id is None or metadata_id == file_id:
        return None
    return (f"the file name ({id_source}) says student {file_id!r} but the notebook's metadata says "
            f"{metadata_id!r}; graded as {used!r}")
