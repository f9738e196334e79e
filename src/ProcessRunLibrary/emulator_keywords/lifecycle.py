"""Keywords that start, connect to, reset and stop an emulator, and give it keys:
its tokens and workspaces."""

from __future__ import annotations

from pathlib import Path

from robot.api import logger
from robot.api.deco import keyword

from ..types import Secret, Time
from .handle import EmulatorError, KeywordGroup, seconds, secret_value


class LifecycleKeywords(KeywordGroup):
    @keyword
    def start_emulator(
        self,
        workspace_id: str = "demo-workspace",
        api_key: str | Secret = "demo-key",
        config: str | None = None,
        clock_factor: float | None = None,
        port: int = 0,
        host: str = "127.0.0.1",
        seed: str | None = None,
        tokens: list[str] | None = None,
        certfile: str | None = None,
        keyfile: str | None = None,
        timeout: Time = "10 s",  # type: ignore[assignment]
        allow_commands: bool = False,
    ) -> str:
        """Starts the emulator and returns its API base URL, ``http://HOST:PORT/api/v1``.

        - ``workspace_id`` and ``api_key``: the workspace the emulator serves (the first,
          when `Add Emulator Workspace` adds more) and the key that opens it, exactly as ``Authorization: RC-WSKEY <api_key>`` (as Control Room
          takes it: ``Bearer <api_key>`` or ``rc-wskey <api_key>`` are refused with 403).
          ``api_key`` may be a ``Secret``.
        - ``config``: path to a JSON configuration file (processes, ``clock_factor``,
          ``stopping_seconds``, ``page_size``); without it the demo processes exist
          (``demo-quick``, ``demo-slow``, ``demo-failing``, ``demo-forever``, ``demo-echo``,
          ``demo-queue``, ``demo-files``).
        - ``clock_factor``: emulated seconds per real second; overrides the configuration.
        - ``port``: ``0`` (the default) picks a free port.
        - ``seed``: seed of the random draws of fault rules with a ``rate``.
        - ``tokens``: tokens accepted as ``Authorization: Bearer <token>`` (as a run's
          ``RC_API_TOKEN_V1`` is sent), and as the ``token`` of the integrations endpoint.
        - ``certfile`` and ``keyfile``: serve HTTPS with this certificate and key (PEM);
          the returned URL then starts with ``https://``. The emulator keywords talk to it
          without verifying that certificate (it is the test's own throwaway).
        - ``timeout``: how long to wait for the emulator to report its address.
        - ``allow_commands``: let `Define Process` define steps that run real commands
          (``command``): the emulator then runs whatever program such a step names, as
          the user who runs the tests. A ``config`` file may have them without it.

        Fails when an emulator started by this library is already running, when the process
        exits (the message has its error output, e.g. a bad configuration file), or when it
        does not report its address within ``timeout``.

        Examples:
        | ${url} = | `Start Emulator` | workspace_id=ws | api_key=key | |
        | `Stop Emulator` | | | | |
        | ${url} = | `Start Emulator` | ws | key | config=${CURDIR}/processes.json | clock_factor=10 |
        | ${url} = | `Start Emulator` | allow_commands=True | | | |
        """
        self.handle.require_not_running()
        wait = seconds(timeout, "timeout")
        key = secret_value(api_key)
        if bool(certfile) != bool(keyfile):
            raise EmulatorError("Arguments 'certfile' and 'keyfile' must be given together.")
        options, secrets = command_line(
            workspace_id, key, config, clock_factor, port, host, seed, tokens, certfile, keyfile
        )
        if allow_commands:
            options.append("--allow-commands")
        address = self.handle.start(options, secrets, wait)
        # A test certificate is rarely in the system's trust store; the admin API is local.
        url = self.handle.use(address, key, verify=not certfile)
        self.handle.keys, self.handle.workspace = {workspace_id: key}, workspace_id
        logger.info(f"Control Room emulator started at {url}.")
        return url

    @keyword
    def connect_to_emulator(self, api_url: str, api_key: str | Secret = "demo-key") -> None:
        """Drives an emulator that runs already, e.g. one started by a test runner script.

        ``api_url`` is its API base URL (the address in its first output line) and
        ``api_key`` the key it was started with (may be a ``Secret``). `Stop Emulator` then
        only disconnects: it does not stop an emulator this library did not start.

        Fails when nothing answers at ``api_url`` or the emulator refuses the key.

        Examples:
        | `Connect To Emulator` | http://127.0.0.1:8123/api/v1 | ${API_KEY} |
        """
        handle = self.handle
        handle.require_not_running()
        handle.use(api_url, api_key, verify=True)
        try:
            workspace = handle.admin("GET", "/workspaces").current
        except EmulatorError:
            handle.forget_url()
            raise
        handle.keys, handle.workspace = {workspace: secret_value(api_key)}, workspace
        logger.info(f"Connected to the Control Room emulator at {handle.url}.")

    @keyword
    def stop_emulator(self, timeout: Time = "5 s") -> None:  # type: ignore[assignment]
        """Stops the emulator started by `Start Emulator`; does nothing when none runs.

        The emulator gets ``timeout`` to stop cleanly and is killed after that. An emulator
        used through `Connect To Emulator` is not stopped, only disconnected.

        Examples:
        | `Stop Emulator` |
        """
        url = self.handle.stop(seconds(timeout, "timeout"))
        if url is not None:
            logger.info(f"Control Room emulator at {url} stopped.")

    @keyword
    def get_emulator_url(self) -> str:
        """Returns the API base URL of the running emulator, ``http://HOST:PORT/api/v1``.

        Fails when the emulator is not running.

        Examples:
        | ${url} = | `Get Emulator Url` |
        """
        return self.handle.require_running()

    @keyword
    def reset_emulator(self, processes: bool = False) -> None:
        """Forgets every run, work item, fault rule and logged request, in every workspace
        the emulator serves.

        Processes defined with `Define Process` stay, unless ``processes`` is true: then the
        processes the emulator started with come back.

        Examples:
        | `Reset Emulator` | |
        | `Reset Emulator` | processes=${True} |
        """
        self.admin("POST", "/reset", {"processes": bool(processes)})

    @keyword
    def add_emulator_token(self, token: str | Secret) -> None:
        """Makes the emulator accept ``Authorization: Bearer <token>`` too. ``token`` may be a
        ``Secret``.

        Examples:
        | `Add Emulator Token` | my-run-token |
        """
        self.admin("POST", "/tokens", {"token": secret_value(token)})

    # --- workspaces

    @keyword
    def add_emulator_workspace(self, workspace_id: str, api_key: str | Secret) -> None:
        """Makes the emulator serve one more workspace, opened by ``api_key`` only.

        One emulator process then serves several workspaces, each with its own key: a key
        opens its own workspace only, and another workspace's path answers 403 ``No access
        to workspace '<id>' with this API key.``, as Control Room does. The new workspace
        starts with the processes the emulator started with (those of ``config``, or the
        demo processes) and has runs, work items and tokens of its own. The emulator's
        clock, fault rules and request log are shared by all its workspaces: a fault rule or
        `Get Requests` can name one with its path (``path=^/workspaces/staging/``).

        ``workspace_id`` is 1 to 100 letters, digits, ``-``, ``_`` or ``.``; ``api_key``
        (may be a ``Secret``) must differ from every other workspace's key. The keywords of
        this library keep acting on the workspace they acted on: use `Switch Emulator
        Workspace` to define processes, look at runs or add tokens in another one. A
        workspace stays until the emulator stops; `Reset Emulator` empties every workspace
        but removes none.

        The emulator's command line does the same with ``--workspace ID:NAME``, the key
        read from the environment variable ``NAME``.

        Examples:
        | `Add Emulator Workspace` | staging | ${STAGING KEY} |
        | `Create Control Room Session` | staging | api_url=${url} | workspace_id=staging | api_key=${STAGING KEY} |
        """
        key = secret_value(api_key)
        self.admin("POST", "/workspaces", {"workspace_id": workspace_id, "api_key": key})
        self.handle.keys[workspace_id] = key
        logger.info(f"The emulator serves workspace '{workspace_id}' too.")

    @keyword
    def switch_emulator_workspace(
        self, workspace_id: str, api_key: str | Secret | None = None
    ) -> str:
        """Makes the keywords of this library act on workspace ``workspace_id`` and returns
        the id of the workspace they acted on before.

        `Define Process`, `Get Emulator Runs`, `Add Input Work Item`, `Get Emulator Work
        Items` and `Add Emulator Token` act on one workspace: the one the emulator started
        with, until this keyword switches. ``api_key`` is needed only for a workspace this
        library did not add or start (one of the emulator's ``--workspace`` options); it
        may be a ``Secret``. ProcessRunLibrary's sessions are not affected: each session
        has its own ``workspace_id``.

        Fails when the library does not know the workspace's key, or the emulator refuses
        it.

        Examples:
        | `Switch Emulator Workspace` | staging | |
        | `Define Process` | invoices | run_seconds=5 s |
        | ${previous} = | `Switch Emulator Workspace` | production |
        """
        handle = self.handle
        handle.require_running()
        if handle.workspace is None:  # connected at import: learn which workspace that is
            current = str(handle.admin("GET", "/workspaces").current)
            handle.keys[current], handle.workspace = handle.key, current
        key = handle.keys.get(workspace_id) if api_key is None else secret_value(api_key)
        if key is None:
            known = ", ".join(f"'{k}'" for k in handle.keys) or "none"
            raise EmulatorError(
                f"No key for workspace '{workspace_id}': add it with 'Add Emulator Workspace' "
                f"or give its 'api_key'. Workspaces known: {known}."
            )
        previous, key_before = handle.workspace, handle.key
        handle.key = key
        try:
            current = handle.admin("GET", "/workspaces").current
            if current != workspace_id:
                raise EmulatorError(
                    f"The key given opens workspace '{current}', not '{workspace_id}'."
                )
        except EmulatorError:
            handle.key = key_before  # still the workspace before
            raise
        handle.keys[workspace_id], handle.workspace = key, workspace_id
        return previous or ""


