"""Process definitions: how the runs of each emulated process behave, from a
configuration file or the admin API, and the demo processes."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from .common import (
    DEFAULT_FAILURE,
    DEFAULT_PAGE_SIZE,
    DEFAULT_STOPPING_SECONDS,
    ENDED_STATES,
    EXCEPTION_TYPES,
    MAX_PAGE_SIZE,
    ConfigError,
    is_number,
)


@dataclass(frozen=True)
class OutputFile:
    name: str
    content: bytes


@dataclass(frozen=True)
class OutputSpec:
    payload: Any
    files: tuple[OutputFile, ...]


@dataclass(frozen=True)
class Process:
    id: str
    name: str
    new_seconds: float = 0.5
    run_seconds: float | None = 2.0
    outcome: str = "completed"
    failures: tuple[dict[str, str], ...] = ()
    outputs: str | tuple[OutputSpec, ...] = ()
    input_queue: tuple[Any, ...] = ()
    default_work_item: Any = None
    allow_parallel_runs: bool = True
    # How many attempts of a failing work item fail: 1 fails the first attempt and lets a
    # retry succeed; None fails every attempt.
    failing_attempts: int | None = 1

    def exceptions(self) -> tuple[dict[str, str], ...]:
        """What the first work items of an unresolved run fail with."""
        if self.outcome != "unresolved":
            return ()
        return self.failures or (DEFAULT_FAILURE,)

    def to_json(self) -> dict[str, Any]:
        outputs: Any
        if isinstance(self.outputs, str):
            outputs = self.outputs
        else:
            outputs = [
                {
                    "payload": spec.payload,
                    "files": [_file_json(f) for f in spec.files],
                }
                for spec in self.outputs
            ]
        return {
            "id": self.id,
            "name": self.name,
            "new_seconds": self.new_seconds,
            "run_seconds": self.run_seconds,
            "outcome": self.outcome,
            "failures": [dict(f) for f in self.failures],
            "outputs": outputs,
            "input_queue": list(self.input_queue),
            "default_work_item": self.default_work_item,
            "allow_parallel_runs": self.allow_parallel_runs,
            "failing_attempts": self.failing_attempts,
        }


def _file_json(file: OutputFile) -> dict[str, Any]:
    try:
        return {"name": file.name, "content": file.content.decode("utf-8")}
    except UnicodeDecodeError:
        return {"name": file.name, "content_base64": base64.b64encode(file.content).decode()}


PROCESS_KEYS = frozenset(Process.__dataclass_fields__)


def parse_process(data: Any, process_id: str | None = None) -> Process:
    """Validate one process definition (see docs/emulator.md) and build a :class:`Process`."""
    if not isinstance(data, dict):
        raise ConfigError("A process definition must be a JSON object.")
    unknown = sorted(set(data) - PROCESS_KEYS)
    if unknown:
        raise ConfigError(f"Unknown process field(s): {', '.join(unknown)}.")
    pid = data.get("id", process_id)
    if process_id is not None and pid != process_id:
        raise ConfigError(f"Process id '{pid}' in the body does not match '{process_id}'.")
    if not isinstance(pid, str) or not pid or any(c in pid for c in "/?#"):
        raise ConfigError("Process 'id' must be a non-empty string without '/', '?' or '#'.")
    name = data.get("name", pid)
    if not isinstance(name, str):
        raise ConfigError(f"Process '{pid}': 'name' must be a string.")
    new_seconds = _seconds(data.get("new_seconds", 0.5), pid, "new_seconds", nullable=False)
    run_seconds = _seconds(data.get("run_seconds", 2.0), pid, "run_seconds", nullable=True)
    outcome = data.get("outcome", "completed")
    if outcome not in ENDED_STATES:
        raise ConfigError(f"Process '{pid}': 'outcome' must be 'completed' or 'unresolved'.")
    failures = tuple(_failure(f, pid) for f in _list(data.get("failures", []), pid, "failures"))
    outputs = _outputs(data.get("outputs", []), pid)
    queue = tuple(_list(data.get("input_queue", []), pid, "input_queue"))
    parallel = data.get("allow_parallel_runs", True)
    if not isinstance(parallel, bool):
        raise ConfigError(f"Process '{pid}': 'allow_parallel_runs' must be true or false.")
    failing_attempts = data.get("failing_attempts", 1)
    if failing_attempts is not None and (
        not isinstance(failing_attempts, int)
        or isinstance(failing_attempts, bool)
        or failing_attempts < 1
    ):
        raise ConfigError(f"Process '{pid}': 'failing_attempts' must be an integer >= 1 or null.")
    return Process(
        id=pid,
        name=name,
        new_seconds=new_seconds or 0.0,
        run_seconds=run_seconds,
        outcome=outcome,
        failures=failures,
        outputs=outputs,
        input_queue=queue,
        default_work_item=data.get("default_work_item"),
        allow_parallel_runs=parallel,
        failing_attempts=failing_attempts,
    )


def _seconds(value: Any, pid: str, name: str, nullable: bool) -> float | None:
    if value is None and nullable:
        return None
    if not is_number(value) or value < 0:
        extra = " or null" if nullable else ""
        raise ConfigError(f"Process '{pid}': '{name}' must be a number >= 0{extra}.")
    return float(value)


def _list(value: Any, pid: str, name: str) -> list[Any]:
    if not isinstance(value, list):
        raise ConfigError(f"Process '{pid}': '{name}' must be a list.")
    return value


def _failure(value: Any, pid: str) -> dict[str, str]:
    if not isinstance(value, dict) or value.get("type") not in EXCEPTION_TYPES:
        raise ConfigError(
            f"Process '{pid}': each failure needs a 'type' out of {', '.join(EXCEPTION_TYPES)}."
        )
    code = value.get("code", "ERROR")
    message = value.get("message", "")
    if not isinstance(code, str) or not isinstance(message, str):
        raise ConfigError(f"Process '{pid}': a failure's 'code' and 'message' must be strings.")
    return {"type": value["type"], "code": code, "message": message}


def _outputs(value: Any, pid: str) -> str | tuple[OutputSpec, ...]:
    if value == "echo":
        return "echo"
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ConfigError(f"Process '{pid}': 'outputs' must be \"echo\" or a list.")
    specs = []
    for item in value:
        if not isinstance(item, dict) or set(item) - {"payload", "files"}:
            raise ConfigError(f"Process '{pid}': an output is an object with payload and files.")
        files = tuple(_output_file(f, pid) for f in _list(item.get("files", []), pid, "files"))
        specs.append(OutputSpec(payload=item.get("payload"), files=files))
    return tuple(specs)


def _output_file(value: Any, pid: str) -> OutputFile:
    return parse_file(value, f"Process '{pid}': an output file")


def parse_file(value: Any, what: str) -> OutputFile:
    """A file given as `{"name", "content"}` (text) or `{"name", "content_base64"}`;
    `what` names it in the messages (e.g. "Process 'p': an output file")."""
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        raise ConfigError(f"{what} needs a 'name'.")
    if "content_base64" in value:
        try:
            content = base64.b64decode(value["content_base64"], validate=True)
        except (binascii.Error, TypeError, ValueError) as err:
            raise ConfigError(f"{what}: 'content_base64' is not valid base64.") from err
    else:
        text = value.get("content", "")
        if not isinstance(text, str):
            raise ConfigError(f"{what}: 'content' must be a string.")
        content = text.encode("utf-8")
    return OutputFile(name=value["name"], content=content)


DEMO_PROCESSES: list[dict[str, Any]] = [
    {"id": "demo-quick", "name": "Demo: quick", "new_seconds": 0.2, "run_seconds": 0.8},
    {"id": "demo-slow", "name": "Demo: slow", "new_seconds": 2, "run_seconds": 60},
    {
        "id": "demo-failing",
        "name": "Demo: failing",
        "new_seconds": 0.2,
        "run_seconds": 0.8,
        "outcome": "unresolved",
        "failures": [
            {
                "type": "business",
                "code": "INVALID_ORDER",
                "message": "Order 42 has no customer.",
            }
        ],
    },
    {"id": "demo-forever", "name": "Demo: forever", "new_seconds": 0.2, "run_seconds": None},
    {
        "id": "demo-echo",
        "name": "Demo: echo",
        "new_seconds": 0.2,
        "run_seconds": 0.8,
        "outputs": "echo",
        "default_work_item": {"message": "hello"},
    },
    {
        "id": "demo-queue",
        "name": "Demo: input queue",
        "new_seconds": 0.2,
        "run_seconds": 0.8,
        "outputs": "echo",
        "input_queue": [{"order": 1}, {"order": 2}],
    },
    {
        "id": "demo-files",
        "name": "Demo: output files",
        "new_seconds": 0.2,
        "run_seconds": 0.8,
        "outputs": [
            {
                "payload": {"report": "report.txt"},
                "files": [{"name": "report.txt", "content": "All good.\n"}],
            }
        ],
    },
]


def load_config(data: Any) -> dict[str, Any]:
    """Validate a configuration file's content; returns the settings and processes."""
    if not isinstance(data, dict):
        raise ConfigError("The configuration must be a JSON object.")
    unknown = sorted(set(data) - {"clock_factor", "stopping_seconds", "page_size", "processes"})
    if unknown:
        raise ConfigError(f"Unknown configuration field(s): {', '.join(unknown)}.")
    settings: dict[str, Any] = {}
    factor = data.get("clock_factor", 1.0)
    if not is_number(factor) or factor <= 0:
        raise ConfigError("'clock_factor' must be a positive number.")
    settings["clock_factor"] = float(factor)
    stopping = data.get("stopping_seconds", DEFAULT_STOPPING_SECONDS)
    if not is_number(stopping) or stopping < 0:
        raise ConfigError("'stopping_seconds' must be a number >= 0.")
    settings["stopping_seconds"] = float(stopping)
    page_size = data.get("page_size", DEFAULT_PAGE_SIZE)
    if not isinstance(page_size, int) or isinstance(page_size, bool):
        raise ConfigError(f"'page_size' must be an integer from 1 to {MAX_PAGE_SIZE}.")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ConfigError(f"'page_size' must be an integer from 1 to {MAX_PAGE_SIZE}.")
    settings["page_size"] = page_size
    processes = data.get("processes", DEMO_PROCESSES)
    if not isinstance(processes, list):
        raise ConfigError("'processes' must be a list of process definitions.")
    parsed = [parse_process(p) for p in processes]
    ids = [p.id for p in parsed]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ConfigError(f"Duplicate process id(s): {', '.join(duplicates)}.")
    settings["processes"] = parsed
    return settings
