from __future__ import annotations

import math
from datetime import timedelta

import pytest

from ProcessRunLibrary.errors import InvalidArgument
from ProcessRunLibrary.types import (
    Id,
    ProcessRunState,
    Time,
    api_url_argument,
    json_payload,
    non_negative_int,
    path_segment,
    positive_int,
    shown,
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


FINITE = "a time must be a finite number of seconds, not nan or infinity."


@pytest.mark.parametrize("given", ["nan", "NaN", "inf", "-inf", "infinity", "1e400",
                                   math.nan, -math.inf])  # fmt: skip
def test_time_refuses_nan_and_infinity(given):
    with pytest.raises(ValueError) as error:
        Time.convert(given)
    assert str(error.value) == FINITE


def test_time_argument_refuses_nan_naming_the_argument():
    with pytest.raises(InvalidArgument) as error:
        time_argument("timeout", "nan")
    assert str(error.value) == f"Argument 'timeout' got value 'nan': {FINITE}"


@pytest.mark.parametrize(
    "payload",
    [{"a": math.nan}, [1, math.inf], {"deep": [{"x": -math.inf}]}],
)
def test_json_payload_refuses_non_finite_numbers(payload):
    with pytest.raises(InvalidArgument) as error:
        json_payload("payload", payload)
    assert str(error.value) == (
        "Argument 'payload' holds a number that is not finite (nan or infinity): "
        "JSON cannot carry it."
    )


@pytest.mark.parametrize("text", ['{"a": NaN}', "[Infinity]", "-Infinity"])
def test_json_payload_refuses_non_finite_constants_in_json_strings(text):
    constant = text.strip("{}[]").split(": ")[-1]
    with pytest.raises(InvalidArgument) as error:
        json_payload("payload", text)
    assert str(error.value) == (
        "Argument 'payload' must be a dictionary, a list or a string holding JSON, "
        f"got a string that is not JSON ({constant} is not a JSON value)."
    )


@pytest.mark.parametrize(
    ("value", "code"),
    [("a\x00b", "U+0000"), ("a\x1b[0m", "U+001B"), ("a\x7f", "U+007F"),
     ("txt\u202eexe", "U+202E"), ("\ufeffid", "U+FEFF"), ("a\u200bb", "U+200B")],
)  # fmt: skip
def test_ids_refuse_control_and_invisible_characters(value, code):
    with pytest.raises(InvalidArgument) as error:
        path_segment("process_run_id", value)
    assert str(error.value) == (
        "Argument 'process_run_id' must be an id without control or invisible characters, "
        f"got {value!r} (contains {code})."
    )


def test_ids_keep_printable_unicode():
    assert path_segment("process_id", "prozess-ä") == "prozess-%C3%A4"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://u:pw-secret@h/api/v1", "must not hold a user name or password: Control Room "
         "authenticates with the API key."),
        ("http://u@h/api/v1", "must not hold a user name or password: Control Room "
         "authenticates with the API key."),
        ("http://h/api/v1#x", "must not have a query or a fragment, got 'http://h/api/v1#x'."),
        ("http://h/api/v1?", "must not have a query or a fragment, got 'http://h/api/v1?'."),
        ("http://h:65536/api", "must have a port from 1 to 65535, got 'http://h:65536/api'."),
        ("http://h:x/api", "must have a port from 1 to 65535, got 'http://h:x/api'."),
        ("http://h:0/api", "must have a host and a port from 1 to 65535, got 'http://h:0/api'."),
        ("http://:80/api", "must have a host and a port from 1 to 65535, got 'http://:80/api'."),
    ],
)  # fmt: skip
def test_api_url_refuses_credentials_fragments_and_bad_ports(url, message):
    with pytest.raises(InvalidArgument) as error:
        api_url_argument(url)
    assert str(error.value) == f"Argument 'api_url' {message}"
    assert "pw-secret" not in str(error.value)


def test_long_values_are_cut_in_messages():
    assert shown("x" * 10) == "'xxxxxxxxxx'"
    assert shown("y" * 500) == "'" + "y" * 199 + "... (cut, 500 characters in all)"
    with pytest.raises(InvalidArgument) as error:
        path_segment("process_run_id", "a/" * 5000)
    assert len(str(error.value)) < 400
    assert str(error.value).endswith("... (cut, 10000 characters in all) (contains '/').")