def command_line(
    workspace_id: str,
    key: str,
    config: str | None,
    clock_factor: float | None,
    port: int,
    host: str,
    seed: str | None,
    tokens: list[str] | None,
    certfile: str | None,
    keyfile: str | None,
) -> tuple[list[str], dict[str, str]]:
    """The emulator's command line options for `Start Emulator`'s arguments, and the
    secrets they name, which travel in the emulator's environment: `ps` shows every user
    the command lines of all processes. A new argument of `Start Emulator` becomes its
    option here."""
    options = ["--host", host, "--port", str(int(port)), "--workspace-id", workspace_id]
    options += ["--api-key-env", "RC_EMULATOR_API_KEY"]
    secrets = {"RC_EMULATOR_API_KEY": key}
    if config:
        options += ["--config", str(Path(config))]
    if clock_factor is not None:
        options += ["--clock-factor", str(float(clock_factor))]
    if seed is not None:
        options += ["--seed", str(seed)]
    for number, token in enumerate(tokens or [], start=1):
        secrets[f"RC_EMULATOR_TOKEN_{number}"] = secret_value(token)
        options += ["--token-env", f"RC_EMULATOR_TOKEN_{number}"]
    if certfile and keyfile:
        options += ["--certfile", certfile, "--keyfile", keyfile]
    return options, secrets
