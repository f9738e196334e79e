"""Property-based fuzzing of the running emulator with schemathesis and the OpenAPI schemas.

For every operation the emulator serves, schemathesis generates requests from Control
Room's OpenAPI document (valid ones, and invalid ones in negative mode) and sends them to a
real emulator process. Properties, for every answer:

- no 5xx: no fault is injected here, so a 5xx is a bug (the emulator's catch-all answers
  500 `internal_server_error` to an unexpected exception, which fails this test);
- the status is one the operation documents, or one the emulator documents for it
  (docs/emulator.md): 403 for a bad key or workspace everywhere, 400 for a bad `limit`,
  `state` or `cursor` on the lists, 404 for an unknown process on the starts, ...;
- the body is JSON and matches the status's schema (`genericErrorResponse` for the extras).

A last test injects a 503 fault rule at a rate and checks that every 5xx carries the
`X-Emulator-Fault` header and an error body, and that the other answers keep the
properties above.

The document is adjusted as the seed (shared/seed/ProcessRunApi.md) says: outputs are
served at `GET /workspaces/{ws}/outputs?process_run_id=` (the 2023-10-19 path is served
too). Operations the emulator does not serve (work item creation, batch, upload, payload,
workers, assets, ...) are left out. Known ids (the workspace, processes, runs in every
state, work items, step runs and their artifacts) are offered to the generator beside arbitrary strings, so that requests
reach past the 403 and 404 checks.

Runs are bounded (`max_examples`), derandomized and use no example database, so a run is
reproducible and takes well under a minute. Needs `schemathesis` (dev extra); skipped
without it.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from conftest import KEY, TOKEN, WS, Emulator

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import (  # noqa: E402
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

SPEC_FILE = Path(__file__).with_name("control-room-openapi-2023-10-19.json")
WS_PATH = "/workspaces/{workspace_id}"
EXAMPLES = 150  # per operation and generation mode
GENERIC_ERROR = {"$ref": "#/components/schemas/genericErrorResponse"}
FAULT_STATUSES = {429, 500, 502, 503, 504}

# (path under /workspaces/{workspace_id}, method) of every operation the emulator serves.
SERVED = [
    ("/process-runs", "get"),
    ("/process-runs/{process_run_id}", "get"),
    ("/process-runs/{process_run_id}", "delete"),
    ("/process-runs/{process_run_id}/stop", "post"),
    ("/process-runs/{process_run_id}/outputs", "get"),
    ("/outputs", "get"),  # SEED: not in the 2023-10-19 document, added below
    ("/processes/{process_id}/process-runs", "post"),
    ("/processes/{process_id}/process-runs-integrations", "post"),
    ("/work-items", "get"),
    ("/step-runs", "get"),
    ("/step-runs/{step_run_id}", "get"),
    ("/step-runs/{step_run_id}/console-messages", "get"),
    ("/step-runs/{step_run_id}/artifacts", "get"),
    ("/step-runs/{step_run_id}/artifacts/{artifact_id}", "get"),
]

# Statuses the emulator answers beyond those the document lists (docs/emulator.md, "The API
# it serves"), all with an error body. 403 (bad key or workspace) is added everywhere.
EXTRA_STATUSES: dict[tuple[str, str], tuple[int, ...]] = {
    ("/process-runs", "get"): (400,),  # bad limit, state or cursor
    ("/process-runs/{process_run_id}/outputs", "get"): (400,),  # bad limit or cursor
    ("/outputs", "get"): (400,),  # no process_run_id, bad limit or cursor
    ("/work-items", "get"): (400,),  # bad limit, state or cursor
    ("/processes/{process_id}/process-runs", "post"): (404,),  # unknown process
    # unknown process; a process that does not allow parallel runs
    ("/processes/{process_id}/process-runs-integrations", "post"): (404, 409),
    ("/step-runs", "get"): (400,),  # bad limit or cursor (400 without process_run_id is listed)
    ("/step-runs/{step_run_id}", "get"): (404,),  # unknown step run
    ("/step-runs/{step_run_id}/console-messages", "get"): (400,),  # bad limit or cursor
    ("/step-runs/{step_run_id}/artifacts", "get"): (400, 404),
    ("/step-runs/{step_run_id}/artifacts/{artifact_id}", "get"): (404,),
}


def served_document() -> dict[str, Any]:
    """The OpenAPI document restricted to the served operations, as the seed has them, with
    the emulator's extra statuses."""
    spec = json.loads(SPEC_FILE.read_text(encoding="utf-8"))
    old_outputs = spec["paths"][f"{WS_PATH}/process-runs/{{process_run_id}}/outputs"]["get"]
    seed_outputs = copy.deepcopy(old_outputs)
    seed_outputs["operationId"] = "listProcessRunOutputsSeed"
    seed_outputs["parameters"] = [
        p for p in seed_outputs["parameters"] if p["name"] != "process_run_id"
    ] + [
        {
            "name": "process_run_id",
            "in": "query",
            "required": True,
            "schema": {"type": "string"},
        }
    ]
    spec["paths"][f"{WS_PATH}/outputs"] = {"get": seed_outputs}
    paths: dict[str, Any] = {}
    for path, method in SERVED:
        operation = copy.deepcopy(spec["paths"][WS_PATH + path][method])
        if path.endswith("-integrations"):
            # Asana's handshake header: the emulator echoes it and starts nothing.
            operation["parameters"].append(
                {"name": "X-Hook-Secret", "in": "header", "schema": {"type": "string"}}
            )
        for status in (403, *EXTRA_STATUSES.get((path, method), ())):
            operation["responses"].setdefault(
                str(status),
                {
                    "description": "documented by the emulator",
                    "content": {"application/json": {"schema": GENERIC_ERROR}},
                },
            )
        paths.setdefault(WS_PATH + path, {})[method] = operation
    return {
        "openapi": spec["openapi"],
        "info": spec["info"],
        "paths": paths,
        "components": spec["components"],
    }


