"""What one request may cost the emulator (issue 17): the body size, the upload size, the
time to send headers, and its own output under a flood. Real emulator processes on free
loopback ports."""

from __future__ import annotations

import io
import json
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from yarl import URL

from conftest import KEY, READY, WS, Emulator, launch, stop
from ProcessRunLibrary.emulator.server.loglimit import LINES_PER_WINDOW, PREFIX, BoundedLines

BODY_LIMIT = 4096
UPLOAD_LIMIT = 1000
HEADER_TIMEOUT = 1.0


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    config = tmp_path_factory.mktemp("limits") / "config.json"
    config.write_text(json.dumps({"limits": {"max_upload_size": UPLOAD_LIMIT}}), "utf-8")
    process, line = launch(
        "--workspace-id", WS, "--api-key", KEY, "--config", str(config),
        "--max-body-size", str(BODY_LIMIT), "--header-timeout", str(HEADER_TIMEOUT),
    )  # fmt: skip
    assert line.startswith(READY), line + (process.stderr.read() if process.stderr else "")
    emulator = Emulator(line[len(READY) :].strip())
    yield emulator
    emulator.http.close()
    stop(process)


def error(response: requests.Response) -> tuple[int, str, str]:
    body = response.json()["error"]
    return response.status_code, body["code"], body["message"]


def last_logged(emu: Emulator) -> dict[str, Any]:
    return dict(emu.admin("GET", "/requests")["data"][-1])


def test_a_body_without_a_valid_key_is_not_kept(limited: Emulator) -> None:
    body = {"type": "with_payloads", "payloads": ["x" * 1000]}
    for authorization in ("RC-WSKEY wrong-key", None):
        headers = {"Authorization": authorization} if authorization else {}
        answer = requests.post(
            f"{limited.ws_url}/processes/demo-quick/process-runs",
            json=body,
            headers=headers,
            timeout=10,
        )
        assert answer.status_code == 403
        entry = last_logged(limited)
        assert (entry["status"], entry["body"]) == (403, None)


def test_a_body_with_the_key_is_kept(limited: Emulator) -> None:
    answer = limited.api("POST", "/processes/demo-quick/process-runs", json={"payload": 1})
    assert answer.status_code == 200
    assert last_logged(limited)["body"] == {"payload": 1}


def test_a_body_over_the_limit_is_413(limited: Emulator) -> None:
    body = {"type": "with_payloads", "payloads": ["x" * BODY_LIMIT]}
    answer = limited.api("POST", "/processes/demo-quick/process-runs", json=body)
    assert error(answer) == (
        413,
        "request_entity_too_large",
        f"The request body is larger than the emulator's limit of {BODY_LIMIT} bytes "
        "(--max-body-size).",
    )
    assert (last_logged(limited)["status"], last_logged(limited)["body"]) == (413, None)


def new_item(emu: Emulator) -> str:
    answer = emu.api("POST", "/work-items", json={"process": {"id": "demo-queue"}, "payload": {}})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["id"])


UPLOAD_TOO_LARGE = (
    413,
    "request_entity_too_large",
    f"The file is larger than the emulator's upload limit of {UPLOAD_LIMIT} bytes "
    "(--max-upload-size).",
)


def test_announcing_a_file_over_the_upload_limit_is_refused(limited: Emulator) -> None:
    item_id = new_item(limited)
    body = {"file_name": "big.bin", "file_size": UPLOAD_LIMIT + 1}
    assert error(limited.api("POST", f"/work-items/{item_id}/files", json=body)) == (
        400,
        "bad_request",
        UPLOAD_TOO_LARGE[2],
    )
    answer = limited.api("POST", f"/work-items/{item_id}/files", json={**body, "file_size": 10})
    assert answer.status_code == 200


def test_an_upload_is_bounded_by_the_limit_and_the_announced_size(limited: Emulator) -> None:
    item_id = new_item(limited)
    body = {"file_name": "a.bin", "file_size": UPLOAD_LIMIT}
    upload = limited.api("POST", f"/work-items/{item_id}/files", json=body).json()["upload"]
    over = requests.post(
        upload["url"],
        data=upload["form_data"],
        files={"file": ("a.bin", b"x" * (UPLOAD_LIMIT + 1))},
        timeout=10,
    )
    assert error(over) == UPLOAD_TOO_LARGE
    exact = requests.post(
        upload["url"],
        data=upload["form_data"],
        files={"file": ("a.bin", b"y" * UPLOAD_LIMIT)},
        timeout=10,
    )
    assert exact.status_code == 204
    [file] = limited.api("GET", f"/work-items/{item_id}").json()["files"]
    assert requests.get(file["download"]["url"], timeout=10).content == b"y" * UPLOAD_LIMIT


def address(emu: Emulator) -> tuple[str, int]:
    url = URL(emu.base_url)
    assert url.host is not None and url.port is not None
    return url.host, url.port


def test_a_connection_that_sends_headers_too_slowly_is_closed(limited: Emulator) -> None:
    with socket.create_connection(address(limited), timeout=10 * HEADER_TIMEOUT) as client:
        client.sendall(b"GET /_emulator/health HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        # One more header line now and then, never the blank line that ends them.
        while time.monotonic() - started < 10 * HEADER_TIMEOUT:
            try:
                client.sendall(b"X-Slow: 1\r\n")
                closed = client.recv(1024) == b""
            except TimeoutError:
                pytest.fail("The connection was still open after 10 header timeouts.")
            except ConnectionError:
                closed = True
            if closed:
                break
        assert closed
    assert requests.get(f"{limited.root}/_emulator/health", timeout=10).status_code == 200


def test_bounded_lines_writes_a_budget_then_counts_what_it_left_out() -> None:
    now = [0.0]
    stream = io.StringIO()
    lines = BoundedLines(per_window=2, window=10.0, stream=stream, clock=lambda: now[0])
    for number in range(5):
        lines.write(f"line {number}")
    now[0] = 10.0
    lines.write("line 5")
    assert stream.getvalue().splitlines() == [
        "processrun-emulator: line 0",
        "processrun-emulator: line 1",
        "processrun-emulator: 3 more messages left out (at most 2 every 10 s)",
        "processrun-emulator: line 5",
    ]


FLOOD_FILES = 64  # the emulator's open-file limit: the flood exhausts it
FLOOD_CLIENTS = 100


def test_a_slowloris_flood_leaves_it_answering_and_its_output_bounded(tmp_path: Path) -> None:
    def few_files() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (FLOOD_FILES, FLOOD_FILES))

    process = subprocess.Popen(
        [sys.executable, "-m", "ProcessRunLibrary.emulator", "--header-timeout", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=few_files,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith(READY), line
        host, port = address(Emulator(line[len(READY) :].strip()))
        clients = []
        for _ in range(FLOOD_CLIENTS):
            client = socket.create_connection((host, port), timeout=5)
            client.sendall(b"GET /_emulator/health HTTP/1.1\r\n")
            clients.append(client)
        time.sleep(3)  # the flood stays three header timeouts; then its clients give up
        for client in clients:
            client.close()
        health = requests.get(f"http://{host}:{port}/_emulator/health", timeout=10)
        assert health.status_code == 200
    finally:
        stop(process)
    assert process.stderr is not None
    messages = [e for e in process.stderr.read().splitlines() if e.startswith(PREFIX)]
    assert len(messages) <= LINES_PER_WINDOW + 1, messages
