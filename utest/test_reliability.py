"""Reliability and security of the client: the retry policy (through a fake HTTP layer
and over real HTTP against a scripted local server), error messages, TLS settings and
secret masking. The acceptance suites prove the same against the emulator."""

from __future__ import annotations

import email.utils
import importlib.util
import json
import logging
import threading
import time
import types
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from urllib3.exceptions import (
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)

from ProcessRunLibrary import masking
from ProcessRunLibrary.client import ControlRoomClient, Credentials, retries, transport
from ProcessRunLibrary.client.transport import MAY_HAVE_STARTED
from ProcessRunLibrary.errors import ControlRoomError, InvalidArgument
from ProcessRunLibrary.keywords.context import LibraryContext, Settings, _credentials

from .conftest import API, FakeAdapter

ROOT = Path(__file__).resolve().parent.parent


# --- the policy, through a fake HTTP layer ------------------------------------------


@pytest.fixture
def fast(monkeypatch):
    """Backoff of a millisecond: the policy is the same, the tests take no time."""
    monkeypatch.setattr(retries, "BACKOFF_FACTOR", 0.001)
    monkeypatch.setattr(retries, "BACKOFF_JITTER", 0.0)


def _retrying(http: FakeAdapter, retries: int = 3) -> ControlRoomClient:
    c = ControlRoomClient(
        API, "ws1", Credentials("key-1234"), request_timeout=5, max_retries=retries
    )
    c.http.adapters.clear()
    c.http.mount("https://", http)
    return c


RUN = {"id": "r1", "state": "new"}
STARTED = {"started": True, "id": "r1"}
BUSY = {"error": {"code": "service_unavailable", "message": "Busy."}}
START = "/processes/p/process-runs"


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_reads_stops_and_deletes_are_retried_on_the_documented_statuses(fast, http, status):
    c = _retrying(http)
    for _ in range(3):
        http.answer(status, BUSY)
        http.answer(200, RUN)
    assert c.get_process_run("r1") == RUN
    c.stop_process_run("r1")
    c.delete_process_run("r1")
    assert [s.method for s in http.sent] == ["GET", "GET", "POST", "POST", "DELETE", "DELETE"]


@pytest.mark.parametrize("status", [400, 403, 404, 409, 413, 500])
def test_other_statuses_are_not_retried(fast, http, status):
    http.answer(status, BUSY, headers={"Retry-After": "0"})
    with pytest.raises(ControlRoomError):
        _retrying(http).get_process_run("r1")
    assert len(http.sent) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504, 413])
def test_a_start_is_retried_only_after_a_429_even_with_retry_after(fast, http, status):
    """urllib3 repeats any 413 or 503 with Retry-After: that started a second run when
    a start's answer was lost behind a proxy."""
    c = _retrying(http)
    http.answer(429, BUSY)
    http.answer(200, STARTED)
    assert c.start_process_run("p") == STARTED
    http.answer(status, BUSY, headers={"Retry-After": "0"})
    with pytest.raises(ControlRoomError):
        c.start_process_run("p")
    assert len(http.sent) == 3


def _refused() -> requests.ConnectionError:
    return requests.ConnectionError(
        NewConnectionError(None, "Failed to establish a new connection: Connection refused")  # type: ignore[arg-type]
    )


def test_a_start_is_repeated_after_connection_refused(fast, http):
    http.fail(_refused())
    http.answer(200, STARTED)
    assert _retrying(http, 2).start_process_run("p") == STARTED
    assert len(http.sent) == 2


@pytest.mark.parametrize(
    "error",
    [
        requests.ReadTimeout(ReadTimeoutError(None, "/p", "Read timed out.")),  # type: ignore[arg-type]
        requests.ConnectionError(
            ProtocolError("Connection aborted.", ConnectionResetError(104, "reset"))
        ),
    ],
)
def test_a_start_that_may_have_arrived_is_never_repeated(fast, http, error):
    http.fail(error)
    with pytest.raises(ControlRoomError) as raised:
        _retrying(http).start_process_run("p")
    assert str(raised.value).endswith(MAY_HAVE_STARTED)
    assert len(http.sent) == 1


