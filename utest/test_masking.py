from __future__ import annotations

import logging
import re

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


# --- URLs the server gives: their credentials may be in the path, JSON may escape them ------

TOKEN = "pAtH-t0ken-9f8e7d6c5b4a"
PATH_URL = f"https://files.example.com/dl/{TOKEN}/log.html"


def test_a_url_with_its_credential_in_the_path_is_masked_with_its_path():
    masking.register_urls({"files": [{"name": "log.html", "download": {"url": PATH_URL}}]})
    assert masking.mask_known(f"Log: {{'url': '{PATH_URL}'}}") == "Log: {'url': '***'}"
    urllib3_line = f'https://files.example.com:443 "GET /dl/{TOKEN}/log.html HTTP/1.1" 200 3'
    assert (
        masking.mask_known(urllib3_line) == 'https://files.example.com:443 "GET *** HTTP/1.1" 200 3'
    )
    assert masking.mask_known(f"Saved from {PATH_URL}.") == "Saved from ***."


@pytest.mark.parametrize(
    "written",
    [
        lambda url: url.replace("/", "\\/"),  # PHP, Java's org.json, json_encode
        lambda url: url.replace("&", "\\u0026"),  # Go's encoding/json
        lambda url: url.replace("/", "\\/").replace("&", "\\u0026"),
    ],
)
def test_a_url_is_masked_also_as_json_escapes_it(written):
    url = (
        "https://bucket.example/a/b.txt?X-Amz-Credential=AKIA/2026/eu&X-Amz-Signature=5e4d3c2b1a0f"
    )
    masking.register(url)
    body = f'{{"url": "{written(url)}", "name": "b.txt"}}'
    assert masking.mask_known(body) == '{"url": "***", "name": "b.txt"}'
    path_and_query = written(url.split("example", 1)[1])
    assert masking.mask_known(f"GET {path_and_query} -> 200") == "GET *** -> 200"


def test_the_query_of_a_url_is_masked_on_its_own():
    url = "https://bucket.example/b.txt?sig=q-9a8b7c6d5e4f&se=2026"
    masking.register_urls({"url": url})
    assert masking.mask_known("retrying ?sig=q-9a8b7c6d5e4f&se=2026 now") == "retrying ?*** now"


def test_a_url_and_a_key_inside_it_are_both_masked_whole():
    masking.register("k3y-inside-1234")
    url = "https://h.example/p?token=k3y-inside-1234&x=abcdefgh-1"
    masking.register(url)
    assert masking.mask_known(f"{url} and k3y-inside-1234") == "*** and ***"


class _CountingRe:
    """masking's ``re`` module, counting what it compiles."""

    def __init__(self) -> None:
        self.compiled = 0

    def __getattr__(self, name: str) -> object:
        return getattr(re, name)

    def compile(self, pattern: str, flags: int = 0) -> re.Pattern[str]:
        self.compiled += 1
        return re.compile(pattern, flags)


def test_registering_many_urls_compiles_nothing_per_url(monkeypatch):
    """One regex of every URL, compiled again for each new one, made 1,000 artifacts cost
    a minute of CPU: URLs are indexed, and the keys' regex compiles once per change."""
    counting = _CountingRe()
    monkeypatch.setattr(masking, "re", counting)
    for index in range(2_000):
        url = f"https://files.example.com/dl/t-{index:06d}-abcdef/f.txt?sig=s-{index:06d}-xyz"
        masking.register(url)
        assert masking.mask(f"GET {url.split('.com', 1)[1]} -> 200") == "GET *** -> 200"
    assert counting.compiled <= 1
