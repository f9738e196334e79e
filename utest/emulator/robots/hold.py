"""A step's command that the test drives: it writes its environment (and its pid, and that
of a grandchild when HOLD_GRANDCHILD is set) to HOLD_DIR/<step run id>.json, prints a line, then waits for HOLD_DIR/<step run id>.exit and exits with the code
written there (after leaving the files of HOLD_ARTIFACTS in ROBOT_ARTIFACTS)."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

folder = Path(os.environ["HOLD_DIR"])
step_run = os.environ["RC_ACTIVITY_RUN_ID"]
seen = {**os.environ, "HOLD_PID": str(os.getpid())}
if os.environ.get("HOLD_GRANDCHILD"):  # a process of its own that it leaves behind
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    seen["HOLD_GRANDCHILD_PID"] = str(sleeper.pid)
(folder / f"{step_run}.tmp").write_text(json.dumps(seen), encoding="utf-8")
os.replace(folder / f"{step_run}.tmp", folder / f"{step_run}.json")
print(f"holding {os.environ['RC_WORKITEM_ID']}", flush=True)
print("a line on standard error", file=sys.stderr, flush=True)
exit_file = folder / f"{step_run}.exit"
while not exit_file.exists():
    time.sleep(0.02)
for name, content in json.loads(os.environ.get("HOLD_ARTIFACTS", "{}")).items():
    path = Path(os.environ["ROBOT_ARTIFACTS"], name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
print("bye", end="", flush=True)  # a last line without its newline
sys.exit(int(exit_file.read_text() or 0))
