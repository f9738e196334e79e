"""The list keywords log how many items they found, word for word, in the singular and
the plural (one helper words every count: text.counted)."""

from __future__ import annotations

import pytest
from robot.api import logger

from ProcessRunLibrary import ProcessRunLibrary
from ProcessRunLibrary.text import counted

from .conftest import API, FakeAdapter

LISTINGS = [
    ("List Processes", [], "process", "processes", ""),
    ("List Process Runs", [], "process run", "process runs", ""),
    ("List Process Run Outputs", ["r1"], "output", "outputs", ""),
    ("List Work Items", [], "work item", "work items", ""),
    ("List Step Runs", ["r1"], "step run", "step runs", " of process run r1"),
    (
        "List Step Run Console Messages",
        ["s1"],
        "console message",
        "console messages",
        " of step run s1",
    ),
    ("List Step Run Artifacts", ["s1"], "artifact", "artifacts", " of step run s1"),
]


def test_counted_words_a_count() -> None:
    assert counted(1, "work item") == "1 work item"
    assert counted(0, "work item") == "0 work items"
    assert counted(2, "work item") == "2 work items"
    assert counted(1, "process", "processes") == "1 process"
    assert counted(3, "process", "processes") == "3 processes"


@pytest.mark.parametrize("count", [1, 2])
@pytest.mark.parametrize(
    ("name", "args", "one", "many", "of"), LISTINGS, ids=[k[0] for k in LISTINGS]
)
def test_a_list_keyword_logs_how_many_it_found(
    monkeypatch: pytest.MonkeyPatch, name: str, args: list, one: str, many: str, of: str, count: int
) -> None:
    lib = ProcessRunLibrary(api_url=API, workspace_id="ws1", api_key="key-1234", max_retries=0)
    http = FakeAdapter()
    client = lib._ctx.client()
    client.http.adapters.clear()
    client.http.mount("https://", http)
    items = [{"id": f"i{n}", "name": f"n{n}", "message": "m"} for n in range(count)]
    http.answer(body={"next": None, "has_more": False, "data": items})
    lines: list[str] = []
    monkeypatch.setattr(logger, "info", lambda message, *a, **k: lines.append(message))
    found = lib.run_keyword(name.lower().replace(" ", "_"), args, {})
    assert [line for line in lines if line.startswith("Found")] == [
        f"Found {count} {one if count == 1 else many}{of}."
    ]
    assert [item.id for item in found] == [item["id"] for item in items]
