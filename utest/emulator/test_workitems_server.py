"""Processes and work items over HTTP against a real emulator process: the API operations,
the presigned-POST style uploads, signed downloads, and the repair loop."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from conftest import Emulator


def create(emu: Emulator, process_id: str, payload: Any) -> str:
    body = {"process": {"id": process_id}, "payload": payload}
    response = emu.api("POST", "/work-items", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def announce(emu: Emulator, item_id: str, name: str, size: int) -> dict[str, Any]:
    body = {"file_name": name, "file_size": size}
    response = emu.api("POST", f"/work-items/{item_id}/files", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json()["upload"])


def post_form(upload: dict[str, Any], files: Any, **fields: Any) -> requests.Response:
    data = {**upload["form_data"], **fields}
    return requests.post(upload["url"], data=data, files=files, timeout=10)


def wait_for(emu: Emulator, run_id: str, *states: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        run = emu.api("GET", f"/process-runs/{run_id}").json()
        if run["state"] in states:
            return dict(run)
        assert time.monotonic() < deadline, run
        time.sleep(0.02)


def test_list_processes_follows_next_across_pages(emu: Emulator) -> None:
    first = emu.api("GET", "/processes", params={"limit": 4}).json()
    assert first["has_more"] is True
    second = requests.get(first["next"], headers=emu.http.headers, timeout=10).json()
    assert second["has_more"] is False and second["next"] is None
    assert [p["id"] for p in first["data"] + second["data"]] == [
        "demo-quick",
        "demo-slow",
        "demo-failing",
        "demo-forever",
        "demo-echo",
        "demo-queue",
        "demo-files",
    ]
    assert first["data"][0]["name"] == "Demo: quick"


def test_upload_then_get_and_download_without_credentials(emu: Emulator) -> None:
    item_id = create(emu, "demo-queue", {"order": 3})
    content = b"\x00binary\xffcontent"
    upload = announce(emu, item_id, 'r\u00e9sum\u00e9 "1".pdf', len(content))
    sent = post_form(upload, {"file": ("ignored-name", content)})
    assert (sent.status_code, sent.content) == (204, b"")
    [file] = emu.api("GET", f"/work-items/{item_id}").json()["files"]
    assert (file["name"], file["size"]) == ('r\u00e9sum\u00e9 "1".pdf', len(content))
    download = requests.get(file["download"]["url"], timeout=10)
    assert download.status_code == 200
    assert download.content == content
    assert download.headers["Content-Disposition"] == (
        "attachment; filename*=UTF-8''r%C3%A9sum%C3%A9%20%221%22.pdf"
    )
    log = emu.admin("GET", "/requests", params={"path": "^/_emulator/"})["data"]
    assert [(e["method"], e["status"]) for e in log] == [("POST", 204), ("GET", 200)]
    assert "Authorization" not in log[0]["headers"]
    assert log[0]["body"] == {
        "form_data": {**upload["form_data"], "signature": "***"},
        "file": {"filename": "ignored-name", "size": len(content)},
    }
    assert log[1]["query"]["signature"] == "***"


def test_the_older_forms_of_create_file_and_update_payload(emu: Emulator) -> None:
    item_id = create(emu, "demo-queue", 1)
    body = {"file_name": "a.txt", "file_size": 1}
    old = emu.api("POST", f"/work-items/{item_id}/files/upload", json=body).json()
    assert sorted(old) == ["form_data", "url"]
    assert post_form(old, {"file": ("a.txt", b"x")}).status_code == 204
    put = emu.api("PUT", f"/work-items/{item_id}/payload", json={"payload": {"v": 2}})
    assert put.json() == {"payload": {"v": 2}}
    post = emu.api("POST", f"/work-items/{item_id}/payload", json={"payload": {"v": 3}})
    assert post.json() == {"payload": {"v": 3}}
    assert emu.api("GET", f"/work-items/{item_id}").json()["payload"] == {"v": 3}


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"signature": "0" * 64}, 403, "The URL's signature does not match."),
        ({"expires": "1"}, 403, "The URL's signature does not match."),
        ({"key": "WS/other/file"}, 403, "The URL's signature does not match."),
        ({"acl": "public-read"}, 400, "Unexpected form field(s) acl in the upload."),
    ],
)
def test_an_upload_with_changed_fields_is_refused(
    emu: Emulator, change: dict[str, str], status: int, message: str
) -> None:
    item_id = create(emu, "demo-queue", 1)
    upload = announce(emu, item_id, "a.txt", 1)
    sent = post_form(upload, {"file": ("a.txt", b"x")}, **change)
    assert sent.status_code == status
    assert sent.json()["error"]["message"] == message
    assert emu.api("GET", f"/work-items/{item_id}").json()["files"] == []


def test_upload_form_mistakes(emu: Emulator) -> None:
    item_id = create(emu, "demo-queue", 1)
    upload = announce(emu, item_id, "a.txt", 1)
    form = upload["form_data"]

    def refused(response: requests.Response) -> str:
        assert response.status_code == 400, response.text
        return str(response.json()["error"]["message"])

    missing = {k: v for k, v in form.items() if k != "signature"}
    assert refused(
        requests.post(upload["url"], data=missing, files={"file": ("a", b"x")}, timeout=10)
    ) == ("The upload lacks the form field(s) signature.")
    assert refused(requests.post(upload["url"], data=form, timeout=10)) == (
        "An upload must be a multipart/form-data POST."
    )
    only_fields = requests.post(
        upload["url"], files={k: (None, v) for k, v in form.items()}, timeout=10
    )
    assert refused(only_fields) == "The upload has no part named 'file'."
    # The file must come last: requests puts `files` after `data`, so build the parts.
    parts = [("file", ("a", b"x")), *((k, (None, v)) for k, v in form.items())]
    file_first = requests.post(upload["url"], files=parts, timeout=10)
    assert refused(file_first) == "The upload lacks the form field(s) key, expires, signature."
    after = [*((k, (None, v)) for k, v in form.items()), ("file", ("a", b"x")), ("x", (None, "1"))]
    assert refused(requests.post(upload["url"], files=after, timeout=10)) == (
        "The file must be the last part of the upload."
    )
    assert refused(post_form(upload, {"file": ("a", b"xy")})) == (
        "The file has more than the 1 bytes createWorkItemFile announced."
    )
    assert refused(post_form(upload, {"file": ("a", b"")})) == (
        "The file has 0 bytes; createWorkItemFile announced 1."
    )
    unknown = requests.post(
        upload["url"].rsplit("/", 1)[0] + "/nope",
        data=form,
        files={"file": ("a", b"x")},
        timeout=10,
    )
    assert unknown.status_code == 404
    assert unknown.json()["error"]["message"] == "Upload 'nope' not found."


def test_a_download_url_with_a_wrong_signature_or_none_is_403(emu: Emulator) -> None:
    item_id = create(emu, "demo-queue", 1)
    upload = announce(emu, item_id, "a.txt", 1)
    assert post_form(upload, {"file": ("a.txt", b"x")}).status_code == 204
    [file] = emu.api("GET", f"/work-items/{item_id}").json()["files"]
    url = file["download"]["url"]
    tampered = url[:-1] + ("0" if url[-1] != "0" else "1")
    for bad, message in (
        (tampered, "The URL's signature does not match."),
        (url.split("?")[0], "The URL is not signed."),
    ):
        response = requests.get(bad, timeout=10)
        assert response.status_code == 403
        assert response.json()["error"]["message"] == message


def test_the_repair_loop_create_run_fix_retry_completed(emu: Emulator) -> None:
    failure = {"type": "business", "code": "NO_CUSTOMER", "message": "Order 7 has none."}
    emu.define("orders", new_seconds=0.2, run_seconds=1, outcome="unresolved", failures=[failure])
    bad = create(emu, "orders", {"order": 7})
    good = create(emu, "orders", {"order": 8})
    run_id = emu.start("orders", {"type": "with_inputs"})
    wait_for(emu, run_id, "unresolved")
    failed = emu.api(
        "GET", "/work-items", params={"process_run_id": run_id, "state": "failed"}
    ).json()["data"]
    assert [(i["id"], i["exception"]) for i in failed] == [(bad, failure)]
    emu.api("POST", f"/work-items/{bad}/payload", json={"payload": {"order": 7, "customer": 1}})
    retry = {"batch_operation": "retry", "work_item_ids": [bad]}
    assert emu.api("POST", "/work-items/batch", json=retry).json() == {"accepted": True}
    # (in_progress again in between: test_workitem_state.py, on a clock that waits)
    wait_for(emu, run_id, "completed")
    states = emu.api("GET", "/work-items", params={"process_run_id": run_id}).json()["data"]
    assert [(i["id"], i["state"], i["exception"]) for i in states] == [
        (bad, "done", None),
        (good, "done", None),
    ]
    [seen] = [i for i in emu.admin("GET", "/work-items")["data"] if i["id"] == bad]
    assert (seen["attempt"], seen["payload"]) == (2, {"order": 7, "customer": 1})
    [admin_run] = emu.admin("GET", "/runs", params={"process_id": "orders"})["data"]
    assert [r["work_item_ids"] for r in admin_run["retries"]] == [[bad]]


def test_admin_seeds_work_items_with_files(emu: Emulator) -> None:
    body = {
        "process_id": "demo-queue",
        "payload": {"order": 9},
        "files": [{"name": "a.txt", "content": "hi"}, {"name": "b", "content_base64": "/w=="}],
    }
    seeded = emu.admin("POST", "/work-items", json=body)
    assert seeded["files"] == [
        {"name": "a.txt", "size": 2, "uploaded": True, "content": "hi"},
        {"name": "b", "size": 1, "uploaded": True, "content_base64": "/w=="},
    ]
    item = emu.api("GET", f"/work-items/{seeded['id']}").json()
    assert [requests.get(f["download"]["url"], timeout=10).content for f in item["files"]] == [
        b"hi",
        b"\xff",
    ]
    bad = emu.http.post(f"{emu.root}/_emulator/work-items", json={"process_id": "nope"}, timeout=10)
    assert (bad.status_code, bad.json()["error"]["message"]) == (404, "Process 'nope' not found.")
    listed = emu.admin("GET", "/work-items", params={"process_id": "demo-queue"})["data"]
    assert [i["payload"] for i in listed] == [{"order": 1}, {"order": 2}, {"order": 9}]


def test_fault_rules_apply_to_uploads_and_downloads(emu: Emulator) -> None:
    emu.fault(status=503, path="/work-items/")  # an API path: never an upload's
    emu.fault(status=503, method="POST", path="^/_emulator/uploads/", times=1, retry_after=2)
    emu.fault(status=500, method="GET", path="^/_emulator/work-item-files/", times=1)
    item = emu.admin("POST", "/work-items", json={"process_id": "demo-queue"})
    upload = emu.api(
        "POST", f"/work-items/{item['id']}/files", json={"file_name": "a", "file_size": 1}
    )
    assert upload.status_code == 503  # the first rule
    emu.admin("DELETE", "/faults/f1")
    announced = announce(emu, item["id"], "a", 1)
    faulted = post_form(announced, {"file": ("a", b"x")})
    assert faulted.status_code == 503
    assert faulted.headers["X-Emulator-Fault"] == "f2"
    assert faulted.headers["Retry-After"] == "2"
    assert faulted.json()["error"]["message"] == "Injected fault f2: 503 Service Unavailable."
    assert post_form(announced, {"file": ("a", b"x")}).status_code == 204
    [file] = emu.api("GET", f"/work-items/{item['id']}").json()["files"]
    first = requests.get(file["download"]["url"], timeout=10)
    assert (first.status_code, first.headers["X-Emulator-Fault"]) == (500, "f3")
    assert requests.get(file["download"]["url"], timeout=10).content == b"x"
    log = emu.admin("GET", "/requests", params={"path": "^/_emulator/"})["data"]
    assert [(e["method"], e["status"], e["fault"]) for e in log] == [
        ("POST", 503, "f2"),
        ("POST", 204, None),
        ("GET", 500, "f3"),
        ("GET", 200, None),
    ]


def test_a_lost_upload_answer_stores_the_file(emu: Emulator) -> None:
    item = emu.admin("POST", "/work-items", json={"process_id": "demo-queue"})
    announced = announce(emu, item["id"], "a", 1)
    emu.fault(lost_answer=True, path="^/_emulator/uploads/", times=1)
    assert post_form(announced, {"file": ("a", b"x")}).status_code == 502
    [file] = emu.api("GET", f"/work-items/{item['id']}").json()["files"]
    assert file["size"] == 1


def test_malformed_multipart_uploads_are_400(emu: Emulator) -> None:
    item_id = create(emu, "demo-queue", 1)
    upload = announce(emu, item_id, "a.txt", 1)
    form = upload["form_data"]

    def message(response: requests.Response) -> str:
        assert response.status_code == 400, response.text
        return str(response.json()["error"]["message"])

    no_boundary = requests.post(
        upload["url"], data=b"x", headers={"Content-Type": "multipart/form-data"}, timeout=10
    )
    assert message(no_boundary).startswith("The upload is not valid multipart/form-data: ")
    garbage = requests.post(
        upload["url"],
        data=b"no parts here",
        headers={"Content-Type": "multipart/form-data; boundary=xyz"},
        timeout=10,
    )
    assert message(garbage).startswith("The upload is not valid multipart/form-data: ")
    twice = [("key", (None, form["key"])), ("key", (None, form["key"]))]
    assert message(requests.post(upload["url"], files=twice, timeout=10)) == (
        "The form field 'key' is given twice."
    )
    long = [("key", (None, "k" * 70_000))]
    assert message(requests.post(upload["url"], files=long, timeout=10)) == (
        "The form field 'key' is too long."
    )
    unnamed = b"--xyz\r\nContent-Disposition: form-data\r\n\r\nvalue\r\n--xyz--\r\n"
    response = requests.post(
        upload["url"],
        data=unnamed,
        headers={"Content-Type": "multipart/form-data; boundary=xyz"},
        timeout=10,
    )
    assert message(response) == "Every part of the upload needs a name."
