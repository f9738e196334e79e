"""Step runs over HTTP: the routes, paging, and the signed download URLs of artifacts and
output files."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
import requests

from conftest import KEY, WS, Emulator, launch, stop


def wait_for_state(emu: Emulator, run_id: str, expected: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while emu.api("GET", f"/process-runs/{run_id}").json()["state"] != expected:
        assert time.monotonic() < deadline, f"run {run_id} did not become {expected}"
        time.sleep(0.02)


def error(response: requests.Response) -> tuple[int, str, str]:
    body = response.json()
    return response.status_code, body["error"]["code"], body["error"]["message"]


def failed_step_run(emu: Emulator, **definition: Any) -> dict[str, Any]:
    emu.define("child", new_seconds=0, run_seconds=1, outcome="unresolved", **definition)
    run_id = emu.start("child")
    wait_for_state(emu, run_id, "unresolved")
    answer = emu.api("GET", "/step-runs", params={"process_run_id": run_id}).json()
    assert answer["has_more"] is False and answer["next"] is None
    (step_run,) = answer["data"]
    return step_run


def with_query(url: str, **changes: str | None) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_a_failed_step_run_over_http(emu: Emulator) -> None:
    step_run = failed_step_run(emu)
    assert (step_run["state"], step_run["error"]) == ("failed", {"code": "ROBOT_FAILED"})
    assert emu.api("GET", f"/step-runs/{step_run['id']}").json() == step_run
    messages = emu.api("GET", f"/step-runs/{step_run['id']}/console-messages").json()
    assert messages["data"][-1]["message"] == (
        "Step 'child' of process 'child' failed (ROBOT_FAILED): 1 of 1 work item(s) failed."
    )
    listed = emu.api("GET", f"/step-runs/{step_run['id']}/artifacts").json()
    assert [a["name"] for a in listed["data"]] == ["output.xml", "log.html"]
    for artifact in listed["data"]:
        answer = emu.api("GET", f"/step-runs/{step_run['id']}/artifacts/{artifact['id']}").json()
        assert {k: answer[k] for k in ("id", "name", "size")} == artifact
        download = requests.get(answer["url"], timeout=10)  # no Authorization header
        assert download.status_code == 200
        assert len(download.content) == artifact["size"]
        assert download.headers["Content-Disposition"] == (
            f"attachment; filename*=UTF-8''{artifact['name']}"
        )


def test_step_runs_page_with_next_urls(emu: Emulator) -> None:
    steps = [{"name": f"S{i}"} for i in range(3)]
    emu.define("steps", new_seconds=0, run_seconds=0.3, steps=steps, console=["a", "b", "c"])
    run_id = emu.start("steps")
    wait_for_state(emu, run_id, "completed")
    first = emu.api("GET", "/step-runs", params={"process_run_id": run_id, "limit": 2}).json()
    assert first["has_more"] is True
    second = emu.http.get(first["next"], timeout=10).json()
    assert [s["step"]["name"] for s in first["data"] + second["data"]] == ["S0", "S1", "S2"]
    assert second["has_more"] is False
    step_run_id = first["data"][0]["id"]
    page = emu.api("GET", f"/step-runs/{step_run_id}/console-messages", params={"limit": 2})
    rest = emu.http.get(page.json()["next"], timeout=10).json()
    assert [m["message"] for m in page.json()["data"] + rest["data"]] == ["a", "b", "c"]


def events(emu: Emulator, step_run_id: str) -> list[tuple[str, str]]:
    answer = emu.api("GET", f"/step-runs/{step_run_id}/events").json()
    assert (answer["next"], answer["has_more"]) == (None, False)
    return [(e["event_type"], e["timestamp"]) for e in answer["data"]]


def test_step_run_events_are_the_states_entered_with_their_times(emu: Emulator) -> None:
    steps = [{"name": "First"}, {"name": "Second", "fails": True}]
    emu.define("evented", new_seconds=2, run_seconds=2, outcome="unresolved", steps=steps)
    run_id = emu.start("evented")
    first = emu.api("GET", "/step-runs", params={"process_run_id": run_id}).json()["data"][0]
    created = events(emu, first["id"])[0]
    assert created[0] == "new"
    wait_for_state(emu, run_id, "unresolved")
    run = emu.api("GET", f"/process-runs/{run_id}").json()
    one, two = emu.api("GET", "/step-runs", params={"process_run_id": run_id}).json()["data"]
    # The first step run waited for a worker for the second half of the run's new time.
    waited = events(emu, one["id"])
    assert [kind for kind, _ in waited] == ["new", "awaiting_worker", "in_progress", "completed"]
    assert waited[0] == created and waited[0][1] == run["created_at"]
    assert created[1] < waited[1][1] < waited[2][1] == one["started_at"] == run["started_at"]
    assert waited[3][1] == one["ended_at"] == one["state_updated_at"]
    # A later step run is created as the one before it ends, and a worker is at hand.
    assert events(emu, two["id"]) == [
        ("new", one["ended_at"]),
        ("in_progress", two["started_at"]),
        ("failed", two["ended_at"]),
    ]
    assert two["started_at"] == one["ended_at"] and two["ended_at"] == run["ended_at"]
    page = emu.api("GET", f"/step-runs/{one['id']}/events", params={"limit": 3}).json()
    rest = emu.http.get(page["next"], timeout=10).json()
    assert [(e["event_type"], e["timestamp"]) for e in page["data"] + rest["data"]] == waited
    assert (page["has_more"], rest["has_more"], rest["next"]) == (True, False, None)


def test_a_step_run_stopped_before_it_waited_for_a_worker(emu: Emulator) -> None:
    emu.define("queued", new_seconds=10_000)  # it would wait for a worker from 5,000 s on
    run_id = emu.start("queued")
    (step_run,) = emu.api("GET", "/step-runs", params={"process_run_id": run_id}).json()["data"]
    body = {"set_remaining_work_items_as_done": False, "terminate_ongoing_activity_runs": True}
    assert emu.api("POST", f"/process-runs/{run_id}/stop", json=body).json() == {"accepted": True}
    wait_for_state(emu, run_id, "unresolved")
    step_run = emu.api("GET", f"/step-runs/{step_run['id']}").json()
    assert (step_run["state"], step_run["started_at"]) == ("failed", None)
    assert [kind for kind, _ in events(emu, step_run["id"])] == ["new", "failed"]
    assert events(emu, step_run["id"])[-1][1] == step_run["ended_at"]


def test_missing_run_id_and_unknown_step_runs(emu: Emulator) -> None:
    assert error(emu.api("GET", "/step-runs")) == (
        400,
        "bad_request",
        "'process_run_id' is required.",
    )
    assert emu.api("GET", "/step-runs", params={"process_run_id": "nope"}).json() == {
        "next": None,
        "has_more": False,
        "data": [],
    }
    for path in ("", "/console-messages", "/events", "/artifacts", "/artifacts/x"):
        response = emu.api("GET", f"/step-runs/nope{path}")
        assert error(response) == (404, "not_found", "Step run 'nope' not found.")
    assert requests.get(f"{emu.ws_url}/step-runs/nope", timeout=10).status_code == 403


def artifact_url(emu: Emulator, step_run_id: str, index: int) -> tuple[dict[str, Any], str]:
    listed = emu.api("GET", f"/step-runs/{step_run_id}/artifacts").json()["data"][index]
    answer = emu.api("GET", f"/step-runs/{step_run_id}/artifacts/{listed['id']}").json()
    return listed, answer["url"]


def test_a_download_url_with_a_wrong_or_no_signature_is_refused(emu: Emulator) -> None:
    step_run = failed_step_run(emu, artifacts=[{"name": "a.txt", "content": "A"}])
    _, url = artifact_url(emu, step_run["id"], 0)
    assert requests.get(url, timeout=10).content == b"A"
    signature = dict(parse_qsl(urlsplit(url).query))["signature"]
    wrong = with_query(url, signature=signature[::-1])
    assert error(requests.get(wrong, timeout=10)) == (
        403,
        "forbidden",
        "The URL's signature does not match.",
    )
    later = with_query(url, expires=str(int(time.time()) + 10**6))  # a longer life, unsigned
    assert error(requests.get(later, timeout=10))[2] == "The URL's signature does not match."
    unsigned = with_query(url, signature=None, expires=None)
    assert error(requests.get(unsigned, timeout=10)) == (403, "forbidden", "The URL is not signed.")


def test_downloads_are_in_the_request_log_with_the_signature_masked(emu: Emulator) -> None:
    step_run = failed_step_run(emu, artifacts=[{"name": "a.txt", "content": "A"}])
    listed, url = artifact_url(emu, step_run["id"], 0)
    emu.admin("DELETE", "/requests")
    requests.get(url, timeout=10)
    requests.get(with_query(url, signature="0"), timeout=10)
    path = f"/_emulator/workspaces/{WS}/step-runs/{step_run['id']}/artifacts/{listed['id']}"
    entries = emu.admin("GET", "/requests", params={"path": "^/_emulator/"})["data"]
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("GET", path, 200),
        ("GET", path, 403),
    ]
    assert entries[0]["query"] == {
        "expires": dict(parse_qsl(urlsplit(url).query))["expires"],
        "signature": "***",
    }
    assert "Authorization" not in entries[0]["headers"]


def test_output_file_urls_are_signed_too(emu: Emulator) -> None:
    run_id = emu.start("demo-files")
    wait_for_state(emu, run_id, "completed")
    file = emu.api("GET", "/outputs", params={"process_run_id": run_id}).json()["data"][0]
    url = file["files"][0]["download"]["url"]
    assert requests.get(url, timeout=10).content == b"All good.\n"
    unsigned = with_query(url, signature=None, expires=None)
    assert error(requests.get(unsigned, timeout=10)) == (403, "forbidden", "The URL is not signed.")


def test_hostile_artifact_names_are_served_as_given(emu: Emulator) -> None:
    names = ["../evil.txt", "/etc/x", "nul\x00name", 'quote"\r\nX-Injected: 1', "a", "a"]
    artifacts = [{"name": n, "content": str(i)} for i, n in enumerate(names)]
    step_run = failed_step_run(emu, artifacts=artifacts)
    listed = emu.api("GET", f"/step-runs/{step_run['id']}/artifacts").json()["data"]
    assert [a["name"] for a in listed] == names
    for index in range(len(names)):
        _, url = artifact_url(emu, step_run["id"], index)
        download = requests.get(url, timeout=10)
        assert download.content == str(index).encode()
        assert "X-Injected" not in download.headers
    assert download.headers["Content-Disposition"] == "attachment; filename*=UTF-8''a"


def test_a_large_artifact_is_streamed(emu: Emulator) -> None:
    size = 20 * 1024 * 1024 + 3
    step_run = failed_step_run(emu, artifacts=[{"name": "big.bin", "size": size}])
    listed, url = artifact_url(emu, step_run["id"], 0)
    assert listed["size"] == size
    received = 0
    with requests.get(url, timeout=30, stream=True) as download:
        assert download.headers["Content-Length"] == str(size)
        for chunk in download.iter_content(1024 * 1024):
            if received == 0:
                assert chunk.startswith(b"0000000 generated artifact content\n")
            received += len(chunk)
    assert received == size


@pytest.fixture(scope="module")
def expiring_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    config: Path = tmp_path_factory.mktemp("expiring") / "config.json"
    processes = [{"id": "child", "new_seconds": 0, "run_seconds": 0.1, "outcome": "unresolved"}]
    config.write_text(json.dumps({"url_expiry_seconds": 0, "processes": processes}), "utf-8")
    process, line = launch(
        "--workspace-id", WS, "--api-key", KEY, "--clock-factor", "20", "--config", str(config)
    )
    try:
        assert line.startswith("Control Room emulator listening on "), line
        yield Emulator(line.split(" on ", 1)[1].strip())
    finally:
        stop(process)


def test_an_expired_download_url_is_refused(expiring_emulator: Emulator) -> None:
    emu = expiring_emulator
    run_id = emu.start("child")
    wait_for_state(emu, run_id, "unresolved")
    step_run = emu.api("GET", "/step-runs", params={"process_run_id": run_id}).json()["data"][0]
    _, url = artifact_url(emu, step_run["id"], 0)
    assert error(requests.get(url, timeout=10)) == (403, "forbidden", "The URL has expired.")
