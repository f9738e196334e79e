"""ProcessRunLibrary: start, watch, stop and clean up Control Room process runs.

The library class is in ``library.py``. This ``__init__`` imports nothing of Robot
Framework: the names it exports are imported on first use (PEP 562), so that
``import ProcessRunLibrary.client``, plain Python over requests, loads no ``robot``
module. Robot Framework's ``Library  ProcessRunLibrary`` finds the class by the module's
name, which is such a first use."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .version import VERSION

if TYPE_CHECKING:
    from .library import ProcessRunLibrary
    from .types import CallbackEvent, Id, OnTimeout, ProcessRunState, Time, WorkItemState

__version__ = VERSION
__all__ = [
    "CallbackEvent",
    "Id",
    "OnTimeout",
    "ProcessRunLibrary",
    "ProcessRunState",
    "Time",
    "WorkItemState",
]
_HOMES = {name: ".types" for name in __all__} | {"ProcessRunLibrary": ".library"}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_HOMES[name], __name__), name)
    globals()[name] = value  # later uses find it without this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
