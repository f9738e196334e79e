"""Listings: the pages of a listing followed one by one, within bounds.

A listing follows each ``next`` URL verbatim, only on Control Room's origin, never a page
twice, at most ``max_pages`` pages, and at most ``max_listing_bytes`` of answers in all
(``Transport.max_listing_bytes``): 1,500 pages of 1 MB once held 2.2 GB.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

import requests

from ..errors import ControlRoomError
from .answers import JSON, kind, size_text
from .origins import check_origin, shown_path

if TYPE_CHECKING:
    from .transport import Transport


def pages(
    transport: Transport,
    path: str,
    params: Mapping[str, Any],
    limit: int | None,
    quiet: bool = False,
    timeout: float | None = None,
) -> Iterator[JSON]:
    """Yield items page by page, following each ``next`` URL verbatim.

    A ``next`` URL on another origin than ``api_url``, one already read, more than
    ``max_pages`` pages or pages adding up to more than ``max_listing_bytes`` fail
    the listing."""
    query = {k: v for k, v in params.items() if v is not None}
    if limit is not None:
        query["limit"] = limit
    url = transport.workspace_url + path
    seen = {requests.Request("GET", url, params=query).prepare().url or url}
    page, total, shown = transport.page(url, query, quiet, timeout)
    for count in range(1, transport.max_pages + 1):
        items = page["data"]
        if not all(isinstance(item, dict) for item in items):
            odd = next(kind(i) for i in items if not isinstance(i, dict))
            raise ControlRoomError(
                "GET",
                shown,
                f"200 OK with an unexpected answer: expected 'data' to be a list of "
                f"objects, got a list holding {odd}.",
                status=200,
            )
        yield from items
        next_url = page.get("next")
        if not next_url or page.get("has_more") is False:
            return
        next_url = urljoin(url, next_url)
        check_origin(transport.origin, "GET", shown, next_url, "its next page is")
        if next_url in seen:
            raise ControlRoomError(
                "GET",
                shown,
                f"its next page is one already read ({shown_path(transport.api_url, next_url, None)}): "
                "the listing would never end.",
                permanent=True,
            )
        if count == transport.max_pages:
            break
        seen.add(next_url)
        url = next_url
        page, size, shown = transport.page(next_url, None, quiet, timeout)
        total += size
        if total > transport.max_listing_bytes:
            raise ControlRoomError(
                "GET",
                shown,
                f"the listing's pages add up to more than {size_text(transport.max_listing_bytes)}, "
                "the most one listing may hold: it is not followed further.",
                permanent=True,
            )
    raise ControlRoomError(
        "GET",
        shown,
        f"the listing has more than {transport.max_pages:,} pages, more than any listing of "
        "Control Room needs: it is not followed further.",
        permanent=True,
    )
