"""The emulated workspace without HTTP: lifecycle on a fake clock, bodies, errors."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from conftest import FakeTime
from ProcessRunLibrary.emulator import signing
from ProcessRunLibrary.emulator.clock import Clock
from ProcessRunLibrary.emulator.common import ApiError, ConfigError, parse_json
from ProcessRunLibrary.emulator.processes import DEMO_PROCESSES, load_config, parse_process
from ProcessRunLibrary.emulator.state import Workspace


def make(factor: float = 1.0, **process: Any) -> tuple[Workspace, FakeTime]:
    fake = FakeTime()
    definition = {"id": "p", "new_seconds": 1, "run_seconds": 4, **process}
    workspace = Workspace("WS", [parse_process(definition)], clock=Clock(factor, real=fake))
    return workspace, fake


def state_at(workspace: Workspace, fake: FakeTime, run_id: str, seconds: float) -> str:
    fake.now += seconds
    return str(workspace.get_run(run_id)["state"])


def items(workspace: Workspace, run_id: str) -> list[dict[str, Any]]:
    page, _ = workspace.list_work_items(None, run_id, None, 100, None)
    return page


def test_run_goes_new_in_progress_completed_with_timestamps_and_duration() -> None:
    workspace, fake = make()
    run_id = workspace.start_run("p", None)["id"]
    created = workspace.get_run(run_id)
    assert created["state"] == "new"
    assert created["started_at"] is None and created["ended_at"] is None
    assert created["duration"] is None
    assert created["process"] == {"id": "p", "name": "p"}
    assert created["started_by"] == {"type": "api", "details": None}
    assert state_at(workspace, fake, run_id, 0.999) == "new"
    assert state_at(workspace, fake, run_id, 0.001) == "in_progress"
    assert workspace.get_run(run_id)["started_at"] == "2023-11-14T22:13:21.000Z"
    assert state_at(workspace, fake, run_id, 3.9) == "in_progress"
    assert state_at(workspace, fake, run_id, 0.1) == "completed"
    ended = workspace.get_run(run_id)
    assert ended["created_at"] == "2023-11-14T22:13:20.000Z"
    assert ended["ended_at"] == "2023-11-14T22:13:25.000Z"
    assert ended["duration"] == 4.0


def test_clock_factor_scales_time_and_timestamps_are_emulated() -> None:
    workspace, fake = make(factor=10.0)
    run_id = workspace.start_run("p", None)["id"]
    assert state_at(workspace, fake, run_id, 0.49) == "in_progress"
    assert state_at(workspace, fake, run_id, 0.01) == "completed"
    assert workspace.get_run(run_id)["duration"] == 4.0


def test_work_items_are_processed_one_after_the_other() -> None:
    workspace, fake = make(run_seconds=4)
    body = {"type": "with_payloads", "payloads": [{"n": 1}, {"n": 2}]}
    run_id = workspace.start_run("p", body)["id"]
    assert [i["state"] for i in items(workspace, run_id)] == ["pending", "pending"]
    fake.now += 1.5
    assert [i["state"] for i in items(workspace, run_id)] == ["in_progress", "pending"]
    fake.now += 2
    assert [i["state"] for i in items(workspace, run_id)] == ["done", "in_progress"]
    fake.now += 2
    assert [i["state"] for i in items(workspace, run_id)] == ["done", "done"]
    assert all(i["exception"] is None for i in items(workspace, run_id))


def test_unresolved_run_fails_its_first_items_with_the_configured_failures() -> None:
    failure = {"type": "business", "code": "E1", "message": "No customer."}
    workspace, fake = make(outcome="unresolved", failures=[failure])
    body = {"type": "with_payloads", "payloads": [1, 2, 3]}
    run_id = workspace.start_run("p", body)["id"]
    fake.now += 5
    assert workspace.get_run(run_id)["state"] == "unresolved"
    found = items(workspace, run_id)
    assert [i["state"] for i in found] == ["failed", "done", "done"]
    assert found[0]["exception"] == failure


def test_unresolved_without_failures_uses_an_unspecified_exception() -> None:
    workspace, fake = make(outcome="unresolved")
    run_id = workspace.start_run("p", None)["id"]
    fake.now += 5
    assert items(workspace, run_id)[0]["exception"] == {
        "type": "unspecified",
        "code": "UNSPECIFIED",
        "message": "The work item failed.",
    }


def test_stop_without_done_goes_stopping_then_unresolved_with_orchestrator_failures() -> None:
    workspace, fake = make(run_seconds=None)
    run_id = workspace.start_run("p", {"type": "with_payloads", "payloads": [1, 2]})["id"]
    fake.now += 2
    stop = {
        "set_remaining_work_items_as_done": False,
        "terminate_ongoing_activity_runs": True,
        "reason": "Tests are over",
    }
    assert workspace.stop_run(run_id, stop) == {"accepted": True}
    assert workspace.get_run(run_id)["state"] == "stopping"
    assert [i["state"] for i in items(workspace, run_id)] == ["in_progress", "pending"]
    assert state_at(workspace, fake, run_id, 1.0) == "unresolved"
    found = items(workspace, run_id)
    assert [i["state"] for i in found] == ["failed", "failed"]
    assert found[1]["exception"] == {
        "type": "orchestrator",
        "code": "PROCESS_RUN_STOPPED",
        "message": "The process run was stopped: Tests are over",
    }
    ended = workspace.get_run(run_id)
    assert ended["duration"] == 2.0
    assert workspace.stop_run(run_id, stop) == {"accepted": False}


def test_stop_with_done_completes_and_marks_remaining_items_done() -> None:
    workspace, fake = make(run_seconds=None)
    run_id = workspace.start_run("p", None)["id"]
    stop = {"set_remaining_work_items_as_done": True, "terminate_ongoing_activity_runs": False}
    assert workspace.stop_run(run_id, stop) == {"accepted": True}
    assert workspace.get_run(run_id)["state"] == "stopping"
    assert state_at(workspace, fake, run_id, 1.0) == "completed"
    assert workspace.get_run(run_id)["started_at"] is None  # stopped while new
    assert items(workspace, run_id)[0]["state"] == "done"


def test_stop_body_needs_both_booleans() -> None:
    workspace, _ = make()
    run_id = workspace.start_run("p", None)["id"]
    with pytest.raises(ApiError) as error:
        workspace.stop_run(run_id, {"set_remaining_work_items_as_done": True})
    assert (error.value.status, error.value.code, error.value.message) == (
        400,
        "bad_request",
        "'terminate_ongoing_activity_runs' is required and must be true or false.",
    )


def test_delete_needs_an_ended_run() -> None:
    workspace, fake = make()
    run_id = workspace.start_run("p", None)["id"]
    with pytest.raises(ApiError) as error:
        workspace.delete_run(run_id)
    assert error.value.status == 409
    assert error.value.message == (
        f"Process run '{run_id}' has not ended (state 'new'): only completed or "
        "unresolved process runs can be deleted."
    )
    fake.now += 5
    assert workspace.delete_run(run_id) == {"id": run_id, "deleted": True}
    with pytest.raises(ApiError) as error:
        workspace.get_run(run_id)
    assert (error.value.status, error.value.message) == (
        404,
        f"Process run '{run_id}' not found.",
    )


def test_input_queue_is_taken_once_then_started_false() -> None:
    workspace, _ = make(input_queue=[{"a": 1}, {"a": 2}])
    queued, _ = workspace.list_work_items("p", None, "new", 10, None)
    assert [q["process_run"] for q in queued] == [None, None]
    run_id = workspace.start_run("p", {"type": "with_inputs"})["id"]
    assert [r["payloads"] for r in workspace.runs_json()] == [[{"a": 1}, {"a": 2}]]
    assert [i["id"] for i in items(workspace, run_id)] == [q["id"] for q in queued]
    assert workspace.start_run("p", {"type": "with_inputs"}) == {"started": False}


def test_with_work_item_ids_takes_known_items_and_refuses_unknown_ones() -> None:
    workspace, _ = make(input_queue=["x"])
    queued, _ = workspace.list_work_items("p", None, "new", 10, None)
    body = {"type": "with_work_item_ids", "work_item_ids": [queued[0]["id"]]}
    run_id = workspace.start_run("p", body)["id"]
    assert items(workspace, run_id)[0]["id"] == queued[0]["id"]
    with pytest.raises(ApiError) as error:
        workspace.start_run("p", {"type": "with_work_item_ids", "work_item_ids": ["nope"]})
    assert (error.value.status, error.value.message) == (400, "Work item 'nope' not found.")


def test_default_work_item_payload() -> None:
    workspace, _ = make(default_work_item={"hello": "world"})
    workspace.start_run("p", None)
    workspace.start_run("p", {})
    assert [r["payloads"] for r in workspace.runs_json()] == [
        [{"hello": "world"}],
        [{"hello": "world"}],
    ]


@pytest.mark.parametrize(
    "body",
    [
        {"type": "with_payloads", "payloads": []},
        {"type": "with_work_item_ids", "work_item_ids": []},
        {"type": "with_inputs"},
    ],
)
def test_nothing_to_process_starts_nothing(body: dict[str, Any]) -> None:
    workspace, _ = make()
    assert workspace.start_run("p", body) == {"started": False}
    assert workspace.runs_json() == []


def test_fields_the_schema_allows_are_ignored() -> None:
    workspace, _ = make(default_work_item={"hello": "world"})
    assert workspace.start_run("p", {"payloads": [1], "note": "x"})["started"] is True
    extra = {"type": "with_payloads", "payloads": [2], "work_item_ids": ["x"], "more": 1}
    assert workspace.start_run("p", extra)["started"] is True
    assert [r["payloads"] for r in workspace.runs_json()] == [[{"hello": "world"}], [2]]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "The request body must be a JSON object."),
        ({"type": "nope"}, "'type' must be one of with_work_item_ids, with_inputs, with_payloads."),
        (
            {"type": "with_payloads"},
            "'payloads' must be a list when 'type' is 'with_payloads'.",
        ),
        (
            {"type": "with_payloads", "payloads": {}},
            "'payloads' must be a list when 'type' is 'with_payloads'.",
        ),
        (
            {"type": "with_work_item_ids", "work_item_ids": "x"},
            "'work_item_ids' must be a list when 'type' is 'with_work_item_ids'.",
        ),
        (
            {"type": "with_work_item_ids", "work_item_ids": [1]},
            "'work_item_ids' must be a list of work item id strings.",
        ),
        (
            {"type": "with_inputs", "callback": {"url": "http://x", "secret": "s"}},
            "'callback.callback_events' is required and must list some of "
            "started, completed, unresolved.",
        ),
        (
            {"callback": {"secret": "s", "callback_events": ["started"]}},
            "'callback.url' is required and must be a non-empty string.",
        ),
    ],
)
def test_malformed_start_bodies(body: Any, message: str) -> None:
    workspace, _ = make()
    with pytest.raises(ApiError) as error:
        workspace.start_run("p", body)
    assert (error.value.status, error.value.code, error.value.message) == (
        400,
        "bad_request",
        message,
    )


def test_callback_is_recorded_with_its_secret_masked() -> None:
    workspace, _ = make()
    callback = {"url": "http://cb", "secret": "s3cr3t", "callback_events": ["completed"]}
    workspace.start_run("p", {"type": "with_payloads", "payloads": [1], "callback": callback})
    assert workspace.runs_json()[0]["callback"] == {**callback, "secret": "***"}


def test_parallel_runs_can_be_refused() -> None:
    workspace, fake = make(allow_parallel_runs=False)
    first = workspace.start_run("p", None)["id"]
    with pytest.raises(ApiError) as error:
        workspace.start_run("p", None)
    assert (error.value.status, error.value.message) == (
        409,
        f"Process 'p' already has a process run that has not ended ('{first}') and does not "
        "allow parallel runs.",
    )
    fake.now += 5
    assert workspace.start_run("p", None)["started"] is True


def test_echo_outputs_appear_when_the_run_ends() -> None:
    workspace, fake = make(outputs="echo")
    run_id = workspace.start_run("p", {"type": "with_payloads", "payloads": [{"a": 1}, 2]})["id"]
    assert workspace.list_outputs(run_id, 10, None, "http://h") == ([], None)
    fake.now += 5
    page, cursor = workspace.list_outputs(run_id, 10, None, "http://h")
    assert cursor is None
    assert [o["payload"] for o in page] == [{"a": 1}, 2]
    assert page[0]["process"] == {"id": "p"}
    assert page[0]["process_run"] == {"id": run_id}
    assert page[0]["created_at"] == "2023-11-14T22:13:25.000Z"
    again, _ = workspace.list_outputs(run_id, 10, None, "http://h")
    assert again == page  # ids are stable


def test_explicit_outputs_with_files() -> None:
    outputs = [{"payload": {"r": 1}, "files": [{"name": "a.txt", "content": "héllo"}]}]
    workspace, fake = make(outputs=outputs)
    run_id = workspace.start_run("p", None)["id"]
    fake.now += 5
    page, _ = workspace.list_outputs(run_id, 10, None, "http://h:1")
    file = page[0]["files"][0]
    assert file["name"] == "a.txt"
    assert file["size"] == len("héllo".encode())
    path = f"/_emulator/files/{file['id']}"
    url = urlsplit(file["download"]["url"])
    assert (url.scheme, url.netloc, url.path) == ("http", "h:1", path)
    assert signing.check(path, dict(parse_qsl(url.query))) is None
    assert workspace.files[file["id"]].content == "héllo".encode()


def test_list_runs_pages_newest_first_with_a_stable_cursor() -> None:
    workspace, _ = make()
    ids = [workspace.start_run("p", None)["id"] for _ in range(5)]
    first, cursor = workspace.list_runs(None, None, 2, None)
    assert [r["id"] for r in first] == ids[::-1][:2]
    workspace.start_run("p", None)  # a new run does not shift the following pages
    second, cursor = workspace.list_runs(None, None, 2, cursor)
    assert [r["id"] for r in second] == ids[::-1][2:4]
    third, cursor = workspace.list_runs(None, None, 2, cursor)
    assert [r["id"] for r in third] == ids[:1]
    assert cursor is None


def test_list_runs_pages_every_run_of_several_kinds_newest_first() -> None:
    # Runs are listed in the order they entered the workspace, reversed, without sorting:
    # that order must be the order of their numbers, for every way a run is made.
    workspace, _ = make()
    ids = []
    for n in range(250):
        if n % 3 == 2:
            ids.append(workspace.start_for_integration("p", {"n": n})["id"])
        else:
            ids.append(workspace.start_run("p", {"type": "with_payloads", "payloads": [n]})["id"])
    listed, cursor = [], None
    while True:
        page, cursor = workspace.list_runs(None, None, 100, cursor)
        listed += [r["id"] for r in page]
        if cursor is None:
            break
    assert listed == ids[::-1]
    assert [workspace.runs[i].seq for i in listed] == sorted(
        (workspace.runs[i].seq for i in ids), reverse=True
    )


def test_list_runs_filters_by_state_and_process() -> None:
    workspace, fake = make()
    workspace.define_process(parse_process({"id": "q", "run_seconds": None}))
    done = workspace.start_run("p", None)["id"]
    fake.now += 5
    forever = workspace.start_run("q", None)["id"]
    assert [r["id"] for r in workspace.list_runs(None, "completed", 10, None)[0]] == [done]
    assert [r["id"] for r in workspace.list_runs("q", None, 10, None)[0]] == [forever]
    with pytest.raises(ApiError) as error:
        workspace.list_runs(None, "done", 10, None)
    assert error.value.message == (
        "'state' must be one of new, in_progress, completed, unresolved, stopping."
    )


def test_redefining_a_process_does_not_change_its_runs() -> None:
    workspace, fake = make()
    run_id = workspace.start_run("p", None)["id"]
    workspace.define_process(parse_process({"id": "p", "run_seconds": None}))
    fake.now += 5
    assert workspace.get_run(run_id)["state"] == "completed"


def test_reset_forgets_runs_and_can_restore_processes() -> None:
    workspace, _ = make()
    workspace.define_process(parse_process({"id": "extra"}))
    workspace.start_run("p", None)
    workspace.reset()
    assert workspace.runs_json() == []
    assert sorted(workspace.processes) == ["extra", "p"]
    workspace.reset(reset_processes=True)
    assert sorted(workspace.processes) == ["p"]


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        ({"id": ""}, "Process 'id' must be a non-empty string without '/', '?' or '#'."),
        ({"id": "a/b"}, "Process 'id' must be a non-empty string without '/', '?' or '#'."),
        ({"id": "p", "speed": 1}, "Unknown process field(s): speed."),
        ({"id": "p", "new_seconds": -1}, "Process 'p': 'new_seconds' must be a number >= 0."),
        (
            {"id": "p", "run_seconds": "1"},
            "Process 'p': 'run_seconds' must be a number >= 0 or null.",
        ),
        (
            {"id": "p", "outcome": "failed"},
            "Process 'p': 'outcome' must be 'completed' or 'unresolved'.",
        ),
        (
            {"id": "p", "failures": [{"type": "fatal"}]},
            "Process 'p': each failure needs a 'type' out of application, business, "
            "orchestrator, unspecified.",
        ),
        ({"id": "p", "outputs": "mirror"}, "Process 'p': 'outputs' must be \"echo\" or a list."),
    ],
)
def test_invalid_process_definitions(definition: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_process(definition)
    assert str(error.value) == message


def test_load_config_defaults_to_the_demo_processes() -> None:
    settings = load_config({})
    assert [p.id for p in settings["processes"]] == [p["id"] for p in DEMO_PROCESSES]
    assert (settings["clock_factor"], settings["stopping_seconds"], settings["page_size"]) == (
        1.0,
        1.0,
        20,
    )


def test_load_config_refuses_duplicates_and_bad_page_size() -> None:
    with pytest.raises(ConfigError, match=r"^Duplicate process id\(s\): a\.$"):
        load_config({"processes": [{"id": "a"}, {"id": "a"}]})
    with pytest.raises(ConfigError, match=r"^'page_size' must be an integer from 1 to 100\.$"):
        load_config({"page_size": 101})


def test_the_shipped_example_configuration_is_valid() -> None:
    import json
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "examples" / "emulator-config.json"
    settings = load_config(json.loads(example.read_text(encoding="utf-8")))
    assert [p.id for p in settings["processes"]] == [
        "invoices",
        "orders",
        "reports",
        "mailbox",
        "pipeline",
        "watcher",
    ]
    reports = settings["processes"][2]
    assert reports.outputs[0].files[1].content == b"\x89PNG\r\n\x1a\n"
    pipeline = settings["processes"][4]
    assert [s.name for s in pipeline.steps] == ["Fetch invoices", "Enter invoices", "Send report"]
    assert pipeline.steps[1].artifacts[2].content == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("field", ["new_seconds", "run_seconds"])
@pytest.mark.parametrize("value", [float("inf"), float("nan")])
def test_durations_must_be_finite(field: str, value: float) -> None:
    with pytest.raises(ConfigError, match=f"'{field}' must be a number >= 0"):
        parse_process({"id": "p", field: value})


@pytest.mark.parametrize("field", ["clock_factor", "stopping_seconds"])
def test_settings_must_be_finite(field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        load_config({field: float("inf")})


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("[1.5, -2e10, null]", True),
        ("NaN", False),
        ("-Infinity", False),
        ("1e400", False),
        ("[" * 100 + "]" * 100, True),
        ("[" * 101 + "]" * 101, False),
        ("[" * 100_000 + "]" * 100_000, False),
    ],
)
def test_parse_json_takes_only_what_json_can_answer(text: str, ok: bool) -> None:
    if ok:
        assert parse_json(text) is not None
    else:
        with pytest.raises(ValueError):
            parse_json(text)