@pytest.mark.parametrize(
    "error",
    [
        requests.ReadTimeout(ReadTimeoutError(None, "/r", "Read timed out.")),  # type: ignore[arg-type]
        requests.ConnectionError(
            ProtocolError("Connection aborted.", ConnectionResetError(104, "reset"))
        ),
        _refused(),
    ],
)
def test_reads_are_repeated_after_timeouts_and_connection_errors(fast, http, error):
    http.fail(error)
    http.answer(200, RUN)
    assert _retrying(http).get_process_run("r1") == RUN
    assert len(http.sent) == 2


def test_max_retries_zero_gives_up_at_once(http):
    http.fail(_refused())
    with pytest.raises(ControlRoomError, match=r"failed: connection refused\.$"):
        _retrying(http, 0).get_process_run("r1")
    assert len(http.sent) == 1


def test_a_rejected_certificate_is_not_retried(fast, http):
    from ssl import SSLCertVerificationError

    http.fail(
        requests.exceptions.SSLError(
            SSLError(SSLCertVerificationError(1, "certificate verify failed"))
        )
    )
    with pytest.raises(ControlRoomError) as raised:
        _retrying(http).get_process_run("r1")
    assert str(raised.value) == (
        "GET /workspaces/ws1/process-runs/r1 failed: TLS certificate verification failed "
        "(give verify a CA bundle path)."
    )
    assert raised.value.permanent and len(http.sent) == 1


def test_a_certificate_of_another_host_says_so(http):
    from ssl import SSLCertVerificationError

    mismatch = SSLCertVerificationError(
        1,
        "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: Hostname mismatch, certificate is not valid for 'localhost'.",
    )
    http.fail(requests.exceptions.SSLError(SSLError(mismatch)))
    with pytest.raises(ControlRoomError) as raised:
        _retrying(http).get_process_run("r1")
    assert str(raised.value) == (
        "GET /workspaces/ws1/process-runs/r1 failed: the TLS certificate is not valid for "
        "this host name (it names another host)."
    )


def test_backoff_starts_at_half_a_second_and_doubles_with_jitter_up_to_30_s():
    for retry, base in enumerate([0.5, 1, 2, 4, 8, 16, 30, 30], start=1):
        assert base <= retries.backoff(retry) <= min(base + 0.25, 30)


def test_retry_after_in_seconds_and_as_an_http_date_and_at_most_a_minute():
    assert retries.retry_after("7") == 7
    in_five = email.utils.formatdate(time.time() + 5, usegmt=True)
    assert 3 <= (retries.retry_after(in_five) or 0) <= 5
    past = email.utils.formatdate(time.time() - 60, usegmt=True)
    assert retries.retry_after(past) == 0
    assert retries.retry_after("86400") == 60
    assert retries.retry_after("soon") is None
    assert retries.retry_after(None) is None


def test_a_failure_after_retries_tells_how_many(fast, http):
    for _ in range(3):
        http.fail(_refused())
    with pytest.raises(ControlRoomError) as raised:
        _retrying(http, 2).get_process_run("r1")
    assert str(raised.value) == (
        "GET /workspaces/ws1/process-runs/r1 failed: connection refused (after 2 retries)."
    )


def test_each_retry_is_logged_once_at_info(fast, http, caplog):
    http.fail(_refused())
    http.answer(503, BUSY, headers={"Retry-After": "0"})
    http.answer(200, RUN)
    with caplog.at_level(logging.DEBUG, logger="ProcessRunLibrary"):
        _retrying(http).get_process_run("r1")
    info = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert info == [
        "Retrying GET /workspaces/ws1/process-runs/r1 after connection refused (retry 1 of 3).",
        "GET /workspaces/ws1/process-runs/r1 -> 503 in " + info[1].rsplit(" in ", 1)[1],
        "Retrying GET /workspaces/ws1/process-runs/r1 after HTTP 503 (retry 2 of 3).",
        "GET /workspaces/ws1/process-runs/r1 -> 200 in " + info[3].rsplit(" in ", 1)[1],
    ]


# --- over real HTTP: a scripted server --------------------------------------------------


