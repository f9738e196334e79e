"""The emulator over real HTTP: every operation, auth, paging, lifecycle, faults, the log."""

from __future__ import annotations

import base64
import http.client
import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from conftest import CLOCK_FACTOR, KEY, TOKEN, WS, Emulator

STOP_DONE = {"set_remaining_work_items_as_done": True, "terminate_ongoing_activity_runs": False}
STOP_FAIL = {
    "set_remaining_work_items_as_done": False,
    "terminate_ongoing_activity_runs": True,
    "reason": "Enough",
}


def wait_for_state(emu: Emulator, run_id: str, expected: str, timeout: float = 5) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        run = emu.api("GET", f"/process-runs/{run_id}").json()
        if run["state"] == expected or time.monotonic() > deadline:
            assert run["state"] == expected
            return run
        time.sleep(0.02)


def error(response: requests.Response) -> tuple[int, str, str]:
    body = response.json()
    return response.status_code, body["error"]["code"], body["error"]["message"]


# --- auth ---------------------------------------------------------------------------------


def test_missing_authorization_is_refused(emu: Emulator) -> None:
    response = requests.get(f"{emu.ws_url}/process-runs", timeout=5)
    assert error(response) == (
        403,
        "forbidden",
        "Missing Authorization header: send 'RC-WSKEY <api key>' or 'Bearer <token>'.",
    )


@pytest.mark.parametrize("header", ["RC-WSKEY wrong", "Basic xyz", "Bearer wrong", "RC-WSKEY"])
def test_wrong_authorization_is_refused(emu: Emulator, header: str) -> None:
    response = requests.get(
        f"{emu.ws_url}/process-runs", headers={"Authorization": header}, timeout=5
    )
    assert error(response) == (
        403,
        "forbidden",
        "The API key or token in the Authorization header is not valid.",
    )


@pytest.mark.parametrize(
    "header",
    [f"Bearer {KEY}", f"rc-wskey {KEY}", f"RC-WSKEY  {KEY}", f"Basic {KEY}", KEY, f"RC-WSKEY{KEY}"],
)
def test_the_api_key_in_another_form_is_refused_with_the_right_form(
    emu: Emulator, header: str
) -> None:
    # Control Room takes only `RC-WSKEY <key>`: a robot that passes here passes there.
    response = requests.get(
        f"{emu.ws_url}/process-runs", headers={"Authorization": header}, timeout=5
    )
    message = "The API key must be sent as 'RC-WSKEY <api key>': that scheme, one space."
    if header == f"RC-WSKEY{KEY}":  # one word: not even a scheme
        message = "The API key or token in the Authorization header is not valid."
    assert error(response) == (403, "forbidden", message)


@pytest.mark.parametrize("header", [f"bearer {TOKEN}", f"Bearer  {TOKEN}", f"RC-WSKEY {TOKEN}"])
def test_a_token_in_another_form_is_refused_with_the_right_form(emu: Emulator, header: str) -> None:
    response = requests.get(
        f"{emu.ws_url}/process-runs", headers={"Authorization": header}, timeout=5
    )
    assert error(response) == (
        403,
        "forbidden",
        "A token must be sent as 'Bearer <token>': that scheme, one space.",
    )


@pytest.mark.parametrize("header", [f"RC-WSKEY {KEY}", f"Bearer {TOKEN}"])
def test_accepted_credentials(emu: Emulator, header: str) -> None:
    response = requests.get(
        f"{emu.ws_url}/process-runs", headers={"Authorization": header}, timeout=5
    )
    assert response.status_code == 200


def test_token_added_through_the_admin_api(emu: Emulator) -> None:
    url = f"{emu.ws_url}/process-runs"
    headers = {"Authorization": "Bearer later"}
    assert requests.get(url, headers=headers, timeout=5).status_code == 403
    assert emu.admin("POST", "/tokens", json={"token": "later"}) == {"accepted": True}
    assert requests.get(url, headers=headers, timeout=5).status_code == 200


def test_another_workspace_is_forbidden(emu: Emulator) -> None:
    response = emu.http.get(f"{emu.base_url}/workspaces/other/process-runs", timeout=5)
    assert error(response) == (
        403,
        "forbidden",
        "No access to workspace 'other' with this API key.",
    )


def test_unknown_route_is_404_with_an_error_body(emu: Emulator) -> None:
    response = emu.api("GET", "/robots")
    assert error(response) == (
        404,
        "not_found",
        f"No such API operation: GET /api/v1/workspaces/{WS}/robots.",
    )
    assert emu.api("PUT", "/process-runs").status_code == 404


# --- start, get, list ------------------------------------------------------------------------


def test_start_without_body_get_and_list(emu: Emulator) -> None:
    emu.define("p", new_seconds=1000)
    run_id = emu.start("p")
    run = emu.api("GET", f"/process-runs/{run_id}").json()
    assert set(run) == {
        "id",
        "state",
        "created_at",
        "started_at",
        "ended_at",
        "duration",
        "process",
        "started_by",
    }
    assert run["state"] == "new"
    assert run["process"] == {"id": "p", "name": "p"}
    page = emu.api("GET", "/process-runs", params={"process_id": "p"}).json()
    assert page == {"next": None, "has_more": False, "data": [run]}


