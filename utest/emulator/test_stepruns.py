"""Step runs without HTTP: derived from the run's timeline on a fake clock, their console
messages and artifacts."""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from robot.api import ExecutionResult

from conftest import T0, FakeTime
from ProcessRunLibrary.emulator import robotfiles, signing
from ProcessRunLibrary.emulator.clock import Clock
from ProcessRunLibrary.emulator.common import ApiError, ConfigError
from ProcessRunLibrary.emulator.processes import MAX_ARTIFACT_SIZE, load_config, parse_process
from ProcessRunLibrary.emulator.state import Workspace
from ProcessRunLibrary.emulator.stepruns import CHUNK


def make(**process: Any) -> tuple[Workspace, FakeTime]:
    fake = FakeTime()
    definition = {"id": "p", "name": "Orders", "new_seconds": 1, "run_seconds": 4, **process}
    workspace = Workspace("WS", [parse_process(definition)], clock=Clock(1.0, real=fake))
    return workspace, fake


def at(fake: FakeTime, seconds: float) -> None:
    fake.now = T0 + seconds


def step_runs(workspace: Workspace, run_id: str) -> list[dict[str, Any]]:
    page, cursor = workspace.list_step_runs(run_id, 100, None)
    assert cursor is None
    return page


def states(workspace: Workspace, run_id: str) -> list[str]:
    return [s["state"] for s in step_runs(workspace, run_id)]


def console(workspace: Workspace, step_run_id: str) -> list[str]:
    page, _ = workspace.list_console_messages(step_run_id, 100, None)
    return [f"{m['timestamp'][11:23]} {m['message']}" for m in page]


def start(workspace: Workspace, payloads: int = 1) -> str:
    body = {"type": "with_payloads", "payloads": list(range(payloads))}
    return str(workspace.start_run("p", body)["id"])


def test_one_step_goes_new_awaiting_worker_in_progress_completed() -> None:
    workspace, fake = make()
    run_id = start(workspace)
    first = step_runs(workspace, run_id)
    assert first == [
        {
            "id": first[0]["id"],
            "state": "new",
            "state_updated_at": "2023-11-14T22:13:20.000Z",
            "error": None,
            "started_at": None,
            "ended_at": None,
            "duration": None,
            "step": {"id": first[0]["step"]["id"], "name": "Orders"},
        }
    ]
    at(fake, 0.499)
    assert states(workspace, run_id) == ["new"]
    at(fake, 0.5)
    assert step_runs(workspace, run_id)[0]["state_updated_at"] == "2023-11-14T22:13:20.500Z"
    assert states(workspace, run_id) == ["awaiting_worker"]
    at(fake, 1)
    assert workspace.get_run(run_id)["state"] == "in_progress"
    running = step_runs(workspace, run_id)[0]
    assert (running["state"], running["started_at"]) == ("in_progress", "2023-11-14T22:13:21.000Z")
    at(fake, 5)
    assert workspace.get_run(run_id)["state"] == "completed"
    done = step_runs(workspace, run_id)[0]
    assert done["state"] == "completed"
    assert done["ended_at"] == workspace.get_run(run_id)["ended_at"] == "2023-11-14T22:13:25.000Z"
    assert done["state_updated_at"] == done["ended_at"]
    assert done["duration"] == 4.0
    assert done["error"] is None
    assert workspace.get_step_run(done["id"]) == done
    assert (done["id"], done["step"]) == (first[0]["id"], first[0]["step"])  # stable ids


