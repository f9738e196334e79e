"""The origin and redirect policy: where a request may go, and which redirects it follows.

- An API request (with the credentials) goes only to the origin (scheme, host, port) of
  ``api_url``; a redirect there is followed for GET and DELETE, at most
  ``MAX_REDIRECTS`` times; anything else is an error.
- A presigned download (no credentials) follows 301, 302, 303, 307 and 308 to any http or
  https URL, never from https to http, at most ``MAX_REDIRECTS`` times.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.utils import requote_uri
from urllib3.util import parse_url

from .. import masking
from ..errors import ControlRoomError

MAX_REDIRECTS = 5
REDIRECTS = frozenset({301, 302, 303, 307, 308})
UNREADABLE = ""  # what redirect_url gives for a Location that is no URL


class RedirectsLeftAlone(requests.Session):
    """A session that leaves every redirect to the rules here."""

    def get_redirect_target(self, resp: requests.Response) -> None:
        # Even when not following, requests parses a Location to offer it as
        # ``response.next``: a Location that is no URL raised a bare ValueError.
        return None


def origin(url: str) -> str:
    """``scheme://host:port`` of a URL, lower case, with the default port filled in."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    port = port or {"http": 80, "https": 443}.get(scheme)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}"


_HOST = re.compile(r"\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+")  # a name, IPv4 or [IPv6]


def redirect_url(source: str, location: str | None) -> str | None:
    """The URL a ``Location`` points to (relative to ``source``), quoted as requests
    would send it, so that no control character of it reaches a message; ``None``
    without a Location, ``UNREADABLE`` for one that is no URL with a host."""
    if not location:
        return None
    try:
        target = requote_uri(urljoin(source, location))
        parts = parse_url(target)
    except ValueError:  # urllib's and urllib3's parse errors both are
        return UNREADABLE
    if parts.scheme in ("http", "https") and not _HOST.fullmatch(parts.host or ""):
        # No host, or one no DNS name or IP address has (urllib3 before 2.1 let a
        # percent-encoded control character through as part of a host).
        return UNREADABLE
    return target


def api_redirect_refusal(
    api_origin: str, method: str, target: str | None, shown_target: str, hops: int
) -> str | None:
    """Why an API request does not follow a redirect to ``target`` (hop number ``hops``;
    ``shown_target`` as messages show it), or ``None`` to follow it."""
    if target is None:
        return "a redirect without a Location"
    if target == UNREADABLE:
        return "a redirect to a URL that cannot be read, not followed"
    if origin(target) != api_origin:
        return (
            f"a redirect to another origin ({origin(target)}) than Control Room's "
            f"({api_origin}), not followed"
        )
    if method not in ("GET", "DELETE"):
        return f"a redirect to {shown_target}, not followed for {method}"
    if hops > MAX_REDIRECTS:
        return f"more than {MAX_REDIRECTS} redirects, not followed further"
    return None


def download_redirect_refusal(source: str, target: str | None, hops: int) -> str | None:
    """Why a presigned download does not follow a redirect from ``source`` to
    ``target`` (hop number ``hops``), or ``None`` to follow it."""
    if target is None:
        return "a redirect without a Location"
    if target == UNREADABLE:
        return "a redirect to a URL that cannot be read, not followed"
    scheme = urlsplit(target).scheme.lower()
    if scheme not in ("http", "https"):
        return "a redirect to a URL that is not http or https, not followed"
    if scheme == "http" and urlsplit(source).scheme.lower() == "https":
        return "a redirect from https to http, not followed"
    if hops > MAX_REDIRECTS:
        return f"more than {MAX_REDIRECTS} redirects, not followed further"
    return None


def check_origin(api_origin: str, method: str, shown: str, url: str, what: str) -> None:
    """Refuse a URL (a request or its ``next`` page) off Control Room's origin."""
    there = origin(url)
    if there != api_origin:
        raise ControlRoomError(
            method,
            shown,
            f"{what} on another origin ({there}) than Control Room's ({api_origin}): "
            "nothing is sent there, so that the credentials stay with Control Room.",
            permanent=True,
        )


def shown_path(api_url: str, url: str, params: Mapping[str, Any] | None) -> str:
    """A URL as logs and errors show it: relative to the API URL, secrets masked."""
    if params:
        query = "&".join(f"{k}={v}" for k, v in params.items() if v is not None)
        url = f"{url}{'&' if '?' in url else '?'}{query}" if query else url
    if url.startswith(api_url):
        url = url[len(api_url) :]
    return masking.mask(url)
