"""Opens log files in headless Chromium, as a person would: the log's JavaScript renders
the messages, and a link is followed by loading the URL it resolves to.

Chromium is looked for as ``chromium`` or ``chromium-browser`` on the PATH (CI installs
it with ``apt-get install -y chromium``); without it, the keywords skip the test."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urljoin

from ArtifactLinks import Links
from robot.api import SkipExecution

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


class BrowserCheck:
    ROBOT_LIBRARY_SCOPE = "SUITE"

    def _chromium(self) -> str:
        found = shutil.which("chromium") or shutil.which("chromium-browser")
        if not found:
            raise SkipExecution("Chromium is not installed (apt-get install -y chromium).")
        return found

    def rendered_dom(self, url: str) -> str:
        """The DOM of ``url`` after its JavaScript has run."""
        result = subprocess.run(
            [self._chromium(), *FLAGS, "--virtual-time-budget=5000", "--dump-dom", url],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return result.stdout

    def links_in_rendered_log(self, log: str, element_id: str) -> dict[str, str]:
        """Link text -> the URL a click would open, of the links that log.html shows
        when opened at ``element_id`` (the keyword holding them)."""
        base = Path(log).absolute().as_uri()
        parser = Links()
        parser.feed(self.rendered_dom(f"{base}#{element_id}"))
        return {text: urljoin(base, href) for text, href in parser.found if "process-runs/" in href}

    def title_in_chromium(self, url: str) -> str:
        """The title of the page at ``url`` as Chromium renders it."""
        match = re.search(r"<title>(.*?)</title>", self.rendered_dom(url), re.S)
        return match[1].strip() if match else ""
