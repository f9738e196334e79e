"""Step runs and downloads: the client's endpoints (on the FakeAdapter), safe file names,
and streaming downloads against a scripted local HTTP server."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from ProcessRunLibrary import masking
from ProcessRunLibrary.client import ControlRoomClient, Credentials
from ProcessRunLibrary.client.downloads import (
    MAX_NAME_BYTES,
    RemoteFile,
    plan,
    safe_name,
    save_files,
)
from ProcessRunLibrary.errors import ControlRoomError, DownloadFailed, InvalidArgument
from ProcessRunLibrary.keywords.context import LibraryContext, Settings
from ProcessRunLibrary.keywords.diagnosis import console_lines
from ProcessRunLibrary.keywords.stepruns import StepRunKeywords, artifact_links

from .conftest import API

STEP = {"id": "s1", "state": "failed", "step": {"id": "st", "name": "Process invoices"}}


def page(data: list[Any], next_url: str | None = None) -> dict[str, Any]:
    return {"data": data, "has_more": next_url is not None, "next": next_url}


# --- endpoints ----------------------------------------------------------------------


def test_list_step_runs_sends_the_run_id_as_a_query_and_follows_pages(client, http):
    http.answer(body=page([STEP], f"{API}/workspaces/ws1/step-runs?cursor=2"))
    http.answer(body=page([{"id": "s2"}]))
    assert [s["id"] for s in client.list_step_runs("r1")] == ["s1", "s2"]
    assert [r.url for r in http.sent] == [
        f"{API}/workspaces/ws1/step-runs?process_run_id=r1",
        f"{API}/workspaces/ws1/step-runs?cursor=2",
    ]


def test_list_step_runs_with_a_limit_sends_it_as_the_page_size(client, http):
    http.answer(body=page([STEP, {"id": "s2"}], f"{API}/next"))
    assert len(client.list_step_runs("r1", limit=2)) == 2
    assert http.sent[0].url == f"{API}/workspaces/ws1/step-runs?process_run_id=r1&limit=2"
    assert len(http.sent) == 1


def test_get_step_run_console_messages_and_artifacts_paths(client, http):
    http.answer(body=STEP)
    http.answer(body=page([{"timestamp": "t", "message": "m"}], f"{API}/c2"))
    http.answer(body=page([{"timestamp": "t", "message": "n"}]))
    http.answer(body=page([{"id": "a1", "name": "log.html", "size": 3}]))
    http.answer(
        body={"id": "a1", "name": "log.html", "size": 3, "url": "https://s3/x?sig=abcd1234"}
    )
    assert client.get_step_run("s1") == STEP
    assert [m["message"] for m in client.list_step_run_console_messages("s1")] == ["m", "n"]
    assert client.list_step_run_artifacts("s1")[0]["name"] == "log.html"
    assert client.step_run_artifact_url("s1", "a1") == "https://s3/x?sig=abcd1234"
    assert [r.url for r in http.sent] == [
        f"{API}/workspaces/ws1/step-runs/s1",
        f"{API}/workspaces/ws1/step-runs/s1/console-messages",
        f"{API}/c2",
        f"{API}/workspaces/ws1/step-runs/s1/artifacts",
        f"{API}/workspaces/ws1/step-runs/s1/artifacts/a1",
    ]
    assert masking.mask("see https://s3/x?sig=abcd1234") == "see ***"


def test_a_download_url_is_masked_already_in_the_debug_log_of_the_answer_that_brings_it(
    client, http, caplog
):
    url = "https://s3.example/log.html?X-Amz-Signature=first-sight-5678"
    http.answer(body={"id": "a1", "name": "log.html", "size": 3, "url": url})
    with caplog.at_level(logging.DEBUG, "ProcessRunLibrary"):
        client.get_step_run_artifact("s1", "a1")
    assert "first-sight-5678" not in caplog.text
    assert (
        'Response body: {"id": "a1", "name": "log.html", "size": 3, "url": "***"}'
        in caplog.messages
    )


def test_an_artifact_without_an_http_url_fails_naming_the_artifact(client, http):
    http.answer(body={"id": "a1", "name": "log.html", "size": 3, "url": "file:///etc/passwd"})
    with pytest.raises(ControlRoomError) as error:
        client.step_run_artifact_url("s1", "a1")
    assert str(error.value) == (
        "GET /workspaces/ws1/step-runs/s1/artifacts/a1 failed: "
        "the answer has no http:// or https:// download URL."
    )


# --- safe names -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("log.html", "log.html"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\win.ini", "win.ini"),
        ("/absolute/output.xml", "output.xml"),
        ("C:evil.txt", "C_evil.txt"),
        ("..", ""),
        (".", ""),
        ("../", ""),
        ("a/..", ""),
        ("...", ""),
        ("  ", ""),
        ("", ""),
        (None, ""),
        (42, ""),
        ("re\x00port.txt", "report.txt"),
        ("\x1b[31mred.txt", "[31mred.txt"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        (".hidden", "hidden"),
        ("report..final.html", "report.final.html"),
        ("what?.txt", "what_.txt"),
        ("CON", "_CON"),
        ("nul.txt", "_nul.txt"),
        ("name. ", "name"),
    ],
)
def test_safe_names(name, safe):
    assert safe_name(name) == safe


def test_a_long_name_is_shortened_before_its_extension():
    name = safe_name("é" * 300 + ".html")
    assert name.endswith("é.html")
    assert len(name.encode()) <= MAX_NAME_BYTES


def _files(*names: object) -> list[RemoteFile]:
    return [RemoteFile(n, lambda: "unused") for n in names]


def test_duplicates_are_numbered_before_the_extension_ignoring_case():
    chosen = [
        n for _, n in plan(_files("log.html", "a/log.html", "LOG.html", "README", "x/README"), "*")
    ]
    assert chosen == ["log.html", "log (2).html", "LOG (3).html", "README", "README (2)"]


def test_the_pattern_matches_the_safe_name_case_sensitively():
    chosen = [n for _, n in plan(_files("../log.html", "output.xml", "LOG.HTML"), "*.html")]
    assert chosen == ["log.html"]


def test_a_name_with_nothing_safe_is_skipped_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING, "ProcessRunLibrary"):
        assert plan(_files("..", "ok.txt"), "*")[0][1] == "ok.txt"
    assert caplog.messages == ["Skipped a file whose name has nothing safe to keep: '..'."]


# --- downloads over real HTTP -----------------------------------------------------------


class Scripted(BaseHTTPRequestHandler):
    """Answers each path as told in the server's ``script``: (status, body, cut)."""

    def do_GET(self) -> None:
        self.server.seen.append((self.path, dict(self.headers)))  # type: ignore[attr-defined]
        answers = self.server.script[self.path.split("?")[0]]  # type: ignore[attr-defined]
        status, body, cut = answers.pop(0) if len(answers) > 1 else answers[0]
        self.send_response(status)
        if cut == "chunked":  # no Content-Length: only counting the bytes can stop it
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for start in range(0, len(body), 1000):
                piece = body[start : start + 1000]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[:cut] if cut is not None else body)
        if cut is not None:
            self.close_connection = True

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[Any]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
    httpd.script = {}  # type: ignore[attr-defined]
    httpd.seen = []  # type: ignore[attr-defined]
    httpd.url = f"http://127.0.0.1:{httpd.server_port}"  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _real_client(retries: int = 1) -> ControlRoomClient:
    return ControlRoomClient(
        API, "ws1", Credentials("key-1234"), request_timeout=5, max_retries=retries
    )


