"""Keywords that define processes and look at the runs and work items an emulator holds."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

from robot.api import logger
from robot.api.deco import keyword
from robot.utils import DotDict

from ..types import Time
from .handle import EmulatorError, KeywordGroup, integer, json_argument, seconds

FOREVER = ("", "none", "forever", "until stopped")


class ProcessKeywords(KeywordGroup):
    @keyword
    def define_process(
        self,
        process_id: str,
        name: str | None = None,
        new_seconds: Time = "0.5 s",  # type: ignore[assignment]
        run_seconds: str | None = "2 s",
        outcome: str = "completed",
        failures: list[dict[str, str]] | str | None = None,
        outputs: list[Any] | str | None = None,
        input_queue: list[Any] | str | None = None,
        default_work_item: Any = None,
        allow_parallel_runs: bool = True,
        failing_attempts: int | str | None = 1,
        steps: list[Any] | str | None = None,
        console: str | list[str] | None = None,
        artifacts: list[dict[str, Any]] | str | None = None,
    ) -> DotDict:
        """Defines a process, or replaces the one with the same id, and returns its definition.

        Runs started afterwards behave as defined here; runs started earlier keep the
        definition they started with.

        - ``name``: the process name in run bodies; the id when not given.
        - ``new_seconds``: how long a run stays ``new``.
        - ``run_seconds``: how long it then stays ``in_progress``; ``${None}`` or ``forever``:
          until it is stopped.
        - ``outcome``: ``completed`` or ``unresolved``.
        - ``failures``: for an unresolved outcome, the exceptions of the first work items, a
          list of ``{"type": "application|business|orchestrator|unspecified", "code": ...,
          "message": ...}`` (a list or a JSON string).
        - ``outputs``: ``echo`` (one output per done work item, echoing its payload) or a list
          of ``{"payload": ..., "files": [{"name": ..., "content": ...}]}``.
        - ``input_queue``: payloads waiting in the process's input queue (for a start with
          the input queue).
        - ``default_work_item``: the payload of the work item of a start without a body;
          ``{}`` when not given.
        - ``allow_parallel_runs``: when false, a start while a run has not ended answers 409.
        - ``failing_attempts``: how many attempts of a failing work item fail. ``1`` (the
          default): a retry of the failed items of an unresolved run succeeds and the run
          ends ``completed``; ``2``: the first retry fails again, the second succeeds;
          ``${None}`` or ``always``: every retry fails.
        - ``steps``: the steps of each run, run one after another (``run_seconds`` is split
          evenly among them); one step named as the process when not given. A list of step
          names, or of ``{"name": ..., "fails": true, "error_code": ..., "console": [...],
          "artifacts": [...]}``: ``fails`` marks the step whose run fails when the run ends
          ``unresolved`` (the last step by default), ``error_code`` its step run's error code
          (``ROBOT_FAILED`` by default), ``console`` and ``artifacts`` as below for this step
          only.
        - A step may run a real robot instead (the emulator must be started with
          ``allow_commands=True``): ``{"name": ..., "command": ["program", "arg", ...]}``,
          run once per step run without a shell (``%{ROBOT_ARTIFACTS}`` in an argument is
          the variable's value: in Robot data, escape it as ``\\%{ROBOT_ARTIFACTS}``),
          with ``cwd`` (default: the emulator's current directory), ``env`` (extra
          variables, strings), ``parallel`` (how many step runs of the step at once,
          default 1) and ``timeout`` (seconds). Then every step has a ``command``; the
          robots read and write their work items with robocorp-workitems or
          ``RPA.Robocorp.WorkItems`` as in Control Room, and the run's states, console
          messages, artifacts and outputs are what they did. See "Running real robots" in
          docs/emulator.md.
        - ``console``: the console lines of every step run (a list of strings), instead of
          the default lines, which name the failed work items and their exceptions.
        - ``artifacts``: the artifacts of every ended step run, instead of the default
          ``output.xml`` and ``log.html`` of a small Robot Framework run: a list of
          ``{"name": ..., "content": "text"}``, ``{"name": ..., "content_base64": ...}``,
          ``{"name": ..., "size": bytes}`` (generated content, streamed) or ``{"name": ...,
          "robot": "output.xml|log.html"}``. Any name is served as given, ``../evil.txt``
          and duplicates included, to test what a client makes of it.

        ``failures``, ``outputs``, ``input_queue``, ``steps``, ``console`` and ``artifacts``
        are lists or JSON strings. See docs/emulator.md for the step run lifecycle.

        Fails when the emulator rejects the definition, with its reason.

        Examples:
        | `Define Process` | invoices | run_seconds=10 s | outputs=echo |
        | `Define Process` | orders | outcome=unresolved | failures=[{"type": "business", "code": "E1", "message": "No customer."}] |
        | `Define Process` | watcher | run_seconds=forever |
        | `Define Process` | flaky | outcome=unresolved | failing_attempts=2 |
        | `Define Process` | pipeline | steps=["Fetch", "Enter", "Report"] | outcome=unresolved |
        | `Define Process` | child | outcome=unresolved | console=["Opening the portal", "Login failed"] | artifacts=[{"name": "../evil.txt", "content": "x"}, {"name": "big.bin", "size": 100000000}] |
        | `Define Process` | orders | steps=[{"name": "Produce", "command": ["robot", "--outputdir", "\\%{ROBOT_ARTIFACTS}", "producer.robot"], "cwd": "robots/producer"}, {"name": "Consume", "command": ["python", "-m", "robocorp.tasks", "run", "tasks.py"], "cwd": "robots/consumer", "parallel": 2, "timeout": 600}] |
        """
        forever = run_seconds is None or str(run_seconds).strip().lower() in FOREVER
        definition: dict[str, Any] = {
            "id": process_id,
            "new_seconds": seconds(new_seconds, "new_seconds"),
            "run_seconds": None if forever else seconds(run_seconds, "run_seconds"),
            "outcome": outcome,
            "allow_parallel_runs": allow_parallel_runs,
        }
        if name is not None:
            definition["name"] = name
        if failures is not None:
            definition["failures"] = json_argument(failures, "failures")
        if outputs is not None:
            definition["outputs"] = (
                "echo" if outputs == "echo" else json_argument(outputs, "outputs")
            )
        if input_queue is not None:
            definition["input_queue"] = json_argument(input_queue, "input_queue")
        if default_work_item is not None:
            definition["default_work_item"] = json_argument(default_work_item, "default_work_item")
        always = failing_attempts is None or str(failing_attempts).strip().lower() == "always"
        definition["failing_attempts"] = (
            None if always else integer(failing_attempts, "failing_attempts")
        )
        for key, value in (("steps", steps), ("console", console), ("artifacts", artifacts)):
            if value is not None:
                definition[key] = json_argument(value, key)
        # A new field of a process definition is one more argument, sent here.
        return self.admin("PUT", f"/processes/{process_id}", definition)

    @keyword
    def get_emulator_runs(self, process_id: str | None = None) -> list[DotDict]:
        """Returns every run the emulator created, oldest first, deleted ones included.

        Each has ``id``, ``process_id``, ``state``, ``created_at``, ``start_type``,
        ``payloads`` (the payloads of its work items), ``work_items``, ``callback`` (its
        ``secret`` shown as ``***``), ``stop``, ``callback_deliveries``, ``retries`` (for
        each retry of failed items: ``at`` and ``work_item_ids``) and ``deleted``.
        The emulator POSTs the events a run's callback asks for to its URL;
        ``callback_deliveries`` lists each try: ``event``, ``at``, ``status`` (``None``
        when nothing answered) and ``error`` (``None`` when delivered).

        Examples:
        | ${runs} = | `Get Emulator Runs` | process_id=invoices |
        | Length Should Be | ${runs} | 1 |
        | Should Be Equal | ${runs}[0][payloads] | ${{[{"invoice": 1}]}} |
        | Should Be Equal | ${runs}[0][callback_deliveries][0][event] | completed |
        """
        return list(self.admin("GET", "/runs", params={"process_id": process_id}).data)

    @keyword
    def add_input_work_item(
        self, process_id: str, payload: Any = None, files: Any = None
    ) -> DotDict:
        """Puts a work item with ``payload`` and ``files`` into the input queue of
        ``process_id`` and returns it as `Get Emulator Work Items` shows it.

        The item waits there as one created through the API does (``createWorkItem``, then
        uploaded files): a run started with the input queue (``with_inputs``) takes it,
        ``GET .../work-items`` lists it as ``new`` and ``GET .../work-items/{id}`` shows its
        files with download URLs.

        - ``payload``: any JSON value (a dictionary, a list, or a string holding JSON);
          ``{}`` when not given.
        - ``files``: a path or a list of paths (each file is stored under its base name), or
          a dictionary of file names and contents (a string is stored as UTF-8, bytes as
          they are).

        Fails when a file cannot be read (before anything is sent) or the process is not
        defined.

        Examples:
        | ${item} = | `Add Input Work Item` | invoices | {"invoice": 1} | |
        | ${item} = | `Add Input Work Item` | invoices | ${payload} | files=${CURDIR}/invoice.pdf |
        | ${item} = | `Add Input Work Item` | invoices | files=${{{"notes.txt": "Pay soon."}}} | |
        | Should Be Equal | ${item}[state] | new | | |
        """
        body = {
            "process_id": process_id,
            "payload": {} if payload is None else json_argument(payload, "payload"),
            "files": files_argument(files),
        }
        item = self.admin("POST", "/work-items", body)
        logger.info(f"Work item {item.id} added to the input queue of process '{process_id}'.")
        return item

    @keyword
    def get_emulator_work_items(
        self, process_id: str | None = None, process_run_id: str | None = None
    ) -> list[DotDict]:
        """Returns the work items the emulator holds, oldest first, deleted ones left out.

        Each has ``id``, ``process_id``, ``process_run_id`` (``None`` while it waits in the
        input queue), ``state``, ``exception``, ``attempt`` (1, then 2 after the first
        retry, ...), ``payload`` (as updated through the API) and ``files``: for each file
        its ``name``, ``size``, ``uploaded`` (false while it is announced but not uploaded)
        and its ``content`` (text) or ``content_base64`` (other bytes). ``process_id`` and
        ``process_run_id`` select items.

        Examples:
        | ${items} = | `Get Emulator Work Items` | process_id=invoices |
        | Should Be Equal | ${items}[0][files][0][content] | Pay soon. |
        | ${items} = | `Get Emulator Work Items` | process_run_id=${run_id} |
        | Should Be Equal As Integers | ${items}[0][attempt] | 2 |
        """
        params = {"process_id": process_id, "process_run_id": process_run_id}
        return list(self.admin("GET", "/work-items", params=params).data)


def files_argument(files: Any) -> list[dict[str, str]]:
    """A path, a list of paths or a dictionary of names and contents, as the admin API
    takes files: `{"name", "content_base64"}`."""
    if files is None:
        return []
    if isinstance(files, dict):
        named = [(str(name), content) for name, content in files.items()]
    else:
        paths = [files] if isinstance(files, str | os.PathLike) else list(files)
        named = []
        for path in paths:
            try:
                named.append((Path(path).name, Path(path).read_bytes()))
            except OSError as error:
                raise EmulatorError(
                    f"Argument 'files': cannot read '{path}': {error.strerror}."
                ) from None
    result = []
    for name, content in named:
        data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
        result.append({"name": name, "content_base64": base64.b64encode(data).decode()})
    return result
