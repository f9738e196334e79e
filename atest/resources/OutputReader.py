"""Reads the output.xml of a child robot run, for suites that check what the library
logged or how a run ended."""

from __future__ import annotations

from robot.api import ExecutionResult


class OutputReader:
    ROBOT_LIBRARY_SCOPE = "SUITE"

    def __init__(self) -> None:
        self.result = None

    def read_output(self, path: str) -> None:
        self.result = ExecutionResult(path)

    def suite_metadata(self, name: str) -> str:
        return self._result().suite.metadata[name]

    def test_messages(self) -> dict[str, str]:
        """Test names mapped to their failure messages ('' when passed)."""
        return {t.name: t.message for t in self._result().suite.all_tests}

    def messages(self, test: str, keyword: str, level: str) -> list[str]:
        """Messages at ``level`` logged by the first ``keyword`` of ``test``."""
        found = next(t for t in self._result().suite.all_tests if t.name == test)
        # Robot 7 names a keyword "Get Process Run"; Robot 6.1 "Library.Get Process Run",
        # with the plain name in kwname.
        kw = next(
            k
            for k in found.body
            if keyword in (getattr(k, "name", None), getattr(k, "kwname", None))
        )
        return [m.message for m in kw.body if m.type == "MESSAGE" and m.level == level]

    def _result(self):  # type: ignore[no-untyped-def]
        if self.result is None:
            raise RuntimeError("Use 'Read Output' first.")
        return self.result
