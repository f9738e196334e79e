"""One emulator process serving several workspaces, each opened by its own key: from the
command line (--workspace ID:NAME) and from the admin API (POST /_emulator/workspaces)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
import requests

from conftest import READY, SRC, Emulator, launch, stop

FIRST, FIRST_KEY = "production", "production-key-1"
SECOND, SECOND_KEY = "staging", "staging-key-2"


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, list[str]]]:
    env = {"PYTHONPATH": str(SRC), "FIRST_KEY": FIRST_KEY, "SECOND_KEY": SECOND_KEY}
    process, line = launch(
        "--workspace-id", FIRST, "--api-key-env", "FIRST_KEY", "--clock-factor", "50",
        "--workspace", f"{SECOND}:SECOND_KEY", env=env,
    )  # fmt: skip
    assert line.startswith(READY), line
    assert process.stdout is not None
    banner = [process.stdout.readline(), process.stdout.readline()]
    yield line[len(READY) :].strip(), banner
    assert stop(process) == 0


@pytest.fixture
def clients(served: tuple[str, list[str]]) -> Iterator[tuple[Emulator, Emulator]]:
    first = Emulator(served[0], FIRST, FIRST_KEY)
    second = Emulator(served[0], SECOND, SECOND_KEY)
    first.admin("POST", "/reset", json={"processes": True})
    yield first, second
    first.http.close()
    second.http.close()


def error(response: requests.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["message"]


def test_the_banner_names_every_workspace_and_no_key(served: tuple[str, list[str]]) -> None:
    first, second = served[1]
    assert first.startswith(f"Workspace id: {FIRST}  API key: (given, not shown)  ")
    assert second == f"Workspace id: {SECOND}  API key: (given, not shown)\n"


def test_each_key_opens_its_own_workspace_only(clients: tuple[Emulator, Emulator]) -> None:
    first, second = clients
    assert first.api("GET", "/process-runs").status_code == 200
    assert second.api("GET", "/process-runs").status_code == 200
    assert error(first.api("GET", "/process-runs", workspace=SECOND)) == (
        403,
        f"No access to workspace '{SECOND}' with this API key.",
    )
    assert error(second.api("GET", "/process-runs", workspace=FIRST)) == (
        403,
        f"No access to workspace '{FIRST}' with this API key.",
    )


def test_runs_and_processes_are_per_workspace(clients: tuple[Emulator, Emulator]) -> None:
    first, second = clients
    second.admin("PUT", "/processes/staging-only", json={"run_seconds": 1})
    started = second.api("POST", "/processes/staging-only/process-runs").json()
    assert started["started"] is True
    assert error(first.api("POST", "/processes/staging-only/process-runs")) == (
        404,
        "Process 'staging-only' not found.",
    )
    assert error(first.api("GET", f"/process-runs/{started['id']}")) == (
        404,
        f"Process run '{started['id']}' not found.",
    )
    assert [r["id"] for r in second.admin("GET", "/runs")["data"]] == [started["id"]]
    assert first.admin("GET", "/runs")["data"] == []
    listed = second.admin("GET", "/workspaces")
    assert listed["current"] == SECOND
    assert [w["workspace_id"] for w in listed["data"]] == [FIRST, SECOND]
    assert "staging-only" in listed["data"][1]["processes"]
    assert "staging-only" not in listed["data"][0]["processes"]


def test_reset_resets_every_workspace_and_keeps_them(clients: tuple[Emulator, Emulator]) -> None:
    first, second = clients
    second.admin("PUT", "/processes/extra", json={})
    second.api("POST", "/processes/demo-quick/process-runs")
    first.admin("POST", "/reset", json={"processes": True})
    assert second.admin("GET", "/runs")["data"] == []
    assert "extra" not in second.admin("GET", "/workspaces")["data"][1]["processes"]
    assert second.api("GET", "/process-runs").status_code == 200


def test_a_workspace_added_at_run_time(clients: tuple[Emulator, Emulator]) -> None:
    first, _ = clients
    body = {"workspace_id": "qa-1", "api_key": "qa-key-3"}
    added = first.admin("POST", "/workspaces", json=body)
    assert added["workspace_id"] == "qa-1"
    assert added["processes"][0] == "demo-quick"  # the processes the first started with
    third = Emulator(first.base_url, "qa-1", "qa-key-3")
    assert third.api("GET", "/processes").json()["data"][0]["id"] == "demo-quick"
    assert third.admin("GET", "/workspaces")["current"] == "qa-1"
    again = first.admin("POST", "/workspaces", status=400, json=body)
    assert again["error"]["message"] == "Workspace 'qa-1' is served already."


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"workspace_id": "qa-2", "api_key": SECOND_KEY},
            f"Workspace 'qa-2' needs an API key of its own: workspace '{SECOND}' has this one.",
        ),
        (
            {"workspace_id": "a/b", "api_key": "k"},
            "A workspace id must be 1 to 100 letters, digits, '-', '_' or '.', and not only "
            "dots, got 'a/b'.",
        ),
        (
            {"workspace_id": "..", "api_key": "k"},
            "A workspace id must be 1 to 100 letters, digits, '-', '_' or '.', and not only "
            "dots, got '..'.",
        ),
        (
            {"workspace_id": "qa-3", "api_key": " "},
            "The API key of workspace 'qa-3' must be 1 to 1024 printable ASCII characters, "
            "with no space at either end.",
        ),
        (
            {"workspace_id": "qa-5", "api_key": "trailing-space "},
            "The API key of workspace 'qa-5' must be 1 to 1024 printable ASCII characters, "
            "with no space at either end.",
        ),
        (
            {"workspace_id": "qa-6", "api_key": "k" * 1025},
            "The API key of workspace 'qa-6' must be 1 to 1024 printable ASCII characters, "
            "with no space at either end.",
        ),
        (
            {"workspace_id": "qa-4"},
            'The body must be {"workspace_id": "...", "api_key": "..."}.',
        ),
    ],
)
def test_a_workspace_that_cannot_be_added(
    clients: tuple[Emulator, Emulator], body: dict[str, str], message: str
) -> None:
    answer = clients[0].admin("POST", "/workspaces", status=400, json=body)
    assert answer["error"]["message"] == message


def test_tokens_open_the_workspace_they_were_issued_for(clients: tuple[Emulator, Emulator]) -> None:
    first, second = clients
    second.admin("POST", "/tokens", json={"token": "staging-token-9"})
    bearer = {"Authorization": "Bearer staging-token-9"}
    url = f"{first.base_url}/workspaces/{{}}/process-runs"
    assert requests.get(url.format(SECOND), headers=bearer, timeout=10).status_code == 200
    refused = requests.get(url.format(FIRST), headers=bearer, timeout=10)
    assert error(refused) == (403, f"No access to workspace '{FIRST}' with this API key.")
    integration = (
        f"{first.base_url}/workspaces/{SECOND}/processes/demo-quick/process-runs-integrations"
    )
    assert requests.post(integration, params={"token": SECOND_KEY}, json={}, timeout=10).json()[
        "started"
    ]
    crossed = requests.post(
        integration.replace(SECOND, FIRST), params={"token": SECOND_KEY}, json={}, timeout=10
    )
    assert error(crossed) == (403, f"No access to workspace '{FIRST}' with this API key.")


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (
            FIRST_KEY,
            f"A token must be a credential of its own: workspace '{FIRST}' has it as its API "
            "key or a token.",
        ),
        (
            "first-token-7",
            f"A token must be a credential of its own: workspace '{FIRST}' has it as its API "
            "key or a token.",
        ),
        ("", "A token must be 1 to 1024 printable ASCII characters, with no space at either end."),
    ],
)
def test_a_token_of_another_workspace_is_refused(
    clients: tuple[Emulator, Emulator], token: str, message: str
) -> None:
    first, second = clients
    first.admin("POST", "/tokens", json={"token": "first-token-7"})
    answer = second.admin("POST", "/tokens", status=400, json={"token": token or " "})
    assert answer["error"]["message"] == message
    # The same token again for its own workspace is accepted.
    assert first.admin("POST", "/tokens", json={"token": "first-token-7"}) == {"accepted": True}


def test_a_file_of_the_second_workspace_uploads_and_downloads(
    clients: tuple[Emulator, Emulator],
) -> None:
    _, second = clients
    body = {"process": {"id": "demo-queue"}, "payload": {}}
    item_id = second.api("POST", "/work-items", json=body).json()["id"]
    announced = {"file_name": "a.txt", "file_size": 3}
    upload = second.api("POST", f"/work-items/{item_id}/files", json=announced).json()["upload"]
    sent = requests.post(
        upload["url"], data=upload["form_data"], files={"file": ("a.txt", b"abc")}, timeout=10
    )
    assert sent.status_code == 204
    [file] = second.api("GET", f"/work-items/{item_id}").json()["files"]
    assert requests.get(file["download"]["url"], timeout=10).content == b"abc"


def test_faults_and_the_request_log_are_shared_and_can_name_a_workspace(
    clients: tuple[Emulator, Emulator],
) -> None:
    first, second = clients
    second.admin("POST", "/faults", json={"status": 503, "path": f"^/workspaces/{SECOND}/"})
    assert first.api("GET", "/process-runs").status_code == 200
    assert second.api("GET", "/process-runs").status_code == 503
    log = first.admin("GET", "/requests")["data"]
    assert [(e["path"], e["status"]) for e in log] == [
        (f"/workspaces/{FIRST}/process-runs", 200),
        (f"/workspaces/{SECOND}/process-runs", 503),
    ]


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            "--workspace staging",
            "--workspace staging: give ID:NAME, e.g. staging:STAGING_API_KEY",
        ),
        (
            "--workspace-id bad/id",
            "A workspace id must be 1 to 100 letters, digits, '-', '_' or '.', and not only "
            "dots, got 'bad/id'.",
        ),
        (
            "--workspace staging:NO_SUCH_VARIABLE",
            "--workspace NO_SUCH_VARIABLE: the environment variable NO_SUCH_VARIABLE is not set "
            "or empty",
        ),
    ],
)
def test_a_bad_workspace_option_is_a_usage_error(given: str, message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ProcessRunLibrary.emulator", *given.split()],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(SRC)},
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == f"processrun-emulator: error: {message}"


def test_a_workspace_option_with_the_first_key_is_refused() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ProcessRunLibrary.emulator", "--api-key-env", "K",
         "--workspace", "staging:K"],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(SRC), "K": "same-key"},
        timeout=30,
    )  # fmt: skip
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "processrun-emulator: error: Workspace 'staging' needs an API key of its own: "
        "workspace 'demo-workspace' has this one.\n"
    )
