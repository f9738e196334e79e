"""A plain Python client for Control Room's API (``/api/v1``).

One :class:`ControlRoomClient` is one Control Room session. What every request shares
is in :mod:`.transport` (the sessions and the one retry loop) and its rooms:
:mod:`.auth` (credentials), :mod:`.deadline` (one attempt, bounded from connect to the
last byte), :mod:`.retries` (when to try again), :mod:`.answers` (reading and checking
what came back, and the messages), :mod:`.origins` (where requests and redirects may
go), :mod:`.paging` (listings). Each resource is a thin class of endpoint methods over
it; :mod:`.downloads` and :mod:`.uploads` carry files. Nothing here imports Robot
Framework.
"""

from __future__ import annotations

from ..errors import RETRY_STATUSES
from .processes import Processes
from .processruns import ProcessRuns
from .stepruns import StepRuns
from .transport import MAY_HAVE_STARTED, USER_AGENT, Credentials, Transport
from .workitems import WorkItems


class ControlRoomClient(ProcessRuns, Processes, WorkItems, StepRuns, Transport):
    """One Control Room session: a workspace, credentials and connection settings."""


__all__ = [
    "MAY_HAVE_STARTED",
    "RETRY_STATUSES",
    "USER_AGENT",
    "ControlRoomClient",
    "Credentials",
    "Transport",
]
