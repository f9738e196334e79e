"""Reading and checking answers, and the words a failure is told in.

An answer must be what Control Room sends: strict JSON, at most ``MAX_DEPTH`` deep, a
JSON object with the fields a request expects (:func:`check_answer`). An error answer
becomes a :class:`ControlRoomError` with Control Room's code and message
(:func:`error_from`); a failure without an answer becomes one short sentence without
exception class names (:func:`describe`).
"""

from __future__ import annotations

import http.client
import json as jsonlib
import socket
import ssl
from collections.abc import Mapping
from functools import lru_cache
from http import HTTPStatus
from typing import Any

import requests
import urllib3.exceptions as u3

from .. import masking
from ..errors import ControlRoomError
from ..returns import JsonDict
from ..text import printable
from .deadline import PROGRESS_BYTES, Expired, Stalled, TooLarge
from .retries import BrokenBody, causes

JSON = Any
MAX_DEPTH = 64  # Control Room's own JSON nests about 5 deep; payloads a little deeper
MAY_HAVE_STARTED = (
    " The process run may have been started anyway: a start is not repeated after such an "
    "error, so that no run is started twice; List Process Runs shows whether it exists."
)
PAGE = {"data": "list", "next": "string or null", "has_more": "boolean or null"}
_KINDS: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "list": (list,),
    "boolean": (bool,),
    "object": (dict,),
    "number": (int, float),
}
_CONTAINERS = frozenset({JsonDict, list})  # what parse_json makes that can nest
_TLS = (ssl.SSLError, u3.SSLError, requests.exceptions.SSLError)
_TIMEOUTS = (requests.Timeout, u3.TimeoutError, TimeoutError, Expired)
_NO_NAME = (u3.NameResolutionError, socket.gaierror)
_CLOSED = (
    http.client.RemoteDisconnected,
    http.client.IncompleteRead,
    u3.ProtocolError,
    ConnectionResetError,
    requests.exceptions.ChunkedEncodingError,
    *_TLS,
)


def _refuse(constant: str) -> None:
    raise ValueError(f"not JSON ({constant} is not a JSON value)")


# One decoder for every answer (json.loads would make one per call). Every JSON object
# becomes a JsonDict as it is parsed: the keywords return answers with dot access
# (``${run.state}``) without walking and copying them afterwards.
_DECODER = jsonlib.JSONDecoder(parse_constant=_refuse, object_hook=JsonDict)


