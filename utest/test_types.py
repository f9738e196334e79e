from __future__ import annotations

from datetime import timedelta

import pytest

from ProcessRunLibrary.errors import InvalidArgument
from ProcessRunLibrary.types import (
    ProcessRunState,
    Time,
    api_url_argument,
    json_payload,
    non_negative_int,
    positive_int,
    time_argument,
    verify_argument,
)


@pytest.mark.parametrize(
    ("given", "seconds"),
    [("90", 90), (90, 90), ("1.5", 1.5), ("90 s", 90), ("1 minute 30 seconds", 90),
     ("1h 10min", 4200), (timedelta(seconds=3), 3), ("0", 0)],
)  # fmt: skip
def test_time_accepts_robot_time_format(given, seconds):
    assert Time.convert(given) == seconds


@pytest.mark.parametrize(
    ("given", "message"),
    [("-1", "a time cannot be negative."), ("-1 s", "a time cannot be negative."),
     ("soon", "expected a number of seconds or a time like '90 s' or '1 minute 30 seconds'.")],
)  # fmt: skip
def test_time_refuses_negative_and_garbage(given, message):
    with pytest.raises(ValueError) as error:
        Time.convert(given)
    assert str(error.value) == message


def test_time_argument_names_the_argument():
    with pytest.raises(InvalidArgument) as error:
        time_argument("request_timeout", "later")
    assert str(error.value) == (
        "Argument 'request_timeout' got value 'later': expected a number of seconds "
        "or a time like '90 s' or '1 minute 30 seconds'."
    )


def test_states_and_their_end():
    assert [s.value for s in ProcessRunState if s.has_ended] == ["completed", "unresolved"]


@pytest.mark.parametrize(
    ("given", "expected"),
    [({"a": 1}, {"a": 1}), ([1, 2], [1, 2]), ('{"a": [1]}', {"a": [1]}), ("3", 3)],
)
def test_json_payload_accepts_dicts_lists_and_json_strings(given, expected):
    assert json_payload("payload", given) == expected


def test_json_payload_refuses_strings_that_are_not_json():
    with pytest.raises(InvalidArgument) as error:
        json_payload("payload", "{'a': 1}")
    assert str(error.value).startswith(
        "Argument 'payload' must be a dictionary, a list or a string holding JSON, "
        "got a string that is not JSON (Expecting property name enclosed in double quotes"
    )


def test_json_payload_refuses_values_json_cannot_hold():
    with pytest.raises(
        InvalidArgument, match=r"^Argument 'payloads' must be .* cannot be sent as JSON"
    ):
        json_payload("payloads", [object()])


def test_json_payload_refuses_deep_nesting():
    deep: object = 1
    for _ in range(40):
        deep = [deep]
    with pytest.raises(InvalidArgument) as error:
        json_payload("payload", deep)
    assert str(error.value) == "Argument 'payload' is nested deeper than 32 levels."


@pytest.mark.parametrize("bad", [0, -1, True, 1.5])
def test_positive_int(bad):
    with pytest.raises(InvalidArgument) as error:
        positive_int("limit", bad)
    assert str(error.value) == f"Argument 'limit' must be a positive integer, got {bad!r}."


def test_non_negative_int():
    assert non_negative_int("max_retries", "3") == 3
    with pytest.raises(
        InvalidArgument,
        match=r"^Argument 'max_retries' must be a whole number of 0 or more, got -1\.$",
    ):
        non_negative_int("max_retries", -1)


@pytest.mark.parametrize(
    "good", ["http://127.0.0.1:8/api/v1/", "https://cloud.robocorp.com/api/v1"]
)
def test_api_url_accepts_http_and_https(good):
    assert api_url_argument(good) == good.rstrip("/")


@pytest.mark.parametrize(
    "bad", ["ftp://x/api", "cloud.robocorp.com/api/v1", "http://", "https://x/api?token=1"]
)
def test_api_url_refuses_the_rest(bad):
    with pytest.raises(InvalidArgument, match=r"^Argument 'api_url' must"):
        api_url_argument(bad)


def test_verify(tmp_path):
    bundle = tmp_path / "ca.pem"
    bundle.write_text("x")
    assert verify_argument(True) is True
    assert verify_argument("False") is False
    assert verify_argument(str(bundle)) == str(bundle)
    with pytest.raises(InvalidArgument) as error:
        verify_argument("/no/such/ca.pem")
    assert str(error.value) == (
        "Argument 'verify' must be True, False or the path to a CA bundle, "
        "got '/no/such/ca.pem' (no such file)."
    )


def test_boolean_refuses_what_robot_could_not_read():
    from ProcessRunLibrary.types import boolean

    assert boolean("use_input_queue", True) is True
    with pytest.raises(InvalidArgument) as error:
        boolean("use_input_queue", "maybe")
    assert str(error.value) == "Argument 'use_input_queue' must be True or False, got 'maybe'."


def test_reveal_unwraps_robot_secrets_only():
    from ProcessRunLibrary.types import Secret, reveal

    if Secret is not None:  # Robot Framework 7.4+
        assert reveal(Secret("inner-secret")) == "inner-secret"
    assert reveal("plain") == "plain"
    assert reveal(None) is None
