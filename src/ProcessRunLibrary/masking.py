"""Keep API keys and tokens out of every message the library and its dependencies log.

The library's own log lines and errors are masked by value (every key and token the
library has been given, every signed URL it got) and by shape (credentials in query
strings, ``Authorization`` header values), so that a secret that slipped past one net
is caught by the other: :func:`mask`.

Values are kept two ways. Keys and tokens (a few) are found anywhere by one regex,
compiled when something is masked after a new one came. URLs the server gives (a run
may bring thousands) are indexed under one word each, the one fewest URLs share (a
signature, a path token): masking a text looks its words up, so registering and masking
cost the same with 10 URLs known or 10,000. A URL is registered whole, with its path
and query (urllib3 logs them apart) and as JSON may escape it (``\\/``, ``\\u0026``):
its credential may be in the path, where no query-string shape finds it.

The listener masks the messages of other libraries and of Robot Framework by value only
(:func:`mask_known`): it never rewrites their text by pattern. No Robot Framework imports.
"""

from __future__ import annotations

import ast
import contextlib
import logging
import re
from urllib.parse import urlsplit

MASK = "***"

_known: set[str] = set()  # every secret registered
_values: set[str] = set()  # the keys and tokens: matched anywhere by one regex
_values_pattern: re.Pattern[str] | None = None  # _values, longest first; None: to compile
# The URLs the server gives (thousands in a run that saves thousands of files), each
# indexed under one word of it: one regex of them all would cost seconds to compile and
# milliseconds per masked line for every thousand URLs.
_indexed: dict[str, list[str]] = {}
# What a URL's delimiters separate (/?&=.:\): a URL ends a sentence with a dot.
_WORD = re.compile(r"[A-Za-z0-9_~+%-]{8,}")
# Query parameters that carry credentials: Control Room's token, OAuth tokens, and the
# signatures and credentials of presigned URLs (AWS S3, Google Cloud Storage, Azure SAS).
URL_CREDENTIALS = (
    "token", "access_token", "refresh_token", "id_token", "api_key", "apikey", "key",
    "secret", "client_secret", "password", "sig", "signature", "x-amz-signature",
    "x-amz-credential", "x-amz-security-token", "x-goog-signature", "x-goog-credential",
)  # fmt: skip
_SHAPES = [
    # ?token=..., &X-Amz-Signature=... in URLs, also inside error messages and `next` URLs.
    (
        re.compile(
            r"(?i)([?&](?:" + "|".join(re.escape(n) for n in URL_CREDENTIALS) + r")=)"
            r"[^&#\s'\"]+"
        ),
        r"\1" + MASK,
    ),
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
        _USER_KEYWORD_ARGUMENT := re.compile(
            r"(?i)(\$\{\s*(?:api[ _]?key|token|callback[ _]?secret)\s*\}=)"
            r"('[^']*'|\"[^\"]*\"|[^\s|,\]]+)"
        ),
        r"\1" + MASK,
    ),
    # The same as keys of a dictionary or JSON object: Robot shows a user keyword's
    # &{kwargs} as a dictionary, and a start request's callback holds its 'secret'.
    (
        _DICTIONARY_KEY := re.compile(
            r"""(?i)((['"])(?:api_key|token|callback_secret|secret)\2\s*:\s*)((['"])(?:(?!\4).)*\4)"""
        ),
        r"\1\4" + MASK + r"\4",
    ),
]

# The keyword arguments whose values are secrets, in both libraries.
SECRET_ARGUMENTS = frozenset({"api_key", "token", "tokens", "callback_secret"})


def register(*values: object) -> None:
    """Remember secret values so that :func:`mask` hides them wherever they appear.

    Only strings count: unwrap Robot Framework's ``Secret`` first (``types.reveal``).
    A URL (``scheme://...``) is registered with its parts: :func:`register_url`.
    """
    for value in values:
        if not isinstance(value, str) or len(value) < 4 or value in _known:
            continue  # masking 'a' would garble logs
        if "://" in value:
            register_url(value)
        else:
            _add_value(value)


def _add_value(value: str) -> None:
    global _values_pattern
    _known.add(value)
    _values.add(value)
    _values_pattern = None  # compiled again when something is masked next


def register_url(url: str) -> None:
    """Remember a URL the server gave (a presigned upload or download URL) as a secret:
    the URL, its path with its query (what urllib3 logs), its query, each also as JSON
    writes it with ``\\/`` and ``\\u0026``. Its credentials may sit in the query or in
    the path (a token as a path segment): the whole URL is the secret.

    Registering is linear in the URL's length whatever the number of URLs known, and so
    is masking in the text's: each URL is indexed under one word of it (:func:`mask_known`).
    """
    try:
        parts = urlsplit(url)
    except ValueError:  # not a URL after all ('http://[x'): the whole value is the secret
        parts = None
    forms = {url}
    if parts is not None and parts.netloc:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        forms |= {path, parts.query}
    for form in list(forms):
        forms |= {form.replace("/", "\\/"), form.replace("&", "\\u0026")}
        forms.add(form.replace("/", "\\/").replace("&", "\\u0026"))
    for form in forms:
        if len(form) >= 8 and form not in _known:
            _add_indexed(form)