def populate(emu: Emulator) -> dict[str, list[str]]:
    """Processes and runs in every state; returns the known ids per parameter name."""
    emu.define("echo", new_seconds=0, run_seconds=0.2, outputs="echo")
    emu.define("failing", new_seconds=0, run_seconds=0.2, outcome="unresolved")
    emu.define("waiting", new_seconds=100_000)
    emu.define("forever", new_seconds=0, run_seconds=None)
    emu.define("single", new_seconds=0, run_seconds=None, allow_parallel_runs=False)
    emu.define("queue", input_queue=[{"q": 1}, {"q": 2}, {"q": 3}])
    emu.define(
        "files",
        new_seconds=0,
        run_seconds=0.2,
        outputs=[{"payload": {"f": 1}, "files": [{"name": "f.txt", "content": "x"}]}],
    )
    runs = [
        emu.start("echo", {"type": "with_payloads", "payloads": [{"a": 1}, None, "s", 2, [3]]}),
        emu.start("failing"),
        emu.start("files"),
        emu.start("waiting"),
        emu.start("forever"),
        emu.start("single"),
    ]
    stopped = emu.start("forever")
    stop = {"set_remaining_work_items_as_done": False, "terminate_ongoing_activity_runs": False}
    assert emu.api("POST", f"/process-runs/{stopped}/stop", json=stop).status_code == 200
    runs.append(stopped)
    deadline = time.monotonic() + 5
    for run_id in runs[:3]:  # ended, with outputs
        while emu.api("GET", f"/process-runs/{run_id}").json()["state"] not in (
            "completed",
            "unresolved",
        ):
            assert time.monotonic() < deadline
            time.sleep(0.02)
    items = emu.api("GET", "/work-items", params={"limit": 100}).json()["data"]
    processes = [p["id"] for p in emu.admin("GET", "/processes")["data"]]
    step_runs = [
        step_run["id"]
        for run_id in runs
        for step_run in emu.api("GET", "/step-runs", params={"process_run_id": run_id}).json()[
            "data"
        ]
    ]
    artifacts = [
        artifact["id"]
        for step_run_id in step_runs
        for artifact in emu.api("GET", f"/step-runs/{step_run_id}/artifacts").json()["data"]
    ]
    assert step_runs and artifacts
    return {
        "workspace_id": [WS],
        "process_id": processes,
        "process_run_id": runs,
        "work_item_id": [item["id"] for item in items],
        "step_run_id": step_runs,
        "artifact_id": artifacts,
        "token": [KEY, TOKEN],
    }


