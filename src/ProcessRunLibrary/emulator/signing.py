"""Signed URLs, as Control Room's presigned download and upload URLs work: the URL carries
its expiry and an HMAC of the path and expiry; a wrong signature or an expired URL is
refused. One key per emulator process, made at start."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping

DEFAULT_EXPIRY_SECONDS = 3600.0  # Control Room documents one hour for download URLs
_KEY = secrets.token_bytes(32)


def _signature(path: str, expires: int) -> str:
    return hmac.new(_KEY, f"{path}\n{expires}".encode(), hashlib.sha256).hexdigest()


def sign(path: str, expires_in: float = DEFAULT_EXPIRY_SECONDS, now: float | None = None) -> str:
    """The query string (``expires=...&signature=...``) that makes ``path`` a signed URL."""
    expires = int((time.time() if now is None else now) + expires_in)
    return f"expires={expires}&signature={_signature(path, expires)}"


def check(path: str, query: Mapping[str, str], now: float | None = None) -> str | None:
    """``None`` when ``query`` signs ``path`` and has not expired, else why not."""
    try:
        expires = int(query.get("expires", ""))
    except ValueError:
        return "The URL is not signed."
    # As bytes: compare_digest refuses str with non-ASCII characters (a TypeError, a 500).
    given = query.get("signature", "").encode("utf-8", "surrogateescape")
    if not hmac.compare_digest(given, _signature(path, expires).encode()):
        return "The URL's signature does not match."
    if (time.time() if now is None else now) > expires:
        return "The URL has expired."
    return None
