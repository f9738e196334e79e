"""The transport's rules, through the fake HTTP layer: credentials only to api_url's
origin, answers of the documented shape, paging that ends, time limits, logging of
large bodies. Real hostile servers prove the same in atest/suites/hostile.robot."""

from __future__ import annotations

import logging
from socket import gaierror

import pytest
import requests

from ProcessRunLibrary import masking
from ProcessRunLibrary.client import ControlRoomClient, Credentials, answers, transport
from ProcessRunLibrary.client.transport import BODY_LOG_LIMIT, origin, parse_json, shape_problem
from ProcessRunLibrary.errors import ControlRoomError

from .conftest import API, FakeAdapter

NOT_SENT = "nothing is sent there, so that the credentials stay with Control Room."


def _client(http: FakeAdapter, api: str = API, retries: int = 0) -> ControlRoomClient:
    c = ControlRoomClient(
        api, "ws1", Credentials("key-1234"), request_timeout=5, max_retries=retries
    )
    c.http.adapters.clear()
    c.http.mount("https://", http)
    c.http.mount("http://", http)
    return c


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://CR.example/api/v1", "https://cr.example:443"),
        ("https://cr.example:443/x", "https://cr.example:443"),
        ("http://cr.example/x", "http://cr.example:80"),
        ("https://cr.example:8443", "https://cr.example:8443"),
        ("https://[::1]:9/x", "https://[::1]:9"),
    ],
)
def test_an_origin_is_scheme_host_and_port(url, expected):
    assert origin(url) == expected


@pytest.mark.parametrize(
    "next_url",
    [
        "http://cr.example/api/v1/workspaces/ws1/process-runs?cursor=2",  # https -> http
        "https://cr.example:8443/api/v1/workspaces/ws1/process-runs?cursor=2",
        "https://thief.example/api/v1/workspaces/ws1/process-runs?cursor=2",
        "//thief.example/page",  # relative to the scheme: another host
    ],
)
def test_a_next_url_on_another_origin_is_not_followed(http, next_url):
    http.answer(body={"data": [{"id": 1}], "next": next_url, "has_more": True})
    with pytest.raises(ControlRoomError) as raised:
        _client(http).list_process_runs()
    there = origin(requests.compat.urljoin(API, next_url))
    assert str(raised.value) == (
        f"GET /workspaces/ws1/process-runs?limit=100 failed: its next page is on another origin "
        f"({there}) than Control Room's (https://cr.example:443): {NOT_SENT}"
    )
    assert len(http.sent) == 1 and not raised.value.is_transient


def test_a_bearer_token_is_kept_from_other_origins_too(http):
    c = ControlRoomClient(API, "ws1", Credentials("tok-1234", "Bearer"), max_retries=0)
    c.http.adapters.clear()
    c.http.mount("https://", http)
    http.answer(body={"data": [], "next": "https://thief.example/p", "has_more": True})
    with pytest.raises(ControlRoomError, match="another origin"):
        c.list_outputs("r1")
    assert [s.url for s in http.sent] == [f"{API}/workspaces/ws1/outputs?process_run_id=r1"]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_to_another_origin_is_an_error_and_a_start_may_have_started(http, status):
    http.answer(status, {}, {"Location": "https://thief.example/steal"})
    with pytest.raises(ControlRoomError) as raised:
        _client(http, retries=3).start_process_run("p1", {"type": "default"})
    assert str(raised.value) == (
        f"POST /workspaces/ws1/processes/p1/process-runs failed: {answers.status_text(status)}: "
        "a redirect to another origin (https://thief.example:443) than Control Room's "
        "(https://cr.example:443), not followed." + transport.MAY_HAVE_STARTED
    )
    assert len(http.sent) == 1


def test_a_redirect_on_the_same_origin_is_followed_for_a_read_only(http):
    http.answer(302, {}, {"Location": "/api/v1/workspaces/ws1/process-runs/r2"})
    http.answer(200, {"id": "r2", "state": "new"})
    assert _client(http).get_process_run("r1")["id"] == "r2"
    assert http.sent[1].headers["Authorization"] == "RC-WSKEY key-1234"
    http.answer(307, {}, {"Location": "/api/v1/workspaces/ws1/process-runs/r2/stop"})
    with pytest.raises(ControlRoomError) as raised:
        _client(http).stop_process_run("r1")
    assert str(raised.value) == (
        "POST /workspaces/ws1/process-runs/r1/stop failed: 307 Temporary Redirect: a "
        "redirect to /workspaces/ws1/process-runs/r2/stop, not followed for POST."
    )


