"""How text from elsewhere is shown to a user: a server's strings made harmless for a
terminal, and long lists cut short. Plain Python, no Robot Framework."""

from __future__ import annotations

import re
from collections.abc import Sequence

SHOWN_CHARS = 200  # of one value in a message or log line (docs/design.md, "Messages")
LISTED = 10  # items of a list named in a message or log line

# What a terminal acts on: OSC, DCS, SOS, PM and APC strings up to their terminator (BEL
# or ST; unterminated, a terminal swallows the rest), CSI sequences (cursor moves, screen
# clears, DSR queries) and the other escapes, each in its 7-bit (ESC) and 8-bit (C1) form.
_STRING = r"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
_CSI = r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
_ESCAPE = re.compile(rf"{_STRING}|{_CSI}|\x1b[ -/]*[0-~]")


def printable(value: object, limit: int | None = SHOWN_CHARS) -> str:
    """``value`` (any JSON value, usually a string from the server) as text that a
    terminal shows as it is: escape sequences removed with what they carry, then every
    character :meth:`str.isprintable` refuses (controls, line breaks, bidi overrides,
    lone surrogates); cut after ``limit`` characters, ``...`` marking the cut."""
    whole = value if isinstance(value, str) else str(value)
    # The work stays small whatever the server sends: escapes are rarely long.
    text = whole if limit is None else whole[: limit * 8 + 1024]
    clean = "".join(c for c in _ESCAPE.sub("", text) if c.isprintable())
    if limit is not None and (len(clean) > limit or len(text) < len(whole)):
        return clean[:limit] + "..."
    return clean


def counted(count: int, what: str, plural: str | None = None) -> str:
    """``1 work item``, ``2 work items``, ``0 processes`` (with ``plural="processes"``)."""
    return f"{count} {what if count == 1 else plural or what + 's'}"


def listed(items: Sequence[str], limit: int = LISTED) -> str:
    """The first ``limit`` items joined with ``, ``, then ``and N more``."""
    shown = ", ".join(items[:limit])
    rest = len(items) - limit
    return f"{shown} and {rest:,} more" if rest > 0 else shown
