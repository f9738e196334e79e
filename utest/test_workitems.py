"""The client of processes and work items: what goes on the wire, and the upload."""

from __future__ import annotations

import http.server
import json
import threading
from pathlib import Path

import pytest
from requests_toolbelt.multipart.decoder import MultipartDecoder

from ProcessRunLibrary import masking
from ProcessRunLibrary.client import ControlRoomClient, Credentials
from ProcessRunLibrary.client.uploads import UploadFile, upload_files
from ProcessRunLibrary.errors import ControlRoomError, InvalidArgument

from .conftest import API, FakeAdapter

WS = f"{API}/workspaces/ws1"
UPLOAD = {
    "url": "https://uploads.example/bucket",
    "form_data": {
        "key": "ws1/item-1/f1/a.txt",
        "policy": "cG9saWN5LXNlY3JldA==",
        "x-sig": "s1gn4ture",
    },
}


class _ReadingAdapter(FakeAdapter):
    """Reads a streamed body while it is sent, as a real adapter does."""

    def send(self, request, **kwargs):  # type: ignore[no-untyped-def]
        body = request.body
        request.streamed = not isinstance(body, (bytes, str, type(None)))
        request.content = body.read() if request.streamed else body
        return super().send(request, **kwargs)


@pytest.fixture
def outside(client: ControlRoomClient) -> FakeAdapter:
    """The adapter of requests to URLs outside the API (uploads)."""
    adapter = _ReadingAdapter()
    client.external.adapters.clear()
    client.external.mount("https://", adapter)
    return adapter


@pytest.fixture
def text_file(tmp_path: Path) -> UploadFile:
    path = tmp_path / "a.txt"
    path.write_text("hello work item\n")
    return upload_files("files", [path])[0]


def test_list_processes_follows_pages(client, http):
    http.answer(body={"next": f"{WS}/processes?cursor=2", "has_more": True, "data": [{"id": "p1"}]})
    http.answer(body={"next": None, "has_more": False, "data": [{"id": "p2"}]})
    assert [p["id"] for p in client.list_processes()] == ["p1", "p2"]
    assert [r.url for r in http.sent] == [f"{WS}/processes", f"{WS}/processes?cursor=2"]


def test_list_work_items_sends_every_filter_unencoded_twice(client, http):
    http.answer(body={"next": None, "has_more": False, "data": []})
    client.list_work_items("proc:1", "run-1", "failed", 10)
    assert http.sent[0].url == (
        f"{WS}/work-items?process_id=proc%3A1&process_run_id=run-1&state=failed&limit=10"
    )


def test_list_work_items_refuses_bad_ids_before_sending(client, http):
    with pytest.raises(InvalidArgument, match="Argument 'process_run_id' must be an id"):
        client.list_work_items(process_run_id="a/b")
    assert http.sent == []


def test_get_work_item_asks_for_its_data(client, http):
    http.answer(body={"id": "i1", "payload": {}, "files": []})
    client.get_work_item("i1")
    assert http.sent[0].url == f"{WS}/work-items/i1?include_data=true"


def test_create_update_and_batch_bodies(client, http):
    for _ in range(3):
        http.answer(body={"id": "i1", "accepted": True, "payload": {"a": 2}})
    client.create_work_item("p1", {"a": 1})
    client.update_work_item_payload("i1", {"a": 2})
    client.work_item_batch("retry", ["i1", "i2"])
    assert [(r.method, r.url, json.loads(r.body)) for r in http.sent] == [
        ("POST", f"{WS}/work-items", {"process": {"id": "p1"}, "payload": {"a": 1}}),
        ("POST", f"{WS}/work-items/i1/payload", {"payload": {"a": 2}}),
        (
            "POST",
            f"{WS}/work-items/batch",
            {"batch_operation": "retry", "work_item_ids": ["i1", "i2"]},
        ),
    ]


def test_posts_under_work_items_are_not_repeated_after_they_may_have_arrived(http):
    c = ControlRoomClient(API, "ws1", Credentials("key-1234"), max_retries=3)
    c.http.adapters.clear()
    c.http.mount("https://", http)
    http.answer(status=503)
    with pytest.raises(ControlRoomError) as failure:
        c.create_work_item("p1", {"a": 1})
    assert str(failure.value) == "POST /workspaces/ws1/work-items failed: 503 Service Unavailable"
    assert len(http.sent) == 1  # creating an item twice would feed the process twice
    http.answer(status=503)
    http.answer(body={"next": None, "has_more": False, "data": []})
    assert c.list_work_items(process_run_id="r1") == []
    assert len(http.sent) == 3  # a read is repeated


