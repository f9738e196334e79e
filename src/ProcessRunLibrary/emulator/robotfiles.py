"""The output.xml and log.html of step runs: made by a small real Robot Framework run whose
task fails with the failures of the step run's work items.

One run per variant, a variant being the step run's outcome and its failure messages
(without work item ids, so that the runs of one process share their files), made once per
emulator process when first needed and kept in memory (a few hundred KB each). Past
MAX_VARIANTS variants, the files of the plain outcome are served.

Robot runs in a child process (``python -m robot``), never inside the emulator: it would
take over logging and signal handlers. `variant` names a variant and begins making it in a
background thread; `ready` waits for it; `files` returns it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

Variant = tuple[str, tuple[str, ...]]  # ("completed" | "failed", failure messages)
NAMES = ("output.xml", "log.html")
MAX_VARIANTS = 32
SUITE = """\
*** Settings ***
Documentation     A step run of a process emulated by ProcessRunLibrary's Control Room \
emulator.

*** Tasks ***
Process Work Items
    Log    Processing the work items of the step run.
    FOR    ${failure}    IN    @{FAILURES}
        Run Keyword And Continue On Failure    Fail    ${failure}
    END
    IF    $OUTCOME == 'failed' and not $FAILURES
        Fail    The step run failed: see its console messages.
    END
    Log    Every work item was processed.
"""

_lock = threading.Lock()
_threads: dict[Variant, threading.Thread] = {}
_files: dict[Variant, dict[str, bytes]] = {}
_errors: dict[Variant, str] = {}


def variant(outcome: str, failures: tuple[str, ...] = ()) -> Variant:
    """The variant of a step run, which starts being made; past MAX_VARIANTS, that of the
    plain outcome."""
    wanted: Variant = (outcome, failures)
    with _lock:
        if wanted not in _threads and len(_threads) >= MAX_VARIANTS:
            wanted = (outcome, ())
    start(wanted)
    return wanted


def _make(wanted: Variant) -> None:
    outcome, failures = wanted
    try:
        with tempfile.TemporaryDirectory(prefix="processrun-emulator-") as tmp:
            folder = Path(tmp)
            suite = folder / "Child Robot.robot"
            suite.write_text(SUITE, encoding="utf-8")
            variables = folder / "variables.json"
            variables.write_text(
                json.dumps({"OUTCOME": outcome, "FAILURES": list(failures)}), encoding="utf-8"
            )
            # --variablefile with JSON: Robot Framework 6.1 and newer.
            child = subprocess.run(
                [sys.executable, "-m", "robot", "--variablefile", str(variables),
                 "--outputdir", str(folder), "--report", "NONE", "--console", "none",
                 str(suite)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                timeout=120, check=False,
            )  # fmt: skip
            made = {}
            for name in NAMES:
                path = folder / name
                if not path.is_file():
                    stderr = child.stderr.decode(errors="replace").strip()
                    raise RuntimeError(f"Robot Framework made no {name}: {stderr}")
                made[name] = path.read_bytes()
            _files[wanted] = made
    except Exception as error:  # reported by files(), to every caller
        _errors[wanted] = f"{type(error).__name__}: {error}"


def start(wanted: Variant) -> None:
    """Begin making a variant (once per process); returns at once."""
    with _lock:
        if wanted not in _threads:
            thread = threading.Thread(target=_make, args=(wanted,), name="robot-files")
            thread.daemon = True
            _threads[wanted] = thread
            thread.start()


def ready(wanted: Variant) -> None:
    """Wait until a variant is made (or making it failed)."""
    start(wanted)
    _threads[wanted].join()


def files(wanted: Variant) -> dict[str, bytes]:
    """``{"output.xml": ..., "log.html": ...}`` of a variant; waits until they are made."""
    ready(wanted)
    if wanted in _errors:
        raise RuntimeError(
            f"The emulator could not make the Robot Framework files: {_errors[wanted]}"
        )
    return _files[wanted]
