"""Builds the barealloc package with the shared object it loads.

The build step runs `make -C <repository> build/x86_64/libbarealloc-pool.so`
(the repository is the parent of this directory) and ships the object
inside the package.  BAREALLOC_SO, when set, names a built object to ship
instead, and make is not run.  Everything else is in pyproject.toml.
"""

import os
import shutil
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SONAME = "libbarealloc-pool.so"
TARGET = "build/x86_64/" + SONAME


def shared_object():
    env = os.environ.get("BAREALLOC_SO")
    if env:
        if not os.path.isfile(env):
            raise SystemExit(f"barealloc: BAREALLOC_SO={env}: no such file")
        return env
    if not (os.path.isfile(os.path.join(ROOT, "Makefile"))
            and os.path.isfile(os.path.join(ROOT, "inc", "ba_pool.h"))):
        raise SystemExit(
            f"barealloc: {ROOT} is not barealloc's source tree, so {SONAME} cannot be "
            "built: install from the python/ directory of the repository "
            "(pip install ./python), or set BAREALLOC_SO to a built " + SONAME)
    make = shutil.which("make")
    if make is None:
        raise SystemExit("barealloc: make is not installed (apt-get install make), "
                         f"and it builds {SONAME}")
    if subprocess.run([make, "-C", ROOT, TARGET]).returncode:
        raise SystemExit(f"barealloc: `make -C {ROOT} {TARGET}` failed")
    return os.path.join(ROOT, TARGET)


class BuildPy(build_py):
    """build_py, plus the shared object as package data."""

    def run(self):
        super().run()
        self.copy_file(shared_object(), os.path.join(self.build_lib, "barealloc", SONAME))


class Binary(Distribution):
    """The shared object is machine code: the wheel is for this platform."""

    def has_ext_modules(self):
        return True


setup(packages=["barealloc"], cmdclass={"build_py": BuildPy}, distclass=Binary)
