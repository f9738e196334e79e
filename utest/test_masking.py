from __future__ import annotations

import logging

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
