from __future__ import annotations

import pytest

from ProcessRunLibrary.errors import InvalidArgument
from ProcessRunLibrary.keywords.processruns import start_request_body


def test_no_mode_means_no_body():
    assert start_request_body() is None


@pytest.mark.parametrize(
    ("kwargs", "body"),
    [
        ({"payload": '{"a": 1}'}, {"type": "with_payloads", "payloads": [{"a": 1}]}),
        ({"payloads": [{"a": 1}, [2]]}, {"type": "with_payloads", "payloads": [{"a": 1}, [2]]}),
        ({"payloads": "[1, 2]"}, {"type": "with_payloads", "payloads": [1, 2]}),
        (
            {"work_item_ids": ["w1", "w2"]},
            {"type": "with_work_item_ids", "work_item_ids": ["w1", "w2"]},
        ),
        ({"use_input_queue": True}, {"type": "with_inputs"}),
    ],
)
def test_each_start_mode(kwargs, body):
    assert start_request_body(**kwargs) == body


def test_callback_defaults_to_every_event_and_works_without_a_mode():
    assert start_request_body(callback_url="https://h/x", callback_secret="s3cr3t") == {
        "callback": {
            "url": "https://h/x",
            "secret": "s3cr3t",
            "callback_events": ["started", "completed", "unresolved"],
        }
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"payload": {}, "payloads": [1]},
            "Arguments 'payload' and 'payloads' cannot be used together: give at most one of 'payload', 'payloads', 'work_item_ids' and 'use_input_queue'.",
        ),
        (
            {"work_item_ids": ["a"], "use_input_queue": True},
            "Arguments 'work_item_ids' and 'use_input_queue' cannot be used together: give at most one of 'payload', 'payloads', 'work_item_ids' and 'use_input_queue'.",
        ),
        ({"payloads": []}, "Argument 'payloads' must be a non-empty list of payloads, got []."),
        (
            {"payloads": '{"a": 1}'},
            "Argument 'payloads' must be a non-empty list of payloads, got '{\"a\": 1}'.",
        ),
        (
            {"work_item_ids": "w1"},
            "Argument 'work_item_ids' must be a non-empty list of ids, got 'w1'.",
        ),
        (
            {"callback_url": "https://h/x"},
            "Argument 'callback_url' needs 'callback_secret': Control Room signs callbacks with it.",
        ),
        ({"callback_secret": "s"}, "Argument 'callback_secret' needs 'callback_url'."),
        (
            {"callback_url": "ftp://h", "callback_secret": "s"},
            "Argument 'callback_url' must be an http:// or https:// URL, got 'ftp://h'.",
        ),
        (
            {"callback_url": "https://h", "callback_secret": "s", "callback_events": []},
            "Argument 'callback_events' must not be empty.",
        ),
    ],
)
def test_bad_combinations_name_the_arguments(kwargs, message):
    with pytest.raises(InvalidArgument) as error:
        start_request_body(**kwargs)
    assert str(error.value) == message