def _remote(server: Any, name: str, path: str) -> RemoteFile:
    return RemoteFile(name, lambda: f"{server.url}{path}?X-Signature=sig-{path.strip('/')}")


def test_files_are_streamed_to_disk_without_credentials(server, tmp_path):
    body = bytes(range(256)) * 1000
    server.script["/a"] = [(200, body, None)]
    server.script["/b"] = [(200, b"<html>log</html>", None)]
    paths = save_files(
        _real_client(),
        [_remote(server, "../../x/data.bin", "/a"), _remote(server, "log.html", "/b")],
        tmp_path / "out",
    )
    assert paths == [tmp_path / "out" / "data.bin", tmp_path / "out" / "log.html"]
    assert paths[0].read_bytes() == body
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["data.bin", "log.html"]
    assert [h.get("Authorization") for _, h in server.seen] == [None, None]
    # The path may carry the credential too (a token as a path segment): all of it is masked.
    assert masking.mask("GET /a?X-Signature=sig-a") == "GET ***"


def test_a_file_larger_than_the_limit_fails_and_leaves_nothing(server, tmp_path):
    server.script["/big"] = [(200, b"x" * 5000, None)]
    with pytest.raises(DownloadFailed) as error:
        save_files(_real_client(), [_remote(server, "big.bin", "/big")], tmp_path, max_bytes=4096)
    assert str(error.value) == (
        "Downloading 'big.bin' failed: the file is larger than the limit of 4,096 bytes."
    )
    assert list(tmp_path.iterdir()) == []


def test_a_file_without_a_length_is_stopped_at_the_limit_and_leaves_nothing(server, tmp_path):
    server.script["/big"] = [(200, b"x" * 50_000, "chunked")]
    with pytest.raises(DownloadFailed) as error:
        save_files(_real_client(), [_remote(server, "big.bin", "/big")], tmp_path, max_bytes=4096)
    assert str(error.value) == (
        "Downloading 'big.bin' failed: the file is larger than the limit of 4,096 bytes."
    )
    assert list(tmp_path.iterdir()) == []


