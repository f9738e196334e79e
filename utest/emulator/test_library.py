"""ProcessRunLibrary.Emulator used from Python, for the failures a suite cannot easily show."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import KEY, Emulator
from ProcessRunLibrary.Emulator import Emulator as EmulatorLibrary
from ProcessRunLibrary.Emulator import EmulatorError


def test_keywords_need_an_emulator() -> None:
    library = EmulatorLibrary()
    with pytest.raises(EmulatorError) as error:
        library.get_request_count()
    assert str(error.value) == "No emulator: use 'Start Emulator' or 'Connect To Emulator' first."


def test_start_with_a_bad_config_shows_the_error_output(tmp_path: Path) -> None:
    config = tmp_path / "c.json"
    config.write_text('{"processes": [{"id": "a/b"}]}', encoding="utf-8")
    library = EmulatorLibrary()
    with pytest.raises(EmulatorError) as error:
        library.start_emulator(config=str(config))
    assert str(error.value) == (
        f"Starting the emulator failed. Its error output: processrun-emulator: error: "
        f"configuration file '{config}': Process 'id' must be a non-empty string without "
        "'/', '?' or '#'."
    )


def test_start_timeout() -> None:
    library = EmulatorLibrary()
    with pytest.raises(EmulatorError) as error:
        library.start_emulator(timeout="1 ms")
    assert str(error.value) == "The emulator did not report its address within 1 millisecond."


def test_start_define_fault_and_stop() -> None:
    library = EmulatorLibrary()
    url = library.start_emulator(workspace_id="w", api_key="k", clock_factor=10, seed="3")
    try:
        assert url.startswith("http://127.0.0.1:") and url.endswith("/api/v1")
        defined = library.define_process("p", run_seconds="forever", failures="[]")
        assert defined.run_seconds is None  # a DotDict
        assert library.inject_fault(status=503, nth=2, retry_after="1.5 s") == "f1"
        with pytest.raises(EmulatorError) as error:
            library.inject_fault(status=404)
        assert str(error.value) == (
            "Emulator admin request POST /_emulator/faults failed with status 400: "
            "'status' must be one of 429, 500, 502, 503, 504."
        )
        with pytest.raises(EmulatorError) as error:
            library.define_process("q", new_seconds="soon")
        assert str(error.value) == "Argument 'new_seconds' is not a valid time: 'soon'."
        library.reset_emulator()
        assert library.get_emulator_runs() == []
    finally:
        library.stop_emulator()
    with pytest.raises(EmulatorError):
        library.get_emulator_url()


def test_connect_to_a_running_emulator(emu: Emulator) -> None:
    library = EmulatorLibrary()
    with pytest.raises(EmulatorError) as error:
        library.connect_to_emulator(emu.base_url, "wrong")
    assert str(error.value) == (
        "Emulator admin request GET /_emulator/workspaces failed with status 403: "
        "The API key or token in the Authorization header is not valid."
    )
    library.connect_to_emulator(emu.base_url + "/", KEY)
    emu.api("GET", "/process-runs")
    assert library.get_request_count(method="GET", path="/process-runs$") == 1
    requests_seen = library.get_requests()
    assert requests_seen[0].headers.Authorization == "RC-WSKEY ***"
    library.stop_emulator()  # only disconnects
    assert emu.api("GET", "/process-runs").status_code == 200


def test_import_arguments_connect(emu: Emulator) -> None:
    library = EmulatorLibrary(api_url=emu.base_url, api_key=KEY)
    assert library.get_emulator_url() == emu.base_url
    assert library.get_request_count() == 0
    library.add_emulator_workspace("import-ws", "import-key-1")
    assert library.switch_emulator_workspace("import-ws") == "WS"
    assert library.switch_emulator_workspace("WS") == "import-ws"
    with pytest.raises(EmulatorError) as error:
        EmulatorLibrary(api_url="localhost:1/api")
    assert str(error.value) == (
        "Argument 'api_url' must be the emulator's http(s)://HOST:PORT/api/v1, got "
        "'localhost:1/api'."
    )


def test_the_keys_and_tokens_of_its_keywords_are_learned_by_a_secrets_listener() -> None:
    from ProcessRunLibrary.listener import SecretsListener

    library = EmulatorLibrary()
    [listener] = [x for x in library.ROBOT_LIBRARY_LISTENER if isinstance(x, SecretsListener)]
    assert listener.arguments == {
        "addemulatortoken": ["token"],
        "addemulatorworkspace": ["workspace_id", "api_key"],
        "connecttoemulator": ["api_url", "api_key"],
        "startemulator": [
            "workspace_id", "api_key", "config", "clock_factor", "port", "host", "seed",
            "tokens", "certfile", "keyfile", "timeout", "allow_commands",
        ],
        "switchemulatorworkspace": ["workspace_id", "api_key"],
    }  # fmt: skip
    library._stop_quietly()


def test_switching_workspaces_changes_the_key_the_admin_keywords_send(emu: Emulator) -> None:
    library = EmulatorLibrary()
    library.connect_to_emulator(emu.base_url, KEY)
    library.add_emulator_workspace("second-ws", "second-key-1")
    assert library.switch_emulator_workspace("second-ws") == "WS"
    library.define_process("only-in-second")
    assert library.handle.session.headers["Authorization"] == "RC-WSKEY second-key-1"
    assert library.switch_emulator_workspace("WS") == "second-ws"
    assert "only-in-second" not in [p["id"] for p in emu.admin("GET", "/processes")["data"]]
    with pytest.raises(EmulatorError) as error:
        library.switch_emulator_workspace("second-ws", "wrong-key-1")
    assert str(error.value) == (
        "Emulator admin request GET /_emulator/workspaces failed with status 403: "
        "The API key or token in the Authorization header is not valid."
    )
    assert library.handle.session.headers["Authorization"] == f"RC-WSKEY {KEY}"
    library.stop_emulator()