def parse_json(content: bytes | str) -> JSON:
    """Strict JSON (no NaN or Infinity) nested at most ``MAX_DEPTH`` deep, its objects
    :class:`JsonDict`; a ``ValueError`` says what is wrong."""
    try:
        if isinstance(content, bytes):  # as json.loads reads bytes: UTF-8, -16 or -32
            text = content.decode(jsonlib.detect_encoding(content), "surrogatepass")
        else:
            text = content
        data = _DECODER.decode(text)
    except RecursionError:
        raise ValueError(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    except UnicodeDecodeError:
        raise ValueError("not JSON (not UTF-8)") from None
    except ValueError as error:
        if str(error).startswith("not JSON"):
            raise
        raise ValueError("not JSON") from None
    curly, square = (b"{", b"[") if isinstance(content, bytes) else ("{", "[")
    if content.count(curly) + content.count(square) <= MAX_DEPTH:  # type: ignore[arg-type]
        return data  # too few brackets to nest too deep: no need to walk it
    level, depth = [data] if type(data) in _CONTAINERS else [], 1  # a level at a time
    while level:
        if depth > MAX_DEPTH:
            raise ValueError(f"JSON nested deeper than {MAX_DEPTH} levels")
        level = [
            child
            for value in level
            for child in (value if type(value) is list else value.values())
            if type(child) in _CONTAINERS
        ]
        depth += 1
    return data


def json_or_none(content: bytes) -> JSON:
    try:
        return parse_json(content)
    except ValueError:
        return None


def shape_problem(data: JSON, expect: Mapping[str, str]) -> str | None:
    """What is wrong with an answer, as 'expected ..., got ...', or ``None``."""
    if not isinstance(data, dict):
        return f"expected a JSON object, got {kind(data)}"
    for name, wanted in expect.items():
        optional = wanted.endswith(" or null")
        types = _KINDS[wanted.removesuffix(" or null")]
        value = data.get(name)
        if value is None and optional:
            continue
        if name not in data:
            return f"expected '{name}' ({wanted}), got no '{name}'"
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            article = "an" if wanted[0] in "aeiou" else "a"
            return f"expected '{name}' to be {article} {wanted}, got {kind(value)}"
    return None


def kind(value: JSON) -> str:
    """A JSON value as a message shows it: its kind, and a short excerpt."""
    if value is None:
        return "null"
    name = {bool: "a boolean", str: "a string", list: "a list", dict: "an object"}.get(
        type(value), "a number"
    )
    text = printable(jsonlib.dumps(value, ensure_ascii=False, default=str), None)
    text = text if len(text) <= 40 else text[:37] + "..."
    return f"{name} ({masking.mask(text)})"


def check_answer(
    method: str,
    shown: str,
    response: requests.Response,
    starts_run: bool,
    expect: Mapping[str, str] | None,
) -> JSON:
    """The JSON object of a successful answer, checked against ``expect``."""
    status = status_text(response.status_code)
    may = MAY_HAVE_STARTED if starts_run else ""
    if not response.content:
        if expect is None:
            return {}
        raise ControlRoomError(
            method, shown, f"{status} with an empty body, expected a JSON object.{may}",
            status=response.status_code,
        )  # fmt: skip
    try:
        data = parse_json(response.content)
    except ValueError as error:
        raise ControlRoomError(
            method, shown, f"{status} with a body that is {error}.{may}",
            status=response.status_code,
        ) from None  # fmt: skip
    problem = shape_problem(data, expect or {})
    if problem:
        raise ControlRoomError(
            method, shown, f"{status} with an unexpected answer: {problem}.{may}",
            status=response.status_code,
        )  # fmt: skip
    if b'"url"' in response.content:  # presigned download or upload URLs
        masking.register_urls(data)
    return data


def error_from(
    method: str, shown: str, response: requests.Response, starts_run: bool = False
) -> ControlRoomError:
    """The error of an answer with an error status, with Control Room's code and message."""
    code = detail = None
    try:
        error = parse_json(response.content).get("error") or {}
        code, detail = error.get("code"), error.get("message")
    except (ValueError, AttributeError):
        pass
    code = code if isinstance(code, str) else None
    detail = detail if isinstance(detail, str) else None
    reason = status_text(response.status_code)
    if code or detail:
        # A server's words reach the console in the failure: harmless for a terminal.
        reason += ": " + ": ".join(printable(part, 500) for part in (code, detail) if part)
    retried = retries_text(getattr(response, "retries_made", 0))
    refused = getattr(response, "retry_after_refused", None)
    if refused:
        retried += f" (Retry-After asked for {refused:g} seconds, more than the wait had left)"
    if starts_run and response.status_code >= 500:
        retried += MAY_HAVE_STARTED
    return ControlRoomError(
        method,
        shown,
        masking.mask(reason + retried),
        status=response.status_code,
        code=code,
        detail=detail,
    )


def logged_body(response: requests.Response, limit: int) -> str:
    """The start of an answer's body as a log line shows it: about ``limit`` characters,
    masked, and harmless for a terminal (a debug file is read with ``tail``)."""
    content = response.content
    head = content[: limit * 4 + 8192]
    text = head.decode(response.encoding or "utf-8", errors="replace")
    whole = None if len(head) == len(content) else len(content)
    return printable(masking.excerpt(text, whole), None)


def describe(error: BaseException | None, timeout: float | None = None) -> str:
    """A short sentence for a failure without an answer, without exception class names."""
    if isinstance(error, BrokenBody):
        return f"{error}."
    if isinstance(error, TooLarge):
        return f"{status_text(error.args[0])} with a body that is too large."
    chain = causes(error)
    texts = " ".join(str(e) for e in chain)
    if _found(chain, (*_TLS, ssl.CertificateError)):
        mismatch = any(
            m in texts for m in ("Hostname mismatch", "IP address mismatch", "doesn't match")
        )
        if mismatch:
            return "the TLS certificate is not valid for this host name (it names another host)."
        if "certificate verify failed" in texts or _found(chain, ssl.SSLCertVerificationError):
            return "TLS certificate verification failed (give verify a CA bundle path)."
    seconds = round(timeout, 1) if timeout else timeout
    within = f"{seconds:g} second{'' if seconds == 1 else 's'}" if seconds else ""
    if _found(chain, Stalled):
        size = f"{PROGRESS_BYTES // 1024} KiB"
        return f"the upload stalled (less than {size} sent in {within})."
    if any(isinstance(e, _TIMEOUTS) and not isinstance(e, u3.NewConnectionError) for e in chain):
        return f"no answer within {within}." if within else "no answer."
    if _found(chain, ConnectionRefusedError) or "Connection refused" in texts:
        return "connection refused."
    if _found(chain, _NO_NAME):
        return "the host name could not be resolved."
    if _found(chain, _CLOSED):
        return "the connection was closed before an answer came."
    text = printable(str(chain[-1]), None) if chain else ""
    return masking.mask(text) or "unknown error"


def _found(chain: list[BaseException], kinds: type | tuple[type, ...]) -> bool:
    return any(isinstance(e, kinds) for e in chain)


@lru_cache(maxsize=1024)  # every answer is told by its status: at most 900 of them
def status_text(code: int) -> str:
    try:
        return f"{code} {HTTPStatus(code).phrase}"
    except ValueError:
        return str(code)


def size_text(limit: int) -> str:
    return f"{limit / 1024 / 1024:g} MB" if limit >= 1024 * 1024 else f"{limit:,} bytes"


def retries_text(made: int) -> str:
    return f" (after {made} {'retry' if made == 1 else 'retries'})" if made else ""