def test_an_unresolved_run_has_a_failed_step_run_whose_console_names_the_failed_item() -> None:
    failure = {"type": "business", "code": "INVALID_ORDER", "message": "Order 42 has no customer."}
    workspace, fake = make(outcome="unresolved", failures=[failure])
    run_id = start(workspace, payloads=2)
    step_run_id = step_runs(workspace, run_id)[0]["id"]
    assert console(workspace, step_run_id) == []  # not started
    at(fake, 2)
    assert console(workspace, step_run_id) == [
        "22:13:21.000 Step 'Orders' of process 'Orders' started: 2 work item(s) to process."
    ]
    at(fake, 5)
    assert workspace.get_run(run_id)["state"] == "unresolved"
    failed = workspace.get_step_run(step_run_id)
    assert (failed["state"], failed["error"]) == ("failed", {"code": "ROBOT_FAILED"})
    item = workspace.list_work_items(None, run_id, "failed", 10, None)[0][0]["id"]
    assert console(workspace, step_run_id) == [
        "22:13:21.000 Step 'Orders' of process 'Orders' started: 2 work item(s) to process.",
        f"22:13:23.000 Work item {item} failed with business exception INVALID_ORDER: "
        "Order 42 has no customer.",
        "22:13:25.000 Step 'Orders' of process 'Orders' failed (ROBOT_FAILED): 1 of 2 work "
        "item(s) failed.",
    ]


def test_steps_run_in_sequence_and_the_last_one_fails_by_default() -> None:
    workspace, fake = make(run_seconds=6, outcome="unresolved", steps=["Fetch", "Enter", "Report"])
    run_id = start(workspace)
    assert states(workspace, run_id) == ["new"]
    at(fake, 2.5)
    assert states(workspace, run_id) == ["in_progress"]
    at(fake, 3)
    assert states(workspace, run_id) == ["completed", "in_progress"]
    at(fake, 6.9)
    assert states(workspace, run_id) == ["completed", "completed", "in_progress"]
    at(fake, 7)
    runs = step_runs(workspace, run_id)
    assert [s["state"] for s in runs] == ["completed", "completed", "failed"]
    assert [s["step"]["name"] for s in runs] == ["Fetch", "Enter", "Report"]
    assert [(s["started_at"][11:19], s["ended_at"][11:19]) for s in runs] == [
        ("22:13:21", "22:13:23"),
        ("22:13:23", "22:13:25"),
        ("22:13:25", "22:13:27"),
    ]
    assert [s["duration"] for s in runs] == [2.0, 2.0, 2.0]
    assert len({s["id"] for s in runs}) == len({s["step"]["id"] for s in runs}) == 3


def test_a_run_without_processing_time_still_has_every_step_run() -> None:
    workspace, fake = make(run_seconds=0, steps=["A", "B", "C"])
    run_id = start(workspace)
    at(fake, 1)
    runs = step_runs(workspace, run_id)
    assert [(s["state"], s["duration"]) for s in runs] == [("completed", 0.0)] * 3
    assert {s["ended_at"] for s in runs} == {workspace.get_run(run_id)["ended_at"]}


def test_a_stop_as_a_step_ends_stops_the_next_one() -> None:
    workspace, fake = make(run_seconds=4, steps=["A", "B", "C"])
    run_id = start(workspace)
    at(fake, 1 + 4 / 3)  # A ends, B starts
    stop(workspace, run_id)
    at(fake, 9)
    assert states(workspace, run_id) == ["completed", "failed"]
    items = workspace.list_work_items(None, run_id, None, 10, None)[0]
    assert [i["state"] for i in items] == ["failed"]


def test_the_failing_step_and_its_error_code_are_configurable() -> None:
    steps = [
        {"name": "A"},
        {"name": "B", "fails": True, "error_code": "E_B", "id": "b"},
        {"name": "C"},
    ]
    workspace, fake = make(run_seconds=3, outcome="unresolved", steps=steps)
    run_id = start(workspace)
    at(fake, 4)
    runs = step_runs(workspace, run_id)
    assert [(s["state"], s["error"]) for s in runs] == [
        ("completed", None),
        ("failed", {"code": "E_B"}),
        ("completed", None),
    ]
    assert runs[1]["step"] == {"id": "b", "name": "B"}