def test_a_download_broken_off_is_retried_from_the_start(server, tmp_path, caplog):
    server.script["/cut"] = [(200, b"0123456789", 4), (200, b"0123456789", None)]
    with caplog.at_level(logging.INFO, "ProcessRunLibrary"):
        [path] = save_files(_real_client(retries=1), [_remote(server, "f.txt", "/cut")], tmp_path)
    assert path.read_bytes() == b"0123456789"
    assert (
        "Retrying the download of 'f.txt' after the connection broke off during the download (retry 1)."
        in caplog.messages
    )
    assert not any("sig-cut" in m for m in caplog.messages)


def test_a_download_that_keeps_breaking_fails_and_leaves_no_partial_file(server, tmp_path):
    server.script["/cut"] = [(200, b"0123456789", 4)]
    with pytest.raises(DownloadFailed) as error:
        save_files(_real_client(retries=1), [_remote(server, "f.txt", "/cut")], tmp_path)
    assert str(error.value) == (
        "Downloading 'f.txt' failed: the connection broke off during the download (after 1 retry)."
    )
    assert list(tmp_path.iterdir()) == []


def test_a_refused_download_names_the_file_and_status_never_the_url(server, tmp_path):
    server.script["/gone"] = [(403, b"<Error>Request has expired</Error>", None)]
    with pytest.raises(DownloadFailed) as error:
        save_files(_real_client(), [_remote(server, "log.html", "/gone")], tmp_path)
    assert str(error.value) == "Downloading 'log.html' failed: HTTP 403."
    assert len(server.seen) == 1


def test_a_503_is_retried_like_a_get(server, tmp_path):
    server.script["/busy"] = [(503, b"busy", None), (200, b"done", None)]
    [path] = save_files(_real_client(retries=1), [_remote(server, "f.txt", "/busy")], tmp_path)
    assert path.read_text() == "done"
    assert len(server.seen) == 2


def test_a_file_already_there_is_replaced_and_a_symlink_is_not_followed(server, tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("keep")
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "f.txt").symlink_to(outside)
    server.script["/f"] = [(200, b"new", None)]
    [path] = save_files(_real_client(), [_remote(server, "f.txt", "/f")], folder)
    assert path.read_text() == "new" and not path.is_symlink()
    assert outside.read_text() == "keep"


# --- keywords ---------------------------------------------------------------------------


@pytest.fixture
def keywords(client, http) -> StepRunKeywords:
    ctx = LibraryContext(Settings(), 30, 1)
    ctx.sessions["default"] = client
    ctx.current_alias = "default"
    return StepRunKeywords(ctx)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda k: k.list_step_runs(""),
            "Argument 'process_run_id' must be a non-empty id, got ''.",
        ),
        (
            lambda k: k.list_step_runs("r1", limit=0),
            "Argument 'limit' must be a positive integer, got 0.",
        ),
        (
            lambda k: k.get_step_run("a/b"),
            "Argument 'step_run_id' must be an id without '/', '?', '#', '\\' or white space, "
            "got 'a/b' (contains '/').",
        ),
        (
            lambda k: k.list_step_run_console_messages("s\x001"),
            "Argument 'step_run_id' must be an id without control or invisible characters, got 's\\x001' (contains U+0000).",
        ),
        (
            lambda k: k.list_step_run_artifacts("s1", limit=-1),
            "Argument 'limit' must be a positive integer, got -1.",
        ),
        (
            lambda k: k.download_step_run_artifacts(".."),
            "Argument 'step_run_id' must be an id without '/', '?', '#', '\\' or white space, got '..' (contains '..').",
        ),
        (
            lambda k: k.download_step_run_artifacts("s1", pattern=""),
            "Argument 'pattern' must be a non-empty string, got ''.",
        ),
        (
            lambda k: k.download_step_run_artifacts("s1", directory=""),
            "Argument 'directory' must be the path of a folder, got ''.",
        ),
        (
            lambda k: k.download_process_run_output_files(None),
            "Argument 'process_run_id' must be a non-empty id, got None.",
        ),
    ],
)
def test_bad_input_fails_naming_the_argument_before_any_request(keywords, http, call, message):
    with pytest.raises(InvalidArgument) as error:
        call(keywords)
    assert str(error.value) == message
    assert http.sent == []


def test_a_directory_that_is_a_file_is_refused_before_any_request(keywords, http, tmp_path):
    file = tmp_path / "f"
    file.write_text("")
    with pytest.raises(InvalidArgument) as error:
        keywords.download_step_run_artifacts("s1", directory=str(file))
    assert str(error.value) == f"Argument 'directory' must be a folder, but '{file}' is a file."
    assert http.sent == []


