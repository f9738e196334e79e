"""The library's listener, called as Robot Framework calls it (outside a running Robot
it cannot resolve variables, so it learns nothing from keyword arguments there)."""

from __future__ import annotations

from types import SimpleNamespace

from ProcessRunLibrary import masking
from ProcessRunLibrary.listener import KeywordWatcherV2, SecretsListener, listeners


def message(text: str, level: str = "INFO") -> SimpleNamespace:
    return SimpleNamespace(message=text, level=level)


def test_messages_are_masked_by_known_value_not_by_pattern():
    masking.register("listener-known-1")
    listener = SecretsListener({})
    msg = message("token=abc123 != token=abc124; listener-known-1")
    listener.log_message(msg)
    assert msg.message == "token=abc123 != token=abc124; ***"


def test_keys_set_in_the_environment_are_learnt(monkeypatch):
    monkeypatch.setenv("RC_API_KEY", "env-key-after-import-1")
    listener = SecretsListener({})
    msg = message("Environment variable 'RC_API_KEY' set to value 'env-key-after-import-1'.")
    listener.log_message(msg)
    assert msg.message == "Environment variable 'RC_API_KEY' set to value '***'."


def test_a_key_changed_in_the_environment_is_learnt_with_the_next_message(monkeypatch):
    listener = SecretsListener({})
    monkeypatch.setenv("RC_API_TOKEN_V1", "env-token-first-1")
    listener.log_message(message("first"))
    listener.log_message(message("second, the environment unchanged"))
    monkeypatch.setenv("RC_API_TOKEN_V1", "env-token-second-2")
    msg = message("tokens env-token-second-2 and env-token-first-1")
    listener.log_message(msg)
    assert msg.message == "tokens *** and ***"


def test_arguments_without_a_secret_are_left_as_given():
    masking.register("end-secret-2")
    listener = SecretsListener({})
    given = ("end-secret", "-2", 3)  # a secret only when joined: never masked
    result = SimpleNamespace(message="", args=given)
    listener.end_keyword(None, result)
    assert result.args is given
    result.args = ("x", "y end-secret-2 z", None)
    listener.end_keyword(None, result)
    assert result.args == ("x", "y *** z", "None")


def test_arguments_of_user_keywords_named_like_secrets_are_learnt_at_trace():
    listener = SecretsListener({})
    msg = message("Arguments: [ ${api_key}='wrapper-key-1' ]", level="TRACE")
    listener.log_message(msg)
    assert msg.message == "Arguments: [ ${api_key}='***' ]"
    info = message("Arguments: [ ${api_key}='not-learnt-at-info' ]")
    listener.log_message(info)
    assert info.message == "Arguments: [ ${api_key}='not-learnt-at-info' ]"


def test_keyword_arguments_and_failures_are_masked_at_the_end():
    masking.register("end-secret-1")
    listener = SecretsListener({})
    result = SimpleNamespace(message="failed with end-secret-1", args=("a", "end-secret-1"))
    listener.end_keyword(None, result)
    assert (result.message, result.args) == ("failed with ***", ("a", "***"))


def test_learning_outside_robot_neither_fails_nor_learns():
    listener = SecretsListener({"createcontrolroomsession": ["alias", "api_url", "ws", "api_key"]})
    listener.learn("Create Control Room Session", "ProcessRunLibrary", ["a", "u", "w", "${X}"])
    listener.learn("Set Environment Variable", "OperatingSystem", ["RC_API_KEY", "${UNDEFINED}"])
    KeywordWatcherV2(listener).start_keyword("x", {"kwname": "x", "libname": "L", "args": []})


def test_one_listener_on_robot_7_and_a_keyword_watcher_before():
    from robot.version import VERSION

    kinds = [type(li) for li in listeners({})]
    expected = [SecretsListener] if int(VERSION.split(".")[0]) >= 7 else [
        SecretsListener, KeywordWatcherV2]  # fmt: skip
    assert kinds == expected


class Resolving:
    """BuiltIn as the listener uses it in a run: variables resolved, no dry run."""

    dry_run_active = False

    @staticmethod
    def replace_variables(value):
        return {"${KEY}": "resolved-key-42"}.get(value, value)


def learning(monkeypatch) -> SecretsListener:
    monkeypatch.setattr("ProcessRunLibrary.listener._builtin", lambda: Resolving())
    return SecretsListener(
        {
            "switchemulatorworkspace": ["workspace_id", "api_key"],
            "startemulator": ["workspace_id", "api_key", "config", "tokens"],
        }
    )


def test_a_keyword_run_by_a_builtin_wrapper_is_learnt_at_the_wrapper(monkeypatch):
    listener = learning(monkeypatch)
    listener.learn(
        "Run Keyword And Expect Error",
        "BuiltIn",
        ["*", "Emulator.Switch Emulator Workspace", "ws", "wrapped-literal-key-1"],
    )
    assert masking.is_known("wrapped-literal-key-1")
    listener.learn("Some Keyword", "OtherLibrary", ["Switch Emulator Workspace", "w", "other-1"])
    assert not masking.is_known("other-1")


def test_a_list_literal_a_number_and_a_spaced_key_are_learnt_as_robot_logs_them(monkeypatch):
    listener = learning(monkeypatch)
    listener.learn("Start Emulator", "Emulator", ["ws", "${KEY}", "tokens=['list-token-1']"])
    listener.learn("Switch Emulator Workspace", "Emulator", ["ws", 123456789])
    listener.learn("Switch Emulator Workspace", "Emulator", ["ws", "spaced-key-1 "])
    for value in ("resolved-key-42", "list-token-1", "123456789", "spaced-key-1"):
        assert masking.is_known(value), value