def test_a_completed_run_has_only_completed_step_runs_even_with_a_failing_step() -> None:
    workspace, fake = make(steps=[{"name": "A", "fails": True}, {"name": "B"}])
    run_id = start(workspace)
    at(fake, 5)
    assert states(workspace, run_id) == ["completed", "completed"]
    step_run_id = step_runs(workspace, run_id)[1]["id"]
    assert console(workspace, step_run_id) == [
        "22:13:23.000 Step 'B' of process 'Orders' started: 1 work item(s) to process.",
        "22:13:25.000 Step 'B' of process 'Orders' completed: 1 work item(s) processed.",
    ]


def stop(workspace: Workspace, run_id: str, set_done: bool = False) -> None:
    body = {"set_remaining_work_items_as_done": set_done, "terminate_ongoing_activity_runs": True}
    assert workspace.stop_run(run_id, body) == {"accepted": True}


def test_a_stop_ends_the_step_run_in_progress_with_the_run_and_later_steps_never_run() -> None:
    workspace, fake = make(run_seconds=6, steps=[{"name": "A"}, {"name": "B"}, {"name": "C"}])
    run_id = start(workspace)
    at(fake, 4)
    stop(workspace, run_id)
    at(fake, 4.5)
    assert workspace.get_run(run_id)["state"] == "stopping"
    assert states(workspace, run_id) == ["completed", "in_progress"]
    at(fake, 5)  # stopping_seconds later
    assert workspace.get_run(run_id)["state"] == "unresolved"
    runs = step_runs(workspace, run_id)
    assert [(s["state"], s["error"]) for s in runs] == [
        ("completed", None),
        ("failed", {"code": "PROCESS_RUN_STOPPED"}),
    ]
    assert runs[1]["ended_at"] == workspace.get_run(run_id)["ended_at"]
    item = workspace.list_work_items(None, run_id, None, 10, None)[0][0]["id"]
    assert console(workspace, runs[1]["id"]) == [
        "22:13:23.000 Step 'B' of process 'Orders' started: 1 work item(s) to process.",
        f"22:13:25.000 Work item {item} failed with orchestrator exception "
        "PROCESS_RUN_STOPPED: The process run was stopped.",
        "22:13:25.000 Step 'B' of process 'Orders' failed (PROCESS_RUN_STOPPED): 1 of 1 work "
        "item(s) failed.",
    ]
    at(fake, 100)
    assert len(step_runs(workspace, run_id)) == 2


def test_the_failing_step_fails_only_when_work_items_end_failed() -> None:
    # A stop that sets the remaining items done after the failing step: no item fails.
    workspace, fake = make(outcome="unresolved", steps=[{"name": "A", "fails": True}, "B"])
    run_id = start(workspace)
    at(fake, 4)  # A ended at 3, B runs, the item is still in progress
    stop(workspace, run_id, set_done=True)
    at(fake, 9)
    assert workspace.get_run(run_id)["state"] == "completed"
    assert [i["state"] for i in workspace.list_work_items(None, run_id, None, 10, None)[0]] == [
        "done"
    ]
    assert states(workspace, run_id) == ["completed", "completed"]


def test_a_stop_that_sets_the_items_done_completes_the_step_run() -> None:
    workspace, fake = make()
    run_id = start(workspace)
    at(fake, 2)
    stop(workspace, run_id, set_done=True)
    at(fake, 3)
    assert workspace.get_run(run_id)["state"] == "completed"
    assert states(workspace, run_id) == ["completed"]


def test_a_run_stopped_before_it_started_has_a_failed_step_run_that_never_started() -> None:
    workspace, fake = make(new_seconds=10)
    run_id = start(workspace)
    at(fake, 6)
    assert states(workspace, run_id) == ["awaiting_worker"]
    stop(workspace, run_id)
    at(fake, 7)
    (step_run,) = step_runs(workspace, run_id)
    assert (step_run["state"], step_run["started_at"]) == ("failed", None)
    assert step_run["ended_at"] == workspace.get_run(run_id)["ended_at"]
    assert step_run["duration"] == 7.0  # since created, as the run's own duration
    assert console(workspace, step_run["id"])[-1] == (
        "22:13:27.000 Step 'Orders' of process 'Orders' failed (PROCESS_RUN_STOPPED): the "
        "process run was stopped before it started."
    )


