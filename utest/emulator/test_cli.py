"""The command line: first lines, defaults, config errors, signals, TLS."""

from __future__ import annotations

import json
import os
import re
import signal
import ssl
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from conftest import READY, SRC, launch, stop


def test_bare_start_uses_the_demo_workspace_and_key() -> None:
    process, first = launch()
    try:
        assert re.fullmatch(
            r"Control Room emulator listening on http://127\.0\.0\.1:\d+/api/v1\n", first
        )
        assert process.stdout is not None
        second = process.stdout.readline()
        assert second.startswith(
            "Workspace id: demo-workspace  API key: demo-key  Clock factor: 1  "
        )
        assert "demo-quick, demo-slow, demo-failing, demo-forever, demo-echo" in second
        url = first[len(READY) :].strip()
        response = requests.get(
            f"{url}/workspaces/demo-workspace/process-runs",
            headers={"Authorization": "RC-WSKEY demo-key"},
            timeout=5,
        )
        assert response.json() == {"next": None, "has_more": False, "data": []}
    finally:
        assert stop(process) == 0  # SIGTERM stops it cleanly


def test_sigint_stops_it_cleanly() -> None:
    process, first = launch()
    assert first.startswith(READY)
    process.send_signal(signal.SIGINT)
    assert process.wait(10) == 0
    assert process.stderr is not None
    assert process.stderr.read() == ""


def test_config_file_and_clock_factor_override(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps({"clock_factor": 3, "page_size": 2, "processes": [{"id": "only"}]}),
        encoding="utf-8",
    )
    process, first = launch("--config", str(config), "--clock-factor", "7")
    try:
        root = first[len(READY) :].strip()[: -len("/api/v1")]
        health = requests.get(f"{root}/_emulator/health", timeout=5).json()
        assert health["clock_factor"] == 7.0
        processes = requests.get(
            f"{root}/_emulator/processes",
            headers={"Authorization": "RC-WSKEY demo-key"},
            timeout=5,
        ).json()["data"]
        assert [p["id"] for p in processes] == ["only"]
    finally:
        stop(process)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            '{"processes": [{"id": "a", "outcome": "failed"}]}',
            "configuration file '{path}': Process 'a': 'outcome' must be 'completed' or "
            "'unresolved'.",
        ),
        (
            "{nope",
            "configuration file '{path}': not valid JSON: Expecting property name enclosed in "
            "double quotes: line 1 column 2 (char 1).",
        ),
        (None, "cannot read configuration file '{path}': No such file or directory."),
    ],
)
def test_bad_config_exits_2_with_one_line(
    tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "config.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    process, first = launch("--config", str(path))
    assert first == ""
    assert process.wait(10) == 2
    assert process.stderr is not None
    assert process.stderr.read() == f"processrun-emulator: error: {message.format(path=path)}\n"


def test_certfile_without_keyfile_is_a_usage_error() -> None:
    process, _ = launch("--certfile", "x.pem")
    assert process.wait(10) == 2
    assert process.stderr is not None
    assert "error: --certfile and --keyfile go together" in process.stderr.read()


def test_tls(tmp_path: Path) -> None:
    trustme = pytest.importorskip("trustme")
    authority = trustme.CA()
    certificate = authority.issue_cert("127.0.0.1")
    certfile, keyfile, cafile = (tmp_path / n for n in ("cert.pem", "key.pem", "ca.pem"))
    certificate.private_key_pem.write_to_path(str(keyfile))
    certificate.cert_chain_pems[0].write_to_path(str(certfile))
    authority.cert_pem.write_to_path(str(cafile))
    process, first = launch("--certfile", str(certfile), "--keyfile", str(keyfile))
    try:
        assert first.startswith("Control Room emulator listening on https://127.0.0.1:")
        url = first[len(READY) :].strip()
        response = requests.get(
            f"{url}/workspaces/demo-workspace/process-runs?limit=1",
            headers={"Authorization": "RC-WSKEY demo-key"},
            verify=str(cafile),
            timeout=5,
        )
        assert response.status_code == 200
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(url, verify=True, timeout=5)
        assert ssl  # the stdlib module the server uses
    finally:
        stop(process)


def test_console_script_entry_point_is_the_module_main() -> None:
    # pyproject declares processrun-emulator = ProcessRunLibrary.emulator.__main__:main.
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from ProcessRunLibrary.emulator.__main__ import main; main(['--version'])",
        ],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(SRC)},
        check=False,
    )
    assert result.stdout.strip().startswith("processrun-emulator ")