def test_paging_never_reads_a_page_twice_and_ends_after_max_pages(http):
    c = _client(http)
    http.answer(body={"data": [{"id": 1}], "next": f"{API}/p?n=1", "has_more": True})
    http.answer(body={"data": [{"id": 2}], "next": f"{API}/p?n=1", "has_more": True})
    with pytest.raises(ControlRoomError) as raised:
        c.list_process_runs()
    assert str(raised.value) == (
        "GET /p?n=1 failed: its next page is one already read (/p?n=1): the listing would "
        "never end."
    )
    c.max_pages = 3
    for n in range(3):
        http.answer(body={"data": [{"id": n}], "next": f"{API}/q?n={n}", "has_more": True})
    with pytest.raises(ControlRoomError) as raised:
        c.list_process_runs()
    assert str(raised.value) == (
        "GET /q?n=1 failed: the listing has more than 3 pages, more than any listing of "
        "Control Room needs: it is not followed further."
    )
    assert len(http.sent) == 2 + 3


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ([], "expected a JSON object, got a list ([])"),
        ("abc", 'expected a JSON object, got a string ("abc")'),
        ({"id": "r1"}, "expected 'state' (string), got no 'state'"),
        ({"id": "r1", "state": None}, "expected 'state' to be a string, got null"),
        ({"id": 1, "state": "new"}, "expected 'id' to be a string, got a number (1)"),
        ({"id": "r1", "state": True}, "expected 'state' to be a string, got a boolean (true)"),
        (
            {"id": "r1", "state": ["x" * 60]},
            f"expected 'state' to be a string, got a list ([\"{'x' * 35}...)",
        ),
    ],
)
def test_a_run_of_the_wrong_shape_is_refused(http, body, problem):
    assert shape_problem(body, {"id": "string", "state": "string"}) == problem


def test_booleans_are_not_numbers_and_optional_fields_may_be_null():
    assert (
        shape_problem({"n": True}, {"n": "number"})
        == "expected 'n' to be a number, got a boolean (true)"
    )
    assert shape_problem({"next": None}, {"next": "string or null"}) is None
    assert shape_problem({}, {"next": "string or null"}) is None


def test_a_start_answer_without_started_says_the_run_may_exist(http):
    http.answer(200, {"id": "r1"})
    with pytest.raises(ControlRoomError) as raised:
        _client(http).start_process_run("p1")
    assert str(raised.value).endswith(
        "200 OK with an unexpected answer: expected 'started' (boolean), got no 'started'."
        + transport.MAY_HAVE_STARTED
    )


def test_strict_json_and_the_depth_limit():
    assert parse_json(b'{"a": [1, {"b": null}]}') == {"a": [1, {"b": None}]}
    for bad, why in [
        (b"NaN", "not JSON (NaN is not a JSON value)"),
        (b'{"a": Infinity}', "not JSON (Infinity is not a JSON value)"),
        (b'{"a": ', "not JSON"),
        (b"\xff\xfe\x00", "not JSON (not UTF-8)"),
        (b"[" * 65 + b"]" * 65, "JSON nested deeper than 64 levels"),
        (b"[" * 100_000 + b"]" * 100_000, "JSON nested deeper than 64 levels"),
    ]:
        with pytest.raises(ValueError) as raised:
            parse_json(bad)
        assert str(raised.value) == why
    assert parse_json(b"[" * 64 + b"]" * 64)


def test_a_body_above_the_size_limit_is_refused_permanently(http):
    c = _client(http, retries=3)
    c.max_response_bytes = 1000
    http.answer(200, {"id": "r1", "state": "new", "pad": "x" * 2000})
    with pytest.raises(ControlRoomError) as raised:
        c.get_process_run("r1")
    assert str(raised.value) == (
        "GET /workspaces/ws1/process-runs/r1 failed: 200 OK with a body larger than "
        "1,000 bytes, the most an answer may have."
    )
    assert raised.value.permanent and len(http.sent) == 1