def _add_indexed(secret: str) -> None:
    """Index ``secret`` under its word (a run of ``_WORD``) that the fewest secrets share:
    a signature or a token, which no other URL has. Among those, a word inside the
    secret rather than at its ends (where the text around it may lengthen the word),
    then the longest."""
    found = list(_WORD.finditer(secret))
    if not found:
        _add_value(secret)
        return
    key = min(
        found,
        key=lambda m: (
            len(_indexed.get(m.group(), ())),
            m.start() == 0 or m.end() == len(secret),
            -len(m.group()),
        ),
    ).group()
    _indexed.setdefault(key, []).append(secret)
    _known.add(secret)


def is_known(value: str) -> bool:
    return value in _known


def learn_from_argument_line(text: str) -> None:
    """Register the values of secret-named arguments in Robot Framework's TRACE line of a
    user keyword's arguments (``Arguments: [ ${api_key}='...' | &{kw}={'token': '...'} ]``),
    before that line is logged: the library sees such a value only when the user keyword
    calls it, later."""
    found = [m.group(2) for m in _USER_KEYWORD_ARGUMENT.finditer(text)]
    found += [m.group(3) for m in _DICTIONARY_KEY.finditer(text)]
    for quoted in found:
        register(quoted[1:-1] if quoted[:1] in "'\"" else quoted)
        with contextlib.suppress(ValueError, SyntaxError):
            register(ast.literal_eval(quoted))


def register_urls(data: object) -> None:
    """Remember every ``url`` in a JSON answer: presigned download and upload URLs are
    credentials for as long as they live, in their query or in their path."""
    todo = [data]
    while todo:
        value = todo.pop()
        if isinstance(value, dict):
            url = value.get("url")
            form = value.get("form_data")
            if isinstance(url, str) and isinstance(form, dict):
                # A presigned POST: the URL and its form fields together are the credential.
                register(url, *(v for v in form.values() if isinstance(v, str)))
            elif isinstance(url, str):
                register(url)
            todo.extend(value.values())
        elif isinstance(value, list):
            todo.extend(value)


def mask_known(text: str) -> str:
    """Return ``text`` with every known secret masked; nothing else is changed.

    A URL is found through the word it is indexed under, when that word stands in the
    text between delimiters (as it does in a URL, a quoted string or a log line); the
    keys and tokens are found anywhere."""
    if _indexed:
        found = {
            secret
            for word in set(_WORD.findall(text))
            for secret in _indexed.get(word, ())
            if secret in text
        }
        for secret in sorted(found, key=len, reverse=True):  # a URL before its query
            text = text.replace(secret, MASK)
    pattern = _known_values()
    return pattern.sub(MASK, text) if pattern is not None else text


def _known_values() -> re.Pattern[str] | None:
    global _values_pattern
    if _values_pattern is None and _values:
        ordered = sorted(_values, key=len, reverse=True)
        _values_pattern = re.compile("|".join(re.escape(v) for v in ordered))
    return _values_pattern


def mask(text: str) -> str:
    """Return ``text`` with every known secret and every secret-shaped value masked:
    for the library's own log lines and errors."""
    text = mask_known(text)
    for pattern, replacement in _SHAPES:
        text = pattern.sub(replacement, text)
    return text


class MaskingFilter(logging.Filter):
    """Mask secrets in records of loggers we do not own (urllib3 logs full URLs)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            # Mask argument by argument where that gives the same text, so that later
            # filters still see the arguments (the retry filter reads its Retry object).
            args = record.args if isinstance(record.args, tuple) else None
            if args is not None:
                record.args = tuple(a if mask(str(a)) == str(a) else mask(str(a)) for a in args)
            if args is None or record.getMessage() != masked:
                record.msg, record.args = masked, None
        return True


def mask_third_party_loggers() -> None:
    """Install :class:`MaskingFilter` once on the loggers that print request URLs."""
    for name in ("urllib3.connectionpool", "urllib3.util.retry", "urllib3.response"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, MaskingFilter) for f in logger.filters):
            logger.addFilter(MaskingFilter())


EXCERPT_LIMIT = 2000  # characters of a body that a log line shows


def excerpt(body: object, size: int | None = None) -> str:
    """At most ``EXCERPT_LIMIT`` characters, masked. Only a prefix is masked, long enough
    that a secret cut at its end is still whole where the excerpt ends. ``size``: the
    length of the whole body, when ``body`` is an excerpt of it."""
    text = body if isinstance(body, str) else repr(body)
    if len(text) <= EXCERPT_LIMIT and size is None:
        return mask(text)
    shown = mask(text[: EXCERPT_LIMIT + 8192])
    if len(shown) <= EXCERPT_LIMIT and (size is None or size <= len(text)):
        return shown
    what = f"{len(text)} characters" if size is None else f"{size:,} bytes"
    return f"{shown[:EXCERPT_LIMIT]}... ({what})"