def test_configured_console_lines_are_spread_over_the_step_and_written_as_time_goes() -> None:
    lines = ["one", "two", "three", "four"]
    workspace, fake = make(console=lines, steps=[{"name": "A"}, {"name": "B", "console": ["b"]}])
    run_id = start(workspace)
    at(fake, 1.9)
    step_run_id = step_runs(workspace, run_id)[0]["id"]
    assert console(workspace, step_run_id) == ["22:13:21.000 one", "22:13:21.500 two"]
    at(fake, 10)
    assert console(workspace, step_run_id) == [
        "22:13:21.000 one",
        "22:13:21.500 two",
        "22:13:22.000 three",
        "22:13:22.500 four",
    ]
    assert console(workspace, step_runs(workspace, run_id)[1]["id"]) == ["22:13:23.000 b"]


def test_console_lines_of_a_step_that_is_stopped_are_written_at_its_end() -> None:
    workspace, fake = make(console=["a", "b", "c", "d"])
    run_id = start(workspace)
    at(fake, 2)
    stop(workspace, run_id)
    at(fake, 10)
    step_run_id = step_runs(workspace, run_id)[0]["id"]
    assert console(workspace, step_run_id) == [
        "22:13:21.000 a",
        "22:13:22.000 b",
        "22:13:23.000 c",  # the stop ended the run at 22:13:23
        "22:13:23.000 d",
    ]


def test_a_run_that_never_ends_writes_one_configured_line_a_second() -> None:
    workspace, fake = make(
        run_seconds=None, console=["a", "b", "c"], steps=[{"name": "A"}, {"name": "B"}]
    )
    run_id = start(workspace)
    at(fake, 2.5)
    (step_run,) = step_runs(workspace, run_id)
    assert step_run["state"] == "in_progress"
    assert console(workspace, step_run["id"]) == ["22:13:21.000 a", "22:13:22.000 b"]


def test_console_messages_and_step_runs_page_in_order() -> None:
    workspace, fake = make(console=[str(i) for i in range(5)], steps=[{"name": n} for n in "ABC"])
    run_id = start(workspace)
    at(fake, 10)
    step_run_id = step_runs(workspace, run_id)[0]["id"]
    first, cursor = workspace.list_console_messages(step_run_id, 2, None)
    second, cursor = workspace.list_console_messages(step_run_id, 2, cursor)
    third, end = workspace.list_console_messages(step_run_id, 2, cursor)
    assert [m["message"] for m in first + second + third] == ["0", "1", "2", "3", "4"]
    assert end is None
    page, cursor = workspace.list_step_runs(run_id, 2, None)
    rest, end = workspace.list_step_runs(run_id, 2, cursor)
    assert [s["step"]["name"] for s in page + rest] == ["A", "B", "C"]
    assert end is None


def test_unknown_and_deleted_runs_and_step_runs() -> None:
    workspace, fake = make()
    assert workspace.list_step_runs("nope", 10, None) == ([], None)
    with pytest.raises(ApiError) as missing:
        workspace.list_step_runs(None, 10, None)
    assert (missing.value.status, missing.value.message) == (400, "'process_run_id' is required.")
    for call in (
        lambda: workspace.get_step_run("nope"),
        lambda: workspace.list_console_messages("nope", 10, None),
        lambda: workspace.list_artifacts("nope", 10, None),
    ):
        with pytest.raises(ApiError) as error:
            call()
        assert (error.value.status, error.value.message) == (404, "Step run 'nope' not found.")
    run_id = start(workspace)
    at(fake, 5)
    step_run_id = step_runs(workspace, run_id)[0]["id"]
    with pytest.raises(ApiError) as no_artifact:
        workspace.get_artifact(step_run_id, "x", "http://h")
    assert no_artifact.value.message == f"Artifact 'x' of step run '{step_run_id}' not found."
    workspace.delete_run(run_id)
    assert workspace.list_step_runs(run_id, 10, None) == ([], None)
    with pytest.raises(ApiError):
        workspace.get_step_run(step_run_id)


