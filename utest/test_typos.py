"""A misspelt named argument fails; no value that Robot passes on positionally as a real
value is refused (atest/suites/typos.robot runs the keywords)."""

from __future__ import annotations

import pytest

from ProcessRunLibrary import ProcessRunLibrary, typos
from ProcessRunLibrary.errors import InvalidArgument
from ProcessRunLibrary.typos import TypoListener, TypoListenerV2, unknown_argument

LIST_WORK_ITEMS = ["process_id", "process_run_id", "state", "limit", "alias"]
START = ProcessRunLibrary()._keyword_arguments()["start_process_run_and_wait"]


@pytest.mark.parametrize(
    ("written", "name", "intended"),
    [
        ("process_run=${id}", "process_run", "process_run_id"),
        ("process_runid=r1", "process_runid", "process_run_id"),
        ("processRunId=r1", "processRunId", "process_run_id"),  # case and underscores
        ("PROCESS_ID=p1", "PROCESS_ID", "process_id"),
        ("stat=failed", "stat", "state"),
        ("limt=5", "limt", "limit"),
        ("alais=prod", "alais", "alias"),
    ],
)
def test_a_name_close_to_an_argument_name_is_a_typo(written: str, name: str, intended: str) -> None:
    assert unknown_argument("List Work Items", LIST_WORK_ITEMS, ["p1", written]) == (
        f"List Work Items got an unknown argument '{name}' (did you mean '{intended}'?). "
        f"To pass a value containing '=' positionally, escape it as '{name}\\=...'."
    )


@pytest.mark.parametrize(
    ("written", "intended"),
    [
        ('paylod={"a": 1}', "payload"),
        ("use_input_queu=True", "use_input_queue"),
        ("expected_duraton=5 s", "expected_duration"),  # named-only
        ("fail_on_unresolve=False", "fail_on_unresolved"),
        ("on_timout=stop", "on_timeout"),
        ("work_item_id=w1", "work_item_ids"),
    ],
)
def test_the_typos_of_the_issue_name_the_intended_argument(written: str, intended: str) -> None:
    message = unknown_argument("Start Process Run And Wait", START, ["quick", written])
    assert message is not None
    assert f"(did you mean '{intended}'?)" in message


@pytest.mark.parametrize(
    "value",
    [
        '{"customer": "a=b"}',  # a JSON payload string
        '{"a":1}',
        "YWJjZA==",  # a base64 id ends in '='
        "YWJj=",
        "https://example.com/hook?process_run=1&state=failed",  # a URL with a query
        "process_run\\=abc",  # escaped as the message says: Robot passes 'process_run=abc'
        "stat\\=failed",
        "${name}=value",  # a variable in the name: Robot never reads it as named
        "${id}",
        "@{args}",
        "&{kwargs}",
        "process_run_id=r1",  # a real name: Robot passed it as named already
        "timeout=5 s",  # an argument of another keyword, not close to these
        "reason=maintenance window",
        "a=b",
        "=value",
        "not an identifier=1",
        "no equals sign",
        "",
        None,
        42,
        ["process_run=x"],
    ],
)
def test_values_that_hold_an_equals_sign_are_not_refused(value: object) -> None:
    assert unknown_argument("List Work Items", LIST_WORK_ITEMS, ["p1", value]) is None


def test_robot_unescapes_what_the_check_lets_pass() -> None:
    """The escape the message gives is one Robot resolves to the value as meant."""
    from robot.utils import unescape

    assert unescape("process_run\\=abc") == "process_run=abc"


def library_with_typo_pending(written: str) -> ProcessRunLibrary:
    library = ProcessRunLibrary(api_url="http://127.0.0.1:9/api/v1", workspace_id="ws")
    listener = library.ROBOT_LIBRARY_LISTENER[-1]
    assert isinstance(listener, (TypoListener, TypoListenerV2))
    if isinstance(listener, TypoListenerV2):
        listener = listener.listener
    listener.check("List Work Items", ["p1", written])
    return library


def test_run_keyword_refuses_a_call_with_a_typo_before_anything_is_sent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[object] = []
    library = library_with_typo_pending("process_run=r1")
    monkeypatch.setitem(library.keywords, "list_work_items", lambda *a, **k: sent.append(a))
    with pytest.raises(InvalidArgument) as error:
        library.run_keyword("list_work_items", ["process_run=r1"], {"state": "failed"})
    assert str(error.value) == (
        "List Work Items got an unknown argument 'process_run' (did you mean "
        "'process_run_id'?). To pass a value containing '=' positionally, escape it as "
        "'process_run\\=...'."
    )
    assert sent == []
    # The next call is not refused: the typo belonged to the one that failed.
    library.run_keyword("list_work_items", ["p1"])
    assert sent == [("p1",)]


