"""Unpacking a zip of submissions (as downloaded from an LMS) without trusting it.

Only ``.ipynb`` members are written, as plain files flattened into one folder
(``dir/sub/x.ipynb`` becomes ``dir__sub__x.ipynb``), so no member can land
outside it: absolute paths, ``..`` and links are never followed. Two members
that flatten to one name are both kept (the later one gets ``-2``).

Sizes are checked from the zip's central directory before anything is
written: a member larger than :data:`MAX_MEMBER_BYTES` is left out, and a zip
whose notebooks add up to more than :data:`MAX_TOTAL_BYTES` is refused whole
(its other notebooks are not graded; nothing of it stays on disk). Python's
zip reader never inflates a member past the size the central directory
declares (a member that lies fails its CRC check and is left out), and the
bytes are counted while reading as well.
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
    """Extract the notebooks of zip ``path`` into folder ``dest`` by the rules above.

    SubmissionError (naming the zip) when the zip cannot be read or its notebooks
    are too large in all; then nothing of it is left in ``dest``.
    """
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise SubmissionError(f"{path}: not a readable zip file ({exc})") from None
    with archive:
        members = archive.infolist()
        for info in members:
            info.filename = _utf8_name(info)
        if len(members) > MAX_MEMBERS:
            raise SubmissionError(f"{path}: {len(members)} members; at most {MAX_MEMBERS} are accepted")
        wanted, ignored = _plan(members)
        declared = sum(info.file_size for info in wanted)
        if declared > MAX_TOTAL_BYTES:
            raise SubmissionError(f"{path}: its notebooks would unpack to {declared >> 20} MiB; at most "
                                  f"{MAX_TOTAL_BYTES >> 20} MiB are accepted from one zip (nothing was extracted)")
        dest.mkdir(parents=True, exist_ok=True)
        created: list[Path] = []
        try:
            files = _extract(archive, wanted, dest, ignored, created)
        except OSError as exc:
            for out in created:
                out.unlink(missing_ok=True)
            _remove_if_empty(dest)
            raise SubmissionError(f"{path}: could not be unpacked into {dest} ({exc.strerror or exc})") from None
    _remove_if_empty(dest)
    return Unpacked(tuple(files), tuple(ignored))


def _utf8_name(info: zipfile.ZipInfo) -> str:
    """The member's name. Zip tools on Linux and macOS write UTF-8 names without the flag that says so, and
    Python then reads them as cp437 (``müller`` as ``m├╝ller``): such a name that is valid UTF-8 is read
    as UTF-8. (Reading a member still uses the name as stored.)"""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def _plan(members: list[zipfile.ZipInfo]) -> tuple[list[zipfile.ZipInfo], list[str]]:
    """The members to extract, and those left out with the reason, judged from the central directory."""
    wanted, ignored = [], []
    for info in sorted(members, key=lambda m: m.filename):
        name = info.filename
        if info.is_dir():
            continue
        if stat.S_ISLNK(info.external_attr >> 16):
            ignored.append(f"{name}: a link, not a file")
            continue
        base = name.replace("\\", "/").rsplit("/", 1)[-1]
        if not name.lower().endswith(".ipynb") or base.startswith(".") or "__MACOSX/" in name \
                or ".ipynb_checkpoints/" in name:
            ignored.append(f"{name}: not a notebook")
            continue
        if info.file_size > MAX_MEMBER_BYTES:
            ignored.append(f"{name}: larger than {MAX_MEMBER_BYTES >> 20} MiB")
            continue
        wanted.append(info)
    return wanted, ignored


def _extract(archive: zipfile.ZipFile, wanted, dest: Path, ignored: list[str],
             created: list[Path]) -> list[tuple[Path, str]]:
    """Write ``wanted`` into ``dest``; two members that flatten to one name are both kept (the later one
    gets ``-2``, ``-3``, ... before ``.ipynb``). Files this call creates are added to ``created``."""
    files, taken = [], set()
    for info in wanted:
        name = info.filename
        try:
            data = _read_capped(archive, info, MAX_MEMBER_BYTES)
        except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError, EOFError, ValueError) as exc:
            ignored.append(f"{name}: cannot be read from the zip ({exc})")
            continue
        if data is None:
            ignored.append(f"{name}: larger than {MAX_MEMBER_BYTES >> 20} MiB")
            continue
        target = flat_name(name)
        stem, suffix = target[:-len(".ipynb")], target[-len(".ipynb"):]
        n = 1
        while target.casefold() in taken:
            n += 1
            target = f"{stem}-{n}{suffix}"
        taken.add(target.casefold())
        out = dest / target
        if not (out.is_file() and out.read_bytes() == data):
            if not out.exists():
                created.append(out)
            out.write_bytes(data)
        files.append((out, name))
    return files


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:  # not empty, or already gone
        pass


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
