"""One retry loop for every request (API requests, presigned downloads and uploads), auth
that ~/.netrc cannot replace, redirects of presigned downloads, and uploads bounded by
their progress: all over real HTTP against a local server."""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from ProcessRunLibrary.client import ControlRoomClient, Credentials
from ProcessRunLibrary.client.downloads import RemoteFile, save_files
from ProcessRunLibrary.client.uploads import UploadFile, _open_regular_file, upload_presigned_post
from ProcessRunLibrary.errors import ControlRoomError, DownloadFailed

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "ProcessRunLibrary"


class _Handler(BaseHTTPRequestHandler):
    """Answers each path from ``server.routes``: a list of (status, headers, body),
    the last one repeated; every request is recorded with its Authorization header."""

    server: Any
    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        path = self.path.split("?")[0]
        self.server.seen.append((self.command, path, self.headers.get("Authorization")))
        reader = self.server.readers.get(path)
        if reader is not None:
            reader(self)
        else:
            length = int(self.headers.get("Content-Length") or 0)
            while length > 0:
                length -= len(self.rfile.read(min(length, 1 << 20)) or b"x" * length)
        answers = self.server.routes.get(path, [(404, {}, b"")])
        status, headers, body = answers.pop(0) if len(answers) > 1 else answers[0]
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[Any]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.routes, httpd.seen, httpd.readers = {}, [], {}  # type: ignore[attr-defined]
    httpd.url = f"http://127.0.0.1:{httpd.server_port}"  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _client(server: Any, retries: int = 3, timeout: float = 5) -> ControlRoomClient:
    return ControlRoomClient(
        f"{server.url}/api/v1", "ws", Credentials("key-1234"), timeout, retries
    )


RUN = b'{"id": "r1", "state": "new"}'
BUSY = (503, {"Retry-After": "0", "Content-Type": "application/json"}, b'{"error": {}}')


def _upload(server: Any, path: Path) -> dict[str, Any]:
    return {"url": f"{server.url}/bucket", "form_data": {"key": "k", "policy": "p"}}


def _file(tmp_path: Path, size: int = 10) -> UploadFile:
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * size)
    return _open_regular_file("files", str(path))


# --- one budget ---------------------------------------------------------------------------


@pytest.mark.parametrize("retries", [0, 1, 2, 3])
def test_max_retries_n_sends_n_plus_one_requests_for_requests_downloads_and_uploads(
    server, tmp_path, retries
):
    server.routes["/api/v1/workspaces/ws/process-runs/r1"] = [BUSY]
    server.routes["/file"] = [BUSY]
    server.routes["/bucket"] = [BUSY]
    client = _client(server, retries)
    after = f" (after {retries} {'retry' if retries == 1 else 'retries'})" if retries else ""

    with pytest.raises(ControlRoomError) as raised:
        client.get_process_run("r1")
    assert str(raised.value) == (
        f"GET /workspaces/ws/process-runs/r1 failed: 503 Service Unavailable{after}"
    )
    with pytest.raises(DownloadFailed) as failed:
        save_files(client, [RemoteFile("f.txt", lambda: f"{server.url}/file?sig=s")], tmp_path)
    assert str(failed.value) == f"Downloading 'f.txt' failed: HTTP 503{after}."
    with pytest.raises(ControlRoomError) as raised:
        upload_presigned_post(client, "/announced", _upload(server, tmp_path), _file(tmp_path))
    assert str(raised.value) == (
        f"POST <upload URL of 'f.bin'> failed: 503 Service Unavailable{after}."
    )
    sent = [(method, path) for method, path, _ in server.seen]
    assert sent == (
        [("GET", "/api/v1/workspaces/ws/process-runs/r1")] * (retries + 1)
        + [("GET", "/file")] * (retries + 1)
        + [("POST", "/bucket")] * (retries + 1)
    )
    assert list(tmp_path.iterdir()) == [tmp_path / "f.bin"]


