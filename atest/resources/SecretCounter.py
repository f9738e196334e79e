"""A listener that plays a user's ``--listener`` (ReportPortal, Allure and the like) and
counts the secrets it receives.

    robot --listener SecretCounter.py:counts.json ...

It takes its secrets from the environment when the run starts and whenever it is
called: every variable whose name starts with ``FRESH_`` or ``ATEST_`` and holds a
secret (see ``SECRET_PREFIXES``). For every call of every listener method (API
version 2: what most tools that ship results off the machine implement, and built
by Robot Framework from the same objects a version 3 listener gets) it counts how
often each secret appears in what it was given, and at the end writes the counts,
by variable name and by listener method, to the JSON file named by its argument.
The secrets never leave this process: the file holds names, counts and where each was
found, with the secret replaced by its variable's name.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

SECRET_PREFIXES = ("FRESH_", "ATEST_API_KEY", "ATEST_BEARER_TOKEN", "ATEST_INTEGRATION_TOKEN",
                   "ATEST_CALLBACK_SECRET")  # fmt: skip


class SecretCounter:
    ROBOT_LISTENER_API_VERSION = 2

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self.by_secret: Counter[str] = Counter()
        self.by_method: Counter[str] = Counter()
        self.calls = 0
        self.where: list[str] = []

    def _count(self, method: str, *received: Any) -> None:
        self.calls += 1
        text = repr(received)
        for name, value in os.environ.items():
            if name.startswith(SECRET_PREFIXES) and len(value) >= 8:
                found = text.count(value)
                if found:
                    self.by_secret[name] += found
                    self.by_method[method] += found
                    at = text.index(value)
                    shown = text[max(0, at - 150) : at + len(value) + 50]
                    self.where.append(f"{method}: {shown.replace(value, '<' + name + '>')}")

    def start_suite(self, name: str, attrs: dict) -> None:
        self._count("start_suite", name, attrs)

    def end_suite(self, name: str, attrs: dict) -> None:
        self._count("end_suite", name, attrs)

    def start_test(self, name: str, attrs: dict) -> None:
        self._count("start_test", name, attrs)

    def end_test(self, name: str, attrs: dict) -> None:
        self._count("end_test", name, attrs)

    def start_keyword(self, name: str, attrs: dict) -> None:
        self._count("start_keyword", name, attrs)

    def end_keyword(self, name: str, attrs: dict) -> None:
        self._count("end_keyword", name, attrs)

    def log_message(self, message: dict) -> None:
        self._count("log_message", message)

    def message(self, message: dict) -> None:
        self._count("message", message)

    def library_import(self, name: str, attrs: dict) -> None:
        self._count("library_import", name, attrs)

    def resource_import(self, name: str, attrs: dict) -> None:
        self._count("resource_import", name, attrs)

    def variables_import(self, name: str, attrs: dict) -> None:
        self._count("variables_import", name, attrs)

    def close(self) -> None:
        self.path.write_text(
            json.dumps(
                {
                    "calls": self.calls,
                    "total": sum(self.by_secret.values()),
                    "by_secret": dict(self.by_secret),
                    "by_method": dict(self.by_method),
                    "where": self.where,
                },
                indent=2,
                sort_keys=True,
            ),
            encoding="utf-8",
        )
