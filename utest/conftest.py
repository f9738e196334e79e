"""Unit-test helpers. Only the HTTP layer is faked: a requests adapter that records
what the client sends and answers with queued responses."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
import requests
from requests.adapters import BaseAdapter
from urllib3 import HTTPResponse

from ProcessRunLibrary.client import ControlRoomClient, Credentials

API = "https://cr.example/api/v1"


class FakeAdapter(BaseAdapter):
    def __init__(self) -> None:
        super().__init__()
        self.sent: list[requests.PreparedRequest] = []
        self.answers: list[Callable[[requests.PreparedRequest], requests.Response] | Exception] = []

    def answer(
        self,
        status: int = 200,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        def make(request: requests.PreparedRequest) -> requests.Response:
            response = requests.Response()
            response.status_code = status
            response.request = request
            response.url = request.url or ""
            content = (
                b""
                if body is None
                else (body.encode() if isinstance(body, str) else json.dumps(body).encode())
            )
            response.headers.update(headers or {})
            # A real urllib3 response over the bytes: the client reads it as from a socket.
            response.raw = HTTPResponse(
                body=io.BytesIO(content), status=status, preload_content=False
            )
            return response

        self.answers.append(make)

    def fail(self, error: Exception) -> None:
        self.answers.append(error)

    def send(self, request, **kwargs):  # type: ignore[no-untyped-def]
        self.sent.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer(request)

    def close(self) -> None:
        pass


@pytest.fixture
def http() -> FakeAdapter:
    return FakeAdapter()


@pytest.fixture
def client(http: FakeAdapter) -> ControlRoomClient:
    c = ControlRoomClient(API, "ws1", Credentials("key-1234"), request_timeout=5, max_retries=0)
    c.http.adapters.clear()
    c.http.mount("https://", http)
    return c


@pytest.fixture
def frozen_wait_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The wait loop's clock stands still, so that a message reads "after waiting 0
    seconds" even when a garbage collection or a loaded machine pauses the test for over
    0.1 s. Only for waits that end at their first poll (an ended run, or a timeout of 0 s)."""
    import time
    import types

    from ProcessRunLibrary import watching

    frozen = types.SimpleNamespace(monotonic=lambda: 1000.0, sleep=time.sleep)
    monkeypatch.setattr(watching, "time", frozen)
