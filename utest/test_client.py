from __future__ import annotations

import json
from http.client import RemoteDisconnected

import pytest
import requests
from urllib3.exceptions import ProtocolError

from ProcessRunLibrary.client import USER_AGENT, ControlRoomClient, Credentials
from ProcessRunLibrary.errors import ControlRoomError, InvalidArgument
from ProcessRunLibrary.version import VERSION

from .conftest import API

RUN = {"id": "r1", "state": "new"}


def test_every_request_carries_authorization_accept_and_user_agent(client, http):
    http.answer(body=RUN)
    client.get_process_run("r1")
    sent = http.sent[0]
    assert sent.url == f"{API}/workspaces/ws1/process-runs/r1"
    assert sent.headers["Authorization"] == "RC-WSKEY key-1234"
    assert sent.headers["Accept"] == "application/json"
    assert sent.headers["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith(f"ProcessRunLibrary/{VERSION} ")


def test_bearer_credentials():
    assert Credentials("tok", "Bearer").header == "Bearer tok"


def test_start_without_body_sends_no_body(client, http):
    http.answer(body={"started": True, "id": "r1"})
    assert client.start_process_run("p1") == {"started": True, "id": "r1"}
    sent = http.sent[0]
    assert (sent.method, sent.url, sent.body) == (
        "POST", f"{API}/workspaces/ws1/processes/p1/process-runs", None,
    )  # fmt: skip


def test_start_with_body_sends_json(client, http):
    http.answer(body={"started": True, "id": "r1"})
    client.start_process_run("p1", {"type": "with_payloads", "payloads": [{"a": 1}]})
    assert json.loads(http.sent[0].body) == {"type": "with_payloads", "payloads": [{"a": 1}]}
    assert http.sent[0].headers["Content-Type"] == "application/json"


def test_integration_start_sends_token_in_query_and_no_authorization(client, http):
    http.answer(body={"started": True, "id": "r1"})
    client.start_process_run_for_integration("p1", {"x": 1}, "tok-5678", "asana")
    sent = http.sent[0]
    assert sent.url == (
        f"{API}/workspaces/ws1/processes/p1/process-runs-integrations"
        "?token=tok-5678&with_handshake=asana"
    )
    assert "Authorization" not in sent.headers
    assert json.loads(sent.body) == {"x": 1}


def test_stop_sends_both_flags_and_reason_only_when_given(client, http):
    http.answer(body={"accepted": True})
    http.answer(body={"accepted": False})
    client.stop_process_run("r1", True, False, "late")
    client.stop_process_run("r1")
    assert json.loads(http.sent[0].body) == {
        "set_remaining_work_items_as_done": True,
        "terminate_ongoing_activity_runs": False,
        "reason": "late",
    }
    assert json.loads(http.sent[1].body) == {
        "set_remaining_work_items_as_done": False,
        "terminate_ongoing_activity_runs": False,
    }


def test_outputs_use_the_workspace_outputs_path(client, http):
    http.answer(body={"next": None, "has_more": False, "data": [{"id": "o1"}]})
    assert client.list_outputs("r1") == [{"id": "o1"}]
    assert http.sent[0].url == f"{API}/workspaces/ws1/outputs?process_run_id=r1"


def test_pagination_follows_next_verbatim_until_has_more_is_false(client, http):
    next1 = "https://cr.example/api/v1/workspaces/ws1/process-runs?cursor=abc&limit=2&x=%2F"
    next2 = "/api/v1/page3?opaque=1"  # relative to the page it came from
    http.answer(body={"next": next1, "has_more": True, "data": [{"id": 1}, {"id": 2}]})
    http.answer(body={"next": next2, "has_more": True, "data": [{"id": 3}, {"id": 4}]})
    http.answer(body={"next": f"{API}/never", "has_more": False, "data": [{"id": 5}]})
    runs = client.list_process_runs(process_id="p1", state="completed", limit=None)
    assert [r["id"] for r in runs] == [1, 2, 3, 4, 5]
    assert [s.url for s in http.sent] == [
        f"{API}/workspaces/ws1/process-runs?process_id=p1&state=completed&limit=100", next1,
        "https://cr.example/api/v1/page3?opaque=1",
    ]  # fmt: skip


def test_pagination_stops_when_next_is_null(client, http):
    http.answer(body={"next": None, "has_more": True, "data": [{"id": 1}]})
    assert client.list_process_runs() == [{"id": 1}]
    assert len(http.sent) == 1


def test_full_listings_ask_for_pages_of_100_runs(client, http):
    http.answer(body={"next": None, "has_more": False, "data": [{"id": 1}]})
    client.list_process_runs(limit=250)
    assert http.sent[0].url == f"{API}/workspaces/ws1/process-runs?limit=100"


def test_limit_is_the_page_size_and_stops_collecting(client, http):
    http.answer(body={"next": f"{API}/n", "has_more": True, "data": [{"id": 1}, {"id": 2}]})
    http.answer(body={"next": f"{API}/m", "has_more": True, "data": [{"id": 3}, {"id": 4}]})
    runs = client.list_process_runs(limit=3)
    assert [r["id"] for r in runs] == [1, 2, 3]
    assert http.sent[0].url == f"{API}/workspaces/ws1/process-runs?limit=3"
    assert len(http.sent) == 2


def test_error_names_method_path_status_code_and_message(client, http):
    http.answer(404, {"error": {"code": "not_found", "message": "Process run 'r9' not found."}})
    with pytest.raises(ControlRoomError) as error:
        client.get_process_run("r9")
    assert str(error.value) == (
        "GET /workspaces/ws1/process-runs/r9 failed: 404 Not Found: not_found: "
        "Process run 'r9' not found."
    )
    assert (error.value.status, error.value.code) == (404, "not_found")


def test_error_without_json_body(client, http):
    http.answer(500, "<html>oops</html>")
    with pytest.raises(
        ControlRoomError,
        match=r"^DELETE /workspaces/ws1/process-runs/r1 failed: 500 Internal Server Error$",
    ):
        client.delete_process_run("r1")


def test_retryable_status_says_it_was_retried(http):
    c = ControlRoomClient(API, "ws1", Credentials("key-1234"), request_timeout=5, max_retries=3)
    c.http.adapters.clear()
    c.http.mount("https://", http)
    for _ in range(4):
        http.answer(
            503, {"error": {"code": "unavailable", "message": "Busy."}}, {"Retry-After": "0"}
        )
    with pytest.raises(ControlRoomError) as error:
        c.get_process_run("r1")
    assert str(error.value).endswith(
        "503 Service Unavailable: unavailable: Busy. (after 3 retries)"
    )
    assert len(http.sent) == 4
    http.answer(503, {"error": {"code": "unavailable", "message": "Busy."}})
    with pytest.raises(ControlRoomError) as error:
        client_without_retries(http).get_process_run("r1")
    assert str(error.value).endswith("503 Service Unavailable: unavailable: Busy.")


def client_without_retries(http):
    c = ControlRoomClient(API, "ws1", Credentials("key-1234"), request_timeout=5, max_retries=0)
    c.http.adapters.clear()
    c.http.mount("https://", http)
    return c


def test_token_is_masked_in_errors(client, http):
    http.answer(403, {"error": {"code": "forbidden", "message": "Bad token tok-5678."}})
    with pytest.raises(ControlRoomError) as error:
        client.start_process_run_for_integration("p1", {}, "tok-5678")
    assert str(error.value) == (
        "POST /workspaces/ws1/processes/p1/process-runs-integrations?token=*** failed: "
        "403 Forbidden: forbidden: Bad token ***."
    )


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (
            requests.ConnectionError(ConnectionRefusedError(111, "Connection refused")),
            "connection refused.",
        ),
        (requests.ReadTimeout("read timed out"), "no answer within 5 seconds."),
        (
            requests.ConnectionError(
                ProtocolError("Connection aborted.", RemoteDisconnected("closed"))
            ),
            "the connection was closed before an answer came.",
        ),
    ],
)
def test_connection_failures_become_one_sentence(client, http, error, said):
    http.fail(error)
    with pytest.raises(ControlRoomError) as raised:
        client.get_process_run("r1")
    assert str(raised.value) == f"GET /workspaces/ws1/process-runs/r1 failed: {said}"


def test_non_json_success_body_fails_clearly(client, http):
    http.answer(200, "not json")
    with pytest.raises(ControlRoomError, match=r"failed: 200 OK with a body that is not JSON\.$"):
        client.get_process_run("r1")


@pytest.mark.parametrize("bad", ["", " ", "a/b", "a?b", "a#b", "..", "a b", "a\\b"])
def test_bad_ids_fail_before_any_request(client, http, bad):
    with pytest.raises(InvalidArgument, match=r"^Argument 'process_run_id' must be"):
        client.get_process_run(bad)
    assert http.sent == []


def test_client_counts_requests(client, http):
    http.answer(body=RUN)
    http.answer(body=RUN)
    client.get_process_run("r1")
    client.get_process_run("r1")
    assert client.request_count == 2


def test_a_rejected_certificate_is_permanent_and_other_errors_without_status_are_not():
    assert ControlRoomError("GET", "/x", "no answer.").is_transient
    assert ControlRoomError("GET", "/x", "503", status=503).is_transient
    assert not ControlRoomError("GET", "/x", "404", status=404).is_transient
    assert not ControlRoomError("GET", "/x", "TLS ...", permanent=True).is_transient