def test_start_unknown_process_is_404(emu: Emulator) -> None:
    response = emu.api("POST", "/processes/nope/process-runs")
    assert error(response) == (404, "not_found", "Process 'nope' not found.")


def test_start_with_invalid_json_is_400(emu: Emulator) -> None:
    response = emu.api("POST", "/processes/demo-quick/process-runs", data=b"{nope")
    assert error(response) == (400, "bad_request", "The request body is not valid JSON.")


def test_start_with_payloads_and_the_input_queue(emu: Emulator) -> None:
    run_id = emu.start("demo-quick", {"type": "with_payloads", "payloads": [{"a": 1}, "b"]})
    queued = emu.start("demo-queue", {"type": "with_inputs"})
    runs = {r["id"]: r for r in emu.admin("GET", "/runs")["data"]}
    assert runs[run_id]["payloads"] == [{"a": 1}, "b"]
    assert runs[queued]["payloads"] == [{"order": 1}, {"order": 2}]
    response = emu.api("POST", "/processes/demo-queue/process-runs", json={"type": "with_inputs"})
    assert (response.status_code, response.json()) == (200, {"started": False})


def test_get_unknown_run_is_404(emu: Emulator) -> None:
    assert error(emu.api("GET", "/process-runs/nope")) == (
        404,
        "not_found",
        "Process run 'nope' not found.",
    )


@pytest.mark.parametrize("limit", ["0", "-1", "0.5", "abc", "nan", "inf"])
def test_bad_limit_is_400(emu: Emulator, limit: str) -> None:
    assert error(emu.api("GET", "/process-runs", params={"limit": limit})) == (
        400,
        "bad_request",
        f"'limit' must be a number from 1 up, got '{limit}'.",
    )


@pytest.mark.parametrize(("limit", "size"), [("2.5", 2), ("1.0", 1), ("3e0", 3)])
def test_a_limit_that_is_a_number_but_not_an_integer_is_taken(
    emu: Emulator, limit: str, size: int
) -> None:
    # The schema's type of `limit` is number.
    for _ in range(4):
        emu.start("demo-quick")
    page = emu.api("GET", "/process-runs", params={"limit": limit}).json()
    assert len(page["data"]) == size
    assert parse_qs(urlsplit(page["next"]).query)["limit"] == [str(size)]


def test_bad_cursor_is_400(emu: Emulator) -> None:
    assert error(emu.api("GET", "/process-runs", params={"cursor": "xyz"})) == (
        400,
        "bad_request",
        "'cursor' is not valid: follow the 'next' URL as given.",
    )


def test_paging_follows_next_verbatim_across_pages(emu: Emulator) -> None:
    emu.define("paged", new_seconds=1000)
    created = [emu.start("paged") for _ in range(7)]
    emu.start("demo-quick")  # filtered out
    url: str | None = f"{emu.ws_url}/process-runs?process_id=paged&limit=3"
    pages = []
    while url is not None:
        body = emu.http.get(url, timeout=5).json()
        pages.append(body)
        url = body["next"]
        if url is not None:
            parts = urlsplit(url)
            assert f"{parts.scheme}://{parts.netloc}" == emu.root  # a full absolute URL
            query = parse_qs(parts.query)
            assert query["process_id"] == ["paged"] and query["limit"] == ["3"]
    assert [len(p["data"]) for p in pages] == [3, 3, 1]
    assert [p["has_more"] for p in pages] == [True, True, False]
    assert [r["id"] for p in pages for r in p["data"]] == created[::-1]


def test_default_page_size_is_20_and_limit_is_capped_at_100(emu: Emulator) -> None:
    emu.define("many", new_seconds=1000)
    for _ in range(105):
        emu.start("many")
    assert len(emu.api("GET", "/process-runs").json()["data"]) == 20
    capped = emu.api("GET", "/process-runs", params={"limit": 500}).json()
    assert len(capped["data"]) == 100
    assert parse_qs(urlsplit(capped["next"]).query)["limit"] == ["100"]


def test_state_filter(emu: Emulator) -> None:
    emu.define("slow", new_seconds=1000)
    new = emu.start("slow")
    done = emu.start("demo-quick")
    wait_for_state(emu, done, "completed")
    page = emu.api("GET", "/process-runs", params={"state": "new"}).json()
    assert [r["id"] for r in page["data"]] == [new]


# --- lifecycle, stop, delete -----------------------------------------------------------------