def test_a_download_broken_mid_stream_restarts_within_the_same_budget(server, tmp_path, caplog):
    def cut(handler: Any) -> None:  # a body that breaks off after 4 of 10 bytes
        handler.send_response(200)
        handler.send_header("Content-Length", "10")
        handler.end_headers()
        handler.wfile.write(b"0123")
        handler.close_connection = True
        raise ConnectionAbortedError

    server.routes["/file"] = [BUSY, BUSY, BUSY, (200, {}, b"never sent")]
    server.readers["/cut"] = cut
    client = _client(server, 2)
    with pytest.raises(DownloadFailed) as failed:
        save_files(client, [RemoteFile("f.txt", lambda: f"{server.url}/file?sig=s")], tmp_path)
    assert str(failed.value) == "Downloading 'f.txt' failed: HTTP 503 (after 2 retries)."
    with (
        caplog.at_level(logging.INFO, "ProcessRunLibrary"),
        pytest.raises(DownloadFailed) as failed,
    ):
        save_files(client, [RemoteFile("g.txt", lambda: f"{server.url}/cut?sig=s")], tmp_path)
    assert str(failed.value) == (
        "Downloading 'g.txt' failed: the connection broke off during the download "
        "(after 2 retries)."
    )
    assert [p for _, p, _ in server.seen].count("/cut") == 3
    assert [m for m in caplog.messages if m.startswith("Retrying")] == [
        "Retrying the download of 'g.txt' after the connection broke off during the download "
        f"(retry {n})."
        for n in (1, 2)
    ]
    assert list(tmp_path.iterdir()) == []


# --- netrc never speaks for the user -----------------------------------------------------


def test_a_netrc_entry_for_the_api_host_does_not_replace_the_api_key(server, tmp_path, monkeypatch):
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login user password netrc-password\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    server.routes["/api/v1/workspaces/ws/process-runs/r1"] = [(200, {}, RUN)]
    assert _client(server).get_process_run("r1") == {"id": "r1", "state": "new"}
    assert server.seen == [("GET", "/api/v1/workspaces/ws/process-runs/r1", "RC-WSKEY key-1234")]


def test_a_netrc_default_entry_is_never_sent_to_an_upload_or_download_host(
    server, tmp_path, monkeypatch
):
    netrc = tmp_path / "netrc"
    netrc.write_text("default login user password netrc-password\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    server.routes["/file"] = [(200, {}, b"data")]
    server.routes["/bucket"] = [(204, {}, b"")]
    client = _client(server)
    save_files(client, [RemoteFile("f.txt", lambda: f"{server.url}/file?sig=s")], tmp_path / "d")
    upload_presigned_post(client, "/announced", _upload(server, tmp_path), _file(tmp_path))
    assert server.seen == [("GET", "/file", None), ("POST", "/bucket", None)]


def test_an_integration_start_sends_no_authorization_even_with_a_netrc(
    server, tmp_path, monkeypatch
):
    netrc = tmp_path / "netrc"
    netrc.write_text("default login user password netrc-password\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    path = "/api/v1/workspaces/ws/processes/p/process-runs-integrations"
    server.routes[path] = [(200, {}, b'{"started": true, "id": "r1"}')]
    _client(server).start_process_run_for_integration("p", None, "tok-12345")
    assert server.seen == [("POST", path, None)]


# --- redirects of presigned downloads ----------------------------------------------------


def _download(server: Any, tmp_path: Path, path: str = "/file") -> list[Path]:
    url = f"{server.url}{path}?sig=s"
    return save_files(_client(server, 0), [RemoteFile("f.txt", lambda: url)], tmp_path)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_presigned_download_follows_redirects_without_credentials(
    server, tmp_path, status, caplog
):
    server.routes["/file"] = [(status, {"Location": "/moved?X-Amz-Signature=t"}, b"<Error/>")]
    server.routes["/moved"] = [(200, {}, b"the file")]
    with caplog.at_level(logging.DEBUG):
        [path] = _download(server, tmp_path)
    assert path.read_bytes() == b"the file"
    assert server.seen == [("GET", "/file", None), ("GET", "/moved", None)]
    assert not any("X-Amz-Signature=t" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ((204, {}, b""), "HTTP 204, not 200 with the file"),
        ((206, {}, b"part"), "HTTP 206, not 200 with the file"),
        ((304, {}, b""), "HTTP 304, not 200 with the file"),
        ((302, {}, b"<Error/>"), "302 Found: a redirect without a Location"),
        (
            (302, {"Location": "ftp://127.0.0.1/f"}, b""),
            "302 Found: a redirect to a URL that is not http or https, not followed",
        ),
        (
            (302, {"Location": "/file"}, b""),
            "302 Found: more than 5 redirects, not followed further",
        ),
    ],
)
def test_a_download_whose_final_answer_is_not_200_fails_and_leaves_no_file(
    server, tmp_path, answer, reason, caplog
):
    server.routes["/file"] = [answer]
    with (
        caplog.at_level(logging.INFO, "ProcessRunLibrary"),
        pytest.raises(DownloadFailed) as failed,
    ):
        _download(server, tmp_path)
    assert str(failed.value) == f"Downloading 'f.txt' failed: {reason}."
    assert list(tmp_path.iterdir()) == []
    assert not any(m.startswith("Saved") for m in caplog.messages)


def test_a_download_redirect_from_https_to_http_is_refused(http, tmp_path):
    from .conftest import API

    client = ControlRoomClient(API, "ws1", Credentials("key-1234"), 5, 0)
    client.external.adapters.clear()
    client.external.mount("https://", http)
    http.answer(302, "", headers={"Location": "http://bucket.example/f"})
    with pytest.raises(DownloadFailed) as failed:
        save_files(
            client, [RemoteFile("f.txt", lambda: "https://bucket.example/f?sig=s")], tmp_path
        )
    assert str(failed.value) == (
        "Downloading 'f.txt' failed: 302 Found: a redirect from https to http, not followed."
    )
    assert len(http.sent) == 1
    assert list(tmp_path.iterdir()) == []


# --- listings: bounded in what they hold ---------------------------------------------------


def test_a_listing_whose_pages_add_up_past_the_cap_fails_clearly(client, http):
    from .conftest import API

    client.max_listing_bytes = 1000
    for n in range(1, 5):
        runs = [{"id": f"r{n}-{i}", "pad": "x" * 100} for i in range(2)]
        http.answer(body={"data": runs, "has_more": True, "next": f"{API}/next{n}"})
    with pytest.raises(ControlRoomError) as raised:
        client.list_process_runs()
    assert str(raised.value) == (
        "GET /next3 failed: the listing's pages add up to more than 1,000 bytes, the most "
        "one listing may hold: it is not followed further."
    )
    assert raised.value.permanent and len(http.sent) == 4


# --- uploads: bounded by their progress, not from connect to the last byte -----------------


def _read_slowly(block: int, pause: float) -> Any:
    def reader(handler: Any) -> None:
        length = int(handler.headers["Content-Length"])
        while length > 0:
            got = handler.rfile.read(min(block, length))
            if not got:
                return
            length -= len(got)
            time.sleep(pause)

    return reader


def _small_buffers(server: Any) -> None:
    """The kernel's buffers hold megabytes on localhost: keep them small, so that what the
    client sends is what the server has read."""
    server.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)


