"""Run every check the project has, as CI does: lint, types, Robot-side gates (robocop,
dry-run), packaging, unit tests, acceptance tests (in parallel with pabot, against one
shared emulator) and the example suite.

    python run_tests.py                        everything
    python run_tests.py --quick                lint, types and unit tests only
    python run_tests.py --steps utest,atest    only these steps (nox's matrix uses this)

Steps: lint, types, robocop, robotcode, dryrun, packaging, utest, atest, examples, docexamples
(every `Examples:` block of the keyword documentation, run against the emulator by
atest/doc_examples.py). Ends with one line `N passed, N failed` counting unit, acceptance,
example and documentation example tests.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent
# PROCESSRUN_RESULTS: another results folder, for runs side by side (nox's lanes in CI).
RESULTS = Path(os.environ.get("PROCESSRUN_RESULTS") or ROOT / "results")
PY = sys.executable
ROBOT_PATHS = ["atest", "examples"]
STEPS = [
    "lint",
    "types",
    "robocop",
    "robotcode",
    "dryrun",
    "packaging",
    "utest",
    "atest",
    "examples",
    "docexamples",
]
QUICK = ["lint", "types", "utest"]


def run(name: str, command: list[str], env: dict[str, str] | None = None) -> tuple[bool, str]:
    print(f"\n=== {name}: {' '.join(command)}", flush=True)
    result = subprocess.run(
        command,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=None if env is None else dict(os.environ, **env),
    )
    print(result.stdout, end="", flush=True)
    return result.returncode == 0, result.stdout


def robot_counts(output: Path) -> tuple[int, int]:
    from robot.api import ExecutionResult

    if not output.exists():
        return 0, 0
    stats = ExecutionResult(str(output)).statistics.total
    return stats.passed, stats.failed


class Steps:
    def __init__(self) -> None:
        self.passed = self.failed = 0
        self.failures: list[str] = []

    def check(self, name: str, command: list[str], env: dict[str, str] | None = None) -> None:
        if not run(name, command, env)[0]:
            self.failures.append(name)

    def lint(self) -> None:
        self.check("ruff lint", [PY, "-m", "ruff", "check", "--no-cache", "."])
        self.check("ruff format", [PY, "-m", "ruff", "format", "--no-cache", "--check", "."])

    def types(self) -> None:
        self.check("mypy", [PY, "-m", "mypy"])
        # mypy reads __init__.pyi instead of __init__.py; check the source itself too.
        self.check("mypy (__init__.py)", [PY, "-m", "mypy", "src/ProcessRunLibrary/__init__.py"])

    def robocop(self) -> None:
        """robocop's lint and formatter, configured in pyproject.toml ([tool.robocop])."""
        self.check("robocop lint", [PY, "-m", "robocop", "check", *ROBOT_PATHS])
        self.check(
            "robocop format", [PY, "-m", "robocop", "format", "--check", "--diff", *ROBOT_PATHS]
        )

    def robotcode(self) -> None:
        """RobotCode's analysis of atest/ and examples/ (settings in robot.toml): 0 errors."""
        robotcode = str(Path(PY).parent / "robotcode")
        _, out = run("robotcode analyze", [robotcode, "analyze", "code", *ROBOT_PATHS])
        # Its exit code counts hints too; errors and warnings are what must not be there.
        if not re.search(r"Errors: 0, Warnings: 0", out):
            self.failures.append("robotcode analyze")

    def dryrun(self) -> None:
        """`robot --dryrun` over atest/ and examples/: every keyword and import resolves."""
        # The acceptance suites read their settings from the environment (atest/run.py).
        env = {
            "ATEST_API_URL": "http://127.0.0.1:9/api/v1",
            "ATEST_WORKSPACE_ID": "dryrun-workspace",
            "ATEST_API_KEY": "dryrun-key",
            "ATEST_BEARER_TOKEN": "dryrun-token",
            "ATEST_INTEGRATION_TOKEN": "dryrun-integration",
            "ATEST_CALLBACK_SECRET": "dryrun-callback",
        }
        for path in ROBOT_PATHS:
            ok, out = run(
                f"dry-run of {path}/",
                [PY, "-m", "robot", "--dryrun", "--output", "NONE", "--log", "NONE",
                 "--report", "NONE", "--pythonpath", "atest/resources", "--console", "dotted",
                 *version_excludes(), *(["atest/suites"] if path == "atest" else [path])],
                env,
            )  # fmt: skip
            if not ok or "[ ERROR ]" in out or "[ WARN ]" in out:
                self.failures.append(f"dry-run of {path}/")

    def packaging(self) -> None:
        """Build sdist and wheel, `twine check` them, and look inside."""
        shutil.rmtree(ROOT / "dist", ignore_errors=True)
        # `python -m build` builds the sdist, then the wheel from the sdist in a fresh folder:
        # a module left in build/ by an older build (deleted from src/ since) cannot get in.
        stray = ROOT / "build" / "lib" / "ProcessRunLibrary" / STRAY_MODULE
        stray.parent.mkdir(parents=True, exist_ok=True)
        stray.write_text("raise ImportError('deleted from src/')\n", encoding="utf-8")
        try:
            self.check("build", [PY, "-m", "build", "--outdir", "dist", "."])
        finally:
            stray.unlink()
        wheels = glob.glob(str(ROOT / "dist" / "*.whl"))
        sdists = glob.glob(str(ROOT / "dist" / "*.tar.gz"))
        if not (wheels and sdists):
            self.failures.append("build")
            return
        self.check("twine check", [PY, "-m", "twine", "check", "--strict", *wheels, *sdists])
        problems = package_problems(Path(wheels[0]), Path(sdists[0]))
        print("\n=== package contents: " + ("; ".join(problems) or "as expected"), flush=True)
        if problems:
            self.failures.append("package contents")

    def utest(self) -> None:
        ok, out = run("unit tests", [PY, "-m", "pytest", "utest", "-q", "-p", "no:cacheprovider"])
        counts = re.search(r"(\d+) passed", out), re.search(r"(\d+) failed", out)
        self.passed += int(counts[0][1]) if counts[0] else 0
        self.failed += int(counts[1][1]) if counts[1] else 0
        if not ok:
            self.failures.append("unit tests")

    def atest(self) -> None:
        ok, _ = run(
            "acceptance tests (pabot, one shared emulator)",
            [PY, "atest/run.py", "--pabot", *version_excludes()],
        )
        self.count(RESULTS / "atest" / "output.xml", ok, "acceptance tests")

    def examples(self) -> None:
        ok, _ = run(
            "example suite",
            [PY, "-m", "robot", "--outputdir", str(RESULTS / "example-suites"), "examples"],
        )
        self.count(RESULTS / "example-suites" / "output.xml", ok, "example suite")

    def docexamples(self) -> None:
        ok, _ = run(
            "the keyword documentation's examples",
            [PY, "atest/doc_examples.py", "--console", "dotted"],
        )
        self.count(RESULTS / "doc_examples" / "output.xml", ok, "documentation examples")

    def count(self, output: Path, ok: bool, name: str) -> None:
        p, f = robot_counts(output)
        self.passed, self.failed = self.passed + p, self.failed + f
        if not ok or not p:
            self.failures.append(name)