def test_lifecycle_with_a_high_clock_factor(emu: Emulator) -> None:
    # 40 emulated seconds take 2 real seconds at a factor of 20: each state lasts 1 s,
    # long enough for the polling below to see it on a loaded machine.
    emu.define("twenty", new_seconds=20, run_seconds=20)
    started = time.monotonic()
    run_id = emu.start("twenty")
    states = []
    while time.monotonic() - started < 10:
        state = emu.api("GET", f"/process-runs/{run_id}").json()["state"]
        if not states or states[-1] != state:
            states.append(state)
        if state == "completed":
            break
        time.sleep(0.01)
    elapsed = time.monotonic() - started
    assert states == ["new", "in_progress", "completed"]
    assert 40 / CLOCK_FACTOR <= elapsed < 10
    run = emu.api("GET", f"/process-runs/{run_id}").json()
    assert run["duration"] == 20.0
    assert run["started_at"] is not None and run["ended_at"] is not None


def test_stop_a_forever_run_unresolved_then_delete(emu: Emulator) -> None:
    run_id = emu.start("demo-forever")
    response = emu.api("POST", f"/process-runs/{run_id}/stop", json=STOP_FAIL)
    assert (response.status_code, response.json()) == (200, {"accepted": True})
    assert emu.api("GET", f"/process-runs/{run_id}").json()["state"] == "stopping"
    conflict = emu.api("DELETE", f"/process-runs/{run_id}")
    assert error(conflict) == (
        409,
        "conflict",
        f"Process run '{run_id}' has not ended (state 'stopping'): only completed or "
        "unresolved process runs can be deleted.",
    )
    wait_for_state(emu, run_id, "unresolved")
    items = emu.api("GET", "/work-items", params={"process_run_id": run_id}).json()["data"]
    assert [i["state"] for i in items] == ["failed"]
    assert items[0]["exception"] == {
        "type": "orchestrator",
        "code": "PROCESS_RUN_STOPPED",
        "message": "The process run was stopped: Enough",
    }
    again = emu.api("POST", f"/process-runs/{run_id}/stop", json=STOP_FAIL)
    assert again.json() == {"accepted": False}
    deleted = emu.api("DELETE", f"/process-runs/{run_id}")
    assert (deleted.status_code, deleted.json()) == (200, {"id": run_id, "deleted": True})
    assert emu.api("DELETE", f"/process-runs/{run_id}").status_code == 404
    assert emu.api("GET", f"/process-runs/{run_id}").status_code == 404
    assert emu.api("POST", f"/process-runs/{run_id}/stop", json=STOP_FAIL).status_code == 404
    assert emu.admin("GET", "/runs")["data"][0]["deleted"] is True


def test_stop_with_remaining_items_done_completes(emu: Emulator) -> None:
    run_id = emu.start("demo-forever")
    assert emu.api("POST", f"/process-runs/{run_id}/stop", json=STOP_DONE).json() == {
        "accepted": True
    }
    wait_for_state(emu, run_id, "completed")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (None, "The request body must be JSON."),
        (
            {"terminate_ongoing_activity_runs": True},
            "'set_remaining_work_items_as_done' is required and must be true or false.",
        ),
        (
            {"set_remaining_work_items_as_done": "yes", "terminate_ongoing_activity_runs": True},
            "'set_remaining_work_items_as_done' is required and must be true or false.",
        ),
        ({**STOP_DONE, "reason": 3}, "'reason' must be a string."),
    ],
)
def test_stop_with_a_bad_body_is_400(emu: Emulator, body: Any, message: str) -> None:
    run_id = emu.start("demo-forever")
    response = emu.api("POST", f"/process-runs/{run_id}/stop", json=body)
    assert error(response) == (400, "bad_request", message)


# --- outputs and work items ------------------------------------------------------------------


def _unsigned(answer: dict[str, Any]) -> dict[str, Any]:
    """The answer with every file's download URL cut at its query (expires and signature)."""
    copy = json.loads(json.dumps(answer))
    for output in copy["data"]:
        for file in output["files"]:
            file["download"]["url"] = file["download"]["url"].split("?", 1)[0]
    return copy


def test_outputs_on_both_paths_and_file_download(emu: Emulator) -> None:
    run_id = emu.start("demo-files")
    wait_for_state(emu, run_id, "completed")
    new_path = emu.api("GET", "/outputs", params={"process_run_id": run_id}).json()
    old_path = emu.api("GET", f"/process-runs/{run_id}/outputs").json()
    # each answer signs its URLs anew, and the expiry moves with the clock between the two
    assert _unsigned(new_path) == _unsigned(old_path)
    output = new_path["data"][0]
    assert output["payload"] == {"report": "report.txt"}
    file = output["files"][0]
    assert (file["name"], file["size"]) == ("report.txt", 10)
    download = requests.get(file["download"]["url"], timeout=5)  # no Authorization needed
    assert (download.status_code, download.content) == (200, b"All good.\n")


