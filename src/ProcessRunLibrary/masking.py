"""Keep API keys and tokens out of every message the library and its dependencies log.

Secrets are masked by value (every key and token the library has been given) and by
shape (``token=`` query parameters and ``Authorization`` header values), so that a
secret that slipped past one net is caught by the other. No Robot Framework imports.
"""

from __future__ import annotations

import logging
import re

MASK = "***"

_known: set[str] = set()
_SHAPES = [
    # ?token=... in URLs, also inside error messages and `next` URLs.
    (re.compile(r"(?i)([?&]token=)[^&#\s'\"]+"), r"\1" + MASK),
    # Authorization header values, however they are quoted.
    (re.compile(r"(?i)((?:RC-WSKEY|Bearer)\s+)[^\s'\",}]+"), r"\1" + MASK),
    # Named arguments that Robot Framework shows at TRACE level.
    (
        re.compile(
            r"(?<![?&\w])((?:api_key|token|callback_secret)=)('[^']*'|\"[^\"]*\"|[^\s|,\]]+)"
        ),
        r"\1" + MASK,
    ),
    # The same as arguments of a user keyword, which Robot shows as ${api_key}='...'.
    (
        re.compile(
            r"(?i)(\$\{\s*(?:api[ _]?key|token|callback[ _]?secret)\s*\}=)"
            r"('[^']*'|\"[^\"]*\"|[^\s|,\]]+)"
        ),
        r"\1" + MASK,
    ),
    # The same as keys of a dictionary or JSON object: Robot shows a user keyword's
    # &{kwargs} as a dictionary, and a start request's callback holds its 'secret'.
    (
        re.compile(
            r"""(?i)((['"])(?:api_key|token|callback_secret|secret)\2\s*:\s*)(['"])(?:(?!\3).)*\3"""
        ),
        r"\1\3" + MASK + r"\3",
    ),
]


def register(*values: object) -> None:
    """Remember secret values so that :func:`mask` hides them wherever they appear.

    Only strings count: unwrap Robot Framework's ``Secret`` first (``types.reveal``).
    """
    for value in values:
        if isinstance(value, str) and len(value) >= 4:  # masking 'a' would garble logs
            _known.add(value)


def register_urls(data: object) -> None:
    """Remember every ``url`` in a JSON answer that carries a query string: presigned
    download and upload URLs are credentials for as long as they live."""
    todo = [data]
    while todo:
        value = todo.pop()
        if isinstance(value, dict):
            url = value.get("url")
            form = value.get("form_data")
            if isinstance(url, str) and isinstance(form, dict):
                # A presigned POST: the URL and its form fields together are the credential.
                register(url, *(v for v in form.values() if isinstance(v, str)))
            elif isinstance(url, str) and "?" in url:
                register(url, url.split("?", 1)[1])
            todo.extend(value.values())
        elif isinstance(value, list):
            todo.extend(value)


def mask(text: str) -> str:
    """Return ``text`` with every known secret and every secret-shaped value masked."""
    for value in sorted(_known, key=len, reverse=True):
        if value in text:
            text = text.replace(value, MASK)
    for pattern, replacement in _SHAPES:
        text = pattern.sub(replacement, text)
    return text


class MaskingFilter(logging.Filter):
    """Mask secrets in records of loggers we do not own (urllib3 logs full URLs)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def mask_third_party_loggers() -> None:
    """Install :class:`MaskingFilter` once on the loggers that print request URLs."""
    for name in ("urllib3.connectionpool", "urllib3.util.retry", "urllib3.response"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, MaskingFilter) for f in logger.filters):
            logger.addFilter(MaskingFilter())
