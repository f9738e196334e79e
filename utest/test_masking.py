from __future__ import annotations

import logging

import pytest

from ProcessRunLibrary import masking


def test_known_values_are_masked_everywhere():
    masking.register("s3cr3t-value")
    assert masking.mask("a s3cr3t-value b s3cr3t-value") == "a *** b ***"


def test_short_values_are_not_registered():
    masking.register("ab")
    assert masking.mask("abc ab") == "abc ab"


def test_secret_shapes_are_masked_without_knowing_the_value():
    assert masking.mask("/p?token=abc123&x=1") == "/p?token=***&x=1"
    assert (
        masking.mask("{'Authorization': 'RC-WSKEY abc123'}") == "{'Authorization': 'RC-WSKEY ***'}"
    )
    assert masking.mask("Authorization: Bearer abc.def") == "Authorization: Bearer ***"
    assert masking.mask("Arguments: [ 'a' | api_key='k1' | token=k2 ]") == (
        "Arguments: [ 'a' | api_key=*** | token=*** ]"
    )


def test_only_strings_are_registered():
    masking.register(None, 12345678, ["list-secret"])
    assert masking.mask("12345678 list-secret") == "12345678 list-secret"


def test_urllib3_log_records_are_masked(caplog):
    masking.mask_third_party_loggers()
    logger = logging.getLogger("urllib3.connectionpool")
    with caplog.at_level(logging.DEBUG, logger="urllib3.connectionpool"):
        logger.debug('%s "%s %s" %s', "http://h", "POST", "/x?token=tok-9999", 200)
    assert caplog.records[-1].getMessage() == 'http://h "POST /x?token=***" 200'


def test_the_listener_masks_known_values_only():
    masking.register("known-secret-42")
    text = "token=abc123 != token=abc124 and known-secret-42 and ?X-Amz-Signature=s1"
    assert masking.mask_known(text) == (
        "token=abc123 != token=abc124 and *** and ?X-Amz-Signature=s1"
    )


@pytest.mark.parametrize(
    "name",
    ["token", "access_token", "sig", "signature", "X-Amz-Signature", "X-Amz-Credential",
     "X-Amz-Security-Token", "X-Goog-Signature", "X-Goog-Credential", "key", "client_secret"],
)  # fmt: skip
def test_signed_url_credentials_are_masked_in_the_librarys_lines(name):
    url = f"GET https://bucket.example/f.txt?a=1&{name}=c-r-e-d%2F1&b=2 -> 200"
    assert masking.mask(url) == f"GET https://bucket.example/f.txt?a=1&{name}=***&b=2 -> 200"


def test_a_longer_secret_is_masked_before_a_shorter_one_inside_it():
    masking.register("abcd-short", "abcd-short-and-longer")
    assert masking.mask_known("x abcd-short-and-longer y abcd-short") == "x *** y ***"


def test_secret_named_user_keyword_arguments_are_learnt_from_robots_trace_line():
    line = (
        "Arguments: [ ${api_key}='uk-secret-1' | ${other}='plain-value' | "
        "&{kw}={'token': 'uk-secret-2', 'x': 'y'} ]"
    )
    masking.learn_from_argument_line(line)
    assert masking.mask_known(line) == (
        "Arguments: [ ${api_key}='***' | ${other}='plain-value' | &{kw}={'token': '***', 'x': 'y'} ]"
    )
    assert masking.mask_known("later: uk-secret-1, uk-secret-2") == "later: ***, ***"


def test_masked_urllib3_records_keep_their_arguments(caplog):
    """The filter that turns urllib3's retry warnings into DEBUG reads the arguments."""
    masking.mask_third_party_loggers()
    logger = logging.getLogger("urllib3.connectionpool")
    marker = object()
    with caplog.at_level(logging.DEBUG, logger="urllib3.connectionpool"):
        logger.warning("Retrying (%r) after %s: %s", marker, "refused", "/x?token=tok-1234")
    record = caplog.records[-1]
    assert record.args[0] is marker
    assert record.getMessage() == f"Retrying ({marker!r}) after refused: /x?token=***"
