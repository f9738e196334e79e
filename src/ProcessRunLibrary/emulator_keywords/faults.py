"""Keywords for fault rules and the request log of an emulator."""

from __future__ import annotations

import json
from typing import Any

from robot.api import logger
from robot.api.deco import keyword
from robot.utils import DotDict

from ..types import Time
from .handle import KeywordGroup, seconds


class FaultKeywords(KeywordGroup):
    @keyword
    def inject_fault(
        self,
        status: int | None = None,
        method: str | None = None,
        path: str | None = None,
        rate: float | None = None,
        nth: list[int] | int | None = None,
        times: int | None = None,
        retry_after: Time = None,
        latency: Time = None,
        hang: bool = False,
        drop: bool = False,
        lost_answer: bool = False,
        seed: str | None = None,
    ) -> str:
        """Adds a fault rule for API requests and returns its id (``f1``, ``f2``, ...).

        Which requests: ``method`` (e.g. ``GET``) and ``path``, a regular expression searched
        in the path after ``/api/v1`` (e.g. ``/process-runs/[^/]+$``), or in the full path of
        the upload and download URLs of work item files (``^/_emulator/uploads/``, which a
        rule without ``path`` hits too); ``nth``: only these
        matching requests (1 is the first, e.g. ``${1}`` or ``[1, 3]``); ``rate``: a
        probability from 0 to 1, drawn from a seeded random generator (``seed`` here or in
        `Start Emulator`); ``times``: at most this many times.

        What happens: ``status`` (429, 500, 502, 503 or 504) with an error body, and
        ``retry_after`` as a ``Retry-After`` header (whole seconds, rounded up);
        ``latency``: a delay before the answer; ``hang``: no answer until the client gives up;
        ``drop``: the connection is closed without an answer; ``lost_answer``: the request is
        processed for real (a run is started), then the answer is ``status`` (502 when not
        given) or a dropped connection.

        Rules are tried in the order they were added; the first that fires applies. The
        response carries the header ``X-Emulator-Fault`` with the rule id, and the request
        log records it.

        Examples:
        | ${id} = | `Inject Fault` | status=429 | retry_after=1 s | times=1 |
        | `Inject Fault` | status=503 | method=GET | path=/process-runs/ | nth=[1, 2] |
        | `Inject Fault` | lost_answer=${True} | method=POST | path=/process-runs$ |
        | `Inject Fault` | latency=2 s | rate=0.5 | seed=42 |
        """
        rule: dict[str, Any] = {
            "status": status,
            "method": method,
            "path": path,
            "rate": rate,
            "times": times,
        }
        if nth is not None:
            rule["nth"] = [nth] if isinstance(nth, int) else list(nth)
        if retry_after is not None:
            rule["retry_after"] = seconds(retry_after, "retry_after")
        if latency is not None:
            rule["latency"] = seconds(latency, "latency")
        for flag, value in (("hang", hang), ("drop", drop), ("lost_answer", lost_answer)):
            if value:
                rule[flag] = True
        if seed is not None:
            rule["seed"] = int(seed) if str(seed).lstrip("-").isdigit() else seed
        created = self.admin("POST", "/faults", {k: v for k, v in rule.items() if v is not None})
        logger.info(f"Fault rule {created.id} added: {json.dumps(created)}")
        return str(created.id)

    @keyword
    def clear_faults(self) -> None:
        """Removes every fault rule.

        Examples:
        | `Clear Faults` |
        """
        self.admin("DELETE", "/faults")

    @keyword
    def get_requests(self, method: str | None = None, path: str | None = None) -> list[DotDict]:
        """Returns the API requests the emulator received, oldest first, as a list of DotDicts.

        Each has ``seq``, ``time``, ``method``, ``path`` (after ``/api/v1``; the full path
        ``/_emulator/...`` for a request to a download URL), ``query`` (the ``token`` and
        ``signature`` parameters masked), ``headers`` (``Authorization`` masked as
        ``RC-WSKEY ***``), ``body`` (parsed JSON, text, or ``None``), ``status`` (``None`` when
        the connection was dropped), ``fault`` (the rule id or ``None``) and ``duration``.
        ``method`` and ``path`` (a regular expression) select requests.

        Examples:
        | ${requests} = | `Get Requests` | method=POST | path=/process-runs$ |
        | Should Be Equal | ${requests}[0][headers][Authorization] | ``RC-WSKEY ***`` |
        """
        return list(self.admin("GET", "/requests", params={"method": method, "path": path}).data)

    @keyword
    def get_request_count(self, method: str | None = None, path: str | None = None) -> int:
        """Returns how many API requests the emulator received, selected as in `Get Requests`.

        Examples:
        | ${count} = | `Get Request Count` | method=GET | path=/process-runs/ |
        """
        return len(self.get_requests(method, path))

    @keyword
    def clear_request_log(self) -> None:
        """Empties the request log.

        Examples:
        | `Clear Request Log` |
        """
        self.admin("DELETE", "/requests")
