"""Fixtures: a real emulator process on a free port, reset before every test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

SRC = Path(__file__).resolve().parents[2] / "src"
if str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))

WS = "WS"
KEY = "KEY-secret"
TOKEN = "TOKEN-secret"
CLOCK_FACTOR = 20.0
READY = "Control Room emulator listening on "
T0 = 1_700_000_000.0  # 2023-11-14T22:13:20Z


class FakeTime:
    """The clock of a workspace tested without HTTP: it moves only when the test moves it."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def fake_workspace(**process: Any) -> tuple[Any, FakeTime]:
    """A workspace "WS" with one process (`process`, its id "p" by default) on a FakeTime."""
    from ProcessRunLibrary.emulator.clock import Clock
    from ProcessRunLibrary.emulator.processes import parse_process
    from ProcessRunLibrary.emulator.state import Workspace

    fake = FakeTime()
    definition = parse_process({"id": "p", **process})
    return Workspace(WS, [definition], clock=Clock(1.0, real=fake)), fake


def launch(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str]:
    """Start `python -m ProcessRunLibrary.emulator ARGS`; return it and its first line."""
    environment = dict(os.environ if env is None else env)
    environment["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(SRC), os.environ.get("PYTHONPATH")])
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "ProcessRunLibrary.emulator", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    return process, line


def stop(process: subprocess.Popen[str]) -> int:
    process.terminate()
    try:
        return process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()


class Emulator:
    """A running emulator and helpers to call its API and admin API."""

    def __init__(self, base_url: str, workspace: str = WS, key: str = KEY) -> None:
        self.base_url = base_url
        self.root = base_url[: -len("/api/v1")]
        self.workspace = workspace
        self.ws_url = f"{base_url}/workspaces/{workspace}"
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"RC-WSKEY {key}"

    def api(
        self, method: str, path: str, workspace: str | None = None, **kwargs: Any
    ) -> requests.Response:
        """`path` is relative to /api/v1/workspaces/WS (or to another `workspace`)."""
        kwargs.setdefault("timeout", 10)
        url = self.ws_url if workspace is None else f"{self.base_url}/workspaces/{workspace}"
        return self.http.request(method, url + path, **kwargs)

    def admin(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", 10)
        response = self.http.request(method, f"{self.root}/_emulator{path}", **kwargs)
        assert response.status_code == status, response.text
        return response.json()

    def define(self, process_id: str, **definition: Any) -> dict[str, Any]:
        return self.admin("PUT", f"/processes/{process_id}", json=definition)

    def start(self, process_id: str, body: Any = None) -> str:
        response = self.api("POST", f"/processes/{process_id}/process-runs", json=body)
        assert response.status_code == 200, response.text
        assert response.json()["started"] is True
        return str(response.json()["id"])

    def fault(self, **rule: Any) -> dict[str, Any]:
        return self.admin("POST", "/faults", json=rule)


STOPPING_SECONDS = 20.0  # 1 real second at the clock factor: time to see `stopping`


@pytest.fixture(scope="session")
def emulator_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    config = tmp_path_factory.mktemp("emulator") / "config.json"
    config.write_text(json.dumps({"stopping_seconds": STOPPING_SECONDS}), encoding="utf-8")
    process, line = launch(
        "--port", "0", "--workspace-id", WS, "--api-key", KEY, "--token", TOKEN,
        "--clock-factor", str(CLOCK_FACTOR), "--seed", "7", "--config", str(config),
    )  # fmt: skip
    assert line.startswith(READY), line + (process.stderr.read() if process.stderr else "")
    yield line[len(READY) :].strip()
    stop(process)


@pytest.fixture
def emu(emulator_process: str) -> Iterator[Emulator]:
    emulator = Emulator(emulator_process)
    emulator.admin("POST", "/reset", json={"processes": True})
    yield emulator
    emulator.http.close()


def dumps(data: Any) -> str:
    return json.dumps(data, sort_keys=True)
