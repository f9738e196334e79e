"""Forged signatures of the emulator's signed URLs: whatever the query holds, a refusal
(403) in words, never an internal error (500) with a traceback."""

from __future__ import annotations

import requests
from test_stepruns_server import artifact_url, error, failed_step_run, with_query

from conftest import Emulator
from ProcessRunLibrary.emulator import signing


def test_a_signature_that_is_not_ascii_does_not_match():
    path = "/_emulator/files/x"
    query = dict(p.split("=") for p in signing.sign(path).split("&"))
    assert signing.check(path, {**query, "signature": "é" * 64}) == (
        "The URL's signature does not match."
    )


def test_a_download_url_with_a_signature_that_is_not_ascii_is_refused(emu: Emulator) -> None:
    step_run = failed_step_run(emu, artifacts=[{"name": "a.txt", "content": "A"}])
    _, url = artifact_url(emu, step_run["id"], 0)
    forged = with_query(url, signature="é")
    assert error(requests.get(forged, timeout=10)) == (
        403,
        "forbidden",
        "The URL's signature does not match.",
    )