def test_outputs_paging_and_echo(emu: Emulator) -> None:
    payloads = [{"n": n} for n in range(5)]
    emu.define("echo", new_seconds=0, run_seconds=1, outputs="echo")
    run_id = emu.start("echo", {"type": "with_payloads", "payloads": payloads})
    wait_for_state(emu, run_id, "completed")
    url: str | None = f"{emu.ws_url}/outputs?process_run_id={run_id}&limit=2"
    seen = []
    while url:
        body = emu.http.get(url, timeout=5).json()
        seen.extend(o["payload"] for o in body["data"])
        url = body["next"]
    assert seen == payloads


def test_outputs_need_a_run_id_and_an_unknown_run_has_none(emu: Emulator) -> None:
    assert error(emu.api("GET", "/outputs")) == (
        400,
        "bad_request",
        "'process_run_id' is required.",
    )
    unknown = emu.api("GET", "/outputs", params={"process_run_id": "nope"})
    assert unknown.json() == {"next": None, "has_more": False, "data": []}


def test_work_items_of_a_failing_run(emu: Emulator) -> None:
    run_id = emu.start("demo-failing", {"type": "with_payloads", "payloads": [1, 2]})
    wait_for_state(emu, run_id, "unresolved")
    failed = emu.api(
        "GET", "/work-items", params={"process_run_id": run_id, "state": "failed"}
    ).json()["data"]
    assert len(failed) == 1
    assert failed[0]["exception"] == {
        "type": "business",
        "code": "INVALID_ORDER",
        "message": "Order 42 has no customer.",
    }
    assert failed[0]["process_run"] == {"id": run_id}
    bad = emu.api("GET", "/work-items", params={"state": "broken"})
    assert error(bad) == (
        400,
        "bad_request",
        "'state' must be one of new, pending, in_progress, failed, done.",
    )


# --- the integrations endpoint ---------------------------------------------------------------


def integration(emu: Emulator, process: str, **kwargs: Any) -> requests.Response:
    url = f"{emu.ws_url}/processes/{process}/process-runs-integrations"
    return requests.post(url, timeout=5, **kwargs)


def test_integration_start_takes_the_body_as_the_work_item(emu: Emulator) -> None:
    response = integration(emu, "demo-quick", params={"token": KEY}, json={"event": [1, 2]})
    assert response.status_code == 200
    run_id = response.json()["id"]
    assert response.json() == {"started": True, "id": run_id}
    assert emu.admin("GET", "/runs")["data"][0]["payloads"] == [{"event": [1, 2]}]


def test_integration_token_is_required_and_checked(emu: Emulator) -> None:
    assert error(integration(emu, "demo-quick", json={})) == (
        403,
        "forbidden",
        "Missing 'token' query parameter: give the API key.",
    )
    wrong = integration(emu, "demo-quick", params={"token": "nope"}, json={})
    assert error(wrong) == (403, "forbidden", "The token is not valid.")
    assert integration(emu, "demo-quick", params={"token": TOKEN}, json={}).status_code == 200


def test_integration_asana_handshake_echoes_the_secret_and_starts_nothing(emu: Emulator) -> None:
    response = integration(
        emu,
        "demo-quick",
        params={"token": KEY, "with_handshake": "asana"},
        headers={"X-Hook-Secret": "s3cr3t"},
    )
    assert (response.status_code, response.content) == (204, b"")
    assert response.headers["X-Hook-Secret"] == "s3cr3t"
    assert emu.admin("GET", "/runs")["data"] == []
    params = {"token": KEY, "with_handshake": "slack"}
    assert error(integration(emu, "demo-quick", params=params, json={})) == (
        400,
        "bad_request",
        "'with_handshake' must be 'asana', got 'slack'.",
    )
    unknown = integration(emu, "nope", params={"token": KEY}, json={})
    assert error(unknown) == (404, "not_found", "Process 'nope' not found.")


# --- CORS ----------------------------------------------------------------------------------


def test_access_control_allow_origin_where_the_seed_lists_it(emu: Emulator) -> None:
    started = emu.api("POST", "/processes/demo-quick/process-runs")
    run_id = started.json()["id"]
    integration_start = integration(emu, "demo-quick", params={"token": KEY}, json={})
    outputs = emu.api("GET", "/outputs", params={"process_run_id": run_id})
    old_outputs = emu.api("GET", f"/process-runs/{run_id}/outputs")
    for response in (started, integration_start, outputs, old_outputs):
        assert response.headers["Access-Control-Allow-Origin"] == "*"
    for response in (
        emu.api("GET", f"/process-runs/{run_id}"),
        emu.api("GET", "/process-runs"),
        emu.api("POST", "/processes/nope/process-runs"),
    ):
        assert "Access-Control-Allow-Origin" not in response.headers


def test_an_options_preflight_is_answered_without_credentials(emu: Emulator) -> None:
    response = requests.options(
        f"{emu.ws_url}/work-items/some-id/payload",
        headers={"Origin": "http://app", "Access-Control-Request-Method": "PUT"},
        timeout=5,
    )
    assert (response.status_code, response.content) == (204, b"")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Access-Control-Allow-Methods"] == "OPTIONS, POST, PUT"
    assert response.headers["Access-Control-Allow-Headers"] == "Authorization, Content-Type"
    assert response.headers["Access-Control-Max-Age"] == "600"
    unknown = requests.options(f"{emu.ws_url}/nothing-here", timeout=5)
    assert error(unknown) == (
        404,
        "not_found",
        f"No such API operation: OPTIONS /api/v1/workspaces/{WS}/nothing-here.",
    )


