"""dlgrade's build: the metadata is in pyproject.toml; this adds the students' self-checks to the wheel.

Each exercise's public self-checks live in the course folder, ``autograder/<ex>/public.py``,
beside its own trusted objects, ``autograder/<ex>/factories.py``. A student who installs the
wheel has no course folder, so the build copies those two files, and nothing else of
``autograder/`` (never the hidden tests, thresholds, rubrics, samples or mutants), into the
package as ``dlgrade/check/public/<ex>.py`` and ``<ex>_factories.py``.
"""
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

COURSE = Path(__file__).resolve().parent / "autograder"
SHIPPED = {"public.py": "{ex}.py", "factories.py": "{ex}_factories.py"}
"""File of ``autograder/<ex>/`` -> its name in ``dlgrade/check/public/``."""


class BuildWithSelfChecks(build_py):
    """``build_py``, then each exercise's self-checks copied into ``dlgrade/check/public/``."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):  # an editable install reads the course folder itself
            return
        target = Path(self.build_lib) / "dlgrade" / "check" / "public"
        self.mkpath(str(target))
        for public in sorted(COURSE.glob("*/public.py")):
            for name, shipped in SHIPPED.items():
                source = public.with_name(name)
                if source.is_file():
                    self.copy_file(str(source), str(target / shipped.format(ex=public.parent.name)))


setup(cmdclass={"build_py": BuildWithSelfChecks})
