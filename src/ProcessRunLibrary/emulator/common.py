"""What every part of the emulated workspace shares: constants, API errors, strict JSON,
timestamps and paging. Pure Python, no aiohttp."""

from __future__ import annotations

import functools
import json
import math
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import Any, TypeVar

RUN_STATES = ("new", "in_progress", "completed", "unresolved", "stopping")
ENDED_STATES = ("completed", "unresolved")
WORK_ITEM_STATES = ("new", "pending", "in_progress", "failed", "done")
EXCEPTION_TYPES = ("application", "business", "orchestrator", "unspecified")
CALLBACK_EVENTS = ("started", "completed", "unresolved")
START_TYPES = ("with_work_item_ids", "with_inputs", "with_payloads")

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
DEFAULT_STOPPING_SECONDS = 1.0

# Used when an unresolved process has no `failures` configured.
DEFAULT_FAILURE = {
    "type": "unspecified",
    "code": "UNSPECIFIED",
    "message": "The work item failed.",
}
STOPPED_CODE = "PROCESS_RUN_STOPPED"

ID_NAMESPACE = uuid.UUID("6b3c3f0e-2f5d-4a8e-9c1a-5e0f6a1d2b7c")


class ApiError(Exception):
    """An error answered as `{"error": {"code": code, "message": message}}`."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}


def bad_request(message: str) -> ApiError:
    return ApiError(400, "bad_request", message)


def not_found(message: str) -> ApiError:
    return ApiError(404, "not_found", message)


def forbidden(message: str) -> ApiError:
    return ApiError(403, "forbidden", message)


def conflict(message: str) -> ApiError:
    return ApiError(409, "conflict", message)


class ConfigError(ValueError):
    """A process definition or a configuration file is not valid."""


MAX_JSON_DEPTH = 100


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range")
    return value


def parse_json(raw: bytes | str) -> Any:
    """Parse JSON as strictly as a JSON encoder writes it: no NaN or Infinity, no number
    that overflows a float (1e400), at most MAX_JSON_DEPTH levels of arrays and objects.
    Anything this accepts can be answered again as JSON. Raises ValueError."""
    try:
        data = json.loads(raw, parse_constant=_not_json, parse_float=_finite)
    except RecursionError:
        raise ValueError("too deeply nested") from None
    if json_depth(data) > MAX_JSON_DEPTH:
        raise ValueError("too deeply nested")
    return data


def json_depth(data: Any) -> int:
    """Levels of arrays and objects (0 for a scalar); iterative, so any depth is safe."""
    deepest = 0
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            value = list(value.values())
        elif not isinstance(value, list):
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in value)
    return deepest


def duration(created: float, started: float | None, ended: float | None) -> float | None:
    """A run's or step run's `duration`: seconds from its start (else its creation) to
    its end, to the millisecond; None until it has ended."""
    if ended is None:
        return None
    return round(ended - (started if started is not None else created), 3)


# A run's created and started times are written out again on every poll of it.
@functools.lru_cache(maxsize=4096)
def iso(timestamp: float | None) -> str | None:
    """ISO 8601 in UTC with a `Z`, millisecond precision."""
    if timestamp is None:
        return None
    moment = datetime.fromtimestamp(timestamp, timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def is_number(value: Any) -> bool:
    """An int or a finite float, not a bool."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value)


def announced_file(body: Any, name_field: str, size_field: str) -> tuple[str, int]:
    """The name and size of a file being announced, from the JSON body's two fields (the
    public API and the worker API spell them differently)."""
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    name = body.get(name_field)
    if not isinstance(name, str) or not name:
        raise bad_request(f"'{name_field}' is required and must be a non-empty string.")
    size: Any = body.get(size_field)
    if not is_number(size) or size < 0 or size != int(size):
        raise bad_request(f"'{size_field}' is required and must be a whole number of bytes >= 0.")
    return name, int(size)


Rendered = TypeVar("Rendered")


def page(
    candidates: Iterable[Any],
    limit: int,
    seq_of: Callable[[Any], int],
    render: Callable[[Any], Rendered],
) -> tuple[list[Rendered], int | None]:
    """Take `limit` candidates; the cursor is the seq of the last one if more follow."""
    page: list[Any] = []
    for candidate in candidates:
        if len(page) == limit:
            return [render(c) for c in page], seq_of(page[-1])
        page.append(candidate)
    return [render(c) for c in page], None
