"""The log of API requests, with secrets masked, as served by GET /_emulator/requests."""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Mapping
from typing import Any

from .common import iso, parse_json

MASK = "***"
MAX_ENTRIES = 20_000  # the oldest entries go first
SECRET_QUERY_KEYS = frozenset({"token", "signature"})  # signature: of a download URL
SECRET_HEADERS = frozenset({"x-hook-secret"})
MASKED_HEADERS = SECRET_HEADERS | {"authorization"}


def mask_authorization(value: str) -> str:
    scheme, _, credentials = value.partition(" ")
    return f"{scheme} {MASK}" if credentials else MASK


def mask_header(name: str, value: str) -> str:
    lowered = name.lower()
    if lowered == "authorization":
        return mask_authorization(value)
    return MASK if lowered in SECRET_HEADERS else value


def masked_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers as a dict, secrets masked (most requests have few headers, and only
    Authorization among the secret ones)."""
    kept = dict(headers.items())
    for name, value in kept.items():
        if name.lower() in MASKED_HEADERS:
            kept[name] = mask_header(name, value)
    return kept


def mask_body(body: Any) -> Any:
    """A start request's `callback.secret` is masked."""
    callback = body.get("callback") if isinstance(body, dict) else None
    if isinstance(callback, dict) and "secret" in callback:
        return {**body, "callback": {**callback, "secret": MASK}}
    return body


def parse_body(raw: bytes) -> Any:
    if not raw:
        return None
    text = raw.decode("utf-8", errors="replace")
    try:
        return parse_json(text)
    except ValueError:  # also NaN, 1e400, too deep: the log is served as JSON
        return text


def masked_query(query: Mapping[str, str]) -> dict[str, str]:
    return {k: (MASK if k in SECRET_QUERY_KEYS else v) for k, v in query.items()}


def shown(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry as served: its time written out, secrets masked, its body parsed (a body
    given as bytes is the request's; anything else is what the caller logged for it)."""
    body = entry["body"]
    if isinstance(body, bytes):
        body = mask_body(parse_body(body)) if body else None
    return {
        **entry,
        "time": iso(entry["time"]),
        "query": masked_query(entry["query"]),
        "headers": masked_headers(entry["headers"]),
        "body": body,
    }


class RequestLog:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.entries: deque[dict[str, Any]] = deque(maxlen=max_entries)
        self._seq = 0

    def record(
        self,
        method: str,
        path: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        body: bytes,
    ) -> dict[str, Any]:
        """Add an entry for a request that has just arrived; the caller fills in
        `status` and `fault` when the answer is known, and may replace `body` with what
        is logged for it. The entry keeps the request's own (read-only) query, headers
        and body: they are masked and parsed when the log is read (select), not on the
        path of every request."""
        self._seq += 1
        entry = {
            "seq": self._seq,
            "time": time.time(),
            "method": method,
            "path": path,
            "query": query,
            "headers": headers,
            "body": body,
            "status": None,
            "fault": None,
        }
        self.entries.append(entry)
        return entry

    def select(self, method: str | None = None, path: str | None = None) -> list[dict[str, Any]]:
        pattern = re.compile(path) if path else None
        return [
            shown(e)
            for e in self.entries
            if (method is None or e["method"] == method.upper())
            and (pattern is None or pattern.search(e["path"]))
        ]

    def clear(self) -> int:
        """Forget every entry; numbering starts again at 1."""
        count = len(self.entries)
        self.entries.clear()
        self._seq = 0
        return count