# --- faults ----------------------------------------------------------------------------------


def test_429_with_retry_after_once(emu: Emulator) -> None:
    rule = emu.fault(method="GET", path="/process-runs$", status=429, retry_after=1.5, times=1)
    assert rule["id"] == "f1"
    first = emu.api("GET", "/process-runs")
    assert first.headers["Retry-After"] == "2"
    assert first.headers["X-Emulator-Fault"] == "f1"
    assert error(first) == (429, "too_many_requests", "Injected fault f1: 429 Too Many Requests.")
    assert emu.api("GET", "/process-runs").status_code == 200
    faults = emu.admin("GET", "/faults")["data"]
    assert (faults[0]["matched"], faults[0]["applied"]) == (2, 1)


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (500, "internal_server_error"),
        (502, "bad_gateway"),
        (503, "service_unavailable"),
        (504, "gateway_timeout"),
    ],
)
def test_5xx_statuses(emu: Emulator, status: int, code: str) -> None:
    emu.fault(status=status)
    response = emu.api("GET", "/process-runs")
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)


def test_nth_counts_matching_requests_only(emu: Emulator) -> None:
    emu.fault(method="GET", path="/process-runs$", status=503, nth=[2, 3])
    statuses = []
    for _ in range(4):
        emu.api("GET", "/work-items")  # does not match, does not count
        statuses.append(emu.api("GET", "/process-runs").status_code)
    assert statuses == [200, 503, 503, 200]


def test_latency(emu: Emulator) -> None:
    emu.fault(path="/work-items", latency=0.3)
    started = time.monotonic()
    assert emu.api("GET", "/work-items").status_code == 200
    assert time.monotonic() - started >= 0.3
    emu.api("GET", "/process-runs")
    # The rule delayed its own path only (the emulator's record, not a wall-clock bound).
    log = emu.admin("GET", "/requests")["data"]
    assert [(e["path"].rsplit("/", 1)[1], e["fault"]) for e in log] == [
        ("work-items", "f1"),
        ("process-runs", None),
    ]
    assert [(r["matched"], r["applied"]) for r in emu.admin("GET", "/faults")["data"]] == [(1, 1)]


def test_drop_closes_the_connection(emu: Emulator) -> None:
    emu.fault(path="/process-runs$", drop=True, times=1)
    with pytest.raises(requests.ConnectionError):
        requests.get(
            f"{emu.ws_url}/process-runs",
            headers={"Authorization": f"RC-WSKEY {KEY}"},
            timeout=5,
        )
    assert emu.api("GET", "/process-runs").status_code == 200
    entry = emu.admin("GET", "/requests")["data"][0]
    assert (entry["status"], entry["fault"]) == (None, "f1")


def test_hang_never_answers(emu: Emulator) -> None:
    emu.fault(path="/process-runs$", hang=True)
    with pytest.raises(requests.ReadTimeout):
        requests.get(
            f"{emu.ws_url}/process-runs",
            headers={"Authorization": f"RC-WSKEY {KEY}"},
            timeout=0.5,
        )


def test_lost_answer_creates_the_run_then_answers_502(emu: Emulator) -> None:
    emu.fault(method="POST", path="/process-runs$", lost_answer=True, times=1)
    response = emu.api("POST", "/processes/demo-quick/process-runs")
    assert error(response) == (502, "bad_gateway", "Injected fault f1: 502 Bad Gateway.")
    runs = emu.admin("GET", "/runs")["data"]
    assert [r["process_id"] for r in runs] == ["demo-quick"]


def test_lost_answer_with_drop(emu: Emulator) -> None:
    emu.fault(method="POST", lost_answer=True, drop=True, times=1)
    with pytest.raises(requests.ConnectionError):
        emu.api("POST", "/processes/demo-quick/process-runs")
    assert len(emu.admin("GET", "/runs")["data"]) == 1


def rate_pattern(emu: Emulator, seed: int) -> list[int]:
    emu.admin("POST", "/reset")
    emu.fault(path="/work-items", status=503, rate=0.5, seed=seed)
    return [emu.api("GET", "/work-items").status_code for _ in range(30)]


def test_rate_is_reproducible_with_a_seed(emu: Emulator) -> None:
    first = rate_pattern(emu, 42)
    assert rate_pattern(emu, 42) == first
    assert 5 < first.count(503) < 25
    assert rate_pattern(emu, 43) != first


