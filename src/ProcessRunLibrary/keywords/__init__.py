from .processes import ProcessKeywords
from .processruns import ProcessRunKeywords
from .sessions import SessionKeywords
from .stepruns import StepRunKeywords
from .waiting import WaitingKeywords
from .workitems import WorkItemKeywords

__all__ = [
    "ProcessKeywords",
    "ProcessRunKeywords",
    "SessionKeywords",
    "StepRunKeywords",
    "WaitingKeywords",
    "WorkItemKeywords",
]