class Scripted(ThreadingHTTPServer):
    """Answers requests from a script of (status, headers, body) or "drop"."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script: list[Any] = []
        self.seen: list[str] = []

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/api/v1"


class _Handler(BaseHTTPRequestHandler):
    server: Scripted

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.server.seen.append(f"{self.command} {self.path}")
        step = self.server.script.pop(0) if self.server.script else (200, {}, {})
        if step == "drop":
            self.close_connection = True
            return
        if step == "drip":  # headers at once, then one byte of the body every 0.4 s
            data = json.dumps({"id": "r1", "state": "new", "pad": "x" * 20}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            for byte in data:
                self.wfile.flush()
                time.sleep(0.4)
                try:
                    self.wfile.write(bytes([byte]))
                except OSError:
                    return
            return
        status, headers, body = step
        data = json.dumps(body).encode()
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[Scripted]:
    scripted = Scripted()
    thread = threading.Thread(target=scripted.serve_forever, daemon=True)
    thread.start()
    yield scripted
    scripted.shutdown()
    scripted.server_close()


def _client(server: Scripted, retries: int = 3) -> ControlRoomClient:
    return ControlRoomClient(server.api, "ws", Credentials("key-1234"), 5, retries)


def test_a_503_on_a_get_is_retried_once_and_succeeds(server):
    server.script = [(503, {}, BUSY), (200, {}, {"id": "r1", "state": "new"})]
    assert _client(server).get_process_run("r1")["id"] == "r1"
    assert server.seen == ["GET /api/v1/workspaces/ws/process-runs/r1"] * 2


def test_retry_after_as_an_http_date_is_honoured(server, monkeypatch):
    # The pause is recorded, not slept: a wall-clock bound would fail on a loaded machine.
    pauses: list[float] = []
    clock = types.SimpleNamespace(monotonic=time.monotonic, sleep=pauses.append)
    monkeypatch.setattr(transport, "time", clock)
    in_ten = email.utils.formatdate(time.time() + 10, usegmt=True)  # whole seconds: 9 to 10 s
    server.script = [(503, {"Retry-After": in_ten}, BUSY), (200, {}, RUN)]
    _client(server).get_process_run("r1")
    assert len(pauses) == 1 and 5 <= pauses[0] <= 10  # not the backoff's 0.5 to 0.75 s
    assert len(server.seen) == 2


def test_a_start_answered_503_with_retry_after_is_sent_once(server):
    server.script = [(503, {"Retry-After": "0"}, BUSY), (200, {}, STARTED)]
    with pytest.raises(ControlRoomError) as raised:
        _client(server).start_process_run("p")
    assert str(raised.value) == (
        "POST /workspaces/ws/processes/p/process-runs failed: 503 Service Unavailable: "
        "service_unavailable: Busy." + MAY_HAVE_STARTED
    )
    assert server.seen == ["POST /api/v1/workspaces/ws/processes/p/process-runs"]


def test_a_start_answered_429_is_sent_again(server):
    server.script = [(429, {"Retry-After": "0"}, BUSY), (200, {}, STARTED)]
    assert _client(server).start_process_run("p") == STARTED
    assert len(server.seen) == 2


def test_a_start_whose_connection_dropped_is_sent_once_and_says_the_run_may_exist(server):
    server.script = ["drop", (200, {}, STARTED)]
    with pytest.raises(ControlRoomError) as raised:
        _client(server).start_process_run_for_integration("p", {}, "tok-5678")
    assert str(raised.value) == (
        "POST /workspaces/ws/processes/p/process-runs-integrations?token=*** failed: "
        "the connection was closed before an answer came." + MAY_HAVE_STARTED
    )
    assert len(server.seen) == 1


def test_a_dripping_body_is_cut_at_the_request_timeout_not_per_read(server):
    """Each byte comes within the socket timeout; the whole body would take 20 s."""
    server.script = ["drip"]
    client = ControlRoomClient(server.api, "ws", Credentials("key-1234"), 1, 0)
    with pytest.raises(ControlRoomError) as raised:
        client.get_process_run("r1")
    assert str(raised.value) == (
        "GET /workspaces/ws/process-runs/r1 failed: no answer within 1 second."
    )


def test_a_streamed_download_is_cut_at_its_total_bound(server):
    """With stream=True, timeout bounds each read and total the whole download."""
    server.script = ["drip"]
    client = ControlRoomClient(server.api, "ws", Credentials("key-1234"), 5, 0)
    response = client.open_url("GET", f"{server.api}/file?sig=abc", stream=True, total=1)
    with pytest.raises(requests.RequestException):
        b"".join(response.iter_content(1))
    assert server.seen == ["GET /api/v1/file?sig=abc"]


def test_a_stop_whose_connection_dropped_is_sent_again(server):
    server.script = ["drop", (200, {}, {"accepted": True})]
    assert _client(server).stop_process_run("r1") == {"accepted": True}
    assert len(server.seen) == 2


def test_a_failure_after_retries_says_how_many(server):
    server.script = [(502, {}, BUSY)] * 3
    with pytest.raises(ControlRoomError) as raised:
        _client(server, retries=2).delete_process_run("r1")
    assert str(raised.value).endswith(
        "502 Bad Gateway: service_unavailable: Busy. (after 2 retries)"
    )
    server.script = [(502, {}, BUSY)]
    with pytest.raises(ControlRoomError) as raised:
        _client(server, retries=0).delete_process_run("r1")
    assert str(raised.value).endswith("502 Bad Gateway: service_unavailable: Busy.")


def test_a_start_refused_with_429_until_retries_run_out_does_not_say_it_may_exist(server):
    server.script = [(429, {}, BUSY)] * 2
    with pytest.raises(ControlRoomError) as raised:
        _client(server, retries=1).start_process_run("p")
    assert str(raised.value).endswith(
        "429 Too Many Requests: service_unavailable: Busy. (after 1 retry)"
    )


def test_a_refused_start_does_not_say_it_may_exist():
    client = ControlRoomClient("http://127.0.0.1:9/api/v1", "ws", Credentials("k-123"), 5, 0)
    with pytest.raises(ControlRoomError) as raised:
        client.start_process_run("p")
    assert str(raised.value) == (
        "POST /workspaces/ws/processes/p/process-runs failed: connection refused."
    )


# --- TLS ------------------------------------------------------------------------------


@pytest.mark.parametrize("verify", [False, "/path/to/ca.pem"])
def test_verify_is_given_with_every_request_so_that_ca_bundle_variables_cannot_override_it(
    monkeypatch, client, http, verify
):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/other.pem")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/etc/other.pem")
    client.http.verify = verify
    seen = {}
    original = http.send

    def send(request, **kwargs):  # type: ignore[no-untyped-def]
        seen.update(kwargs)
        return original(request, **kwargs)

    http.send = send  # type: ignore[method-assign]
    http.answer(body=RUN)
    client.get_process_run("r1")
    assert seen["verify"] == verify


# --- secrets --------------------------------------------------------------------------


def test_a_token_in_a_next_url_is_masked_in_errors_and_logs(client, http, caplog):
    next_url = f"{API}/workspaces/ws1/process-runs?cursor=c2&token=tok-next-9999"
    http.answer(body={"next": next_url, "has_more": True, "data": [{"id": 1}]})
    http.answer(500, {"error": {"code": "oops", "message": f"Failed at {next_url}"}})
    with caplog.at_level(logging.DEBUG), pytest.raises(ControlRoomError) as raised:
        client.list_process_runs()
    assert str(raised.value) == (
        "GET /workspaces/ws1/process-runs?cursor=c2&token=*** failed: 500 Internal Server "
        f"Error: oops: Failed at {API}/workspaces/ws1/process-runs?cursor=c2&token=***"
    )
    assert "tok-next-9999" not in caplog.text


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (
            "Arguments: [ ${api_key}='k-111' | ${Token}=k-222 | ${callback secret}=\"k 333\" ]",
            "Arguments: [ ${api_key}=*** | ${Token}=*** | ${callback secret}=*** ]",
        ),
        (
            "Arguments: [ &{kwargs}={'api_key': 'k-444', 'callback_secret': \"k-555\"} ]",
            "Arguments: [ &{kwargs}={'api_key': '***', 'callback_secret': \"***\"} ]",
        ),
        (
            'body {"callback": {"url": "http://h", "secret": "k-666"}}',
            'body {"callback": {"url": "http://h", "secret": "***"}}',
        ),
        ("{'Authorization': 'Bearer k-777'}", "{'Authorization': 'Bearer ***'}"),
        ("POST /p?with_handshake=asana&token=k-888", "POST /p?with_handshake=asana&token=***"),
    ],
)
def test_secret_shapes_are_masked_without_knowing_the_value(text, masked):
    assert masking.mask(text) == masked


def test_a_bad_import_time_fails_the_first_keyword_that_needs_it_not_the_import():
    """Robot shows every import argument, the API key too, when an import fails."""
    context = LibraryContext(Settings(), "soon", "0")
    with pytest.raises(InvalidArgument) as raised:
        _ = context.timeout
    assert str(raised.value) == (
        "ProcessRunLibrary was imported with a bad argument: Argument 'timeout' got value "
        "'soon': expected a number of seconds or a time like '90 s' or '1 minute 30 seconds'."
    )
    with pytest.raises(InvalidArgument, match="Argument 'poll_interval' must be more than 0"):
        _ = context.poll_interval
    context.timeout = 5.0
    assert context.timeout == 5.0


def test_a_blank_key_falls_back_and_a_key_with_white_space_is_refused(monkeypatch):
    monkeypatch.delenv("RC_API_KEY", raising=False)
    monkeypatch.setenv("RC_API_TOKEN_V1", " tok-1234\n")
    assert _credentials("  ") == ("tok-1234", "Bearer")
    with pytest.raises(InvalidArgument) as raised:
        _credentials("key-12\n34")
    assert str(raised.value) == (
        "Argument 'api_key' must not contain white space or control characters: it is sent "
        "in the Authorization header."
    )
    assert "key-12" not in str(raised.value)


# --- the chaos suite's bookkeeping ----------------------------------------------------


def _ledger() -> Any:
    spec = importlib.util.spec_from_file_location(
        "ChaosLedger", ROOT / "atest" / "resources" / "ChaosLedger.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ChaosLedger()


def _run(run_id: str, marker: int, state: str = "completed") -> dict[str, Any]:
    return {"id": run_id, "state": state, "payloads": [{"chaos": marker}]}


START_ERROR = "POST /workspaces/ws/processes/p/process-runs failed: 502 Bad Gateway."


def test_the_chaos_ledger_counts_duplicated_and_lost_runs_precisely():
    ledger = _ledger()
    ok = {"id": "a", "state": "completed"}
    ledger.record_start(0, "chaos-ok", "PASS", "a")  # fine
    ledger.record_wait(0, "wait", "PASS", ok)
    ledger.record_start(1, "chaos-ok", "FAIL", START_ERROR + MAY_HAVE_STARTED)  # lost answer
    ledger.record_start(2, "chaos-ok", "FAIL", START_ERROR)  # a run exists: lost
    ledger.record_start(3, "chaos-ok", "PASS", "d")  # started twice: duplicated
    ledger.record_wait(3, "wait", "PASS", {"id": "d", "state": "completed"})
    ledger.record_start(4, "chaos-ok", "PASS", "e")  # not in the emulator: lost
    ledger.record_wait(4, "wait", "PASS", {"id": "e", "state": "completed"})
    runs = [_run("a", 0), _run("b", 1), _run("c", 2), _run("d", 3), _run("d2", 3), _run("x", 99)]
    requests = [
        {"fault": "f1", "method": "POST", "path": "/workspaces/ws/processes/p/process-runs"}
    ]
    report = ledger.account_for_runs(runs, requests, {"f1": "lost answer (502)"})
    assert report["runs duplicated"] == 1
    assert report["runs lost"] == 3  # e missing, c unannounced, x unexplained
    assert report["lost answers accounted for"] == 1
    assert report["waits right"] == 2 and report["waits wrong"] == 1  # e's run is unknown
    assert report["faults by kind"] == {"lost answer (502)": 1}
    assert len(report["problems"]) == 5
