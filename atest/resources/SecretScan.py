"""Fresh secrets for the secrets suite, and a search for them in output files.

The values never pass through Robot Framework variables of the calling suite: they go
into this process's environment, which the child robot inherits, and keywords return
only names and counts. So the calling suite's own log cannot leak them either.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


class SecretScan:
    ROBOT_LIBRARY_SCOPE = "SUITE"

    def __init__(self) -> None:
        self.names: list[str] = []

    def create_fresh_secrets(self, *names: str) -> None:
        """Sets each environment variable in ``names`` to a new distinctive value."""
        for name in names:
            os.environ[name] = f"fresh-{name.lower().replace('_', '-')}-{secrets.token_hex(8)}"
            self.names.append(name)

    def count_fresh_secrets_in(self, *paths: str) -> dict[str, int]:
        """How often each fresh secret appears in the files ``paths``, by name."""
        texts = [Path(p).read_text(encoding="utf-8", errors="replace") for p in paths]
        return {name: sum(t.count(os.environ[name]) for t in texts) for name in self.names}