def test_a_file_is_announced_then_uploaded_without_the_key(client, http, outside, text_file):
    http.answer(body={"upload": UPLOAD})
    outside.answer(status=204)
    client.add_work_item_file("i1", text_file)
    assert json.loads(http.sent[0].body) == {"file_name": "a.txt", "file_size": 16}
    assert http.sent[0].url == f"{WS}/work-items/i1/files"
    sent = outside.sent[0]
    assert (sent.method, sent.url) == ("POST", "https://uploads.example/bucket")
    assert "Authorization" not in sent.headers
    assert sent.streamed  # from disk, block by block, not read whole
    content = sent.content
    assert int(sent.headers["Content-Length"]) == len(content)
    parts = MultipartDecoder(content, sent.headers["Content-Type"]).parts
    names = [p.headers[b"Content-Disposition"].decode() for p in parts]
    assert names == [
        'form-data; name="key"',
        'form-data; name="policy"',
        'form-data; name="x-sig"',
        'form-data; name="file"; filename="a.txt"',
    ]
    assert [p.text for p in parts] == [*UPLOAD["form_data"].values(), "hello work item\n"]
    assert parts[-1].headers[b"Content-Type"] == b"text/plain"


def test_the_upload_url_and_form_fields_are_masked(client, http, outside, text_file):
    http.answer(body={"upload": UPLOAD})
    outside.answer(
        status=403,
        body="<Error><Code>AccessDenied</Code><Message>Policy expired: s1gn4ture</Message></Error>",
    )
    with pytest.raises(ControlRoomError) as failure:
        client.add_work_item_file("i1", text_file)
    assert str(failure.value) == (
        "POST <upload URL of 'a.txt'> failed: 403 Forbidden: AccessDenied: Policy expired: ***."
    )
    text = f"{UPLOAD['url']} {UPLOAD['form_data']}"
    assert masking.mask(text) == "*** {'key': '***', 'policy': '***', 'x-sig': '***'}"


def test_the_older_answer_form_works_too(client, http, outside, text_file):
    http.answer(body=UPLOAD)  # 2023-10-19: {url, form_data} at the top
    outside.answer(status=204)
    client.add_work_item_file("i1", text_file)
    assert outside.sent[0].url == UPLOAD["url"]


@pytest.mark.parametrize(
    "answer",
    [
        {},
        {"upload": {"url": "file:///etc/passwd", "form_data": {}}},
        {"upload": {"url": "https://x"}},
    ],
)
def test_an_answer_without_a_usable_upload_fails_clearly(client, http, outside, text_file, answer):
    http.answer(body=answer)
    with pytest.raises(ControlRoomError) as failure:
        client.add_work_item_file("i1", text_file)
    assert str(failure.value) == (
        "POST /workspaces/ws1/work-items/i1/files failed: the answer has no upload 'url' "
        "(http or https) and 'form_data'."
    )
    assert outside.sent == []


class _FlakyUploads(http.server.BaseHTTPRequestHandler):
    """Answers the first upload 503, then 204; keeps every body it got."""

    bodies: list[bytes] = []

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        self.bodies.append(self.rfile.read(length))
        self.send_response(503 if len(self.bodies) == 1 else 204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_a_repeated_upload_sends_the_whole_body_again(tmp_path):
    """urllib3 rewinds the body before it repeats a request: over real HTTP, the retry
    after a 503 carries the same bytes as the first try."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FlakyUploads)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    path = tmp_path / "big.bin"
    path.write_bytes(bytes(range(256)) * 4000)
    try:
        client = ControlRoomClient(API, "ws1", Credentials("key-1234"), max_retries=2)
        api = FakeAdapter()
        client.http.adapters.clear()
        client.http.mount("https://", api)
        url = f"http://127.0.0.1:{server.server_address[1]}/bucket"
        api.answer(body={"upload": {"url": url, "form_data": {"key": "k1"}}})
        client.add_work_item_file("i1", upload_files("files", [path])[0])
    finally:
        server.shutdown()
        server.server_close()
    first, second = _FlakyUploads.bodies
    assert first == second
    assert len(first) > 1_024_000


def test_files_are_checked_before_anything(tmp_path):
    (tmp_path / "a.txt").write_text("x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_text("y")
    with pytest.raises(InvalidArgument) as failure:
        upload_files("files", [tmp_path / "a.txt", tmp_path / "sub" / "a.txt"])
    assert str(failure.value) == (
        "Argument 'files' names two files called 'a.txt': the files of a work item need "
        "distinct names."
    )
    with pytest.raises(InvalidArgument) as failure:
        upload_files("files", [""])
    assert str(failure.value) == "Argument 'files' must hold paths of files, got ''."


def test_a_body_read_to_its_end_starts_over(tmp_path):
    """A retry that sends the same body object again (no seek) sends all of it."""
    from ProcessRunLibrary.client.uploads import _MultipartBody

    path = tmp_path / "a.txt"
    path.write_text("hello\n" * 5000)
    body = _MultipartBody([("key", "k1")], upload_files("files", [path])[0])
    try:
        first = b"".join(iter(lambda: body.read(8192), b""))
        assert body.tell() == 0
        second = b"".join(iter(lambda: body.read(8192), b""))
    finally:
        body.close()
    assert first == second
    assert len(first) == body.len > 30_000
