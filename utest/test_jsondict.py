from __future__ import annotations

import copy
import pickle

import pytest

from ProcessRunLibrary import ProcessRunLibrary
from ProcessRunLibrary.client.answers import parse_json
from ProcessRunLibrary.keywords.context import JsonDict, to_dotdict

from .conftest import API, FakeAdapter


def run() -> dict:  # type: ignore[type-arg]
    return {
        "id": "r1",
        "state": "completed",
        "process": {"id": "p1", "name": "P"},
        "outputs": [{"files": [{"name": "a.txt"}]}, 3, None],
    }


def test_every_dictionary_gets_dot_access_also_inside_lists():
    converted = to_dotdict(run())
    assert converted.state == "completed"
    assert converted.process.id == "p1"
    assert converted["process"]["name"] == "P"
    assert converted.outputs[0].files[0].name == "a.txt"
    assert converted.outputs[1:] == [3, None]
    assert converted == run()
    assert all(
        isinstance(d, JsonDict) for d in (converted, converted.process, converted.outputs[0])
    )


def test_the_value_given_is_not_changed():
    original = run()
    to_dotdict(original)
    assert type(original["process"]) is dict
    assert type(original["outputs"][0]["files"][0]) is dict


def test_lists_of_runs_and_plain_values():
    assert [r.id for r in to_dotdict([run(), run()])] == ["r1", "r1"]
    assert to_dotdict("x") == "x"
    assert to_dotdict(None) is None


def test_missing_keys_are_attribute_errors_and_attributes_can_be_set_and_deleted():
    converted = to_dotdict(run())
    with pytest.raises(AttributeError, match="nope"):
        converted.nope  # noqa: B018
    converted.note = "mine"
    assert converted["note"] == "mine"
    del converted.note
    assert "note" not in converted
    with pytest.raises(AttributeError, match="note"):
        del converted.note


def test_copies_and_pickles_keep_the_type():
    converted = to_dotdict(run())
    for clone in (copy.deepcopy(converted), pickle.loads(pickle.dumps(converted))):
        assert type(clone) is JsonDict and clone.process.id == "p1"
        assert clone == converted


def test_answers_are_parsed_into_jsondicts_at_every_level():
    data = parse_json(b'{"a": {"b": [{"c": 1}, [{"d": {}}]]}, "e": [1, "x", null]}')
    assert data == {"a": {"b": [{"c": 1}, [{"d": {}}]]}, "e": [1, "x", None]}
    assert data.a.b[0].c == 1
    assert [type(d) for d in (data, data.a, data.a.b[0], data.a.b[1][0], data.a.b[1][0].d)] == [
        JsonDict
    ] * 5
    assert type(parse_json(b"[{}]")[0]) is JsonDict


def test_get_and_list_process_runs_give_dot_access_at_every_level():
    library = ProcessRunLibrary(api_url=API, workspace_id="ws1", api_key="key-1234")
    http = FakeAdapter()
    library._ctx.client().http.mount("https://", http)
    answer = {**run(), "started_by": {"type": "api", "details": None}}
    http.answer(200, answer)
    http.answer(200, {"data": [answer, answer], "next": None, "has_more": False})
    got = library.run_keyword("get_process_run", ["r1"], {})
    runs = library.run_keyword("list_process_runs", [], {})
    for value in (got, *runs):
        assert value == answer
        assert value.process.id == "p1" and value.started_by.type == "api"
        assert value.outputs[0].files[0].name == "a.txt"