def test_rate_uses_the_emulator_seed_by_default(emu: Emulator) -> None:
    def pattern() -> list[int]:
        emu.admin("POST", "/reset")
        emu.fault(path="/work-items", status=503, rate=0.5)
        return [emu.api("GET", "/work-items").status_code for _ in range(20)]

    assert pattern() == pattern()


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"status": 404}, "'status' must be one of 429, 500, 502, 503, 504."),
        ({}, "A fault rule needs one of 'status', 'latency', 'hang' or 'drop'."),
        ({"status": 503, "drop": True}, "'status' and 'drop' exclude each other."),
        ({"status": 503, "rate": 2}, "'rate' must be a number from 0 to 1."),
        ({"status": 503, "nth": [0]}, "'nth' must be a list of request numbers (1 is the first)."),
        (
            {"status": 503, "path": "("},
            "'path' is not a valid regular expression: missing ), "
            "unterminated subpattern at position 0.",
        ),
        ({"status": 503, "color": "red"}, "Unknown fault rule field(s): color."),
    ],
)
def test_invalid_fault_rules_are_400(emu: Emulator, rule: dict[str, Any], message: str) -> None:
    response = emu.http.post(f"{emu.root}/_emulator/faults", json=rule, timeout=5)
    assert error(response) == (400, "bad_request", message)


def test_clear_and_delete_faults(emu: Emulator) -> None:
    emu.fault(status=503)
    emu.fault(status=500)
    assert emu.admin("DELETE", "/faults/f1") == {"id": "f1", "deleted": True}
    assert [r["id"] for r in emu.admin("GET", "/faults")["data"]] == ["f2"]
    assert emu.admin("DELETE", "/faults") == {"deleted": 1}
    assert emu.api("GET", "/process-runs").status_code == 200


def test_admin_requests_are_not_faulted_nor_logged(emu: Emulator) -> None:
    emu.fault(status=503)
    assert emu.admin("GET", "/faults")["data"][0]["matched"] == 0
    assert emu.admin("GET", "/requests")["data"] == []


# --- request log ---------------------------------------------------------------------------


def test_request_log_masks_secrets(emu: Emulator) -> None:
    emu.api("POST", "/processes/demo-quick/process-runs", json={"type": "with_inputs"})
    integration(emu, "demo-quick", params={"token": KEY, "x": "1"}, json=[1])
    requests.get(
        f"{emu.ws_url}/process-runs", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5
    )
    log = emu.admin("GET", "/requests")["data"]
    assert [e["seq"] for e in log] == [1, 2, 3]
    assert log[0]["headers"]["Authorization"] == "RC-WSKEY ***"
    assert log[0]["body"] == {"type": "with_inputs"}
    assert log[0]["path"] == f"/workspaces/{WS}/processes/demo-quick/process-runs"
    assert (log[0]["method"], log[0]["status"], log[0]["fault"]) == ("POST", 200, None)
    assert log[1]["query"] == {"token": "***", "x": "1"}
    assert log[1]["body"] == [1]
    assert log[2]["headers"]["Authorization"] == "Bearer ***"
    text = str(log)
    assert KEY not in text and TOKEN not in text


def test_request_log_masks_the_callback_secret_and_the_hook_secret(emu: Emulator) -> None:
    callback = {"url": "http://cb", "secret": "cb-s3cr3t", "callback_events": ["started"]}
    emu.start("demo-quick", {"type": "with_payloads", "payloads": [1], "callback": callback})
    integration(
        emu,
        "demo-quick",
        params={"token": KEY, "with_handshake": "asana"},
        headers={"X-Hook-Secret": "hook-s3cr3t"},
    )
    log = emu.admin("GET", "/requests")["data"]
    assert log[0]["body"]["callback"] == {**callback, "secret": "***"}
    assert log[1]["headers"]["X-Hook-Secret"] == "***"
    everything = str(log) + str(emu.admin("GET", "/runs"))
    assert "cb-s3cr3t" not in everything and "hook-s3cr3t" not in everything


def test_request_log_filters_and_clear(emu: Emulator) -> None:
    emu.api("GET", "/process-runs")
    emu.api("GET", "/work-items")
    emu.api("POST", "/processes/demo-quick/process-runs")
    assert len(emu.admin("GET", "/requests", params={"method": "get"})["data"]) == 2
    only = emu.admin("GET", "/requests", params={"path": "work-items$"})["data"]
    assert [e["path"] for e in only] == [f"/workspaces/{WS}/work-items"]
    assert emu.admin("DELETE", "/requests") == {"deleted": 3}
    assert emu.admin("GET", "/requests")["data"] == []


# --- admin ---------------------------------------------------------------------------------


def test_health_needs_no_auth(emu: Emulator) -> None:
    health = requests.get(f"{emu.root}/_emulator/health", timeout=5).json()
    assert health == {
        "status": "ok",
        "workspace_id": WS,
        "workspaces": health["workspaces"],
        "clock_factor": CLOCK_FACTOR,
        "version": health["version"],
    }
    from ProcessRunLibrary.version import VERSION

    assert health["version"] == VERSION
    # The first workspace; other tests of this session add more (workspaces stay).
    assert health["workspaces"][0] == WS


