"""Run every `Examples:` block of the keyword documentation against the emulator.

    python atest/doc_examples.py [robot options]

Reads the examples from the libdoc model of ProcessRunLibrary and ProcessRunLibrary.Emulator
(what the HTML pages show), writes one test per keyword into a generated suite,
results/doc_examples/doc_examples.robot, and runs it there. The suite imports
atest/resources/doc_examples.resource: the emulator, the variables the examples name, and
for some keywords a `Before <keyword>` (test setup) or `After <keyword>` (test teardown)
that makes what the example reads. An example that cannot run on its own is in SKIP, with
the reason, and shows as skipped in the report: never left out silently.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESOURCE = HERE / "resources" / "doc_examples.resource"
OUTPUT_DIR = (
    Path(os.environ.get("PROCESSRUN_RESULTS") or ROOT / "results") / "doc_examples"
).resolve()
LIBRARIES = ("ProcessRunLibrary", "ProcessRunLibrary.Emulator")

# Keyword -> why its example does not run here. Reviewed: keep it short, and remove an
# entry as soon as the example is fixed.
SKIP = {
    "Connect To Emulator": (
        "it connects to an emulator started outside the suite (processrun-emulator "
        "--port 8123); the harness starts its own with Start Emulator"
    ),
    "Start Emulator": (
        "the harness runs an emulator of its own for every example, and the second row "
        "reads a configuration file next to the reader's suite (${CURDIR}/processes.json)"
    ),
}

# What the examples write that only makes sense on a reader's machine -> what the harness
# uses instead: the emulator's address on the port the docs use (the harness picks a free
# one), and a callback URL that stays on this machine.
SUBSTITUTE = {
    "http://127.0.0.1:8123/api/v1": "${url}",
    "https://example.com/hook": "${hook}",
}

# Files the examples attach to work items, relative to the folder the suite runs in.
FILES = {"invoice.pdf": "%PDF-1.4 invoice\n", "receipt.png": "not really a PNG\n"}


class ExampleTables(HTMLParser):
    """The rows of the tables that follow an "Example:"/"Examples:" paragraph of libdoc's
    HTML, each row as the texts of its cells: what a reader copies from the page (a
    `*` that libdoc turned into bold is gone there too)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.paragraph: list[str] | None = None
        self.after_examples = False
        self.table_depth = 0
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "p":
            self.paragraph = []
        elif tag == "table":
            self.table_depth += 1
        elif tag == "tr" and self.collecting:
            self.rows.append([])
        elif tag in ("td", "th") and self.collecting:
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "p" and self.paragraph is not None:
            self.after_examples = re.fullmatch(r"Examples?:", "".join(self.paragraph).strip())
            self.paragraph = None
        elif tag == "table":
            self.table_depth -= 1
            self.after_examples = False
        elif tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append("".join(self.cell).strip())
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.paragraph is not None:
            self.paragraph.append(data)
        if self.cell is not None:
            self.cell.append(data)

    @property
    def collecting(self) -> bool:
        return bool(self.after_examples) and self.table_depth == 1


def examples(html: str) -> list[list[str]]:
    """The example rows of one keyword's documentation (HTML), as lists of cells."""
    parser = ExampleTables()
    parser.feed(html)
    return parser.rows


def robot_line(cells: list[str]) -> str:
    """One row as a test body line."""
    while cells and not cells[-1]:
        cells = cells[:-1]
    while cells and not cells[0]:  # indentation inside FOR ... END
        cells = cells[1:]
    words = []
    for cell in cells:
        for old, new in SUBSTITUTE.items():
            cell = cell.replace(old, new)
        words.append(cell or "${EMPTY}")
    return "    " + "    ".join(words)


def hooks() -> set[str]:
    """Names of the `Before ...`/`After ...` keywords the resource defines."""
    text = RESOURCE.read_text(encoding="utf-8")
    return set(re.findall(r"^((?:Before|After) .+?)\s*$", text, re.M))


def suite() -> str:
    from robot.libdocpkg import LibraryDocumentation

    defined = hooks()
    tests = []
    for library in LIBRARIES:
        documentation = LibraryDocumentation(library)
        documentation.convert_docs_to_html()
        for keyword in documentation.keywords:
            rows = examples(keyword.doc)
            if not rows:
                continue
            body = [f"{library}: {keyword.name}"]
            if keyword.name in SKIP:
                reason = SKIP[keyword.name].replace("$", "\\$")
                body.append(f"    Skip    {reason}")
            else:
                if f"Before {keyword.name}" in defined:
                    # A test's own [Setup] replaces the suite's Test Setup.
                    body.append(
                        f"    [Setup]    Run Keywords    Start Each Example Afresh    "
                        f"AND    Before {keyword.name}"
                    )
                if f"After {keyword.name}" in defined:
                    body.append(f"    [Teardown]    After {keyword.name}")
                lines = [robot_line(row) for row in rows]
                if all(line.lstrip().startswith("[") for line in lines):
                    # An example of a setting alone (`[Teardown]`): a test needs a body.
                    lines.append("    No Operation")
                body += lines
            tests.append("\n".join(body))
    unknown = sorted(set(SKIP) - {t.split(": ", 1)[1].split("\n")[0] for t in tests})
    if unknown:
        raise SystemExit(f"SKIP names keywords with no example: {', '.join(unknown)}")
    return (
        "*** Settings ***\n"
        "Documentation     Generated by atest/doc_examples.py from the keyword documentation.\n"
        f"Resource          {RESOURCE.as_posix()}\n"
        "Suite Setup       Start The Doc Examples Emulator\n"
        "Suite Teardown    Stop Emulator\n"
        "Test Setup        Start Each Example Afresh\n\n\n"
        "*** Test Cases ***\n" + "\n\n".join(tests) + "\n"
    )


def main(argv: list[str]) -> int:
    shutil.rmtree(OUTPUT_DIR, ignore_errors=True)
    OUTPUT_DIR.mkdir(parents=True)
    for name, content in FILES.items():
        (OUTPUT_DIR / name).write_text(content, encoding="utf-8")
    # `Start Emulator`'s example reads ${CURDIR}/processes.json.
    shutil.copy(RESOURCE.with_suffix(".json"), OUTPUT_DIR / "processes.json")
    generated = OUTPUT_DIR / "doc_examples.robot"
    generated.write_text(suite(), encoding="utf-8")
    command = [sys.executable, "-m", "robot", "--outputdir", str(OUTPUT_DIR), *argv,
               str(generated)]  # fmt: skip
    # The examples attach files by relative names (invoice.pdf): run where those are.
    return subprocess.run(command, cwd=OUTPUT_DIR).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
