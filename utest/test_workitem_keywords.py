"""The process and work item keywords over a faked HTTP layer: what they send, when
they send nothing, and their messages word for word."""

from __future__ import annotations

import json

import pytest

from ProcessRunLibrary import ProcessRunLibrary
from ProcessRunLibrary.errors import ControlRoomError, InvalidArgument, ProcessNotFound

from .conftest import API, FakeAdapter

WS = f"{API}/workspaces/ws1"
PROCESSES = [
    {"id": "p1", "name": "Invoices"},
    {"id": "p2", "name": "invoices archive"},
    {"id": "p3", "name": "Orders"},
    {"id": "p4", "name": "Twin"},
    {"id": "p5", "name": "Twin"},
]


@pytest.fixture
def lib() -> ProcessRunLibrary:
    return ProcessRunLibrary(api_url=API, workspace_id="ws1", api_key="key-1234", max_retries=0)


@pytest.fixture
def http(lib: ProcessRunLibrary) -> FakeAdapter:
    adapter = FakeAdapter()
    client = lib._ctx.client()
    for session in (client.http, client.external):
        session.adapters.clear()
        session.mount("https://", adapter)
    return adapter


def page(data: list, next_url: str | None = None) -> dict:
    return {"next": next_url, "has_more": next_url is not None, "data": data}


def run(lib: ProcessRunLibrary, name: str, *args, **kwargs):
    return lib.run_keyword(name.lower().replace(" ", "_"), list(args), kwargs)


def test_get_process_id_lists_once_and_again_after_a_miss(lib, http):
    http.answer(body=page(PROCESSES))
    assert run(lib, "Get Process Id", "Orders") == "p3"
    assert run(lib, "Get Process Id", "Invoices") == "p1"
    assert len(http.sent) == 1
    http.answer(body=page([*PROCESSES, {"id": "p6", "name": "New"}]))
    assert run(lib, "Get Process Id", "New") == "p6"
    assert len(http.sent) == 2


def test_get_process_id_names_close_candidates_and_several_ids(lib, http):
    http.answer(body=page(PROCESSES))
    http.answer(body=page(PROCESSES))  # a miss reads the listing again
    with pytest.raises(ProcessNotFound) as missing:
        run(lib, "Get Process Id", "invoices")
    assert str(missing.value) == (
        "No process is named 'invoices'. Processes with similar names: "
        "'Invoices' (id 'p1'), 'invoices archive' (id 'p2')."
    )
    with pytest.raises(ProcessNotFound) as several:
        run(lib, "Get Process Id", "Twin")
    assert str(several.value) == (
        "Several processes are named 'Twin': their ids are 'p4', 'p5'. "
        "Give the process id instead of the name."
    )


def test_get_process_id_shows_server_names_and_ids_without_terminal_escapes(lib, http):
    hostile = [
        {"id": "p\x1b]0;owned\x07x", "name": "Invoices \x1b[2J\x9b31m"},
        {"id": "t\x1b[1", "name": "Twin"},
        {"id": "t\x1b[2", "name": "Twin"},
    ]
    http.answer(body=page(hostile))
    http.answer(body=page(hostile))  # a miss reads the listing again
    with pytest.raises(ProcessNotFound) as missing:
        run(lib, "Get Process Id", "invoices")
    assert str(missing.value) == (
        "No process is named 'invoices'. Processes with similar names: 'Invoices ' (id 'px')."
    )
    with pytest.raises(ProcessNotFound) as several:
        run(lib, "Get Process Id", "Twin")
    assert str(several.value) == (
        "Several processes are named 'Twin': their ids are 't1', 't2'. "
        "Give the process id instead of the name."
    )


def test_list_processes_without_limit_refreshes_the_kept_listing(lib, http):
    http.answer(body=page(PROCESSES))
    assert len(run(lib, "List Processes")) == 5
    assert run(lib, "Get Process Id", "Orders") == "p3"
    assert len(http.sent) == 1


def test_missing_file_sends_nothing(lib, http, tmp_path):
    with pytest.raises(InvalidArgument) as failure:
        run(lib, "Create Input Work Item", "p1", files=[str(tmp_path / "nope.txt")])
    assert str(failure.value) == (
        f"Argument 'files' names a file that does not exist: '{tmp_path / 'nope.txt'}'."
    )
    assert http.sent == []


def test_a_failed_upload_deletes_the_new_item(lib, http, tmp_path):
    (tmp_path / "a.txt").write_text("x")
    http.answer(body={"id": "i1", "state": "new"})
    http.answer(body={"upload": {"url": "https://up.example/b", "form_data": {"k": "v1234"}}})
    http.answer(status=403, body="<Error><Code>AccessDenied</Code></Error>")
    http.answer(body={"accepted": True})
    with pytest.raises(ControlRoomError) as failure:
        run(lib, "Create Input Work Item", "p1", {"n": 1}, str(tmp_path / "a.txt"))
    assert str(failure.value) == (
        "POST <upload URL of 'a.txt'> failed: 403 Forbidden: AccessDenied. File 'a.txt' of "
        "work item i1 was not uploaded. The work item was deleted, so that no run takes it "
        "without its files."
    )
    assert json.loads(http.sent[-1].body) == {"batch_operation": "delete", "work_item_ids": ["i1"]}


def test_batch_keywords_take_ids_or_work_items(lib, http):
    http.answer(body={"accepted": True})
    run(lib, "Retry Work Items", [{"id": "i1", "state": "failed"}, "i2"])
    assert json.loads(http.sent[0].body) == {
        "batch_operation": "retry",
        "work_item_ids": ["i1", "i2"],
    }


def test_a_batch_not_accepted_fails(lib, http):
    http.answer(body={"accepted": False})
    with pytest.raises(ControlRoomError) as failure:
        run(lib, "Mark Work Items Done", ["i1"])
    assert str(failure.value) == (
        "POST /work-items/batch failed: Control Room did not accept the marking as done of "
        "1 work item (i1): {'accepted': False}."
    )
