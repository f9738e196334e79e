"""A retry of a failed work item runs it in new step runs: the ended step runs are never
reopened (Control Room: "a different step run later"). Simulated steps, on a fake clock."""

from __future__ import annotations

from ProcessRunLibrary.emulator.state import Workspace
from test_stepruns import at, console, make, start, step_runs

FAILURE = {"type": "business", "code": "INVALID_ORDER", "message": "Order 42 has no customer."}


def retry(workspace: Workspace, item_id: str) -> None:
    body = {"batch_operation": "retry", "work_item_ids": [item_id]}
    assert workspace.run_batch_operation(body)[0] == {"accepted": True}


def test_a_retried_item_runs_in_a_new_step_run_and_the_failed_one_stays_as_it_ended() -> None:
    workspace, fake = make(outcome="unresolved", failures=[FAILURE])
    run_id = start(workspace, payloads=2)
    at(fake, 5)
    [failed] = step_runs(workspace, run_id)
    failed_console = console(workspace, failed["id"])
    item_id = workspace.list_work_items(None, run_id, "failed", 10, None)[0][0]["id"]
    at(fake, 6)
    retry(workspace, item_id)
    old, new = step_runs(workspace, run_id)
    assert old == failed
    assert console(workspace, old["id"]) == failed_console
    assert (new["state"], new["started_at"], new["ended_at"]) == (
        "in_progress",
        "2023-11-14T22:13:26.000Z",
        None,
    )
    assert new["step"] == failed["step"] and new["id"] != failed["id"]
    assert workspace.get_run(run_id)["state"] == "in_progress"
    at(fake, 8)  # the retried item's share of run_seconds: 4 s / 2 items
    old, new = step_runs(workspace, run_id)
    assert old == failed
    assert (new["state"], new["error"], new["ended_at"]) == (
        "completed",
        None,
        "2023-11-14T22:13:28.000Z",
    )
    assert console(workspace, new["id"]) == [
        "22:13:26.000 Step 'Orders' of process 'Orders' started: 1 work item(s) to process.",
        "22:13:28.000 Step 'Orders' of process 'Orders' completed: 1 work item(s) processed.",
    ]
    assert workspace.get_run(run_id)["state"] == "completed"
    item = workspace.get_work_item(item_id, "http://x")
    assert (item["state"], item["step_run"]) == ("done", {"id": new["id"]})
    other = workspace.list_work_items(None, run_id, None, 10, None)[0][1]
    assert other["step_run"] == {"id": old["id"]}


def test_a_retry_that_fails_again_fails_its_own_new_step_run() -> None:
    workspace, fake = make(outcome="unresolved", failures=[FAILURE], failing_attempts=None)
    run_id = start(workspace)
    at(fake, 5)
    item_id = workspace.list_work_items(None, run_id, "failed", 10, None)[0][0]["id"]
    retry(workspace, item_id)
    at(fake, 9)
    old, new = step_runs(workspace, run_id)
    assert [(s["state"], s["error"]) for s in (old, new)] == [
        ("failed", {"code": "ROBOT_FAILED"}),
        ("failed", {"code": "ROBOT_FAILED"}),
    ]
    assert console(workspace, new["id"])[-1] == (
        "22:13:29.000 Step 'Orders' of process 'Orders' failed (ROBOT_FAILED): 1 of 1 work "
        "item(s) failed."
    )


def test_a_retry_runs_the_failing_step_and_the_steps_after_it_again() -> None:
    steps = ["A", {"name": "B", "fails": True}, "C"]
    workspace, fake = make(run_seconds=3, outcome="unresolved", failures=[FAILURE], steps=steps)
    run_id = start(workspace)
    at(fake, 4)
    first = step_runs(workspace, run_id)
    item_id = workspace.list_work_items(None, run_id, "failed", 10, None)[0][0]["id"]
    retry(workspace, item_id)
    at(fake, 5)
    assert [s["step"]["name"] for s in step_runs(workspace, run_id)] == ["A", "B", "C", "B"]
    at(fake, 7)
    runs = step_runs(workspace, run_id)
    assert runs[:3] == first
    assert [(s["step"]["name"], s["state"]) for s in runs[3:]] == [
        ("B", "completed"),
        ("C", "completed"),
    ]
    assert workspace.get_run(run_id)["state"] == "completed"
