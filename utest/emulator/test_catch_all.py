"""The catch-all: an unexpected exception answers 500 with an error body, on standard error.

In process (aiohttp's test server), so that a bug can be planted in the workspace.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from conftest import KEY, WS
from ProcessRunLibrary.emulator.processes import DEMO_PROCESSES, parse_process
from ProcessRunLibrary.emulator.server.app import Context, create_app
from ProcessRunLibrary.emulator.state import Workspace

AUTH = {"Authorization": f"RC-WSKEY {KEY}"}


def broken_context() -> Context:
    workspace = Workspace(WS, [parse_process(p) for p in DEMO_PROCESSES])

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("planted bug")

    workspace.list_run_facts = boom  # type: ignore[method-assign]
    workspace.runs_json = boom  # type: ignore[method-assign]
    return Context(workspace=workspace, api_key=KEY)


async def call(ctx: Context, method: str, path: str) -> tuple[int, Any, dict[str, str]]:
    async with TestClient(TestServer(create_app(ctx))) as client:
        response = await client.request(method, path, headers=AUTH)
        return response.status, await response.json(), dict(response.headers)


def test_an_unexpected_exception_in_the_api_is_a_500_with_an_error_body(
    capsys: pytest.CaptureFixture[str],
) -> None:
    ctx = broken_context()
    status, body, headers = asyncio.run(
        call(ctx, "GET", f"/api/v1/workspaces/{WS}/process-runs?token={KEY}")
    )
    assert status == 500
    assert headers["Content-Type"].startswith("application/json")
    assert "X-Emulator-Fault" not in headers  # not an injected fault
    assert body == {
        "error": {
            "code": "internal_server_error",
            "message": "Internal error of the emulator (RuntimeError); its standard error has "
            "the traceback.",
        }
    }
    err = capsys.readouterr().err
    assert err.startswith(
        f"processrun-emulator: internal error answering GET /api/v1/workspaces/{WS}/process-runs:\n"
        "Traceback (most recent call last):\n"
    )
    assert "RuntimeError: planted bug" in err
    assert KEY not in err  # neither the query nor the headers are printed
    [entry] = ctx.log.select()
    assert entry["status"] == 500


def test_an_unexpected_exception_in_the_admin_api_is_a_500_too(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, body, _ = asyncio.run(call(broken_context(), "GET", "/_emulator/runs"))
    assert (status, body["error"]["code"]) == (500, "internal_server_error")
    assert "RuntimeError: planted bug" in capsys.readouterr().err


def test_a_lost_answer_fault_still_answers_its_status_when_the_real_answer_failed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    ctx = broken_context()
    ctx.faults.add({"path": "/process-runs$", "lost_answer": True})
    status, body, headers = asyncio.run(call(ctx, "GET", f"/api/v1/workspaces/{WS}/process-runs"))
    assert (status, body["error"]["code"], headers["X-Emulator-Fault"]) == (
        502,
        "bad_gateway",
        "f1",
    )
    assert "RuntimeError: planted bug" in capsys.readouterr().err