def test_a_hanging_request_does_not_hold_up_a_stop() -> None:
    import threading
    import time

    process, first = launch()
    url = first[len(READY) :].strip()
    headers = {"Authorization": "RC-WSKEY demo-key"}
    rule = requests.post(
        f"{url[: -len('/api/v1')]}/_emulator/faults",
        json={"hang": True},
        headers=headers,
        timeout=5,
    )
    assert rule.status_code == 200
    outcome: list[str] = []

    def call() -> None:
        try:
            requests.get(
                f"{url}/workspaces/demo-workspace/process-runs", headers=headers, timeout=30
            )
            outcome.append("answered")
        except requests.RequestException as error:
            outcome.append(type(error).__name__)

    client = threading.Thread(target=call)
    client.start()
    time.sleep(0.3)
    started = time.monotonic()
    assert stop(process) == 0
    assert time.monotonic() - started < 5
    client.join(10)
    assert outcome == ["ConnectionError"]


def test_keys_from_the_environment_stay_off_the_command_line_and_stdout(monkeypatch) -> None:
    monkeypatch.setenv("CLI_TEST_KEY", "cli-secret-key-1")
    monkeypatch.setenv("CLI_TEST_TOKEN", "cli-secret-token-1")
    process, first = launch("--api-key-env", "CLI_TEST_KEY", "--token-env", "CLI_TEST_TOKEN")
    try:
        assert process.stdout is not None
        second = process.stdout.readline()
        assert second.startswith("Workspace id: demo-workspace  API key: (given, not shown)  ")
        assert "cli-secret" not in " ".join(process.args) + first + second
        url = first[len(READY) :].strip()
        for header in ("RC-WSKEY cli-secret-key-1", "Bearer cli-secret-token-1"):
            response = requests.get(
                f"{url}/workspaces/demo-workspace/process-runs",
                headers={"Authorization": header},
                timeout=5,
            )
            assert response.status_code == 200
    finally:
        assert stop(process) == 0


def test_the_key_variable_of_start_emulator_is_read_without_an_option(monkeypatch) -> None:
    monkeypatch.setenv("RC_EMULATOR_API_KEY", "cli-secret-key-2")
    process, first = launch()
    try:
        assert process.stdout is not None
        assert "API key: (given, not shown)" in process.stdout.readline()
        response = requests.get(
            f"{first[len(READY) :].strip()}/workspaces/demo-workspace/process-runs",
            headers={"Authorization": "RC-WSKEY cli-secret-key-2"},
            timeout=5,
        )
        assert response.status_code == 200
    finally:
        assert stop(process) == 0


def test_an_unset_key_variable_is_a_usage_error(monkeypatch) -> None:
    monkeypatch.delenv("CLI_NO_SUCH_KEY", raising=False)
    result = subprocess.run(
        [sys.executable, "-m", "ProcessRunLibrary.emulator", "--api-key-env", "CLI_NO_SUCH_KEY"],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(SRC)},
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "processrun-emulator: error: --api-key-env CLI_NO_SUCH_KEY: the environment variable "
        "CLI_NO_SUCH_KEY is not set or empty"
    )


def test_start_emulator_keeps_its_secrets_off_the_command_line() -> None:
    from ProcessRunLibrary.Emulator import Emulator

    library = Emulator()
    library.start_emulator("ws-ps", "ps-secret-key-1", tokens=["ps-secret-token-1"])
    try:
        assert library.handle.process is not None
        command_line = Path(f"/proc/{library.handle.process.pid}/cmdline").read_bytes()
        assert b"ps-secret" not in command_line
        assert b"--api-key-env\0RC_EMULATOR_API_KEY" in command_line
        assert b"--token-env\0RC_EMULATOR_TOKEN_1" in command_line
        assert library.get_request_count() == 0  # the admin API took the key
    finally:
        library.stop_emulator()


MISSING = (
    "processrun-emulator: error: the emulator needs aiohttp, which is not installed: "
    "pip install 'robotframework-processrunlibrary[emulator]'.\n"
)


def without_aiohttp(tmp_path: Path) -> dict[str, str]:
    """An environment where `import aiohttp` fails as it does without the `emulator` extra."""
    shadow = tmp_path / "no-aiohttp"
    (shadow / "aiohttp").mkdir(parents=True)
    (shadow / "aiohttp" / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'aiohttp'\", name='aiohttp')\n"
    )
    return {"PYTHONPATH": os.pathsep.join([str(SRC), str(shadow)])}


def test_without_aiohttp_it_says_what_to_install_in_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ProcessRunLibrary.emulator", "--port", "0"],
        env=dict(os.environ, **without_aiohttp(tmp_path)),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert (result.returncode, result.stdout, result.stderr) == (2, "", MISSING)


def test_without_aiohttp_start_emulator_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ProcessRunLibrary.Emulator import Emulator, EmulatorError

    monkeypatch.setenv("PYTHONPATH", without_aiohttp(tmp_path)["PYTHONPATH"])
    with pytest.raises(EmulatorError) as error:
        Emulator().start_emulator()
    assert str(error.value) == f"Starting the emulator failed. Its error output: {MISSING.strip()}"