def test_download_process_run_output_files_saves_each_output_in_its_own_folder(
    server, tmp_path, monkeypatch
):
    client = _real_client()
    ctx = LibraryContext(Settings(), 30, 1)
    ctx.sessions["default"], ctx.current_alias = client, "default"
    server.script["/o1"] = [(200, b"one", None)]
    server.script["/o2"] = [(200, b"two", None)]
    outputs = [
        {
            "id": "out-1",
            "files": [{"name": "a.txt", "download": {"url": f"{server.url}/o1?sig=s3cr3t-1"}}],
        },
        {
            "id": "out-2",
            "files": [{"name": "../a.txt", "download": {"url": f"{server.url}/o2?sig=s3cr3t-2"}}],
        },
    ]
    monkeypatch.setattr(client, "list_outputs", lambda run_id, limit=None: outputs)
    paths = StepRunKeywords(ctx).download_process_run_output_files("r1", str(tmp_path))
    assert paths == [str(tmp_path / "out-1" / "a.txt"), str(tmp_path / "out-2" / "a.txt")]
    assert [Path(p).read_text() for p in paths] == ["one", "two"]


# --- the waits' console tail and links ----------------------------------------------------


def test_console_lines_drop_escapes_and_blank_lines_and_cut_long_lines():
    messages = [
        {"timestamp": "t", "message": "\x1b[32mPASS\x1b[0m first\n\n"},
        {"timestamp": "t", "message": "x" * 250},
        {"timestamp": "t", "message": "bell\x07 and tab\tend"},
        {"message": None},
    ]
    assert console_lines(messages) == ["PASS first", "x" * 200 + "...", "bell and tabend"]


def test_artifact_links_are_relative_to_the_log_folder_and_escaped(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # outside Robot, the log folder is the current folder
    saved = [(STEP, [tmp_path / "process-runs" / "r1" / "s1" / "log <1>.html"])]
    assert artifact_links("r1", saved) == (
        "<b>Artifacts of process run r1</b><ul><li>Step run s1 (Process invoices), failed: "
        '<a href="process-runs/r1/s1/log%20%3C1%3E.html">log &lt;1&gt;.html</a></li></ul>'
    )


def test_the_failure_message_of_a_wait_gets_the_console_tail(client, http):
    from ProcessRunLibrary.keywords.waiting import WaitingKeywords

    ctx = LibraryContext(Settings(), 30, 1)
    ctx.sessions["default"], ctx.current_alias = client, "default"
    run = {"id": "r1", "state": "unresolved", "process": {"name": "Invoices"}, "duration": 3}
    http.answer(body=run)  # the first poll: ended
    http.answer(body=page([{"id": "w1", "exception": {"type": "business", "message": "No PDF"}}]))
    http.answer(body=page([{"id": "s0", "state": "completed"}, STEP]))
    http.answer(body=page([{"timestamp": "t", "message": f"line {i}"} for i in range(1, 8)]))
    with pytest.raises(Exception) as error:
        WaitingKeywords(ctx).wait_until_process_run_completes("r1")
    assert str(error.value) == (
        "Process run r1 of process 'Invoices' ended unresolved; by Control Room's clock it ran 3 seconds. "
        "Failed work items: w1 (business exception: No PDF).\n"
        "Last console lines of step run s1 (Process invoices):\n"
        "    line 3\n    line 4\n    line 5\n    line 6\n    line 7"
    )
    assert http.sent[3].url == f"{API}/workspaces/ws1/step-runs/s1/console-messages"


def test_bad_download_artifacts_fails_before_any_request(client, http):
    from ProcessRunLibrary.keywords.waiting import WaitingKeywords

    ctx = LibraryContext(Settings(), 30, 1)
    ctx.sessions["default"], ctx.current_alias = client, "default"
    with pytest.raises(InvalidArgument) as error:
        WaitingKeywords(ctx).start_process_run_and_wait("p1", download_artifacts="yes")  # type: ignore[arg-type]
    assert str(error.value) == "Argument 'download_artifacts' must be True or False, got 'yes'."
    assert http.sent == []


@pytest.mark.parametrize(
    ("duration", "ending"),
    [(10.0, "; by Control Room's clock it ran 10 seconds."), (None, ".")],
)
def test_the_end_of_a_wait_names_the_clock_of_each_figure(
    client, http, caplog, duration, ending, frozen_wait_clock
):
    from ProcessRunLibrary.keywords.waiting import WaitingKeywords

    ctx = LibraryContext(Settings(), 30, 1)
    ctx.sessions["default"], ctx.current_alias = client, "default"
    http.answer(body={"id": "r1", "state": "completed", "duration": duration})
    with caplog.at_level(logging.INFO):
        WaitingKeywords(ctx).wait_until_process_run_completes("r1")
    last = [r.getMessage() for r in caplog.records][-1]
    assert last == f"Process run r1 ended completed after waiting 0 seconds (1 request){ending}"