def artifacts(workspace: Workspace, step_run_id: str) -> list[dict[str, Any]]:
    page, cursor = workspace.list_artifacts(step_run_id, 100, None)
    assert cursor is None
    return page


def content(workspace: Workspace, step_run_id: str, artifact_id: str) -> bytes:
    _, size, chunks = workspace.artifact_content(step_run_id, artifact_id)
    data = b"".join(chunks)
    assert len(data) == size
    return data


def test_an_ended_step_run_has_the_output_xml_and_log_html_of_a_real_robot_run() -> None:
    workspace, fake = make(outcome="unresolved")
    run_id = start(workspace)
    step_run_id = step_runs(workspace, run_id)[0]["id"]
    at(fake, 4.9)
    assert artifacts(workspace, step_run_id) == []  # uploaded when the step run ends
    at(fake, 5)
    listed = artifacts(workspace, step_run_id)
    assert [a["name"] for a in listed] == ["output.xml", "log.html"]
    output = content(workspace, step_run_id, listed[0]["id"])
    assert listed[0]["size"] == len(output)
    result = ExecutionResult(io.BytesIO(output))
    task = result.suite.tests[0]
    assert (task.name, task.status) == ("Process Work Items", "FAIL")
    assert task.message == (
        "Work item failed with unspecified exception UNSPECIFIED: The work item failed."
    )
    log = content(workspace, step_run_id, listed[1]["id"])
    assert log.startswith(b"<!DOCTYPE html>")
    assert b"Process Work Items" in log


def test_the_robot_files_of_a_failed_step_run_give_each_distinct_failure() -> None:
    failures = [
        {"type": "business", "code": "E1", "message": "No customer."},
        {"type": "application", "code": "E2", "message": "*HTML* <b>ERP down</b>"},
        {"type": "business", "code": "E1", "message": "No customer."},
    ]
    workspace, fake = make(outcome="unresolved", failures=failures)
    run_id = start(workspace, payloads=4)
    at(fake, 5)
    step_run_id = step_runs(workspace, run_id)[0]["id"]
    output = content(workspace, step_run_id, artifacts(workspace, step_run_id)[0]["id"])
    task = ExecutionResult(io.BytesIO(output)).suite.tests[0]
    assert task.message == (
        "Several failures occurred:\n\n"
        "1) Work item failed with business exception E1: No customer.\n\n"
        "2) Work item failed with application exception E2: *HTML* <b>ERP down</b>"
    )


def test_a_completed_step_run_has_the_files_of_a_passing_robot_run() -> None:
    workspace, fake = make()
    run_id = start(workspace)
    at(fake, 5)
    step_run_id = step_runs(workspace, run_id)[0]["id"]
    output = content(workspace, step_run_id, artifacts(workspace, step_run_id)[0]["id"])
    assert ExecutionResult(io.BytesIO(output)).suite.status == "PASS"


def test_configured_artifacts_keep_hostile_and_duplicate_names() -> None:
    names = ["../evil.txt", "/etc/x", "nul\x00name", "bell\x07\r\n.txt", "a.txt", "a.txt"]
    configured: list[dict[str, Any]] = [{"name": n, "content": n} for n in names]
    configured += [
        {"name": "log.html", "robot": "log.html"},
        {"name": "bin", "content_base64": "AAEC"},
        {"name": "big.bin", "size": 3 * CHUNK + 5},
        {"name": "empty"},
    ]
    workspace, fake = make(steps=[{"name": "A", "artifacts": configured}])
    run_id = start(workspace)
    at(fake, 5)
    step_run_id = step_runs(workspace, run_id)[0]["id"]
    listed = artifacts(workspace, step_run_id)
    assert [a["name"] for a in listed] == [*names, "log.html", "bin", "big.bin", "empty"]
    assert len({a["id"] for a in listed}) == len(listed)
    assert [content(workspace, step_run_id, a["id"]) for a in listed[:6]] == [
        n.encode() for n in names
    ]
    assert content(workspace, step_run_id, listed[7]["id"]) == b"\x00\x01\x02"
    assert content(workspace, step_run_id, listed[9]["id"]) == b""
    _, size, chunks = workspace.artifact_content(step_run_id, listed[8]["id"])
    sizes = [len(chunk) for chunk in chunks]  # generated chunk by chunk
    assert size == listed[8]["size"] == sum(sizes) == 3 * CHUNK + 5
    assert max(sizes) == CHUNK


