"""Follows the links that ``download_artifacts=True`` writes into a log: reads the HTML
messages of an output.xml and resolves each link against the folder of its log.html,
as a browser opening that log.html would."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from robot.api import ExecutionResult
from robot.result import ResultVisitor


class Links(HTMLParser):
    """The text and href of every link in an HTML fragment (BrowserCheck.py uses it too)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []
        self._href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href") or ""

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self.found.append((data, self._href))
            self._href = None


class _HtmlMessages(ResultVisitor):
    def __init__(self) -> None:
        self.messages: list[str] = []
        self.ids: list[str] = []

    def visit_message(self, msg) -> None:  # type: ignore[no-untyped-def]
        if msg.html:
            self.messages.append(msg.message)
            self.ids.append(msg.parent.id)


# The emulator's signed URLs end in signature=<HMAC>: no value to search for, a shape.
SIGNED_URL = re.compile(r"signature=[0-9a-f]{16}")


class ArtifactLinks:
    ROBOT_LIBRARY_SCOPE = "SUITE"

    def signed_urls_in(self, folder: str) -> list[str]:
        """``<file>: <count>`` for each file below ``folder`` that holds an emulator
        signature (a child robot's output.xml, log.html, console output)."""
        found = []
        root = Path(folder)
        for path in [root] if root.is_file() else sorted(root.rglob("*")):
            if path.is_file():
                count = len(SIGNED_URL.findall(path.read_text(encoding="utf-8", errors="replace")))
                if count:
                    found.append(f"{path}: {count}")
        return found

    def keyword_with_links(self, output: str) -> str:
        """The id (``s1-t1-k3``) of the keyword that logged the links in ``output``."""
        visitor = _HtmlMessages()
        ExecutionResult(output).visit(visitor)
        return next(
            i for m, i in zip(visitor.messages, visitor.ids, strict=True) if "<a href=" in m
        )

    def html_messages_with_links(self, output: str) -> list[str]:
        """The HTML messages of ``output`` (an output.xml) that hold a link."""
        visitor = _HtmlMessages()
        ExecutionResult(output).visit(visitor)
        return [m for m in visitor.messages if "<a href=" in m]

    def resolve_links(self, message: str, log: str) -> dict[str, str]:
        """Link text -> the absolute path its href points to, relative to the folder of
        ``log``. Fails for a link that is not relative (a browser would go elsewhere)."""
        parser = Links()
        parser.feed(message)
        base = Path(log).absolute().parent
        resolved = {}
        for text, href in parser.found:
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or href.startswith("/"):
                raise AssertionError(f"Link {href!r} is not relative.")
            resolved[text] = str((base / unquote(parts.path)).resolve())
        return resolved
