"""The worked example of docs/emulator.md runs and passes, as the page says."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import SRC

DOC = SRC.parent / "docs" / "emulator.md"


def worked_example() -> str:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Worked example", 1)[1]
    match = re.search(r"```robotframework\n(.*?)```", section, re.DOTALL)
    assert match, "docs/emulator.md has no robotframework block under 'Worked example'"
    return match[1]


def test_the_worked_example_passes(tmp_path: Path) -> None:
    suite = tmp_path / "emulator_example.robot"
    suite.write_text(worked_example(), encoding="utf-8")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-m", "robot", "--output", "NONE", "--log", "NONE", "--report",
         "NONE", "--console", "verbose", str(suite)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 tests, 4 passed, 0 failed" in result.stdout, result.stdout
