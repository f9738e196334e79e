"""The proxy and CA bundle variables are read once per change of the environment, and a
change takes effect with the next request, as with requests' own reading."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from ProcessRunLibrary.client import ControlRoomClient, Credentials
from ProcessRunLibrary.client.environment import EnvironmentSession

from .conftest import API, FakeAdapter

VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "REQUESTS_CA_BUNDLE",
             "CURL_CA_BUNDLE")  # fmt: skip


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


class RecordingAdapter(FakeAdapter):
    """Records the settings requests hands the adapter with each request."""

    def __init__(self) -> None:
        super().__init__()
        self.settings: list[dict[str, Any]] = []

    def send(self, request, **kwargs):  # type: ignore[no-untyped-def]
        self.settings.append(kwargs)
        return super().send(request, **kwargs)


def requests_own(url: str, verify: Any = True) -> dict[str, Any]:
    return requests.Session().merge_environment_settings(url, {}, True, verify, None)


def test_proxy_variables_set_during_the_run_take_effect_with_the_next_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    http = RecordingAdapter()
    client = ControlRoomClient(API, "ws1", Credentials("key-1234"), max_retries=0)
    client.http.mount("https://", http)
    steps = [
        lambda: None,
        lambda: monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128"),
        lambda: monkeypatch.setenv("NO_PROXY", "cr.example"),
        lambda: monkeypatch.setenv("NO_PROXY", "other.example"),
        lambda: monkeypatch.delenv("HTTPS_PROXY"),
    ]
    expected = []
    for step in steps:
        step()
        expected.append(requests_own(API + "/workspaces/ws1/process-runs/r1")["proxies"])
        http.answer(200, {"id": "r1", "state": "new"})
        client.get_process_run("r1")
    seen = [s["proxies"] for s in http.settings]
    assert seen == expected
    assert [p.get("https") for p in seen] == [None, "http://proxy.example:3128", None,
                                              "http://proxy.example:3128", None]  # fmt: skip


@pytest.mark.parametrize(
    "environment",
    [
        {},
        {"HTTP_PROXY": "http://p:1", "HTTPS_PROXY": "http://p:2"},
        {"https_proxy": "http://lower:2", "HTTPS_PROXY": "http://upper:2"},
        {"ALL_PROXY": "socks5://p:3", "NO_PROXY": ".example"},
        {"HTTPS_PROXY": "http://p:2", "no_proxy": "cr.example:8443"},
        {"REQUESTS_CA_BUNDLE": "/etc/bundle.pem"},
        {"CURL_CA_BUNDLE": "/etc/curl.pem"},
    ],
)
@pytest.mark.parametrize(
    "url", ["https://cr.example/api/v1/x", "https://cr.example:8443/y?z=1", "http://10.0.0.1/"]
)
@pytest.mark.parametrize("verify", [True, False, "/etc/mine.pem"])
def test_the_settings_are_those_requests_reads_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], url: str, verify: Any
) -> None:
    session = EnvironmentSession()
    session.merge_environment_settings(url, {}, True, verify, None)  # read before the change
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    for _ in range(2):  # read, then kept
        assert session.merge_environment_settings(url, {}, True, verify, None) == requests_own(
            url, verify
        )


def test_what_requests_is_handed_may_change_without_changing_what_is_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://p:2")
    session = EnvironmentSession()
    first = session.merge_environment_settings(API, {}, True, True, None)
    first["proxies"]["https"] = "http://changed:1"
    first["verify"] = "changed"
    assert session.merge_environment_settings(API, {}, True, True, None) == requests_own(API)


def test_given_proxies_are_merged_by_requests_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://env:2")
    session = EnvironmentSession()
    given = {"http": "http://given:1"}
    assert session.merge_environment_settings(API, given, True, True, None)["proxies"] == {
        "http": "http://given:1",
        "https": "http://env:2",
    }
