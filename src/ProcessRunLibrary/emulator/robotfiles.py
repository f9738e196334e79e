"""The output.xml and log.html of step runs: made by a small real Robot Framework run, once
per emulator process and outcome, when first needed.

Robot runs in a child process (``python -m robot``), never inside the emulator: it would
take over logging and signal handlers. `start` begins making the files in a background
thread and returns at once; `files` waits for them.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import threading
from pathlib import Path

OUTCOMES = ("completed", "failed")
SUITE = """\
*** Settings ***
Documentation     A step run of a process emulated by ProcessRunLibrary's Control Room \
emulator: the same tiny robot for every step run that ${OUTCOME}.

*** Tasks ***
Process Work Items
    Log    Processing the work items of the step run.
    IF    $OUTCOME == 'failed'
        Fail    A work item failed: see the console messages of the step run.
    END
    Log    Every work item was processed.
"""

_lock = threading.Lock()
_thread: threading.Thread | None = None
_files: dict[tuple[str, str], bytes] = {}
_error: str | None = None


def _make() -> None:
    global _error
    try:
        with tempfile.TemporaryDirectory(prefix="processrun-emulator-") as tmp:
            folder = Path(tmp)
            suite = folder / "Child Robot.robot"
            suite.write_text(SUITE, encoding="utf-8")
            children = {
                outcome: subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "robot",
                        "--variable",
                        f"OUTCOME:{outcome}",
                        "--outputdir",
                        str(folder / outcome),
                        "--report",
                        "NONE",
                        "--console",
                        "none",
                        str(suite),
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                )
                for outcome in OUTCOMES
            }
            for outcome, child in children.items():
                _, stderr = child.communicate(timeout=120)
                for name in ("output.xml", "log.html"):
                    path = folder / outcome / name
                    if not path.is_file():
                        raise RuntimeError(
                            f"Robot Framework made no {name}: {stderr.decode(errors='replace')}"
                        )
                    _files[outcome, name] = path.read_bytes()
    except Exception as error:  # reported by files(), to every caller
        _error = f"{type(error).__name__}: {error}"


def start() -> None:
    """Begin making the files (once per process); returns at once."""
    global _thread
    with _lock:
        if _thread is None:
            _thread = threading.Thread(target=_make, name="robot-files", daemon=True)
            _thread.start()


def ready() -> None:
    """Wait until the files are made (or making them failed)."""
    start()
    assert _thread is not None
    _thread.join()


def files(outcome: str) -> dict[str, bytes]:
    """``{"output.xml": ..., "log.html": ...}`` of a step run that ended ``outcome``
    (``completed`` or ``failed``); waits until they are made."""
    ready()
    if _error is not None:
        raise RuntimeError(f"The emulator could not make the Robot Framework files: {_error}")
    return {name: _files[outcome, name] for name in ("output.xml", "log.html")}
