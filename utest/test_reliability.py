"""Reliability and security of the client: the retry policy (on urllib3's Retry objects
and over real HTTP against a scripted local server), error messages, TLS settings and
secret masking. The acceptance suites prove the same against the emulator."""

from __future__ import annotations

import email.utils
import importlib.util
import json
import logging
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from urllib3.exceptions import (
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)
from urllib3.util.retry import Retry

from ProcessRunLibrary import masking
from ProcessRunLibrary.client import ControlRoomClient, Credentials
from ProcessRunLibrary.client.transport import (
    MAY_HAVE_STARTED,
    _LoggingRetry,
    _OurRetriesAtDebug,
    _retry_policy,
)
from ProcessRunLibrary.errors import ControlRoomError, InvalidArgument
from ProcessRunLibrary.keywords.context import LibraryContext, Settings, _credentials

from .conftest import API

ROOT = Path(__file__).resolve().parent.parent


# --- the policy, on urllib3's Retry objects ------------------------------------------


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_reads_are_retried_on_the_documented_statuses(status):
    policy = _retry_policy(3, starts_runs=False)
    for method in ("GET", "DELETE", "POST"):  # POST here: stop, the only other POST
        assert policy.is_retry(method, status)


@pytest.mark.parametrize("status", [400, 403, 404, 409, 500])
def test_reads_are_not_retried_on_other_statuses(status):
    assert not _retry_policy(3, starts_runs=False).is_retry("GET", status)


def test_a_start_is_retried_only_after_a_429():
    policy = _retry_policy(3, starts_runs=True)
    assert policy.is_retry("POST", 429, has_retry_after=True)
    assert policy.is_retry("POST", 429)
    for status in (500, 502, 503, 504):
        assert not policy.is_retry("POST", status)


@pytest.mark.parametrize("status", [413, 503])
def test_a_retry_after_header_does_not_make_a_start_retried(status):
    """urllib3 repeats any 413 or 503 with Retry-After, outside status_forcelist: that
    started a second run when a start's answer was lost behind a proxy."""
    assert not _retry_policy(3, starts_runs=True).is_retry("POST", status, has_retry_after=True)
    assert not _retry_policy(3, starts_runs=False).is_retry("GET", 413, has_retry_after=True)


def _refused() -> NewConnectionError:
    return NewConnectionError(None, "Failed to establish a new connection: Connection refused")  # type: ignore[arg-type]


def test_a_start_is_repeated_after_connection_refused():
    policy = _retry_policy(2, starts_runs=True)
    again = policy.increment("POST", "/p", error=_refused())
    assert again.total == 1


@pytest.mark.parametrize(
    "error",
    [
        ReadTimeoutError(None, "/p", "Read timed out."),  # type: ignore[arg-type]
        ProtocolError("Connection aborted.", ConnectionResetError(104, "reset")),
    ],
)
def test_a_start_that_may_have_arrived_is_never_repeated(error):
    with pytest.raises(MaxRetryError):
        _retry_policy(3, starts_runs=True).increment("POST", "/p", error=error)


@pytest.mark.parametrize(
    "error",
    [
        ReadTimeoutError(None, "/r", "Read timed out."),  # type: ignore[arg-type]
        ProtocolError("Connection aborted.", ConnectionResetError(104, "reset")),
        _refused(),
    ],
)
def test_reads_are_repeated_after_timeouts_and_connection_errors(error):
    again = _retry_policy(3, starts_runs=False).increment("GET", "/r", error=error)
    assert again.total == 2


def test_max_retries_zero_gives_up_at_once():
    with pytest.raises(MaxRetryError):
        _retry_policy(0, starts_runs=False).increment("GET", "/r", error=_refused())


def test_a_rejected_certificate_is_not_retried():
    from ssl import SSLCertVerificationError

    error = SSLError(SSLCertVerificationError(1, "certificate verify failed"))
    with pytest.raises(MaxRetryError):
        _retry_policy(3, starts_runs=False).increment("GET", "/r", error=error)


def test_backoff_starts_at_half_a_second_and_doubles_with_jitter_up_to_30_s():
    policy: Retry = _retry_policy(10, starts_runs=False)
    assert policy.get_backoff_time() == 0  # nothing failed yet
    waits = []
    for _ in range(8):
        policy = policy.increment("GET", "/r", error=_refused())
        waits.append(policy.get_backoff_time())
    for wait, base in zip(waits, [0.5, 1, 2, 4, 8, 16, 30, 30], strict=True):
        assert base <= wait <= min(base + 0.25, 30)


def test_retry_after_in_seconds_and_as_an_http_date():
    policy = _retry_policy(3, starts_runs=False)
    assert policy.parse_retry_after("7") == 7
    in_five = email.utils.formatdate(time.time() + 5, usegmt=True)
    assert 3 <= policy.parse_retry_after(in_five) <= 5
    past = email.utils.formatdate(time.time() - 60, usegmt=True)
    assert policy.parse_retry_after(past) == 0


def test_an_exhausted_retry_tells_how_many_retries_were_made():
    policy = _retry_policy(2, starts_runs=False)
    policy = policy.increment("GET", "/r", error=_refused())
    policy = policy.increment("GET", "/r", error=_refused())
    with pytest.raises(MaxRetryError) as raised:
        policy.increment("GET", "/r", error=_refused())
    assert raised.value.retries_made == 2  # type: ignore[attr-defined]


def test_each_retry_is_logged_once_at_info_and_urllib3_warnings_go_to_debug(caplog):
    policy = _retry_policy(3, starts_runs=False)
    with caplog.at_level(logging.DEBUG):
        again = policy.increment("GET", "/api/v1/workspaces/w/process-runs/r", error=_refused())
    info = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert info == [
        "Retrying GET /api/v1/workspaces/w/process-runs/r after connection refused (retry 1 of 3)."
    ]
    ours = logging.LogRecord("urllib3.connectionpool", logging.WARNING, "", 0, "Retrying (%r)", (again, "e", "/u"), None)  # fmt: skip
    theirs = logging.LogRecord("urllib3.connectionpool", logging.WARNING, "", 0, "Retrying (%r)", (Retry(3), "e", "/u"), None)  # fmt: skip
    assert _OurRetriesAtDebug().filter(ours) and ours.levelno == logging.DEBUG
    assert _OurRetriesAtDebug().filter(theirs) and theirs.levelno == logging.WARNING


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


BUSY = {"error": {"code": "service_unavailable", "message": "Busy."}}
STARTED = {"started": True, "id": "r1"}


def test_a_503_on_a_get_is_retried_once_and_succeeds(server):
    server.script = [(503, {}, BUSY), (200, {}, {"id": "r1", "state": "new"})]
    assert _client(server).get_process_run("r1")["id"] == "r1"
    assert server.seen == ["GET /api/v1/workspaces/ws/process-runs/r1"] * 2


def test_retry_after_as_an_http_date_is_honoured(server):
    in_two = email.utils.formatdate(time.time() + 2, usegmt=True)
    server.script = [(503, {"Retry-After": in_two}, BUSY), (200, {}, {"id": "r1"})]
    started = time.monotonic()
    _client(server).get_process_run("r1")
    assert 0.9 <= time.monotonic() - started < 2.5
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
    http.answer(body={"id": "r1"})
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


def test_the_retry_policy_class_is_ours():
    assert isinstance(_retry_policy(1, starts_runs=True), _LoggingRetry)


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