# A valid key most of the time, so that requests get past the auth check; else a valid
# token, a wrong key, the value schemathesis generated for the header (ASCII), no header, or
# any Latin-1 text (what HTTP allows in a header value, and what requests can send).
GENERATED, NO_HEADER = "generated", "no header"
LATIN_1 = st.text(st.characters(codec="latin-1", exclude_categories=["Cc"]), max_size=20)
FIXED = [f"RC-WSKEY {KEY}"] * 6 + [f"Bearer {TOKEN}", "RC-WSKEY wrong", GENERATED, NO_HEADER]
AUTHORIZATION = st.integers(0, len(FIXED)).flatmap(
    lambda n: (
        st.just(FIXED[n])
        if n < len(FIXED)
        else st.builds("{} {}".format, st.sampled_from(["RC-WSKEY", "Bearer"]), LATIN_1)
    )
)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=list(HealthCheck),
)


FAULT_HEADER = "X-Emulator-Fault"


def header(response: Any, name: str) -> str | None:
    """A header of a schemathesis response (lower-case names, lists of values)."""
    values = response.headers.get(name.lower())
    return values[0] if values else None


def is_handshake(case: Any) -> bool:
    query = case.query or {}
    headers = case.headers or {}
    return query.get("with_handshake") == "asana" and "X-Hook-Secret" in headers


def check_answer(case: Any, response: Any, faulted: bool = False) -> None:
    """The properties of one answer (see the module docstring)."""
    if faulted:
        assert response.status_code in FAULT_STATUSES, response.text
        assert response.json()["error"]["code"], response.text
        return
    if response.status_code == 200 and is_handshake(case):
        # Asana's handshake is answered by its own protocol, not by the schema.
        assert header(response, "X-Hook-Secret") == case.headers["X-Hook-Secret"]
        assert response.json() == {}
        return
    case.validate_response(response, checks=CHECKS)


Known = dict[str, list[str]]


@pytest.fixture(scope="module")
def schema() -> Any:
    return schemathesis.openapi.from_dict(served_document())


@pytest.fixture
def world(emu: Emulator) -> tuple[Emulator, Known]:
    return emu, populate(emu)


def use_known_ids(case: Any, known: Known, data: st.DataObject) -> None:
    """Most of the time, replace generated ids by known ones: the generator alone almost
    never hits the workspace id, so every request would end at the 403."""

    def pick(name: str) -> str | None:
        # Hypothesis prefers small integers: 0 to 7 (the likelier) pick a known id.
        if data.draw(st.integers(0, 9), label=f"generated {name}?") >= 8:
            return None
        return data.draw(st.sampled_from(known[name]), label=name)

    for container in (case.path_parameters, case.query):
        if not isinstance(container, dict):
            continue
        for name in known:
            if name in container and (value := pick(name)) is not None:
                container[name] = value
    ids = case.body.get("work_item_ids") if isinstance(case.body, dict) else None
    if isinstance(ids, list):
        for index in range(len(ids)):
            if (value := pick("work_item_id")) is not None:
                ids[index] = value
    authorization = data.draw(AUTHORIZATION, label="Authorization")
    if authorization == GENERATED:
        return
    if not isinstance(case.headers, dict):
        case.headers = {}
    case.headers.pop("Authorization", None)
    if authorization != NO_HEADER:
        case.headers["Authorization"] = authorization


def fuzz(
    emu: Emulator,
    known: Known,
    schema: Any,
    path: str,
    method: str,
    mode: GenerationMode,
    answer_check: Callable[[Any, Any], None],
) -> None:
    operation = schema[WS_PATH + path][method.upper()]
    strategy = operation.as_strategy(generation_mode=mode)
    session = requests.Session()

    @SETTINGS
    @given(case=strategy, data=st.data())
    def property_holds(case: Any, data: st.DataObject) -> None:
        use_known_ids(case, known, data)
        response = case.call(base_url=emu.base_url, session=session, timeout=10)
        answer_check(case, response)

    try:
        property_holds()
    finally:
        session.close()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
