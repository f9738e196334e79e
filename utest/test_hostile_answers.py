"""What a hostile server can put into the transport's own messages and log lines: every
server string is made harmless for a terminal (terminal escapes, C1 controls) and every
failure is told in a sentence, never in a raw exception text."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest

from ProcessRunLibrary.client import ControlRoomClient, Credentials
from ProcessRunLibrary.client.answers import MAY_HAVE_STARTED
from ProcessRunLibrary.client.downloads import RemoteFile, save_files
from ProcessRunLibrary.client.uploads import upload_presigned_post
from ProcessRunLibrary.errors import ControlRoomError, DownloadFailed

from .test_one_retry_loop import _client, _download, _file, _upload, server  # noqa: F401 - a fixture

# A window title (OSC), a screen clear (CSI), a C1 CSI and a bidi override.
ESCAPES = "\x1b]0;pwned\x07\x1b[2J\x9b31m\u202e"


def test_a_servers_error_code_and_message_reach_the_failure_without_escapes(client, http):
    http.answer(400, {"error": {"code": f"bad{ESCAPES}", "message": f"no{ESCAPES} way"}})
    with pytest.raises(ControlRoomError) as raised:
        client.get_process_run("r1")
    assert str(raised.value) == (
        "GET /workspaces/ws1/process-runs/r1 failed: 400 Bad Request: bad: no way"
    )


def test_a_response_body_is_logged_without_escapes(client, http, caplog):
    http.answer(500, f"<html>{ESCAPES}oops</html>")
    with caplog.at_level(logging.DEBUG, "ProcessRunLibrary"), pytest.raises(ControlRoomError):
        client.get_process_run("r1")
    assert [m for m in caplog.messages if m.startswith("Response body")] == [
        "Response body: <html>oops</html>"
    ]


def test_a_redirect_to_a_url_that_cannot_be_read_fails_in_a_sentence(server, tmp_path):  # noqa: F811
    server.routes["/file"] = [(302, {"Location": "http://\x1b]0;x\x07[::1/f"}, b"")]
    with pytest.raises(DownloadFailed) as failed:
        _download(server, tmp_path)
    assert str(failed.value) == (
        "Downloading 'f.txt' failed: 302 Found: a redirect to a URL that cannot be read, "
        "not followed."
    )
    assert [p for _, p, _ in server.seen] == ["/file"]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "location", ["http://[zz/f", "http://:80/f", "http://a:b:c/", "https://h\x1bx/f"]
)
def test_a_redirect_to_no_url_fails_in_a_sentence(server, tmp_path, location):  # noqa: F811
    server.routes["/file"] = [(302, {"Location": location}, b"")]
    with pytest.raises(DownloadFailed) as failed:
        _download(server, tmp_path)
    assert str(failed.value) == (
        "Downloading 'f.txt' failed: 302 Found: a redirect to a URL that cannot be read, "
        "not followed."
    )


@pytest.mark.parametrize("location", ["http://[zz/x", "/x\x1b]0;t\x07"])
def test_an_api_redirect_to_no_url_or_with_escapes_fails_in_a_sentence(client, http, location):
    http.answer(302, "", headers={"Location": location})
    with pytest.raises(ControlRoomError) as raised:
        client.start_process_run("p1")
    reason = (
        "a redirect to a URL that cannot be read, not followed"
        if "[" in location
        else "a redirect to https://cr.example/x%1B]0;t%07, not followed for POST"
    )
    assert str(raised.value) == (
        f"POST /workspaces/ws1/processes/p1/process-runs failed: 302 Found: {reason}."
        + MAY_HAVE_STARTED
    )


# --- downloads: bounded by their progress, like uploads ------------------------------------


def _drip(length: bool, block: int, pause: float, blocks: int) -> Any:
    """A 200 answer whose body comes ``block`` bytes every ``pause`` seconds, with a
    Content-Length or ended by closing the connection."""

    def reader(handler: Any) -> None:
        # A traceback printed by the server's thread would parse source (ast) while a
        # test does: CPython 3.11 then fails that test with a SystemError.
        handler.server.handle_error = lambda *args: None
        handler.send_response(200)
        if length:
            handler.send_header("Content-Length", str(block * blocks))
        handler.end_headers()
        for _ in range(blocks):
            try:
                handler.wfile.write(b"x" * block)
                handler.wfile.flush()
            except OSError:
                break
            time.sleep(pause)
        handler.close_connection = True
        raise ConnectionAbortedError  # the answer is sent: nothing more from the handler

    return reader


@pytest.mark.parametrize("length", [True, False])
def test_a_dripping_download_is_ended_and_leaves_no_file(server, tmp_path, length):  # noqa: F811
    server.readers["/file"] = _drip(length, 1, 0.2, 100)  # 20 s for 100 bytes
    client = ControlRoomClient(f"{server.url}/api/v1", "ws", Credentials("key-1234"), 1, 0)
    url = f"{server.url}/file?sig=s"
    with pytest.raises(DownloadFailed) as failed:
        save_files(client, [RemoteFile("f.txt", lambda: url)], tmp_path)
    assert str(failed.value) == (
        "Downloading 'f.txt' failed: the download stalled (less than 64 KiB received in 1 second)."
    )
    assert list(tmp_path.iterdir()) == []


def test_a_download_making_steady_progress_outlives_the_request_timeout(server, tmp_path):  # noqa: F811
    server.readers["/file"] = _drip(True, 256 * 1024, 0.1, 30)  # 7.5 MB in about 3 s
    client = ControlRoomClient(f"{server.url}/api/v1", "ws", Credentials("key-1234"), 1, 0)
    url = f"{server.url}/file?sig=s"
    [path] = save_files(client, [RemoteFile("f.txt", lambda: url)], tmp_path)
    assert path.stat().st_size == 30 * 256 * 1024


def test_an_upload_hosts_xml_error_reaches_the_failure_without_escapes(server, tmp_path):  # noqa: F811
    xml = f"<Error><Code>Entity{ESCAPES}TooLarge</Code><Message>Too{ESCAPES} big</Message></Error>"
    server.routes["/bucket"] = [(400, {}, xml.encode())]
    with pytest.raises(ControlRoomError) as raised:
        upload_presigned_post(_client(server, 0), "/a", _upload(server, tmp_path), _file(tmp_path))
    assert str(raised.value) == (
        "POST <upload URL of 'f.bin'> failed: 400 Bad Request: EntityTooLarge: Too big."
    )


def test_a_value_of_the_wrong_kind_is_shown_without_escapes(client, http):
    http.answer(body={"data": "x\x9b31m\u202ey"})  # a C1 CSI and a bidi override
    with pytest.raises(ControlRoomError) as raised:
        client.list_process_runs()
    assert str(raised.value) == (
        "GET /workspaces/ws1/process-runs?limit=100 failed: 200 OK with an unexpected answer: "
        "expected 'data' to be a list, got a string (\"xy\")."
    )


# --- redirects share the time of their request ----------------------------------------------


def _slow_redirect(pause: float) -> Any:
    def reader(handler: Any) -> None:
        time.sleep(pause)  # each hop answers within the request_timeout

    return reader


def test_the_redirects_of_a_request_share_its_request_timeout(server):  # noqa: F811
    """Five redirects, each answered after 0.6 s: the request as a whole is cut at its
    1 second, not given 1 second per hop (6 seconds)."""
    path = "/api/v1/workspaces/ws/process-runs/r1"
    server.routes[path] = [(302, {"Location": path + "x"}, b"")]
    for hop in range(1, 6):
        here = path + "x" * hop
        server.readers[here] = _slow_redirect(0.6)
        server.routes[here] = [(302, {"Location": here + "x"}, b"")]
    client = ControlRoomClient(f"{server.url}/api/v1", "ws", Credentials("key-1234"), 1, 0)
    with pytest.raises(ControlRoomError) as raised:
        client.get_process_run("r1")
    assert (
        str(raised.value) == "GET /workspaces/ws/process-runs/r1 failed: no answer within 1 second."
    )
    # At 0.6 s a hop, a second's budget reaches the third hop at most (a loaded machine may
    # cut it at the second); a budget per hop would have gone on to all six.
    seen = [p for _, p, _ in server.seen]
    assert 2 <= len(seen) <= 3 and seen == [path, path + "x", path + "xx"][: len(seen)]