def test_a_large_body_is_logged_as_an_excerpt_masked_at_its_end(http, caplog):
    masking.register("secret-at-the-edge-0000")
    padding = "x" * (BODY_LOG_LIMIT - 30)
    http.answer(
        200,
        {"id": "r1", "state": "new", "pad": padding + "secret-at-the-edge-0000" + "y" * 100_000},
    )
    with caplog.at_level(logging.DEBUG, logger="ProcessRunLibrary"):
        _client(http).get_process_run("r1")
    logged = next(
        r.getMessage() for r in caplog.records if r.getMessage().startswith("Response body")
    )
    assert "secret-at" not in logged
    assert logged.endswith(" bytes)") and len(logged) < BODY_LOG_LIMIT + 50


def test_a_request_with_no_time_left_is_not_sent(http):
    c = _client(http)
    with c.time_limit(0), pytest.raises(ControlRoomError) as raised:
        c.get_process_run("r1")
    assert str(raised.value) == (
        "GET /workspaces/ws1/process-runs/r1 failed: not sent: the time of the wait had run out."
    )
    assert http.sent == []


def test_a_time_limit_caps_each_request_and_none_lifts_it(http):
    c = _client(http)
    seen: list[object] = []
    original = http.send

    def send(request, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(kwargs["timeout"])
        return original(request, **kwargs)

    http.send = send  # type: ignore[method-assign]
    http.answer(200, {"id": "r1", "state": "new"})
    http.answer(200, {"id": "r1", "state": "new"})
    with c.time_limit(2):
        c.get_process_run("r1")
        with c.time_limit(None):
            c.get_process_run("r1")
    assert seen[0] <= 2 and seen[1] == 5  # type: ignore[operator]


def test_retry_after_beyond_the_time_limit_is_not_waited_for(http):
    c = _client(http, retries=3)
    http.answer(503, {"error": {"code": "busy", "message": "Later."}}, {"Retry-After": "30"})
    with c.time_limit(5), pytest.raises(ControlRoomError) as raised:
        c.get_process_run("r1")
    assert str(raised.value) == (
        "GET /workspaces/ws1/process-runs/r1 failed: 503 Service Unavailable: busy: Later. "
        "(Retry-After asked for 30 seconds, more than the wait had left)"
    )
    assert len(http.sent) == 1


def test_the_default_host_is_named_when_it_cannot_be_reached(http):
    c = _client(http, api="https://cloud.robocorp.com/api/v1")
    http.fail(requests.ConnectionError(gaierror(-2, "Name or service not known")))
    with pytest.raises(ControlRoomError) as raised:
        c.get_process_run("r1")
    assert str(raised.value) == (
        "GET /workspaces/ws1/process-runs/r1 failed: the host name could not be resolved "
        "(the host cloud.robocorp.com, the default when no api_url is given or set in "
        "RC_API_URL_V1)."
    )


def test_open_url_sends_no_credentials_and_refuses_nothing_by_origin(http):
    c = _client(http)
    c.external.adapters.clear()
    c.external.mount("https://", http)
    http.answer(200, "file body")
    response = c.open_url("GET", "https://bucket.example/f?X-Amz-Signature=abc")
    assert response.content == b"file body"
    assert "Authorization" not in http.sent[0].headers


def test_a_valid_certificate_for_another_host_name_says_so(tmp_path):
    """A real TLS server whose certificate, signed by a trusted CA, names another host."""
    import ssl
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    import trustme

    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    server = HTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("control-room.example").configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        api = f"https://127.0.0.1:{server.server_address[1]}/api/v1"
        c = ControlRoomClient(api, "ws1", Credentials("key-1234"), 5, 3, verify=str(ca_file))
        with pytest.raises(ControlRoomError) as raised:
            c.get_process_run("r1")
    finally:
        server.shutdown()
        server.server_close()
    assert str(raised.value) == (
        "GET /workspaces/ws1/process-runs/r1 failed: the TLS certificate is not valid for "
        "this host name (it names another host)."
    )
    assert raised.value.permanent
