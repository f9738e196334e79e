"""What the disk and the file system refuse is said in a sentence, never as Python's
text of an exception; long values are cut in messages."""

from __future__ import annotations

import json

import pytest

from ProcessRunLibrary.client.downloads import RemoteFile, save_files
from ProcessRunLibrary.client.uploads import upload_files
from ProcessRunLibrary.errors import ControlRoomError, DownloadFailed, InvalidArgument

from .test_stepruns import _real_client, server  # noqa: F401 - a fixture
from .test_workitem_keywords import http, lib, run  # noqa: F401 - fixtures


def test_a_folder_that_cannot_be_made_is_said_in_a_sentence(server, tmp_path):  # noqa: F811
    (tmp_path / "file").write_text("")
    server.script["/a"] = [(200, b"one", None)]
    folder = tmp_path / "file" / "sub"
    remote = RemoteFile("a.txt", lambda: f"{server.url}/a?sig=s-folder-1")
    with pytest.raises(DownloadFailed) as failure:
        save_files(_real_client(), [remote], folder)
    assert str(failure.value) == (
        f"Downloading 'a.txt' failed: it could not be saved in '{folder}': Not a directory."
    )


@pytest.mark.parametrize("path", ["a\x00b.txt", "a\ud800b.txt"])
def test_a_path_no_file_can_have_is_refused_naming_the_argument(tmp_path, path):
    given = str(tmp_path / path)
    with pytest.raises(InvalidArgument) as failure:
        upload_files("files", [given])
    assert str(failure.value) == (
        f"Argument 'files' names a path that no file can have here: {given!r}."
    )


def test_a_directory_with_a_nul_is_refused_before_any_request(lib, http):  # noqa: F811
    with pytest.raises(InvalidArgument) as failure:
        run(lib, "Download Step Run Artifacts", "s1", "out\x00put")
    assert (
        str(failure.value)
        == "Argument 'directory' must be the path of a folder, got 'out\\x00put'."
    )
    assert http.sent == []


def test_a_large_batch_is_named_by_its_first_ids(lib, http):  # noqa: F811
    ids = [f"item-{n:05d}" for n in range(10_000)]
    http.answer(body={"accepted": False})
    with pytest.raises(ControlRoomError) as failure:
        run(lib, "Delete Work Items", ids)
    first = ", ".join(ids[:10])
    assert str(failure.value) == (
        "POST /work-items/batch failed: Control Room did not accept the deletion of 10000 "
        f"work items ({first} and 9,990 more): {{'accepted': False}}."
    )
    assert len(json.loads(http.sent[0].body)["work_item_ids"]) == 10_000
