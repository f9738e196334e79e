"""The work items of the emulated workspace, in process (no HTTP): creation into the input
queue, payload updates, files, and the batch operations with their effect on runs."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import FakeTime
from ProcessRunLibrary.emulator import signing
from ProcessRunLibrary.emulator.clock import Clock
from ProcessRunLibrary.emulator.common import ApiError, announced_file
from ProcessRunLibrary.emulator.model import WorkItemFile
from ProcessRunLibrary.emulator.processes import ConfigError, parse_process
from ProcessRunLibrary.emulator.state import Workspace

BASE = "http://emu"
FAILURE = {"type": "business", "code": "E1", "message": "No customer."}


def make(**process: Any) -> tuple[Workspace, FakeTime]:
    fake = FakeTime()
    definition = {
        "id": "p",
        "new_seconds": 1,
        "run_seconds": 4,
        "outcome": "unresolved",
        "failures": [FAILURE],
        **process,
    }
    workspace = Workspace("WS", [parse_process(definition)], clock=Clock(1.0, real=fake))
    return workspace, fake


def create(workspace: Workspace, payload: Any, process_id: str = "p") -> str:
    body = {"process": {"id": process_id}, "payload": payload}
    return str(workspace.create_work_item(body, BASE)["id"])


def states(workspace: Workspace, run_id: str) -> list[str]:
    page, _ = workspace.list_work_items(None, run_id, None, 100, None)
    return [i["state"] for i in page]


def batch(workspace: Workspace, operation: str, *ids: str) -> dict[str, Any]:
    answer, _ = workspace.run_batch_operation(
        {"batch_operation": operation, "work_item_ids": list(ids)}
    )
    return answer


def error_of(call: Any, *args: Any) -> tuple[int, str]:
    with pytest.raises(ApiError) as raised:
        call(*args)
    return raised.value.status, raised.value.message


def unresolved_run(workspace: Workspace, fake: FakeTime, count: int = 2) -> tuple[str, list[str]]:
    """A run of the queued items and `count` created ones; the first one failed."""
    for n in range(count):
        create(workspace, {"n": n})
    run_id = workspace.start_run("p", {"type": "with_inputs"})["id"]
    fake.now += 5
    assert workspace.get_run(run_id)["state"] == "unresolved"
    page, _ = workspace.list_work_items(None, run_id, None, 100, None)
    return run_id, [i["id"] for i in page]


def test_created_items_wait_in_the_input_queue_until_a_run_takes_them() -> None:
    workspace, _ = make()
    answer = workspace.create_work_item({"process": {"id": "p"}, "payload": {"a": 1}}, BASE)
    assert answer["state"] == "new"
    assert answer["process_run"] is None
    assert answer["payload"] == {"a": 1}
    assert answer["files"] == []
    run_id = workspace.start_run("p", {"type": "with_inputs"})["id"]
    assert workspace.get_work_item(answer["id"], BASE)["process_run"] == {"id": run_id}
    assert workspace.start_run("p", {"type": "with_inputs"}) == {"started": False}


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ([], 400, "The request body must be a JSON object."),
        ({"payload": {}}, 400, "'process' is required and must be an object with an 'id' string."),
        ({"process": {"id": "p"}}, 400, "'payload' is required (any JSON value, or null)."),
        ({"process": {"id": "x"}, "payload": {}}, 400, "Process 'x' not found."),
    ],
)
def test_create_refuses_bad_bodies(body: Any, status: int, message: str) -> None:
    workspace, _ = make()
    assert error_of(workspace.create_work_item, body, BASE) == (status, message)


def test_list_processes_pages_in_definition_order() -> None:
    workspace, _ = make()
    workspace.define_process(parse_process({"id": "q", "name": "Q"}))
    first, cursor = workspace.list_processes(1, None)
    assert [p["id"] for p in first] == ["p"]
    second, cursor = workspace.list_processes(1, cursor)
    assert second == [{"id": "q", "name": "Q", "created_at": "2023-11-14T22:13:20.000Z"}]
    assert cursor is None


def test_retry_runs_the_failed_items_again_and_the_run_completes() -> None:
    workspace, fake = make()
    run_id, ids = unresolved_run(workspace, fake)
    first = workspace.get_run(run_id)
    assert workspace.update_work_item_payload(ids[0], {"payload": {"n": 0, "fixed": True}}) == {
        "payload": {"n": 0, "fixed": True}
    }
    assert batch(workspace, "retry", ids[0]) == {"accepted": True}
    retried = workspace.get_run(run_id)
    assert retried["state"] == "in_progress"
    assert retried["started_at"] == first["started_at"]  # the run started once
    assert retried["ended_at"] is None and retried["duration"] is None
    assert states(workspace, run_id) == ["in_progress", "done"]
    # One item of two: half of run_seconds.
    fake.now += 1.9
    assert workspace.get_run(run_id)["state"] == "in_progress"
    fake.now += 0.1
    done = workspace.get_run(run_id)
    assert done["state"] == "completed"
    assert done["duration"] == 6.0  # from the first start to the end of the retry
    assert states(workspace, run_id) == ["done", "done"]
    assert workspace.get_work_item(ids[0], BASE)["payload"] == {"n": 0, "fixed": True}
    line = workspace.timeline(workspace.runs[run_id])
    assert (line.attempt, line.started, line.ended, line.outcome) == (
        2,
        1_700_000_005.0,
        1_700_000_007.0,
        "completed",
    )
    assert line.first_started == 1_700_000_001.0


def test_failing_attempts_decides_how_often_a_retry_fails_again() -> None:
    workspace, fake = make(failing_attempts=2)
    run_id, ids = unresolved_run(workspace, fake)
    batch(workspace, "retry", ids[0])
    fake.now += 2
    assert workspace.get_run(run_id)["state"] == "unresolved"
    assert workspace.get_work_item(ids[0], BASE)["exception"] == FAILURE
    batch(workspace, "retry", ids[0])
    fake.now += 2
    assert workspace.get_run(run_id)["state"] == "completed"
    assert workspace.work_items_json()[0]["attempt"] == 3


def test_failing_attempts_null_fails_every_retry() -> None:
    workspace, fake = make(failing_attempts=None)
    run_id, ids = unresolved_run(workspace, fake)
    for _ in range(3):
        batch(workspace, "retry", ids[0])
        fake.now += 2
        assert workspace.get_run(run_id)["state"] == "unresolved"


@pytest.mark.parametrize("value", [0, -1, 1.5, True, "1"])
def test_failing_attempts_must_be_a_positive_integer_or_null(value: Any) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_process({"id": "p", "failing_attempts": value})
    assert str(raised.value) == "Process 'p': 'failing_attempts' must be an integer >= 1 or null."


def test_mark_as_done_completes_the_run_when_no_failed_item_is_left() -> None:
    workspace, fake = make(failures=[FAILURE, FAILURE])
    run_id, ids = unresolved_run(workspace, fake, count=3)
    ended_at = workspace.get_run(run_id)["ended_at"]
    batch(workspace, "mark_as_done", ids[0])
    assert workspace.get_run(run_id)["state"] == "unresolved"
    assert states(workspace, run_id) == ["done", "failed", "done"]
    batch(workspace, "mark_as_done", ids[1])
    marked = workspace.get_run(run_id)
    assert marked["state"] == "completed"
    assert marked["ended_at"] == ended_at


def test_delete_removes_items_and_resolves_a_run() -> None:
    workspace, fake = make()
    run_id, ids = unresolved_run(workspace, fake)
    waiting = create(workspace, "waits")
    batch(workspace, "delete", ids[0], waiting)
    assert workspace.get_run(run_id)["state"] == "completed"
    assert states(workspace, run_id) == ["done"]
    assert error_of(workspace.get_work_item, ids[0], BASE) == (
        404,
        f"Work item '{ids[0]}' not found.",
    )
    assert workspace.start_run("p", {"type": "with_inputs"}) == {"started": False}


def test_batch_operations_are_all_or_nothing_with_clear_refusals() -> None:
    workspace, fake = make()
    queued = create(workspace, 1)
    assert error_of(batch, workspace, "retry", queued) == (
        409,
        f"Work item '{queued}' is new (waiting in the input queue of process 'p'): only "
        "failed work items can be retried or marked as done.",
    )
    workspace.run_batch_operation({"batch_operation": "delete", "work_item_ids": [queued]})
    run_id, ids = unresolved_run(workspace, fake)
    assert error_of(batch, workspace, "retry", ids[0], ids[1]) == (
        409,
        f"Work item '{ids[1]}' is done: only failed work items can be retried.",
    )
    assert error_of(batch, workspace, "mark_as_done", ids[1]) == (
        409,
        f"Work item '{ids[1]}' is done: only failed work items can be marked as done.",
    )
    assert error_of(batch, workspace, "delete", ids[0], "nope") == (
        404,
        "Work item 'nope' not found.",
    )
    assert states(workspace, run_id) == ["failed", "done"]  # nothing applied
    assert batch(workspace, "retry") == {"accepted": True}  # an empty list is allowed
    batch(workspace, "retry", ids[0])
    assert error_of(batch, workspace, "delete", ids[0]) == (
        409,
        f"Work item '{ids[0]}' is in_progress: only new, failed or done work items can be deleted.",
    )


def test_a_failed_item_of_a_run_that_has_not_ended_cannot_be_retried() -> None:
    workspace, fake = make(failures=[FAILURE])
    ids = [create(workspace, n) for n in range(2)]
    run_id = workspace.start_run("p", {"type": "with_inputs"})["id"]
    fake.now += 3.5  # the first item failed, the second runs
    assert states(workspace, run_id) == ["failed", "in_progress"]
    assert error_of(batch, workspace, "retry", ids[0]) == (
        409,
        f"Work item '{ids[0]}' belongs to process run '{run_id}', which is in_progress: "
        "failed work items can be retried once their run has ended.",
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (None, "The request body must be a JSON object."),
        ({"work_item_ids": []}, "'batch_operation' must be one of retry, delete, mark_as_done."),
        (
            {"batch_operation": "retry"},
            "'work_item_ids' is required and must be a list of strings.",
        ),
        (
            {"batch_operation": "retry", "work_item_ids": [1]},
            "'work_item_ids' is required and must be a list of strings.",
        ),
    ],
)
def test_batch_bodies(body: Any, message: str) -> None:
    workspace, _ = make()
    assert error_of(workspace.run_batch_operation, body) == (400, message)


def test_a_retry_can_be_stopped() -> None:
    workspace, fake = make(run_seconds=None, outcome="completed")
    run_id = workspace.start_run("p", {"type": "with_payloads", "payloads": [1]})["id"]
    stop = {"set_remaining_work_items_as_done": False, "terminate_ongoing_activity_runs": True}
    fake.now += 2
    workspace.stop_run(run_id, stop)
    fake.now += 2
    assert workspace.get_run(run_id)["state"] == "unresolved"
    item_id = workspace.work_items_json()[0]["id"]
    batch(workspace, "retry", item_id)
    assert workspace.get_run(run_id)["state"] == "in_progress"  # a forever process
    assert workspace.stop_run(run_id, {**stop, "set_remaining_work_items_as_done": True}) == {
        "accepted": True
    }
    assert workspace.get_run(run_id)["state"] == "stopping"
    fake.now += 1
    assert workspace.get_run(run_id)["state"] == "completed"


def test_the_payload_of_a_running_item_cannot_be_updated() -> None:
    workspace, fake = make()
    item_id = create(workspace, 1)
    workspace.start_run("p", {"type": "with_inputs"})
    fake.now += 2
    assert error_of(workspace.update_work_item_payload, item_id, {"payload": 2}) == (
        400,
        f"Work item '{item_id}' is in_progress: only the payload of a new, failed or done "
        "work item can be updated.",
    )
    assert workspace.update_work_item_payload(create(workspace, 1), {}) == {"payload": {}}
    assert error_of(workspace.update_work_item_payload, item_id, {"payload": None}) == (
        400,
        "'payload' must be a JSON value other than null.",
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"file_size": 1}, "'file_name' is required and must be a non-empty string."),
        (
            {"file_name": "", "file_size": 1},
            "'file_name' is required and must be a non-empty string.",
        ),
        (
            {"file_name": "a", "file_size": 1.5},
            "'file_size' is required and must be a whole number of bytes >= 0.",
        ),
        (
            {"file_name": "a", "file_size": -1},
            "'file_size' is required and must be a whole number of bytes >= 0.",
        ),
        (
            {"file_name": "a", "file_size": True},
            "'file_size' is required and must be a whole number of bytes >= 0.",
        ),
    ],
)
def test_file_announcements(body: Any, message: str) -> None:
    workspace, _ = make()
    item_id = create(workspace, 1)
    assert error_of(workspace.create_work_item_file, item_id, body, BASE) == (400, message)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "The request body must be a JSON object."),
        ({"fileSize": 1}, "'fileName' is required and must be a non-empty string."),
        ({"fileName": 3, "fileSize": 1}, "'fileName' is required and must be a non-empty string."),
        (
            {"fileName": "a", "fileSize": float("inf")},
            "'fileSize' is required and must be a whole number of bytes >= 0.",
        ),
        (
            {"fileName": "a", "fileSize": "1"},
            "'fileSize' is required and must be a whole number of bytes >= 0.",
        ),
    ],
)
def test_file_announcements_name_the_fields_of_their_api(body: Any, message: str) -> None:
    """The worker API spells the fields in camelCase; the same rule names them so."""
    assert error_of(announced_file, body, "fileName", "fileSize") == (400, message)


def test_announced_file_gives_a_whole_size() -> None:
    assert announced_file({"fileName": "a", "fileSize": 2.0}, "fileName", "fileSize") == ("a", 2)


def store_upload(workspace: Workspace, file: WorkItemFile, content: bytes) -> None:
    """What the upload route does with the bytes: spooled to disk, then stored."""
    with workspace.spool.receiving() as incoming:
        incoming.file.write(content)
        workspace.store_upload(file, incoming)


def test_upload_fields_are_signed_and_checked() -> None:
    workspace, _ = make()
    item_id = create(workspace, 1)
    upload = workspace.create_work_item_file(
        item_id, {"file_name": "a.txt", "file_size": 3.0}, BASE
    )
    file_id = upload["url"].rsplit("/", 1)[1]
    assert upload["url"] == f"{BASE}/_emulator/uploads/{file_id}"
    form = upload["form_data"]
    assert sorted(form) == ["expires", "key", "signature"]
    assert form["key"] == f"WS/{item_id}/{file_id}/a.txt"
    assert workspace.get_work_item(item_id, BASE)["files"] == []  # not uploaded yet
    bad_key = {**form, "key": "WS/other"}
    assert error_of(workspace.check_upload, file_id, bad_key) == (
        403,
        "The URL's signature does not match.",
    )
    later = {**form, "expires": str(int(form["expires"]) + 1)}
    assert error_of(workspace.check_upload, file_id, later)[0] == 403
    assert error_of(workspace.check_upload, file_id, {"key": form["key"]}) == (
        400,
        "The upload lacks the form field(s) expires, signature.",
    )
    assert error_of(workspace.check_upload, file_id, {**form, "acl": "x"}) == (
        400,
        "Unexpected form field(s) acl in the upload.",
    )
    file = workspace.check_upload(file_id, form)
    assert error_of(store_upload, workspace, file, b"ab") == (
        400,
        "The file has 2 bytes; createWorkItemFile announced 3.",
    )
    store_upload(workspace, file, b"abc")
    [shown] = workspace.get_work_item(item_id, BASE)["files"]
    assert (shown["id"], shown["name"], shown["size"]) == (file_id, "a.txt", 3)
    query = dict(p.split("=") for p in shown["download"]["url"].split("?")[1].split("&"))
    stored = workspace.downloadable(file_id, query).stored
    assert stored is not None and stored.read() == b"abc"
    assert error_of(workspace.downloadable, file_id, {**query, "signature": "0" * 64}) == (
        403,
        "The URL's signature does not match.",
    )


def test_an_expired_upload_is_refused() -> None:
    workspace, _ = make()
    workspace.url_expiry_seconds = -1.0
    item_id = create(workspace, 1)
    upload = workspace.create_work_item_file(item_id, {"file_name": "a", "file_size": 0}, BASE)
    file_id = upload["url"].rsplit("/", 1)[1]
    assert error_of(workspace.check_upload, file_id, upload["form_data"]) == (
        403,
        "The URL has expired.",
    )
    assert signing.DEFAULT_EXPIRY_SECONDS == 3600.0


def test_admin_seeded_items_have_their_files_uploaded() -> None:
    workspace, _ = make()
    item = workspace.add_input_work_item("p", {"a": 1}, [("a.bin", b"\xff"), ("b.txt", b"hi")])
    [seeded] = workspace.work_items_json()
    assert seeded == {
        "id": item.id,
        "process_id": "p",
        "process_run_id": None,
        "state": "new",
        "exception": None,
        "attempt": 1,
        "payload": {"a": 1},
        "files": [
            {"name": "a.bin", "size": 1, "uploaded": True, "content_base64": "/w=="},
            {"name": "b.txt", "size": 2, "uploaded": True, "content": "hi"},
        ],
    }
    assert [f["name"] for f in workspace.get_work_item(item.id, BASE)["files"]] == [
        "a.bin",
        "b.txt",
    ]


def test_an_item_of_an_earlier_run_is_copied_with_its_files() -> None:
    workspace, fake = make(outcome="completed")
    item = workspace.add_input_work_item("p", {"a": 1}, [("a.txt", b"hi")])
    workspace.start_run("p", {"type": "with_inputs"})
    fake.now += 5
    run_id = workspace.start_run("p", {"type": "with_work_item_ids", "work_item_ids": [item.id]})[
        "id"
    ]
    [copy] = workspace.list_work_items(None, run_id, None, 10, None)[0]
    assert copy["id"] != item.id
    shown = workspace.get_work_item(copy["id"], BASE)
    assert shown["payload"] == {"a": 1}
    [file] = shown["files"]
    assert (file["name"], file["size"]) == ("a.txt", 2)
    assert file["id"] != workspace.get_work_item(item.id, BASE)["files"][0]["id"]


def test_each_attempt_has_its_timeline() -> None:
    workspace, fake = make(failing_attempts=2)
    run_id, ids = unresolved_run(workspace, fake)
    batch(workspace, "retry", ids[0])
    fake.now += 2
    batch(workspace, "retry", ids[0])
    fake.now += 2
    run = workspace.runs[run_id]
    spans = [
        (t.attempt, t.started - 1_700_000_000, t.ended - 1_700_000_000, t.outcome)  # type: ignore[operator]
        for t in workspace.attempt_timelines(run)
    ]
    assert spans == [(1, 1, 5, "unresolved"), (2, 5, 7, "unresolved"), (3, 7, 9, "completed")]
    assert workspace.attempt_timelines(run)[-1] == workspace.timeline(run)