def test_admin_needs_the_api_key(emu: Emulator) -> None:
    response = requests.get(f"{emu.root}/_emulator/requests", timeout=5)
    assert response.status_code == 403
    unknown = emu.http.get(f"{emu.root}/_emulator/nope", timeout=5)
    assert error(unknown) == (404, "not_found", "No such admin operation: GET /_emulator/nope.")


def test_define_list_and_delete_processes(emu: Emulator) -> None:
    defined = emu.define("mine", name="Mine", input_queue=[{"q": 1}])
    assert defined["name"] == "Mine"
    assert [q["payload"] for q in defined["queued_work_items"]] == [{"q": 1}]
    ids = [p["id"] for p in emu.admin("GET", "/processes")["data"]]
    assert "mine" in ids and "demo-quick" in ids
    assert emu.admin("DELETE", "/processes/mine") == {"id": "mine", "deleted": True}
    assert emu.api("POST", "/processes/mine/process-runs").status_code == 404
    bad = emu.http.put(f"{emu.root}/_emulator/processes/x", json={"id": "y"}, timeout=5)
    assert error(bad) == (400, "bad_request", "Process id 'y' in the body does not match 'x'.")


def test_reset_keeps_defined_processes_unless_told(emu: Emulator) -> None:
    emu.define("mine")
    emu.start("mine")
    emu.fault(status=503, path="/nothing")
    assert emu.admin("POST", "/reset") == {"reset": True, "processes_reset": False}
    assert emu.admin("GET", "/runs")["data"] == []
    assert emu.admin("GET", "/faults")["data"] == []
    assert emu.admin("GET", "/requests")["data"] == []
    assert "mine" in [p["id"] for p in emu.admin("GET", "/processes")["data"]]
    emu.admin("POST", "/reset", json={"processes": True})
    assert "mine" not in [p["id"] for p in emu.admin("GET", "/processes")["data"]]


def test_keep_alive_connection_is_reused(emu: Emulator) -> None:
    # Many requests over one connection: the server keeps connections alive.
    # http.client reads each whole answer (a single recv may return part of one) and opens
    # a new socket only when the server closed the old one.
    connection = http.client.HTTPConnection(
        urlsplit(emu.root).hostname, urlsplit(emu.root).port, timeout=5
    )
    sockets = []
    try:
        for _ in range(3):
            connection.request(
                "GET",
                f"/api/v1/workspaces/{WS}/process-runs",
                headers={"Authorization": f"RC-WSKEY {KEY}"},
            )
            answer = connection.getresponse()
            answer.read()
            assert (answer.status, answer.will_close) == (200, False)
            sockets.append(connection.sock)
    finally:
        connection.close()
    assert sockets[0] is sockets[1] is sockets[2]


# --- inputs that used to answer 500 or a body that is not JSON (found by test_fuzz.py) -------


def test_authorization_that_is_not_utf8_is_403(emu: Emulator) -> None:
    # requests sends a str header as Latin-1: b"RC-WSKEY \xe9", not UTF-8.
    response = requests.get(
        f"{emu.ws_url}/process-runs", headers={"Authorization": "RC-WSKEY é"}, timeout=5
    )
    assert error(response)[:2] == (403, "forbidden")
    response = requests.get(
        f"{emu.ws_url}/process-runs", headers={"Authorization": "Bearer é"}, timeout=5
    )
    assert error(response)[:2] == (403, "forbidden")


@pytest.mark.parametrize(
    "body",
    [
        '{"type": "with_payloads", "payloads": [NaN]}',
        '{"type": "with_payloads", "payloads": [{"x": Infinity}]}',
        '{"type": "with_payloads", "payloads": [1e400]}',
        '{"type": "with_payloads", "payloads": [' + "[" * 99 + "]" * 99 + "]}",
        "[" * 5000 + "]" * 5000,
    ],
    ids=["NaN", "Infinity", "1e400", "101 levels", "5000 levels"],
)
def test_json_that_cannot_be_answered_as_json_is_400(emu: Emulator, body: str) -> None:
    for path in ("/processes/demo-echo/process-runs", "/process-runs/x/stop"):
        response = emu.api("POST", path, data=body)
        assert error(response) == (400, "bad_request", "The request body is not valid JSON.")
    response = emu.http.post(
        f"{emu.ws_url}/processes/demo-echo/process-runs-integrations",
        params={"token": KEY},
        data=body,
        timeout=5,
    )
    assert error(response) == (400, "bad_request", "The request body is not valid JSON.")
    log = emu.admin("GET", "/requests")["data"]  # served as JSON: the body is kept as text
    assert [e["body"] for e in log] == [body] * 3


def test_100_levels_of_json_are_fine(emu: Emulator) -> None:
    payload = "[" * 98 + "]" * 98  # in a list in an object
    run_id = emu.start(
        "demo-quick", json.loads(f'{{"type": "with_payloads", "payloads": [{payload}]}}')
    )
    assert emu.admin("GET", "/runs")["data"][0]["id"] == run_id


