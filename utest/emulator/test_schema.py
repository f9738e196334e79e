"""Every emulator answer, for every operation and status it gives, validates against the
schemas of Control Room's OpenAPI document (a copy is kept beside this file).

Where the seed (shared/seed/ProcessRunApi.md) and the 2023-10-19 document differ, the seed
wins; each such adjustment is marked SEED below. Where the emulator answers a status that
neither documents, the body is still checked against `genericErrorResponse`; those are
marked UNDOCUMENTED.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from conftest import KEY, Emulator

SPEC_FILE = Path(__file__).with_name("control-room-openapi-2023-10-19.json")
BASE = "urn:control-room-openapi"
WS_PATH = "/workspaces/{workspace_id}"


def to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema objects to JSON Schema: `nullable: true` becomes "or null", and
    local `$ref`s point into the registered document."""
    if isinstance(node, list):
        return [to_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    converted = {k: to_json_schema(v) for k, v in node.items() if k != "nullable"}
    if isinstance(converted.get("$ref"), str) and converted["$ref"].startswith("#"):
        converted["$ref"] = BASE + converted["$ref"]
    if node.get("nullable") is True:
        return {"anyOf": [{"type": "null"}, converted]}
    return converted


def generated_adjustments(spec: dict[str, Any]) -> dict[str, Any]:
    """GENERATED: where the generated docs (shared/spec/generated/, newer than the
    2023-10-19 document) differ for processes and work items, they win."""
    spec = copy.deepcopy(spec)
    paths, schemas = spec["paths"], spec["components"]["schemas"]
    # ListProcesses200Response is paginated: next, has_more, data.
    processes = paths[WS_PATH + "/processes"]["get"]["responses"]["200"]
    listed = processes["content"]["application/json"]["schema"]
    listed["required"] = ["next", "has_more", "data"]
    listed["properties"]["next"] = {
        "$ref": "#/components/schemas/paginationDetails/properties/next"
    }
    listed["properties"]["has_more"] = {
        "$ref": "#/components/schemas/paginationDetails/properties/has_more"
    }
    # WorkItemFile has download: {url} (WorkItemFileDownload).
    file = schemas["WorkItemFile"]
    file["required"] = [*file["required"], "download"]
    file["properties"]["download"] = {
        "type": "object",
        "required": ["url"],
        "properties": {"url": {"type": "string"}},
    }
    # createWorkItemFile at POST .../files answers {upload: {url, form_data}}
    # (CreateWorkItemFile200Response); the document had POST .../files/upload and {url,
    # form_data}, which the emulator serves too.
    old = paths[WS_PATH + "/work-items/{work_item_id}/files/upload"]["post"]
    new = copy.deepcopy(old)
    upload = old["responses"]["200"]["content"]["application/json"]["schema"]
    new["responses"]["200"]["content"]["application/json"]["schema"] = {
        "type": "object",
        "required": ["upload"],
        "properties": {"upload": upload},
    }
    paths[WS_PATH + "/work-items/{work_item_id}/files"] = {"post": new}
    # updateWorkItemPayload is a POST (the document: PUT, which the emulator serves too).
    payload = paths[WS_PATH + "/work-items/{work_item_id}/payload"]
    payload["post"] = copy.deepcopy(payload["put"])
    return spec


SPEC = generated_adjustments(json.loads(SPEC_FILE.read_text(encoding="utf-8")))
CONVERTED = to_json_schema(copy.deepcopy(SPEC))
REGISTRY = Registry().with_resource(BASE, Resource(CONVERTED, specification=DRAFT202012))
GENERIC_ERROR = {"$ref": f"{BASE}#/components/schemas/genericErrorResponse"}


def response_schema(path: str, method: str, status: int) -> Any:
    responses = CONVERTED["paths"][WS_PATH + path][method]["responses"]
    if str(status) not in responses:
        return None
    content = responses[str(status)].get("content", {})
    return content["application/json"]["schema"]


# (operation, status) -> the schema it must match.
OPERATIONS: dict[str, tuple[str, str]] = {
    "list_process_runs": ("/process-runs", "get"),
    "get_process_run": ("/process-runs/{process_run_id}", "get"),
    "delete_process_run": ("/process-runs/{process_run_id}", "delete"),
    "stop_process_run": ("/process-runs/{process_run_id}/stop", "post"),
    # SEED: the seed serves outputs at GET /workspaces/{ws}/outputs?process_run_id=; the
    # 2023-10-19 document only has the older path, whose response schema is the same.
    "list_process_run_outputs": ("/process-runs/{process_run_id}/outputs", "get"),
    "list_process_run_outputs_old_path": ("/process-runs/{process_run_id}/outputs", "get"),
    "start_process_run": ("/processes/{process_id}/process-runs", "post"),
    "start_process_run_qs_auth": ("/processes/{process_id}/process-runs-integrations", "post"),
    "list_work_items": ("/work-items", "get"),
    "list_processes": ("/processes", "get"),
    "create_work_item": ("/work-items", "post"),
    "create_work_item_file": ("/work-items/{work_item_id}/files", "post"),
    "create_work_item_file_old_path": ("/work-items/{work_item_id}/files/upload", "post"),
    "get_work_item": ("/work-items/{work_item_id}", "get"),
    "update_work_item_payload": ("/work-items/{work_item_id}/payload", "post"),
    "update_work_item_payload_put": ("/work-items/{work_item_id}/payload", "put"),
    "run_work_item_batch_operation": ("/work-items/batch", "post"),
}

# Statuses the emulator answers that the document does not list for the operation.
UNDOCUMENTED = {
    ("list_process_runs", 400),  # a `limit` that is not a positive integer, a bad state
    ("list_process_run_outputs", 400),  # no process_run_id
    ("list_work_items", 400),  # a bad state filter
    ("start_process_run", 404),  # unknown process
    ("start_process_run_qs_auth", 403),  # missing or wrong token
    ("start_process_run_qs_auth", 404),  # unknown process
    ("list_processes", 400),  # a `limit` that is not a positive integer
    ("create_work_item_file", 404),  # unknown work item
    ("update_work_item_payload", 404),  # unknown work item
    ("run_work_item_batch_operation", 400),  # a bad body
    ("run_work_item_batch_operation", 403),  # no valid key
    ("run_work_item_batch_operation", 404),  # unknown work item
    ("run_work_item_batch_operation", 409),  # a work item in a state the operation refuses
    ("unknown_route", 404),
    ("fault", 429),
    ("fault", 500),
    ("fault", 502),
    ("fault", 503),
    ("fault", 504),
}


class Checker:
    def __init__(self) -> None:
        self.seen: set[tuple[str, int]] = set()

    def __call__(self, operation: str, response: requests.Response) -> Any:
        status = response.status_code
        body = response.json()
        key = (operation, status)
        schema = None
        if operation in OPERATIONS:
            schema = response_schema(*OPERATIONS[operation], status)
        if schema is None:
            assert key in UNDOCUMENTED, f"{key} is neither documented nor a known extra"
            schema = GENERIC_ERROR
        else:
            assert key not in UNDOCUMENTED
        validator = Draft202012Validator(schema, registry=REGISTRY)
        errors = sorted(validator.iter_errors(body), key=str)
        assert not errors, f"{key}: {errors[0].message} in {body}"
        self.seen.add(key)
        return body


@pytest.fixture
def check() -> Checker:
    return Checker()


def wait_until_ended(emu: Emulator, run_id: str) -> None:
    deadline = time.monotonic() + 10
    while emu.api("GET", f"/process-runs/{run_id}").json()["state"] not in (
        "completed",
        "unresolved",
    ):
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_the_schema_conversion_rejects_what_it_should() -> None:
    # Guard against a conversion that accepts anything.
    run = {"$ref": f"{BASE}#/components/schemas/ProcessRunResource"}
    validator = Draft202012Validator(run, registry=REGISTRY)
    assert list(validator.iter_errors({"id": "x"}))
    good = {
        "id": "x",
        "state": "new",
        "created_at": "2023-01-01T00:00:00Z",
        "started_at": None,
        "ended_at": None,
        "duration": None,
        "process": {"id": "p", "name": "n"},
        "started_by": {"type": "api", "details": None},
    }
    assert not list(validator.iter_errors(good))
    assert list(validator.iter_errors({**good, "state": "done"}))
    assert list(validator.iter_errors({**good, "created_at": None}))


def test_every_operation_and_status_matches_the_schemas(emu: Emulator, check: Checker) -> None:
    api = emu.api
    noauth: Callable[..., requests.Response] = lambda method, path, **kw: requests.request(  # noqa: E731
        method, emu.ws_url + path, timeout=5, **kw
    )

    # start: 200 started true / false, 400, 403, 404, 409
    emu.define("once", new_seconds=1000, allow_parallel_runs=False, outputs="echo")
    emu.define(
        "files",
        new_seconds=0,
        run_seconds=0.5,
        outputs=[{"payload": None, "files": [{"name": "f.txt", "content": "x"}]}],
    )
    start = "/processes/{}/process-runs"
    once = check("start_process_run", api("POST", start.format("once")))["id"]
    check("start_process_run", api("POST", start.format("once")))  # 409
    check(
        "start_process_run", api("POST", start.format("demo-queue"), json={"type": "with_inputs"})
    )
    check(
        "start_process_run", api("POST", start.format("demo-queue"), json={"type": "with_inputs"})
    )
    check("start_process_run", api("POST", start.format("demo-quick"), json={"type": "x"}))
    check("start_process_run", api("POST", start.format("nope")))
    check("start_process_run", noauth("POST", start.format("demo-quick")))
    failing = check(
        "start_process_run",
        api(
            "POST",
            start.format("demo-failing"),
            json={"type": "with_payloads", "payloads": [{"a": 1}, 2]},
        ),
    )["id"]
    files = check("start_process_run", api("POST", start.format("files")))["id"]
    emu.define("echo", new_seconds=0, run_seconds=0.5, outputs="echo")
    payloads = [{"a": 1}, None, "text", 3, [1], True]
    echo = check(
        "start_process_run",
        api("POST", start.format("echo"), json={"type": "with_payloads", "payloads": payloads}),
    )["id"]

    # integrations: 200, 400, 403, 404
    integration = "/processes/{}/process-runs-integrations"
    qs = "start_process_run_qs_auth"
    check(qs, noauth("POST", integration.format("demo-quick"), params={"token": KEY}, json={}))
    bad_handshake = {"token": KEY, "with_handshake": "x"}
    check(qs, noauth("POST", integration.format("demo-quick"), params=bad_handshake, json={}))
    check(qs, noauth("POST", integration.format("demo-quick"), params={"token": "x"}, json={}))
    check(qs, noauth("POST", integration.format("nope"), params={"token": KEY}, json={}))

    # get: 200 (every state), 403, 404
    check("get_process_run", api("GET", f"/process-runs/{once}"))
    check("get_process_run", noauth("GET", f"/process-runs/{once}"))
    check("get_process_run", api("GET", "/process-runs/nope"))

    # list: 200 (with next and without), 400, 403
    check("list_process_runs", api("GET", "/process-runs", params={"limit": 1}))
    check("list_process_runs", api("GET", "/process-runs", params={"limit": 100}))
    check("list_process_runs", api("GET", "/process-runs", params={"limit": "x"}))
    check("list_process_runs", noauth("GET", "/process-runs"))

    # stop: 200 accepted true / false, 400, 403, 404
    forever = check("start_process_run", api("POST", start.format("demo-forever")))["id"]
    stop_body = {"set_remaining_work_items_as_done": False, "terminate_ongoing_activity_runs": True}
    check("stop_process_run", api("POST", f"/process-runs/{forever}/stop", json=stop_body))
    check("get_process_run", api("GET", f"/process-runs/{forever}"))  # stopping
    check("stop_process_run", api("POST", f"/process-runs/{forever}/stop", json={}))
    check("stop_process_run", noauth("POST", f"/process-runs/{forever}/stop", json=stop_body))
    check("stop_process_run", api("POST", "/process-runs/nope/stop", json=stop_body))
    for run_id in (failing, files, echo, forever):
        wait_until_ended(emu, run_id)
        check("get_process_run", api("GET", f"/process-runs/{run_id}"))
    check("stop_process_run", api("POST", f"/process-runs/{forever}/stop", json=stop_body))

    # outputs: 200 (payloads of every JSON type, files), 400, 403, on both paths
    outputs = "list_process_run_outputs"
    for run_id in (failing, files, echo):
        check(outputs, api("GET", "/outputs", params={"process_run_id": run_id, "limit": 1}))
        check(f"{outputs}_old_path", api("GET", f"/process-runs/{run_id}/outputs"))
    every = check(outputs, api("GET", "/outputs", params={"process_run_id": echo}))
    assert [o["payload"] for o in every["data"]] == payloads  # every JSON type was checked
    check(outputs, api("GET", "/outputs"))
    check(outputs, noauth("GET", "/outputs", params={"process_run_id": echo}))
    check(f"{outputs}_old_path", noauth("GET", f"/process-runs/{echo}/outputs"))

    # work items: 200 (new, pending, done, failed with exceptions), 400, 403
    emu.define("queue", input_queue=[1])
    check("list_work_items", api("GET", "/work-items", params={"limit": 100}))
    check("list_work_items", api("GET", "/work-items", params={"limit": 1}))
    check("list_work_items", api("GET", "/work-items", params={"state": "x"}))
    check("list_work_items", noauth("GET", "/work-items"))

    # delete: 200, 403, 404, 409
    check("delete_process_run", api("DELETE", f"/process-runs/{failing}"))
    check("delete_process_run", api("DELETE", f"/process-runs/{failing}"))
    check("delete_process_run", api("DELETE", f"/process-runs/{once}"))
    check("delete_process_run", noauth("DELETE", f"/process-runs/{echo}"))

    # unknown routes and injected faults
    check("unknown_route", api("GET", "/nothing-here"))
    for status in (429, 500, 502, 503, 504):
        emu.fault(status=status, times=1, path="^/fault-test")
        response = emu.http.get(f"{emu.base_url}/fault-test", timeout=5)
        check("fault", response)

    expected = (
        {("start_process_run", s) for s in (200, 400, 403, 404, 409)}
        | {(qs, s) for s in (200, 400, 403, 404)}
        | {("get_process_run", s) for s in (200, 403, 404)}
        | {("list_process_runs", s) for s in (200, 400, 403)}
        | {("stop_process_run", s) for s in (200, 400, 403, 404)}
        | {(outputs, s) for s in (200, 400, 403)}
        | {(f"{outputs}_old_path", s) for s in (200, 403)}
        | {("list_work_items", s) for s in (200, 400, 403)}
        | {("delete_process_run", s) for s in (200, 403, 404, 409)}
        | {("unknown_route", 404)}
        | {("fault", s) for s in (429, 500, 502, 503, 504)}
    )
    assert check.seen == expected


def test_process_and_work_item_operations_match_the_schemas(emu: Emulator, check: Checker) -> None:
    api = emu.api
    noauth: Callable[..., requests.Response] = lambda method, path, **kw: requests.request(  # noqa: E731
        method, emu.ws_url + path, timeout=5, **kw
    )

    # list processes: 200 (with next and without), 400, 403
    check("list_processes", api("GET", "/processes", params={"limit": 1}))
    every = check("list_processes", api("GET", "/processes", params={"limit": 100}))
    assert every["next"] is None and len(every["data"]) == 7
    check("list_processes", api("GET", "/processes", params={"limit": "0"}))
    check("list_processes", noauth("GET", "/processes"))

    # create: 200 (payloads of every JSON type), 400, 403
    emu.define("fix", new_seconds=0, run_seconds=0.5, outcome="unresolved")
    ids = [
        check(
            "create_work_item",
            api("POST", "/work-items", json={"process": {"id": "fix"}, "payload": payload}),
        )["id"]
        for payload in ({"a": 1}, None, "text", 3, [1], True)
    ]
    check("create_work_item", api("POST", "/work-items", json={"payload": {}}))
    check("create_work_item", noauth("POST", "/work-items", json={"process": {"id": "fix"}}))

    # files: 200 on both paths, 400, 403, 404; get shows the uploaded one
    announce = {"file_name": "a.txt", "file_size": 2}
    upload = check(
        "create_work_item_file", api("POST", f"/work-items/{ids[0]}/files", json=announce)
    )
    sent = requests.post(
        upload["upload"]["url"],
        data=upload["upload"]["form_data"],
        files={"file": ("a.txt", b"hi")},
        timeout=5,
    )
    assert sent.status_code == 204, sent.text
    old = "create_work_item_file_old_path"
    check(old, api("POST", f"/work-items/{ids[0]}/files/upload", json=announce))
    check("create_work_item_file", api("POST", f"/work-items/{ids[0]}/files", json={}))
    check("create_work_item_file", noauth("POST", f"/work-items/{ids[0]}/files", json=announce))
    check("create_work_item_file", api("POST", "/work-items/nope/files", json=announce))

    # get: 200 (new with a file), 403, 404
    item = check("get_work_item", api("GET", f"/work-items/{ids[0]}"))
    assert [f["name"] for f in item["files"]] == ["a.txt"]
    check("get_work_item", noauth("GET", f"/work-items/{ids[0]}"))
    check("get_work_item", api("GET", "/work-items/nope"))

    # run them: failed and done, then retry, mark as done and delete
    run_id = emu.start("fix", {"type": "with_inputs"})
    wait_until_ended(emu, run_id)
    check("get_work_item", api("GET", f"/work-items/{ids[0]}"))  # failed
    check("get_work_item", api("GET", f"/work-items/{ids[1]}"))  # done, null payload

    # update payload: 200 by POST and PUT, 400, 403, 404
    update = "update_work_item_payload"
    check(update, api("POST", f"/work-items/{ids[0]}/payload", json={"payload": {"a": 2}}))
    check(f"{update}_put", api("PUT", f"/work-items/{ids[0]}/payload", json={"payload": [2]}))
    check(update, api("POST", f"/work-items/{ids[0]}/payload", json=[]))
    check(update, noauth("POST", f"/work-items/{ids[0]}/payload", json={"payload": 1}))
    check(update, api("POST", "/work-items/nope/payload", json={"payload": 1}))

    # batch: 200, and the statuses the emulator adds: 400, 403, 404, 409
    batch = "run_work_item_batch_operation"
    retry = {"batch_operation": "retry", "work_item_ids": [ids[0]]}
    check(batch, api("POST", "/work-items/batch", json={**retry, "batch_operation": "x"}))
    check(batch, noauth("POST", "/work-items/batch", json=retry))
    check(batch, api("POST", "/work-items/batch", json={**retry, "work_item_ids": ["nope"]}))
    check(batch, api("POST", "/work-items/batch", json={**retry, "work_item_ids": [ids[1]]}))
    check(batch, api("POST", "/work-items/batch", json=retry))
    check("list_work_items", api("GET", "/work-items", params={"process_run_id": run_id}))
    wait_until_ended(emu, run_id)
    check(batch, api("POST", "/work-items/batch", json={**retry, "batch_operation": "delete"}))

    expected = (
        {("list_processes", s) for s in (200, 400, 403)}
        | {("create_work_item", s) for s in (200, 400, 403)}
        | {("create_work_item_file", s) for s in (200, 400, 403, 404)}
        | {(old, 200)}
        | {("get_work_item", s) for s in (200, 403, 404)}
        | {(update, s) for s in (200, 400, 403, 404)}
        | {(f"{update}_put", 200)}
        | {(batch, s) for s in (200, 400, 403, 404, 409)}
        | {("list_work_items", 200)}
    )
    assert check.seen == expected


# --- step runs (listStepRuns, getStepRun, listStepRunConsoleMessages, listStepRunEvents,
# listStepRunArtifacts, getStepRunArtifact) and the signed download URLs ---------------------------------------------

OPERATIONS.update(
    {
        "list_step_runs": ("/step-runs", "get"),
        "get_step_run": ("/step-runs/{step_run_id}", "get"),
        "list_step_run_console_messages": ("/step-runs/{step_run_id}/console-messages", "get"),
        "list_step_run_events": ("/step-runs/{step_run_id}/events", "get"),
        "list_step_run_artifacts": ("/step-runs/{step_run_id}/artifacts", "get"),
        "get_step_run_artifact": ("/step-runs/{step_run_id}/artifacts/{artifact_id}", "get"),
    }
)
UNDOCUMENTED |= {
    ("get_step_run", 404),  # unknown step run
    ("list_step_run_events", 404),
    ("list_step_run_artifacts", 404),
    ("get_step_run_artifact", 404),
    ("download", 403),  # a download URL with a wrong signature, none, or expired
    ("download", 404),  # a signed URL of an artifact that is gone
}


def wait_for_step_state(emu: Emulator, run_id: str, state: str) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 10
    while True:
        data = emu.api("GET", "/step-runs", params={"process_run_id": run_id}).json()["data"]
        if state in [s["state"] for s in data]:
            return data
        assert time.monotonic() < deadline, f"no step run of {run_id} became {state}"
        time.sleep(0.02)


def test_every_step_run_operation_and_status_matches_the_schemas(
    emu: Emulator, check: Checker
) -> None:
    api = emu.api

    def noauth(path: str, **kw: Any) -> requests.Response:
        return requests.get(emu.ws_url + path, timeout=5, **kw)

    start = "/processes/{}/process-runs"
    steps = [{"name": "Fetch"}, {"name": "Enter", "console": ["entering"]}]
    # Each step is in progress for 20 s of the emulator's clock (1 s here): long enough for
    # the polling below to see it under a loaded machine or a long garbage collection.
    emu.define("steps", new_seconds=60, run_seconds=40, outcome="unresolved", steps=steps)
    emu.define("waiting", new_seconds=10000)
    waiting = api("POST", start.format("waiting")).json()["id"]
    steps_run = api("POST", start.format("steps")).json()["id"]
    bodies: list[dict[str, Any]] = []
    listed = "list_step_runs"
    bodies += check(listed, api("GET", "/step-runs", params={"process_run_id": waiting}))["data"]
    for state in ("awaiting_worker", "in_progress"):
        wait_for_step_state(emu, steps_run, state)
        page = api("GET", "/step-runs", params={"process_run_id": steps_run})
        bodies += check(listed, page)["data"]
    wait_until_ended(emu, steps_run)
    first = check(
        listed, api("GET", "/step-runs", params={"process_run_id": steps_run, "limit": 1})
    )
    assert first["has_more"] is True
    rest = check(listed, emu.http.get(first["next"], timeout=5))
    bodies += first["data"] + rest["data"]
    assert {s["state"] for s in bodies} == {
        "new",
        "awaiting_worker",
        "in_progress",
        "completed",
        "failed",
    }
    check(listed, api("GET", "/step-runs", params={"process_run_id": "nope"}))
    check(listed, api("GET", "/step-runs"))  # 400
    check(listed, noauth("/step-runs", params={"process_run_id": steps_run}))

    failed = rest["data"][0]["id"]
    for step_run in [*bodies, *first["data"]]:
        check("get_step_run", api("GET", f"/step-runs/{step_run['id']}"))
    check("get_step_run", api("GET", "/step-runs/nope"))
    check("get_step_run", noauth(f"/step-runs/{failed}"))

    console = "list_step_run_console_messages"
    for step_run in first["data"] + rest["data"]:
        page = check(console, api("GET", f"/step-runs/{step_run['id']}/console-messages"))
        assert page["data"]
    check(console, api("GET", f"/step-runs/{failed}/console-messages", params={"limit": 1}))
    check(console, api("GET", "/step-runs/nope/console-messages"))
    check(console, noauth(f"/step-runs/{failed}/console-messages"))

    events = "list_step_run_events"
    for step_run in first["data"] + rest["data"]:
        page = check(events, api("GET", f"/step-runs/{step_run['id']}/events"))
        assert page["data"][-1]["event_type"] == step_run["state"]
    check(events, api("GET", f"/step-runs/{failed}/events", params={"limit": 1}))
    check(events, api("GET", "/step-runs/nope/events"))
    check(events, noauth(f"/step-runs/{failed}/events"))

    artifacts = "list_step_run_artifacts"
    page = check(artifacts, api("GET", f"/step-runs/{failed}/artifacts"))
    check(artifacts, api("GET", f"/step-runs/{failed}/artifacts", params={"limit": 1}))
    check(artifacts, api("GET", "/step-runs/nope/artifacts"))
    check(artifacts, noauth(f"/step-runs/{failed}/artifacts"))

    one = "get_step_run_artifact"
    artifact = page["data"][0]["id"]
    url = check(one, api("GET", f"/step-runs/{failed}/artifacts/{artifact}"))["url"]
    check(one, api("GET", f"/step-runs/{failed}/artifacts/nope"))
    check(one, noauth(f"/step-runs/{failed}/artifacts/{artifact}"))

    assert requests.get(url, timeout=5).status_code == 200
    check("download", requests.get(url.replace("signature=", "signature=0"), timeout=5))
    api("DELETE", f"/process-runs/{steps_run}")
    check("download", requests.get(url, timeout=5))  # 404: the run is gone

    expected = (
        {(listed, s) for s in (200, 400, 403)}
        | {("get_step_run", s) for s in (200, 403, 404)}
        | {(console, s) for s in (200, 403, 404)}
        | {(events, s) for s in (200, 403, 404)}
        | {(artifacts, s) for s in (200, 403, 404)}
        | {(one, s) for s in (200, 403, 404)}
        | {("download", s) for s in (403, 404)}
    )
    assert check.seen == expected
