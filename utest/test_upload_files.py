"""The local side of an upload: only regular files, each opened once and read through
that handle; a file that changes while it is sent fails the upload, and the work item
is deleted (and said to be so only when Control Room accepted the deletion)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from ProcessRunLibrary.client.uploads import FileChanged, _MultipartBody, upload_files
from ProcessRunLibrary.errors import InvalidArgument

from .test_workitem_keywords import http, lib, run  # noqa: F401 - fixtures
from .test_workitems import _ReadingAdapter

UPLOAD = {"upload": {"url": "https://up.example/b", "form_data": {"k": "v1234"}}}
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="no named pipes in the file system")


@posix_only
def test_a_named_pipe_is_refused_at_once_and_not_called_a_directory(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(InvalidArgument) as failure:
        upload_files("files", [fifo])  # opening it to read would wait for a writer
    assert (
        str(failure.value) == f"Argument 'files' names a named pipe (FIFO), not a file: '{fifo}'."
    )


@posix_only
def test_a_device_is_refused():
    with pytest.raises(InvalidArgument) as failure:
        upload_files("files", ["/dev/null"])
    assert (
        str(failure.value) == "Argument 'files' names a character device, not a file: '/dev/null'."
    )


def test_files_checked_before_a_refusal_are_closed(tmp_path):
    (tmp_path / "a.txt").write_text("x")
    opened: list = []
    original = os.fdopen

    def recording(*args, **kwargs):
        opened.append(original(*args, **kwargs))
        return opened[-1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "fdopen", recording)
        with pytest.raises(InvalidArgument):
            upload_files("files", [tmp_path / "a.txt", tmp_path / "missing.txt"])
    assert [handle.closed for handle in opened] == [True]


def _after_the_item_is_created(lib, change):  # noqa: F811
    """Run ``change`` when the work item has been created, before its file is sent."""
    client = lib._ctx.client()
    create = client.create_work_item

    def creating(*args, **kwargs):
        answer = create(*args, **kwargs)
        change()
        return answer

    client.create_work_item = creating


def test_a_file_deleted_after_the_check_is_sent_as_it_was_checked(lib, http, tmp_path):  # noqa: F811
    path = tmp_path / "a.txt"
    path.write_text("checked content")
    _after_the_item_is_created(lib, path.unlink)
    outside = _ReadingAdapter()
    lib._ctx.client().external.mount("https://", outside)
    http.answer(body={"id": "i1", "state": "new"})
    http.answer(body=UPLOAD)
    outside.answer(status=204)
    assert run(lib, "Create Input Work Item", "p1", files=str(path)) == "i1"
    assert b"\r\n\r\nchecked content\r\n" in outside.sent[0].content


def test_a_file_that_shrinks_after_the_check_fails_and_its_item_is_deleted(lib, http, tmp_path):  # noqa: F811
    path = tmp_path / "a.txt"
    path.write_text("0123456789")
    _after_the_item_is_created(lib, lambda: path.write_text("01234"))
    http.answer(body={"id": "i1", "state": "new"})
    http.answer(body=UPLOAD)
    http.answer(body={"accepted": True})
    with pytest.raises(FileChanged) as failure:
        run(lib, "Create Input Work Item", "p1", files=str(path))
    assert str(failure.value) == (
        f"File '{path}' changed after it was checked: it had 10 bytes, now 5. File 'a.txt' "
        "of work item i1 was not uploaded. The work item was deleted, so that no run takes "
        "it without its files."
    )
    assert json.loads(http.sent[-1].body) == {"batch_operation": "delete", "work_item_ids": ["i1"]}


def test_a_deletion_not_accepted_is_not_called_a_deletion(lib, http, tmp_path):  # noqa: F811
    (tmp_path / "a.txt").write_text("x")
    http.answer(body={"id": "i1", "state": "new"})
    http.answer(body=UPLOAD)
    http.answer(status=403, body="<Error><Code>AccessDenied</Code></Error>")
    http.answer(body={"accepted": False})
    with pytest.raises(Exception) as failure:
        run(lib, "Create Input Work Item", "p1", files=str(tmp_path / "a.txt"))
    assert str(failure.value) == (
        "POST <upload URL of 'a.txt'> failed: 403 Forbidden: AccessDenied. File 'a.txt' of "
        "work item i1 was not uploaded. The work item could not be deleted and waits in "
        "the input queue: Control Room did not accept its deletion."
    )


@pytest.mark.parametrize(("change", "how"), [("grow", "grew"), ("shrink", "got shorter")])
def test_a_file_that_changes_while_it_is_sent_stops_the_body(tmp_path, change, how):
    path = tmp_path / "big.bin"
    path.write_bytes(b"x" * 100_000)
    file = upload_files("files", [path])[0]
    body = _MultipartBody([("key", "k1")], file)
    try:
        body.read(8192)
        if change == "grow":
            with path.open("ab") as more:
                more.write(b"y" * 10)
        else:
            os.truncate(path, 50_000)
        with pytest.raises(FileChanged) as failure:
            while body.read(8192):
                pass
    finally:
        file.close()
    assert str(failure.value) == (
        f"File '{path}' {how} while it was being uploaded: it had 100,000 bytes when it was checked."
    )


def test_the_handle_is_closed_after_the_keyword(lib, http, tmp_path):  # noqa: F811
    (tmp_path / "a.txt").write_text("x")
    handles: list = []
    original = upload_files

    def keeping(name, paths):
        files = original(name, paths)
        handles.extend(f.handle for f in files)
        return files

    http.answer(body={"id": "i1", "state": "new"})
    http.answer(body=UPLOAD)
    http.answer(status=204)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("ProcessRunLibrary.client.uploads.upload_files", keeping)
        run(lib, "Create Input Work Item", "p1", files=str(tmp_path / "a.txt"))
    assert [h.closed for h in handles] == [True]
    assert isinstance(Path(tmp_path / "a.txt").read_text(), str)