@pytest.mark.parametrize("host", ["a b", "h:99999", "é", "[:]", "h:"])
def test_a_host_header_that_is_not_a_host_is_not_echoed_in_next(emu: Emulator, host: str) -> None:
    emu.define("p", new_seconds=1000)
    emu.start("p")
    emu.start("p")
    response = emu.http.get(
        f"{emu.ws_url}/process-runs", params={"limit": 1}, headers={"Host": host}, timeout=5
    )
    assert response.status_code == 200, response.text
    assert response.json()["next"].startswith(f"{emu.base_url}/workspaces/{WS}/process-runs?")


@pytest.mark.parametrize("position", ["-1", " 1", "1e3", "٣"])
def test_a_cursor_that_is_not_a_position_is_400(emu: Emulator, position: str) -> None:
    for path, kind, params in (
        ("/process-runs", "runs", {}),
        ("/outputs", "outputs", {"process_run_id": "x"}),
    ):
        cursor = base64.urlsafe_b64encode(f"{kind}:{position}".encode()).decode()
        response = emu.api("GET", path, params={**params, "cursor": cursor})
        assert error(response) == (
            400,
            "bad_request",
            "'cursor' is not valid: follow the 'next' URL as given.",
        )


def test_a_body_over_16_mib_is_413_with_an_error_body(emu: Emulator) -> None:
    body = b'{"type": "with_payloads", "payloads": ["' + b"x" * (16 * 1024 * 1024) + b'"]}'
    response = emu.api("POST", "/processes/demo-quick/process-runs", data=body)
    assert error(response)[:2] == (413, "request_entity_too_large")
    assert emu.admin("GET", "/requests")["data"][-1]["status"] == 413


def test_runs_are_seeded_in_bulk_ended_and_newest_first(emu: Emulator) -> None:
    emu.define("seeded", name="Seeded", run_seconds=30)
    seeded = emu.admin(
        "POST", "/processes/seeded/runs", json={"count": 250, "run_seconds": [9, 11]}
    )
    assert seeded["seeded"] == 250
    page = emu.api("GET", "/process-runs", params={"process_id": "seeded", "limit": 100}).json()
    runs = page["data"]
    assert len(runs) == 100 and page["has_more"] is True
    assert runs[0]["id"] == seeded["last_id"]
    assert {r["state"] for r in runs} == {"completed"}
    assert [r["duration"] for r in runs[:2]] == [11.0, 9.0]
    assert emu.admin("POST", "/processes/seeded/runs", json={"count": 1})["seeded"] == 1
    newest = emu.api("GET", "/process-runs", params={"process_id": "seeded", "limit": 1}).json()
    assert newest["data"][0]["duration"] == 30.0


def test_bad_seed_requests_say_what_is_wrong(emu: Emulator) -> None:
    emu.define("seeded")
    url = f"{emu.root}/_emulator/processes/seeded/runs"
    for body, text in (
        ({"count": 0}, "'count' must be a whole number from 1 to 100000."),
        ({"count": True}, "'count' must be a whole number from 1 to 100000."),
        (
            {"count": 1, "run_seconds": [-1]},
            "'run_seconds' must be a number of seconds >= 0 or a list of them.",
        ),
        ({"count": 1, "outcome": "odd"}, "'outcome' must be 'completed' or 'unresolved'."),
    ):
        assert error(emu.http.post(url, json=body, timeout=5)) == (400, "bad_request", text)
    missing = emu.http.post(
        f"{emu.root}/_emulator/processes/nope/runs", json={"count": 1}, timeout=5
    )
    assert error(missing) == (404, "not_found", "Process 'nope' not found.")


def test_a_long_query_gets_the_api_s_json_error(emu: Emulator) -> None:
    # aiohttp alone answers a request line over 8190 bytes with a text body.
    limit = "9" * 20_000
    assert error(emu.api("GET", "/work-items", params={"limit": f"x{limit}"})) == (
        400,
        "bad_request",
        f"'limit' must be a number from 1 up, got 'x{limit}'.",
    )
    too_long = emu.api("GET", "/work-items", params={"limit": "x" * 70_000})
    assert too_long.status_code == 400
    assert too_long.headers["Content-Type"].startswith("text/plain")


def test_the_date_header_of_an_answer_is_on_the_emulated_clock(emu: Emulator) -> None:
    from datetime import datetime
    from email.utils import parsedate_to_datetime

    run_id = emu.start("demo-quick")
    response = emu.api("GET", f"/process-runs/{run_id}")
    answered = parsedate_to_datetime(response.headers["Date"]).timestamp()
    created = datetime.fromisoformat(
        response.json()["created_at"].replace("Z", "+00:00")
    ).timestamp()
    # The emulated clock has outrun real time by many seconds since the emulator started
    # (CLOCK_FACTOR 20): a Date on real time would be before the run's created_at. The
    # header has whole seconds.
    assert created - 1 < answered < created + 60 * CLOCK_FACTOR