@pytest.mark.parametrize(("path", "method"), SERVED, ids=[f"{m} {p}" for p, m in SERVED])
def test_fuzz_operation(
    world: tuple[Emulator, Known], schema: Any, path: str, method: str, mode: GenerationMode
) -> None:
    emu, known = world
    fuzz(emu, known, schema, path, method, mode, check_answer)
    log = emu.admin("GET", "/requests")["data"]
    assert log, "no request reached the emulator"
    assert not [e for e in log if e["status"] is not None and e["status"] >= 500]


def test_fuzz_with_an_injected_fault(world: tuple[Emulator, Known], schema: Any) -> None:
    emu, known = world
    rule = emu.fault(status=503, rate=0.3, seed=1)

    def answer_check(case: Any, response: Any) -> None:
        check_answer(case, response, faulted=header(response, FAULT_HEADER) == rule["id"])

    fuzz(emu, known, schema, "/process-runs", "get", GenerationMode.POSITIVE, answer_check)
    faults = [r for r in emu.admin("GET", "/faults")["data"] if r["id"] == rule["id"]]
    assert faults[0]["applied"] > 0


# --- what the schema cannot generate --------------------------------------------------------
#
# Schemathesis generates what the document describes. Two inputs it does not vary found
# bugs too: JSON bodies beyond the schemas (NaN, 1e400, deep nesting: Python's parser takes
# them, and the emulator echoed them back as bodies that are not JSON, or failed with a
# RecursionError), and the Host header (the emulator builds `next` URLs from it).

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=10)
)
ANY_JSON = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)
RAW_BODIES = st.one_of(
    ANY_JSON.map(lambda v: json.dumps({"type": "with_payloads", "payloads": [v]})),
    ANY_JSON.map(json.dumps),
    st.integers(1, 5000).map(lambda depth: "[" * depth + "]" * depth),
    st.sampled_from(["1e400", "-1e400", "NaN", '{"a": Infinity}', "1" * 5000, "\ufeff{}"]),
    st.binary(max_size=20).map(lambda b: b.decode("latin-1")),
)
RAW_SETTINGS = settings(SETTINGS, max_examples=EXAMPLES // 2)


def not_json(constant: str) -> None:
    raise AssertionError(f"{constant} in a JSON answer")


def test_any_json_body_is_answered_with_json(emu: Emulator) -> None:
    """Whatever the body, the answer is 200 or 400 with a JSON body, and the outputs of
    an echoing run (which serve the payloads back) are JSON too."""
    emu.define("echo", new_seconds=0, run_seconds=0, outputs="echo")  # ends at once
    session = requests.Session()
    session.headers["Authorization"] = f"RC-WSKEY {KEY}"
    urls = [
        f"{emu.ws_url}/processes/echo/process-runs",
        f"{emu.ws_url}/processes/echo/process-runs-integrations?token={KEY}",
    ]

    @RAW_SETTINGS
    @given(body=RAW_BODIES, url=st.sampled_from(urls))
    def property_holds(body: str, url: str) -> None:
        response = session.post(url, data=body.encode("utf-8", "surrogatepass"), timeout=10)
        assert response.status_code in (200, 400), response.text
        answer = response.json()
        if response.status_code == 200:
            outputs = session.get(
                f"{emu.ws_url}/outputs", params={"process_run_id": answer["id"]}, timeout=10
            )
            assert outputs.status_code == 200, outputs.text
            assert len(outputs.json()["data"]) == 1, outputs.text
            json.loads(outputs.text, parse_constant=not_json)

    try:
        property_holds()
    finally:
        session.close()
    log = emu.admin("GET", "/requests")["data"]  # the log is served as JSON too
    assert not [e for e in log if e["status"] is not None and e["status"] >= 500]


def test_any_host_header_gives_an_absolute_next_url(emu: Emulator) -> None:
    emu.define("p", new_seconds=1000)
    for _ in range(2):
        emu.start("p")

    @RAW_SETTINGS
    @given(host=LATIN_1.map(str.strip))
    def property_holds(host: str) -> None:
        response = emu.http.get(
            f"{emu.ws_url}/process-runs", params={"limit": 1}, headers={"Host": host}, timeout=10
        )
        assert response.status_code == 200, response.text
        next_url = urlsplit(response.json()["next"])
        assert next_url.scheme == "http" and next_url.hostname, next_url
        assert next_url.port is None or 0 < next_url.port < 65536
        assert next_url.path == f"/api/v1/workspaces/{WS}/process-runs"

    property_holds()