def test_an_upload_making_steady_progress_outlives_the_request_timeout(server, tmp_path):
    _small_buffers(server)
    server.readers["/bucket"] = _read_slowly(512 * 1024, 0.05)  # about 10 MB/s
    server.routes["/bucket"] = [(204, {}, b"")]
    file = _file(tmp_path, 40 * 1024 * 1024)  # about 4 seconds at that pace
    upload_presigned_post(_client(server, 0, timeout=2), "/a", _upload(server, tmp_path), file)
    assert server.seen == [("POST", "/bucket", None)]


def test_a_stalled_upload_fails_with_the_documented_message(server, tmp_path):
    _small_buffers(server)
    stop = threading.Event()
    server.readers["/bucket"] = lambda handler: stop.wait(30)
    file = _file(tmp_path, 64 * 1024 * 1024)
    try:
        with pytest.raises(ControlRoomError) as raised:
            upload_presigned_post(
                _client(server, 0, timeout=1), "/a", _upload(server, tmp_path), file
            )
    finally:
        stop.set()
    assert str(raised.value) == (
        "POST <upload URL of 'f.bin'> failed: the upload stalled "
        "(less than 64 KiB sent in 1 second)."
    )


# --- the client is plain Python ------------------------------------------------------------


def test_the_client_loads_no_robot_module():
    """The client layer on its own, imported as a user would: the package's ``__init__``
    imports the library class (over robotlibcore) only when it is asked for."""
    code = (
        "import ProcessRunLibrary.client, ProcessRunLibrary.client.downloads, "
        "ProcessRunLibrary.client.uploads, sys; "
        "robot = sorted(m for m in sys.modules if m == 'robot' or m.startswith('robot.')); "
        "assert not robot, robot"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-500:]


def test_no_client_module_is_over_450_lines():
    sizes = {p.name: len(p.read_text().splitlines()) for p in (SRC / "client").glob("*.py")}
    assert {name: size for name, size in sizes.items() if size > 450} == {}