def test_run_keyword_runs_a_call_without_a_typo(monkeypatch: pytest.MonkeyPatch) -> None:
    library = library_with_typo_pending("process_run\\=r1")
    monkeypatch.setitem(library.keywords, "list_work_items", lambda *a, **k: ["found", *a])
    assert library.run_keyword("list_work_items", ["process_run=r1"]) == ["found", "process_run=r1"]


def test_a_typo_pending_for_another_keyword_refuses_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    library = library_with_typo_pending("process_run=r1")
    monkeypatch.setitem(library.keywords, "get_process_run", lambda *a, **k: "run")
    assert library.run_keyword("get_process_run", ["r1"]) == "run"
    assert typos._pending is None


class Implementation:
    def __init__(self, code: type) -> None:
        self.owner = type("Owner", (), {"code": code})()


OURS = Implementation(ProcessRunLibrary)


class Data:
    def __init__(self, args: tuple[str, ...]) -> None:
        self.args = args


class Result:
    def __init__(self, name: str, status: str, message: str) -> None:
        self.name, self.status, self.message = name, status, message


@pytest.mark.skipif(
    not TypoListener({}, ProcessRunLibrary).can_fail,
    reason="Robot Framework 7.0 ignores what end_keyword changes",
)
def test_end_keyword_gives_a_keyword_whose_conversion_failed_the_typo_message() -> None:
    """Robot converts the misspelt value before run_keyword (a time, a number, a state):
    on Robot Framework 7.1 and newer the listener's end_library_keyword replaces
    Robot's message; in a dry run it fails the keyword."""
    listener = TypoListener(
        {"waituntilprocessruncompletes": ["process_run_id", "timeout"]}, ProcessRunLibrary
    )
    for status in ("FAIL", "NOT RUN"):
        started = Result("Wait Until Process Run Completes", "NOT SET", "")
        listener.start_library_keyword(Data(("r1", "timout=5 s")), OURS, started)
        result = Result("Wait Until Process Run Completes", status, "ValueError: ...")
        listener.end_library_keyword(None, None, result)
        assert (result.status, result.message) == (
            "FAIL",
            "Wait Until Process Run Completes got an unknown argument 'timout' (did you mean "
            "'timeout'?). To pass a value containing '=' positionally, escape it as "
            "'timout\\=...'.",
        )
        assert typos._pending is None


def test_end_keyword_leaves_other_keywords_alone() -> None:
    listener = TypoListener({"getprocessrun": ["process_run_id", "alias"]}, ProcessRunLibrary)
    listener.check("Get Process Run", ["r1", "alias=prod"])
    result = Result("Get Process Run", "FAIL", "GET /x failed: 404 Not Found.")
    listener.end_library_keyword(None, None, result)
    assert (result.status, result.message) == ("FAIL", "GET /x failed: 404 Not Found.")


def test_the_library_intro_shows_the_message_as_it_is() -> None:
    import inspect

    message = unknown_argument("List Work Items", LIST_WORK_ITEMS, ["process_run=r1"])
    assert f"\n| {message}\n" in inspect.getdoc(ProcessRunLibrary)


def test_a_keyword_of_the_same_name_in_another_library_is_not_checked() -> None:
    """Another library may have a 'List Work Items' with other arguments."""

    class Other:
        pass

    listener = TypoListener({"listworkitems": LIST_WORK_ITEMS}, ProcessRunLibrary)
    result = Result("List Work Items", "NOT SET", "")
    listener.start_library_keyword(Data(("process_run=r1",)), Implementation(Other), result)
    assert typos._pending is None
    listener.start_library_keyword(Data(("process_run=r1",)), OURS, result)
    assert typos._pending is not None
    listener.end_library_keyword(None, OURS, result)
    assert typos._pending is None


def test_a_time_that_is_a_typo_says_so_where_robot_shows_its_own_message() -> None:
    """Robot Framework 6.1 and 7.0 show Robot's conversion message: the time converter
    gives the typo message as its reason."""
    from ProcessRunLibrary.types import Time

    listener = TypoListener({"waituntilprocessruncompletes": START}, ProcessRunLibrary)
    listener.check("Wait Until Process Run Completes", ["r1", "fail_on_unresolve=False"])
    try:
        with pytest.raises(ValueError) as error:
            Time.convert("fail_on_unresolve=False")
        assert str(error.value) == (
            "Wait Until Process Run Completes got an unknown argument 'fail_on_unresolve' "
            "(did you mean 'fail_on_unresolved'?). To pass a value containing '=' "
            "positionally, escape it as 'fail_on_unresolve\\=...'."
        )
        with pytest.raises(ValueError) as error:
            Time.convert("soon")  # not the misspelt value: what was expected
        assert str(error.value) == (
            "expected a number of seconds or a time like '90 s' or '1 minute 30 seconds'."
        )
    finally:
        typos._pending = None
