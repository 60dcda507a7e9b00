"""Unpacking a zip of submissions (as downloaded from an LMS) without trusting it.

Only ``.ipynb`` members are written, as plain files flattened into one folder
(``dir/sub/x.ipynb`` becomes ``dir__sub__x.ipynb``), so no member can land
outside it: absolute paths, ``..`` and links are never followed. Sizes are
counted while reading, not taken from the zip's header, so a zip bomb stops at
the cap.
"""
from __future__ import annotations

import re
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path

from dlgrade.errors import SubmissionError

MAX_MEMBER_BYTES = 64 << 20
"""Largest notebook accepted from a zip (uncompressed)."""
MAX_TOTAL_BYTES = 2 << 30
"""Largest total of notebooks accepted from one zip (uncompressed)."""
MAX_MEMBERS = 20_000
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


@dataclass(frozen=True)
class Unpacked:
    """What came out of a zip."""

    files: tuple[tuple[Path, str], ...]
    """(extracted file, member name in the zip) for each notebook."""
    ignored: tuple[str, ...]
    """Members left out, each with the reason."""


def flat_name(member: str) -> str:
    """The member's path as one safe file name (``a/b.ipynb`` -> ``a__b.ipynb``)."""
    parts = [p for p in member.replace("\\", "/").split("/") if p not in ("", ".", "..")]
    safe = [_UNSAFE.sub("_", p).strip(" ") or "_" for p in parts]
    return "__".join(safe)[-200:] or "member"


def unpack_zip(path: Path, dest: Path) -> Unpacked:
    """Extract the notebooks of zip ``path`` into folder ``dest`` by the rules above."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SubmissionError(f"{path}: not a readable zip file ({exc})") from None
    files, ignored, total = [], [], 0
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise SubmissionError(f"{path}: {len(members)} members; at most {MAX_MEMBERS} are accepted")
        dest.mkdir(parents=True, exist_ok=True)
        taken: set[str] = set()
        for info in sorted(members, key=lambda m: m.filename):
            name = info.filename
            mode = info.external_attr >> 16
            if info.is_dir():
                continue
            if stat.S_ISLNK(mode):
                ignored.append(f"{name}: a link, not a file")
                continue
            base = name.replace("\\", "/").rsplit("/", 1)[-1]
            if not name.lower().endswith(".ipynb") or base.startswith(".") or "__MACOSX/" in name \
                    or ".ipynb_checkpoints/" in name:
                ignored.append(f"{name}: not a notebook")
                continue
            target = flat_name(name)
            if target in taken:
                ignored.append(f"{name}: same name as another member after flattening")
                continue
            try:
                data = _read_capped(archive, info, MAX_MEMBER_BYTES)
            except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError, EOFError) as exc:
                ignored.append(f"{name}: cannot be read from the zip ({exc})")
                continue
            if data is None:
                ignored.append(f"{name}: larger than {MAX_MEMBER_BYTES >> 20} MiB")
                continue
            total += len(data)
            if total > MAX_TOTAL_BYTES:
                raise SubmissionError(f"{path}: more than {MAX_TOTAL_BYTES >> 30} GiB of notebooks")
            taken.add(target)
            out = dest / target
            if not (out.is_file() and out.read_bytes() == data):
                out.write_bytes(data)
            files.append((out, name))
    return Unpacked(tuple(files), tuple(ignored))


def _read_capped(archive: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes | None:
    """The member's bytes, or None when it inflates past ``cap``."""
    chunks, size = [], 0
    with archive.open(info) as fh:
        while block := fh.read(1 << 20):
            size += len(block)
            if size > cap:
                return None
            chunks.append(block)
    return b"".join(chunks)
