"""Build hook: the wheel carries the checkout's reference results, leaderboards and README.

They live at the top of the checkout (their own review and tooling), so package-data cannot
name them; ``build_py`` copies them to ``avu/_bundled/`` in the wheel, where
``avu.results.paths`` finds them when avu is not imported from a checkout. An editable install
reads the checkout itself, so nothing is copied for it.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

BUNDLED = ("reference_results", "leaderboards", "README.md")


class BuildPyWithData(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "avu" / "_bundled"
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for name in BUNDLED:
            source = Path(name)
            if source.is_dir():
                shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(source, target / name)


setup(cmdclass={"build_py": BuildPyWithData})