@pytest.mark.parametrize(("given", "number"), [("3", 3), (" 0 ", 0), (5, 5), (2.0, 2)])
def test_non_negative_int_reads_strings_from_import_arguments(given, number):
    assert non_negative_int("max_retries", given) == number


@pytest.mark.parametrize(("given", "shown_as"), [("three", "'three'"), ("-1", "-1"),
                                                  (1.5, "1.5"), (True, "True"), (None, "None")])  # fmt: skip
def test_non_negative_int_refuses_the_rest(given, shown_as):
    with pytest.raises(InvalidArgument) as error:
        non_negative_int("max_retries", given)
    assert str(error.value) == (
        f"Argument 'max_retries' must be a whole number of 0 or more, got {shown_as}."
    )


@pytest.mark.parametrize("key", ["schlüssel-1234", "key-\u00a0-nbsp", "ключ-12345678"])
def test_api_keys_must_be_ascii(key, monkeypatch):
    from ProcessRunLibrary.keywords.context import Settings, build_client

    monkeypatch.delenv("RC_API_KEY", raising=False)
    with pytest.raises(InvalidArgument) as error:
        build_client(Settings("http://h/api/v1", "ws", key, 5, 0, True))
    assert str(error.value) in (
        "Argument 'api_key' must hold only ASCII characters: it is sent in the "
        "Authorization header.",
        "Argument 'api_key' must not contain white space or control characters: it is sent "
        "in the Authorization header.",
    )


ROBOT_7 = int(__import__("robot.version").version.VERSION.split(".")[0]) >= 7


@pytest.mark.skipif(not ROBOT_7, reason="Robot Framework 6.1 builds the converters once")
def test_robot_rebuilds_the_converters_on_each_call_without_reading_type_hints():
    """Robot Framework 7 rebuilds ROBOT_LIBRARY_CONVERTERS on every keyword call; reading
    the converters' type hints each time cost about 80 µs a call on 7.5. The accepted
    types stay the same (libdoc shows them)."""
    from typing import get_type_hints
    from unittest import mock

    from robot.running.arguments import CustomArgumentConverters, argumentparser

    from ProcessRunLibrary import ProcessRunLibrary

    with mock.patch.object(argumentparser, "get_type_hints", wraps=get_type_hints) as hints:
        converters = CustomArgumentConverters.from_dict(ProcessRunLibrary.ROBOT_LIBRARY_CONVERTERS)
    assert hints.call_count == 0
    assert {c.name: c.value_types for c in converters} == {
        "Time": (str, int, float, timedelta),
        "Id": (str,),
    }


@pytest.mark.skipif(not ROBOT_7, reason="TypeInfo is Robot Framework 7's")
@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        (Time, "-5 s", "Argument 'timeout' got value '-5 s' that cannot be converted to Time: a time cannot be negative."),
        (Time, None, "Argument 'timeout' got value 'None' (None) that cannot be converted to Time."),
        (Time, "soon", "Argument 'timeout' got value 'soon' that cannot be converted to Time: expected a number of seconds or a time like '90 s' or '1 minute 30 seconds'."),
        (Id, None, "Argument 'timeout' got value 'None' (None) that cannot be converted to Id."),
        (Id, 42, "Argument 'timeout' got value '42' (integer) that cannot be converted to Id."),
    ],
)  # fmt: skip
def test_robot_converts_with_the_library_converters_as_before(kind, value, message):
    from robot.running.arguments import CustomArgumentConverters, TypeInfo

    from ProcessRunLibrary import ProcessRunLibrary

    converters = CustomArgumentConverters.from_dict(ProcessRunLibrary.ROBOT_LIBRARY_CONVERTERS)
    with pytest.raises(ValueError) as error:
        TypeInfo.from_type(kind).convert(value, "timeout", custom_converters=converters)
    assert str(error.value) == message
    assert TypeInfo.from_type(kind).convert("90 s" if kind is Time else "r1", "x", converters) == (
        90.0 if kind is Time else "r1"
    )
