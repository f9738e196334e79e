from .processruns import ProcessRunKeywords
from .sessions import SessionKeywords
from .waiting import WaitingKeywords

__all__ = ["ProcessRunKeywords", "SessionKeywords", "WaitingKeywords"]
