"""The memo of encoded answers (server/web.py's Answers): a GET of a run answers from it,
so it must give, at every moment of a run's life, the very bytes that encoding the run's
JSON gives, and keep at most its size."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp.test_utils import make_mocked_request

from conftest import fake_workspace
from ProcessRunLibrary.emulator.runs import facts_json
from ProcessRunLibrary.emulator.server.web import (
    Answers,
    encoded_page_response,
    json_response,
    page_response,
)

FAILURE = {"type": "business", "code": "E1", "message": "No customer."}


def plain(data: Any) -> bytes:
    """The answer as json_response encodes it, without the memo."""
    body = json_response(data).body
    assert isinstance(body, bytes)
    return body


def test_a_memoized_answer_is_the_runs_json_in_every_state_a_retry_included() -> None:
    workspace, fake = fake_workspace(
        new_seconds=1, run_seconds=4, outcome="unresolved", failures=[FAILURE]
    )
    answers = Answers(100)
    run_id = workspace.start_run("p", {"type": "with_payloads", "payloads": [1, 2]})["id"]

    def answer() -> bytes:
        return answers.body(workspace.get_run_facts(run_id), facts_json)

    seen = []
    for step in (0.0, 0.5, 0.6, 2.0, 1.0):  # new, new, in progress ...
        fake.now += step
        assert answer() == plain(workspace.get_run(run_id))
        seen.append(json.loads(answer())["state"])
    fake.now += 1.0  # ended: unresolved, one item failed
    assert answer() == plain(workspace.get_run(run_id))
    assert json.loads(answer())["state"] == "unresolved"
    items, _ = workspace.list_work_items(None, run_id, None, 100, None)
    failed = [i["id"] for i in items if i["state"] == "failed"]
    body = {"batch_operation": "retry", "work_item_ids": failed}
    workspace.run_batch_operation(body)
    assert json.loads(answer())["state"] == "in_progress"  # not the memo's unresolved
    assert answer() == plain(workspace.get_run(run_id))
    fake.now += 10
    assert answer() == plain(workspace.get_run(run_id))
    assert json.loads(answer())["state"] == "completed"
    assert seen == ["new", "new", "in_progress", "in_progress", "in_progress"]
    # One answer per distinct JSON: new, in progress, unresolved, completed (in progress
    # again after the retry is the first in progress: a retried run keeps its first start).
    assert len(answers) == 4


def test_an_answer_is_encoded_once_while_nothing_changes() -> None:
    workspace, fake = fake_workspace(new_seconds=1, run_seconds=None)
    answers = Answers(100)
    run_id = workspace.start_run("p", None)["id"]
    fake.now += 2
    first = answers.body(workspace.get_run_facts(run_id), facts_json)
    fake.now += 60
    assert answers.body(workspace.get_run_facts(run_id), facts_json) is first
    stop = {"set_remaining_work_items_as_done": True, "terminate_ongoing_activity_runs": False}
    workspace.stop_run(run_id, stop)
    stopping = answers.body(workspace.get_run_facts(run_id), facts_json)
    assert json.loads(stopping)["state"] == "stopping"
    assert len(answers) == 2


def test_answers_keep_at_most_their_size() -> None:
    answers = Answers(3)
    for n in range(3):
        assert answers.body(n, lambda key: {"n": key}) == b'{"n":%d}' % n
    assert len(answers) == 3
    assert answers.body(3, lambda key: {"n": key}) == b'{"n":3}'  # full: starts again
    assert len(answers) == 1


@pytest.mark.parametrize("limit", [2, 100])  # with a next page, and the last page
def test_a_page_of_memoized_runs_is_the_page_of_their_json(limit: int) -> None:
    workspace, fake = fake_workspace(new_seconds=1, run_seconds=4)
    for _ in range(3):
        workspace.start_run("p", None)
        fake.now += 2.5  # new, in progress, completed
    request = make_mocked_request("GET", "/api/v1/workspaces/WS/process-runs?process_id=p")
    answers = Answers(100)
    facts, cursor = workspace.list_run_facts("p", None, limit, None)
    encoded = encoded_page_response(
        request, "runs", [answers.body(f, facts_json) for f in facts], cursor, limit
    )
    page, same_cursor = workspace.list_runs("p", None, limit, None)
    assert same_cursor == cursor and (cursor is None) == (limit == 100)
    assert encoded.body == plain_page(request, page, cursor, limit)
    assert [r["state"] for r in json.loads(encoded.body)["data"]] == (
        ["in_progress", "completed", "completed"][:limit]
    )


def plain_page(request: Any, page: list[dict[str, Any]], cursor: int | None, limit: int) -> bytes:
    body = page_response(request, "runs", page, cursor, limit).body
    assert isinstance(body, bytes)
    return body
