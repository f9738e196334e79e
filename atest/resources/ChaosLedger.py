"""Bookkeeping of the chaos suite: what the library reported for each start and wait,
checked against the runs the emulator created.

Each start attempt sends the payload ``{"chaos": <marker>}`` with a marker of its own, so
every run the emulator created names the attempt that created it. With that:

- a run is *duplicated* when an attempt created more than one run (each run beyond the
  first counts once);
- a run is *lost* when the library returned its id but the emulator has no such run of
  that attempt, or when the emulator created it but the library neither returned its id
  nor failed saying that the run may have been started (the message of a start whose
  answer was lost), or when the emulator has a run that no attempt explains;
- a failed start is *clear* when its message names the request and why it failed.

A wait is right when it returned the state the emulator has for the run and the process
is configured to end in, or failed with the message of an unresolved run where that was
asked for (``fail_on_unresolved=True``).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

MAY_HAVE_STARTED = "The process run may have been started anyway"
CLEAR_START_FAILURE = re.compile(r"^POST /workspaces/[^ ]+/process-runs failed: \S.*\.$", re.S)


class ChaosLedger:
    ROBOT_LIBRARY_SCOPE = "SUITE"

    def __init__(self) -> None:
        self.attempts: dict[int, dict[str, Any]] = {}

    def record_start(self, marker: int, process: str, status: str, value: Any) -> str | None:
        """Records a start; returns the run id when it started, else ``None``."""
        started = status == "PASS"
        self.attempts[int(marker)] = {
            "process": process,
            "id": str(value) if started else None,
            "error": None if started else str(value),
            "wait": None,
        }
        return str(value) if started else None

    def runs_started(self) -> int:
        """How many starts returned a run id so far."""
        return sum(1 for a in self.attempts.values() if a["id"] is not None)

    def record_wait(self, marker: int, how: str, status: str, value: Any) -> None:
        """Records how the wait for the run of ``marker`` ended: the run, or the error."""
        attempt = self.attempts[int(marker)]
        if status == "PASS":
            attempt["wait"] = {"how": how, "state": value["state"], "id": value["id"]}
        else:
            attempt["wait"] = {"how": how, "error": str(value)}

    def record_start_and_wait(self, marker: int, process: str, status: str, value: Any) -> None:
        """Records `Start Process Run And Wait`: a start error starts with ``POST``."""
        if status == "PASS" or not str(value).startswith("POST "):
            run_id = value["id"] if status == "PASS" else _run_id_in(str(value))
            self.record_start(marker, process, "PASS", run_id)
            self.record_wait(marker, "Start Process Run And Wait", status, value)
        else:
            self.record_start(marker, process, status, value)

    def account_for_runs(
        self, emulator_runs: list[Any], requests: list[Any], rules: dict[str, str]
    ) -> dict[str, Any]:
        """Counts, and every problem found, as a dictionary; see the module doc."""
        by_marker: dict[int, list[Any]] = {}
        unexplained = []
        for run in emulator_runs:
            payloads = run.get("payloads") or []
            marker = payloads[0].get("chaos") if len(payloads) == 1 else None
            if isinstance(marker, int) and marker in self.attempts:
                by_marker.setdefault(marker, []).append(run)
            else:
                unexplained.append(run["id"])
        counts: Counter[str] = Counter()
        problems: list[str] = []
        for marker, attempt in sorted(self.attempts.items()):
            runs = by_marker.get(marker, [])
            counts["duplicated"] += max(0, len(runs) - 1)
            if len(runs) > 1:
                problems.append(f"attempt {marker}: {len(runs)} runs")
            if attempt["id"] is not None:
                counts["runs started"] += 1
                if attempt["id"] not in [r["id"] for r in runs]:
                    counts["lost"] += 1
                    problems.append(f"attempt {marker}: run {attempt['id']} not in the emulator")
                self._check_wait(marker, attempt, runs, counts, problems)
                continue
            error = attempt["error"]
            counts["starts failed"] += 1
            if not CLEAR_START_FAILURE.match(error):
                counts["unclear start errors"] += 1
                problems.append(f"attempt {marker}: unclear error: {error}")
            if runs and MAY_HAVE_STARTED in error:
                counts["lost answers accounted for"] += 1
            elif runs:
                counts["lost"] += 1
                problems.append(f"attempt {marker}: run {runs[0]['id']} exists, error: {error}")
        counts["lost"] += len(unexplained)
        problems += [f"run {run_id} explained by no attempt" for run_id in unexplained]
        faults = Counter(rules.get(r.get("fault"), "?") for r in requests if r.get("fault"))
        lost_answer_starts = sum(
            1
            for r in requests
            if r.get("fault") and rules.get(r["fault"], "").startswith("lost answer")
            and r["method"] == "POST" and r["path"].endswith("/process-runs")
        )  # fmt: skip
        if lost_answer_starts != counts["lost answers accounted for"]:
            problems.append(
                f"{lost_answer_starts} starts lost their answer, but "
                f"{counts['lost answers accounted for']} failed starts left a run"
            )
        return {
            "attempts": len(self.attempts),
            "runs started": counts["runs started"],
            "runs in the emulator": len(emulator_runs),
            "starts failed": counts["starts failed"],
            "lost answers accounted for": counts["lost answers accounted for"],
            "runs lost": counts["lost"],
            "runs duplicated": counts["duplicated"],
            "unclear start errors": counts["unclear start errors"],
            "waits right": counts["waits right"],
            "waits failed clearly": counts["waits failed clearly"],
            "waits wrong": counts["waits wrong"],
            "requests": len(requests),
            "requests with a fault": sum(faults.values()),
            "faults by kind": dict(sorted(faults.items())),
            "problems": problems,
        }

    @staticmethod
    def _check_wait(
        marker: int,
        attempt: dict[str, Any],
        runs: list[Any],
        counts: Counter[str],
        problems: list[str],
    ) -> None:
        wait = attempt["wait"]
        expected = "unresolved" if attempt["process"].endswith("-bad") else "completed"
        actual = next((r["state"] for r in runs if r["id"] == attempt["id"]), None)
        if wait is None:
            counts["waits wrong"] += 1
            problems.append(f"attempt {marker}: never waited for")
        elif (
            "state" in wait and wait["state"] == expected == actual and wait["id"] == attempt["id"]
        ):
            counts["waits right"] += 1
        elif (
            "error" in wait
            and expected == "unresolved"
            and wait["error"].startswith(
                f"Process run {attempt['id']} of process '{attempt['process']}' ended unresolved"
            )
        ):
            counts["waits failed clearly"] += 1
        else:
            counts["waits wrong"] += 1
            problems.append(
                f"attempt {marker}: {wait['how']} gave {wait}; the run is {actual}, "
                f"expected {expected}"
            )


def _run_id_in(message: str) -> str | None:
    found = re.search(r"Process run (\S+) ", message)
    return found.group(1) if found else None
