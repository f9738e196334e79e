"""The version matrix and the packaging checks (README.md, "Two commands").

    nox                      every session
    nox -l                   list them
    nox -s packaging         build, twine check, the wheel's contents, an install without extras
    nox -s floors            the lowest declared version of every dependency

`tests` runs the unit tests and the example suite on every supported Python with the oldest
and the newest supported Robot Framework, and the acceptance tests on the oldest and the
newest pair. Each session prints run_tests.py's closing line `N passed, N failed`.
"""

from __future__ import annotations

import glob
import os
import re
from pathlib import Path

import nox

# uv when it is there (the dev group installs nox[uv]): a venv and its install in seconds.
nox.options.default_venv_backend = "uv|venv"
# uv does not compile .pyc files by default (pip does); with PYTHONDONTWRITEBYTECODE every
# process would compile Robot Framework and aiohttp anew, and emulators start slowly.
os.environ.setdefault("UV_COMPILE_BYTECODE", "1")
nox.options.error_on_missing_interpreters = True
nox.options.sessions = ["tests", "floors", "packaging", "rpaframework"]

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
# The oldest and newest supported Robot Framework (pyproject.toml: robotframework>=6.1.1).
ROBOTS = {"6.1.1": "robotframework==6.1.1", "7.5": "robotframework==7.5.*"}
ACCEPTANCE = {("3.10", "6.1.1"), ("3.13", "7.5")}


def install(session: nox.Session, *args: str) -> None:
    if session.venv_backend != "uv":
        # `pip install --group` needs pip 25.1+; a venv's bundled pip may be older.
        session.install("-q", "-U", "pip")
    session.install("-q", *args)


@nox.session(python=PYTHONS)
@nox.parametrize("robot", list(ROBOTS))
def tests(session: nox.Session, robot: str) -> None:
    """Unit tests and examples (and acceptance tests on the oldest and newest pair)."""
    install(session, "-e", ".[emulator]", "--group", "test", ROBOTS[robot])
    steps = "utest,examples"
    if (session.python, robot) in ACCEPTANCE:
        steps += ",atest"
    # Each session its own results folder: .ci/run runs sessions side by side.
    results = f"results/nox/{Path(session.virtualenv.location).name}"
    session.run("python", "run_tests.py", "--steps", steps, env={"PROCESSRUN_RESULTS": results})


def floors_of(pyproject: str) -> list[str]:
    """`name==floor` for every `name>=floor` of the dependencies and the emulator extra."""
    declared = re.search(r"^dependencies = \[(.*?)^\]", pyproject, re.M | re.S)
    emulator = re.search(r"^emulator = \[(.*?)\]", pyproject, re.M)
    assert declared and emulator, "pyproject.toml: no dependencies or emulator extra"
    text = declared[1] + emulator[1]
    pins = re.findall(r'"([A-Za-z0-9_.-]+)>=([0-9][^",;]*)"', text)
    assert 2 * len(pins) == text.count('"'), f"a dependency without a plain floor: {text}"
    return [f"{name}=={floor}" for name, floor in pins]


@nox.session(python="3.10")
def floors(session: nox.Session) -> None:
    """Unit tests, examples and the docs' examples with the lowest version of every
    dependency pyproject.toml declares (the test tools at their newest), on the oldest
    Python: what a user whose resolver picks the floors gets."""
    pins = floors_of(Path("pyproject.toml").read_text(encoding="utf-8"))
    install(session, "-e", ".[emulator]", "--group", "test", *pins)
    # The resolver may not move a floor: what was installed is what was declared.
    session.run("python", "-c", CHECK_PINS, *pins)
    results = f"results/nox/{Path(session.virtualenv.location).name}"
    session.run(
        "python", "run_tests.py", "--steps", "utest,examples,docexamples",
        env={"PROCESSRUN_RESULTS": results},
    )  # fmt: skip


CHECK_PINS = """
import sys
from importlib.metadata import version
def same(a, b):  # 3.10 is 3.10.0
    return a.split(".") + ["0"] * (3 - a.count(".")) == b.split(".") + ["0"] * (3 - b.count("."))
wrong = [f"{pin} (installed {version(pin.split('==')[0])})" for pin in sys.argv[1:]
         if not same(version(pin.split("==")[0]), pin.split("==")[1])]
assert not wrong, "not the floor: " + ", ".join(wrong)
print("floors installed: " + ", ".join(sys.argv[1:]))
"""


# rpaframework is large: its own session runs the suite whose child robots use it.
RPAFRAMEWORK = "rpaframework==33.0.2"


@nox.session(python="3.11")
def rpaframework(session: nox.Session) -> None:
    """The acceptance suite whose child robots use rpaframework's RPA.Robocorp.WorkItems."""
    install(session, "-e", ".[emulator]", "--group", "test", RPAFRAMEWORK)
    results = f"results/nox/{Path(session.virtualenv.location).name}"
    env = {"PROCESSRUN_RESULTS": results}
    session.run("python", "atest/run.py", "atest/suites/rpaframework.robot", env=env)
    session.run("python", "-c", COUNTS, f"{results}/atest/output.xml")


# run_tests.py's closing line for a suite run on its own; a skip (no rpaframework) fails.
COUNTS = """
import sys
from robot.api import ExecutionResult
stats = ExecutionResult(sys.argv[1]).statistics.total
print(f"{stats.passed} passed, {stats.failed + stats.skipped} failed")
sys.exit(0 if stats.passed and not (stats.failed or stats.skipped) else 1)
"""


@nox.session(python="3.11")
def packaging(session: nox.Session) -> None:
    """Build the sdist and wheel, check them, and install the wheel without extras."""
    install(session, "--group", "packaging")
    session.run("python", "run_tests.py", "--steps", "packaging")
    wheel = glob.glob("dist/robotframework_processrunlibrary-*.whl")[0]
    session.install("-q", wheel)
    # Without the emulator extra the emulator says what to install, in one line.
    session.run("python", "-c", CHECK_WITHOUT_EXTRA)
    # The shipped specs are read by the oldest supported Robot Framework too (an editor's
    # Robot may be any supported version).
    session.install("-q", ROBOTS["6.1.1"])
    session.run("python", "-c", CHECK_SPECS)


CHECK_WITHOUT_EXTRA = """
import subprocess, sys
from robot.libdocpkg import LibraryDocumentation
import ProcessRunLibrary, pathlib
spec = pathlib.Path(ProcessRunLibrary.__file__).parent / "ProcessRunLibrary.libspec.json"
doc = LibraryDocumentation(str(spec))
assert doc.name == "ProcessRunLibrary" and doc.keywords, doc.name
result = subprocess.run(["processrun-emulator"], capture_output=True, text=True)
expected = ("processrun-emulator: error: the emulator needs aiohttp, which is not installed: "
            "pip install 'robotframework-processrunlibrary[emulator]'.\\n")
assert (result.returncode, result.stderr) == (2, expected), result
print(f"installed wheel: {len(doc.keywords)} keywords in its libdoc spec; "
      "processrun-emulator without aiohttp: one line, exit code 2")
"""

CHECK_SPECS = """
import pathlib
from robot.libdocpkg import LibraryDocumentation
from robot.version import VERSION
import ProcessRunLibrary
folder = pathlib.Path(ProcessRunLibrary.__file__).parent
for name in ("ProcessRunLibrary", "Emulator"):
    doc = LibraryDocumentation(str(folder / f"{name}.libspec.json"))
    assert doc.keywords, name
    print(f"Robot Framework {VERSION} reads the wheel's {name}.libspec.json: "
          f"{len(doc.keywords)} keywords")
"""