def version_excludes() -> list[str]:
    """Tests of what only newer versions have or say, left out where they cannot pass:
    `Secret` (Robot Framework 7.4+), and the optional-argument messages of Python 3.11+
    (3.10 makes `T = None` a `T | None`, and Robot then words its error differently)."""
    from robot.version import VERSION as RF_VERSION

    excludes = []
    if tuple(int(p) for p in RF_VERSION.split(".")[:2]) < (7, 4):
        excludes += ["--exclude", "requires-rf-7.4"]
    if sys.version_info < (3, 11):
        excludes += ["--exclude", "python-3.11-messages"]
    return excludes


STRAY_MODULE = "stray_module_from_an_old_build.py"


def package_problems(wheel: Path, sdist: Path) -> list[str]:
    """What the wheel and the sdist lack of what they promise, and what they should not
    carry: an old build's module, the build machine's paths in the libdoc specs."""
    problems = []
    names = zipfile.ZipFile(wheel).namelist()
    if any(n.endswith(STRAY_MODULE) for n in names):
        problems.append(f"the wheel has build/'s {STRAY_MODULE}, which src/ does not")
    for name in names:
        if name.endswith(".libspec.json"):
            spec = json.loads(zipfile.ZipFile(wheel).read(name))
            items = [spec, *spec.get("inits", []), *spec.get("keywords", [])]
            sources = {item["source"] for item in items if item.get("source")}
            absolute = sorted(s for s in sources if not s.startswith("ProcessRunLibrary/"))
            if absolute:
                problems.append(f"{name} names sources outside the package: {absolute[0]}")
    for suffix in (
        ".dist-info/licenses/LICENSE",
        "ProcessRunLibrary/ProcessRunLibrary.libspec.json",
        "ProcessRunLibrary/Emulator.libspec.json",
        "ProcessRunLibrary/__init__.pyi",
        "ProcessRunLibrary/py.typed",
    ):
        if not any(n.endswith(suffix) for n in names):
            problems.append(f"the wheel has no {suffix}")
    with tarfile.open(sdist) as tar:
        members = {m.split("/", 1)[1] for m in tar.getnames() if "/" in m}
    for path in ("LICENSE", "CHANGELOG.md", "docs/ProcessRunLibrary.html", "examples"):
        if path not in members:
            problems.append(f"the sdist has no {path}")
    return problems


def main(argv: list[str]) -> int:
    steps = QUICK if "--quick" in argv else STEPS
    if "--steps" in argv:
        steps = argv[argv.index("--steps") + 1].split(",")
        unknown = sorted(set(steps) - set(STEPS))
        if unknown:
            print(f"Unknown steps {', '.join(unknown)}; known: {', '.join(STEPS)}")
            return 2
    runner = Steps()
    for step in STEPS:
        if step in steps:
            method: Callable[[], None] = getattr(runner, step)
            method()
    print()
    failures = runner.failures
    print("Failed steps: " + ", ".join(failures) if failures else "Every step passed.")
    print(f"{runner.passed} passed, {runner.failed} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
