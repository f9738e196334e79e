"""What every route module shares (a leaf: it imports no route module): the app and
request keys, the JSON answers and errors, reading a JSON body, the request's workspace,
paging, and the origin that absolute URLs in answers use."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import math
import re
from collections.abc import Awaitable, Callable, Hashable
from typing import Any
from urllib.parse import quote

from aiohttp import web
from yarl import URL

from ..common import MAX_PAGE_SIZE, ApiError, bad_request, parse_json
from ..state import Workspace
from .context import Context, Served

API_PREFIX = "/api/v1"
ADMIN_PREFIX = "/_emulator"
WS = "/workspaces/{ws}"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Page = tuple[list[dict[str, Any]], int | None]  # the items, and the cursor of what follows
Lister = Callable[[Workspace, int, int | None], Page]

CONTEXT = web.AppKey("context", Context)
# What a request carries between the middleware and its handler.
SERVED = web.RequestKey("served", Served)
LOG_ENTRY = web.RequestKey("log_entry", dict)  # its request log entry (requestlog.py)
UPLOAD = web.RequestKey("upload", object)  # an upload's form as the request log shows it

_ENCODE = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode


JSON_TYPE = "application/json; charset=utf-8"


def json_response(data: Any, status: int = 200, **headers: str) -> web.Response:
    # allow_nan=False: NaN and Infinity are not JSON; better a 500 than a broken body.
    return encoded_response(_ENCODE(data).encode(), status, **headers)


def encoded_response(body: bytes, status: int = 200, **headers: str) -> web.Response:
    # The Content-Type as a header, not content_type=: aiohttp then parses nothing.
    return web.Response(body=body, status=status, headers={"Content-Type": JSON_TYPE, **headers})


class Answers:
    """Encoded JSON answers by a key that holds everything the answer is made of (e.g. a
    run's `RunFacts`): a memo of a pure function, so an answer found here is never stale
    and nothing needs to be forgotten when the state changes. Polling asks for the same
    run again and again; its answer is encoded once per change of state. At most `size`
    answers are kept: when full, it starts again empty."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._bodies: dict[Hashable, bytes] = {}

    def __len__(self) -> int:
        return len(self._bodies)

    def body(self, key: Hashable, build: Callable[[Any], Any]) -> bytes:
        """The encoded `build(key)`: `build` must depend on nothing but the key."""
        body = self._bodies.get(key)
        if body is None:
            if len(self._bodies) >= self.size:
                self._bodies.clear()
            body = self._bodies[key] = _ENCODE(build(key)).encode()
        return body


ANSWERS = Answers(10_000)


def error_response(error: ApiError) -> web.Response:
    return json_response(error.body(), error.status)


def attachment(name: str) -> str:
    """A Content-Disposition for any file name: percent-encoded (RFC 6266), so that a
    hostile name (quotes, CR LF, NUL) cannot break the header."""
    return f"attachment; filename*=UTF-8''{quote(name, safe='')}"


# --- marks on handlers, read by the middleware ---------------------------------------------


def with_cors(handler: Handler) -> Handler:
    """The seed lists Access-Control-Allow-Origin on this operation's 200 answers."""
    handler.cors = True  # type: ignore[attr-defined]
    return handler


def key_in_query(handler: Handler) -> Handler:
    """This operation takes its credential in the `token` query parameter, not a header."""
    handler.key_in_query = True  # type: ignore[attr-defined]
    return handler


# --- the request's workspace and body ------------------------------------------------------


def served_of(request: web.Request) -> Served:
    """The workspace an API or admin request is for: the one its credential opens."""
    return request[SERVED]


def workspace_of(request: web.Request) -> Workspace:
    """The workspace an API request is for. Handlers reach the state only through this."""
    return served_of(request).workspace


def optional(request: web.Request, name: str) -> str | None:
    value = request.query.get(name)
    return value if value else None


async def read_json(request: web.Request, required: bool) -> Any:
    raw = await request.read()
    if not raw.strip():
        if required:
            raise bad_request("The request body must be JSON.")
        return None
    try:
        return parse_json(raw)
    except ValueError:
        raise bad_request("The request body is not valid JSON.") from None


# --- pagination -------------------------------------------------------------------------


def page_limit(request: web.Request) -> int:
    raw = request.query.get("limit")
    if raw is None or raw == "":
        return workspace_of(request).page_size
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    # The schema's type is `number`: 2.5 is served as 2; below 1 is no page size.
    if not math.isfinite(value) or value < 1:
        raise bad_request(f"'limit' must be a number from 1 up, got '{raw}'.")
    return min(int(value), MAX_PAGE_SIZE)


def decode_cursor(request: web.Request, kind: str) -> int | None:
    raw = request.query.get("cursor")
    if raw is None:
        return None
    try:
        decoded = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        prefix, _, number = decoded.partition(":")
        if prefix != kind or not number.isascii() or not number.isdigit():
            raise ValueError(decoded)
        return int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise bad_request("'cursor' is not valid: follow the 'next' URL as given.") from None


def page_envelope(
    request: web.Request, kind: str, page: list[Any], cursor: int | None, limit: int
) -> dict[str, Any]:
    """A page of a listing as JSON: `next` (the URL of what follows), `has_more`, `data`."""
    next_url = None
    if cursor is not None:
        token = base64.urlsafe_b64encode(f"{kind}:{cursor}".encode()).decode().rstrip("=")
        query = {k: v for k, v in request.query.items() if k not in ("cursor", "limit")}
        query["limit"] = str(limit)
        query["cursor"] = token
        next_url = str(origin(request).join(request.rel_url).with_query(query))
    return {"next": next_url, "has_more": cursor is not None, "data": page}


def page_response(
    request: web.Request, kind: str, page: list[dict[str, Any]], cursor: int | None, limit: int
) -> web.Response:
    return json_response(page_envelope(request, kind, page, cursor, limit))


def encoded_page_response(
    request: web.Request, kind: str, items: list[bytes], cursor: int | None, limit: int
) -> web.Response:
    """page_response with its items encoded already (e.g. by ANSWERS): the same bytes."""
    envelope = _ENCODE(page_envelope(request, kind, [], cursor, limit)).encode()
    # "data" is the envelope's last key: the items go between its brackets, `[]}`.
    return encoded_response(envelope[:-2] + b",".join(items) + b"]}")


def paged(request: web.Request, kind: str, lister: Lister) -> web.Response:
    """One page of a listing: `lister(workspace, limit, cursor)` gives the page and the
    cursor of what follows; `kind` names the cursor, so one listing's cursor is refused
    by another."""
    limit = page_limit(request)
    page, cursor = lister(workspace_of(request), limit, decode_cursor(request, kind))
    return page_response(request, kind, page, cursor, limit)


# --- the origin of absolute URLs -----------------------------------------------------------

HOST_HEADER = re.compile(r"([A-Za-z0-9._~-]+|\[([0-9A-Fa-f:.]+)\])(?::([0-9]{1,5}))?")


def plain_host(host: str) -> bool:
    """`host[:port]` with a plain name, an IPv4 or a bracketed IPv6 address, port 1-65535."""
    match = HOST_HEADER.fullmatch(host)
    if match is None or (match[3] is not None and not 0 < int(match[3]) < 65536):
        return False
    try:
        return match[2] is None or bool(ipaddress.IPv6Address(match[2]))
    except ValueError:
        return False


def origin(request: web.Request) -> URL:
    """`scheme://host:port` as the client addressed the emulator (its Host header), for the
    absolute URLs in answers (`next`, download links). A Host header that is not a plain
    host[:port] is not echoed: the address the request came in on is used instead."""
    if plain_host(request.host):
        return URL.build(scheme=request.scheme, authority=request.host)
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    host, port = (sockname[0], sockname[1]) if sockname else ("127.0.0.1", None)
    return URL.build(scheme=request.scheme, host=host, port=port)