def test_process_artifacts_apply_to_every_step_that_has_none() -> None:
    process_artifacts = [{"name": "p.txt", "content": "p"}]
    steps = [{"name": "A"}, {"name": "B", "artifacts": []}]
    workspace, fake = make(artifacts=process_artifacts, steps=steps)
    run_id = start(workspace)
    at(fake, 5)
    first, second = step_runs(workspace, run_id)
    assert [a["name"] for a in artifacts(workspace, first["id"])] == ["p.txt"]
    assert artifacts(workspace, second["id"]) == []


def test_an_artifact_url_is_signed_and_expires() -> None:
    workspace, fake = make()
    workspace.url_expiry_seconds = 60
    run_id = start(workspace)
    at(fake, 5)
    step_run_id = step_runs(workspace, run_id)[0]["id"]
    listed = artifacts(workspace, step_run_id)[1]
    answer = workspace.get_artifact(step_run_id, listed["id"], "http://h:1")
    assert {k: answer[k] for k in ("id", "name", "size")} == listed
    url = urlsplit(answer["url"])
    path = f"/_emulator/workspaces/WS/step-runs/{step_run_id}/artifacts/{listed['id']}"
    assert (url.scheme, url.netloc, url.path) == ("http", "h:1", path)
    query = dict(parse_qsl(url.query))
    expires = int(query["expires"])
    assert signing.check(path, query, now=expires) is None
    assert signing.check(path, query, now=expires + 1) == "The URL has expired."
    assert signing.check(path + "x", query, now=expires) == "The URL's signature does not match."
    assert signing.check(path, {}, now=expires) == "The URL is not signed."


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        ({"steps": {}}, "Process 'p': 'steps' must be a list."),
        ({"steps": [1]}, "Process 'p': a step is a name or an object with a 'name'."),
        ({"steps": [{"name": ""}]}, "Process 'p': a step needs a non-empty string 'name'."),
        ({"steps": [{"name": "A", "x": 1}]}, "Process 'p': unknown step field(s): x."),
        (
            {"steps": [{"name": "A", "fails": 1}]},
            "Process 'p', step 'A': 'fails' must be true or false.",
        ),
        (
            {"steps": [{"name": "A", "fails": True}, {"name": "B", "fails": True}]},
            "Process 'p': at most one step has 'fails': true.",
        ),
        (
            {"steps": [{"name": "A", "id": ""}]},
            "Process 'p', step 'A': 'id' must be a non-empty string.",
        ),
        (
            {"steps": [{"name": "A", "error_code": 1}]},
            "Process 'p', step 'A': 'error_code' must be a non-empty string.",
        ),
        ({"console": "x"}, "Process 'p': 'console' must be a list of strings."),
        (
            {"steps": [{"name": "A", "console": [1]}]},
            "Process 'p', step 'A': 'console' must be a list of strings.",
        ),
        ({"artifacts": {}}, "Process 'p': 'artifacts' must be a list."),
        ({"artifacts": [{"content": "x"}]}, "Process 'p': an artifact needs a string 'name'."),
        (
            {"artifacts": [{"name": "a", "content": "x", "size": 1}]},
            "Process 'p': an artifact has a 'name' and one of 'content', 'content_base64', 'size' or 'robot'.",
        ),
        (
            {"artifacts": [{"name": "a", "robot": "report.html"}]},
            "Process 'p': an artifact's 'robot' must be one of output.xml, log.html.",
        ),
        (
            {"artifacts": [{"name": "a", "size": MAX_ARTIFACT_SIZE + 1}]},
            f"Process 'p': an artifact's 'size' must be an integer from 0 to {MAX_ARTIFACT_SIZE}.",
        ),
        (
            {"artifacts": [{"name": "a", "size": True}]},
            f"Process 'p': an artifact's 'size' must be an integer from 0 to {MAX_ARTIFACT_SIZE}.",
        ),
        (
            {"artifacts": [{"name": "a", "content": 1}]},
            "Process 'p': an artifact's 'content' must be a string.",
        ),
        (
            {"artifacts": [{"name": "a", "content_base64": "!"}]},
            "Process 'p': an artifact's 'content_base64' is not valid base64.",
        ),
    ],
)
def test_bad_step_console_and_artifact_definitions_are_refused(
    definition: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as error:
        parse_process({"id": "p", **definition})
    assert str(error.value) == message


def test_step_definitions_round_trip_through_the_admin_view() -> None:
    steps = [{"name": "A", "console": ["x"], "artifacts": [{"name": "big", "size": 3}]}]
    process = parse_process(
        {
            "id": "p",
            "steps": steps,
            "console": [],
            "artifacts": [{"name": "o", "robot": "output.xml"}],
        }
    )
    data = process.to_json()
    assert data["steps"] == [
        {
            "name": "A",
            "id": None,
            "fails": False,
            "error_code": None,
            "console": ["x"],
            "artifacts": [{"name": "big", "size": 3}],
        }
    ]
    assert (data["console"], data["artifacts"]) == ([], [{"name": "o", "robot": "output.xml"}])
    assert parse_process(data) == process


def test_url_expiry_is_a_setting_of_the_configuration() -> None:
    assert load_config({})["url_expiry_seconds"] == 3600.0
    assert load_config({"url_expiry_seconds": 0})["url_expiry_seconds"] == 0.0
    with pytest.raises(ConfigError) as error:
        load_config({"url_expiry_seconds": -1})
    assert str(error.value) == "'url_expiry_seconds' must be a number >= 0."


def test_work_items_name_their_step_and_step_run() -> None:
    failure = {"type": "business", "code": "E", "message": "No."}
    steps = ["A", {"name": "B", "fails": True}, "C"]
    workspace, fake = make(run_seconds=3, outcome="unresolved", failures=[failure], steps=steps)
    workspace.define_process(parse_process({"id": "q", "input_queue": [1]}))
    run_id = start(workspace, payloads=2)
    queued = workspace.list_work_items("q", None, None, 10, None)[0][0]
    assert (queued["step"], queued["step_run"]) == (None, None)
    first = step_runs(workspace, run_id)[0]
    pending = workspace.list_work_items(None, run_id, None, 10, None)[0]
    assert [(i["step"], i["step_run"]) for i in pending] == [
        ({"id": first["step"]["id"]}, {"id": first["id"]})
    ] * 2
    at(fake, 4)
    _, b, c = step_runs(workspace, run_id)
    ended = workspace.list_work_items(None, run_id, None, 10, None)[0]
    assert [(i["state"], i["step"], i["step_run"]) for i in ended] == [
        ("failed", {"id": b["step"]["id"]}, {"id": b["id"]}),
        ("done", {"id": c["step"]["id"]}, {"id": c["id"]}),
    ]


def test_robot_files_that_cannot_be_made_fail_with_the_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(robotfiles, "PYTHON", "/nonexistent/python")
    variant = robotfiles.variant("failed", ("a variant only this test makes",))
    with pytest.raises(RuntimeError) as error:
        robotfiles.files(variant)
    assert str(error.value) == (
        "The emulator could not make the Robot Framework files: FileNotFoundError: "
        "[Errno 2] No such file or directory: '/nonexistent/python'"
    )
