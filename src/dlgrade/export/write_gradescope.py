"""``dlgrade export gradescope``: a Gradescope autograder zip for one exercise.

The zip holds, at its root, ``setup.sh`` (run once when Gradescope builds the
image: Python, bubblewrap, dlgrade) and ``run_autograder`` (run per submission:
``python -m dlgrade.export.gradescope_runner``), plus ``course/`` (the student
template and the autograder folder) and ``requirements.txt`` (how dlgrade is
installed: a pip requirement, or a wheel shipped in ``wheels/``).

``run_autograder`` reads ``$DLGRADE_AUTOGRADER_ROOT`` (default ``/autograder``) and
``$DLGRADE_PYTHON`` (default the image's ``/opt/dlgrade/bin/python``): a test can run
it on a fake root with the local Python.
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

from dlgrade import __version__
from dlgrade.atomic import write_atomic
from dlgrade.errors import DlgradeError, SpecError
from dlgrade.export.parts import ExerciseParts, copy_spec

SETUP = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends python3 python3-venv python3-pip bubblewrap util-linux
python3 -m venv /opt/dlgrade
/opt/dlgrade/bin/pip install --upgrade pip
cd /autograder/source
/opt/dlgrade/bin/pip install -r requirements.txt
"""

RUN = """\
#!/usr/bin/env bash
# Gradescope runs this for every submission. DLGRADE_AUTOGRADER_ROOT replaces /autograder
# and DLGRADE_PYTHON the image's Python (to test this file outside Gradescope).
set -uo pipefail
ROOT="${{DLGRADE_AUTOGRADER_ROOT:-/autograder}}"
PYTHON="${{DLGRADE_PYTHON:-/opt/dlgrade/bin/python}}"
exec "$PYTHON" -m dlgrade.export.gradescope_runner --root "$ROOT" --exercise {exercise} --profile {profile}
"""


def _add(zf: zipfile.ZipFile, name: str, data: bytes, *, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))   # stable bytes for the same inputs
    info.external_attr = (0o100755 if executable else 0o100644) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, data)


def build_zip(parts: ExerciseParts, *, profile: str = "quick", package: str | None = None) -> bytes:
    """The zip's bytes (deterministic: same exercise and options, same bytes)."""
    import tempfile

    ex = parts.exercise
    if not ex.template_path.exists():
        raise SpecError(f"{ex.template_path}: student notebook not found", hint=f"run: dlgrade assign {ex.id}")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf, tempfile.TemporaryDirectory() as tmp:
        _add(zf, "setup.sh", SETUP.encode(), executable=True)
        _add(zf, "run_autograder", RUN.format(exercise=ex.id, profile=profile).encode(), executable=True)
        requirement = package or f"dlgrade=={__version__}"
        if package and package.endswith(".whl"):
            wheel = Path(package)
            if not wheel.is_file():
                raise DlgradeError(f"{wheel}: wheel not found", hint="build one with: pip wheel --no-deps .")
            _add(zf, f"wheels/{wheel.name}", wheel.read_bytes())
            requirement = f"./wheels/{wheel.name}"
        _add(zf, "requirements.txt", f"{requirement}\n".encode())
        _add(zf, f"course/assignments/{ex.id}/{ex.notebook}", ex.template_path.read_bytes())
        spec = copy_spec(ex, Path(tmp))
        for path in sorted(p for p in spec.rglob("*") if p.is_file()):
            _add(zf, f"course/autograder/{ex.id}/{path.relative_to(spec).as_posix()}", path.read_bytes())
    return buffer.getvalue()


def write_zip(parts: ExerciseParts, out: Path, *, profile: str = "quick", package: str | None = None) -> list[Path]:
    out = Path(out)
    if out.suffix != ".zip":
        raise DlgradeError(f"{out}: the Gradescope autograder must be a .zip file", hint=f"use --out {out}.zip")
    return [write_atomic(out, build_zip(parts, profile=profile, package=package))]
