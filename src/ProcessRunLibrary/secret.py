"""Robot Framework 7.4+'s ``Secret``, a value Robot itself never logs, and the string
inside it. A leaf of its own: the listeners (listener.py, typos.py) and the argument
types (types.py) all need it, and types.py imports typos.py."""

from __future__ import annotations

from typing import Any

try:  # Robot Framework 7.4+: secrets that Robot itself never logs.
    from robot.api.types import Secret
except ImportError:  # pragma: no cover - older Robot Framework
    Secret = None


def reveal(value: Any) -> Any:
    """The string inside a ``Secret``; other values as they are."""
    if Secret is not None and isinstance(value, Secret):
        return value.value
    return value
