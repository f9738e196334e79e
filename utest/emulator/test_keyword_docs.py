"""The Emulator's keyword docs read, once libdoc renders them, as they are written: an
example copied from the page must run."""

from __future__ import annotations

from html.parser import HTMLParser

from robot.libdocpkg import LibraryDocumentation

LIBRARY = "ProcessRunLibrary.Emulator"


class _Tables(HTMLParser):
    """The rows of the tables in an HTML fragment: each a list of its cells' text, and
    the tags used inside the cells."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.tags_in_cells: set[str] = set()
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag == "td":
            self._cell = []
        elif self._cell is not None:
            self.tags_in_cells.add(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def rendered_examples() -> dict[str, _Tables]:
    doc = LibraryDocumentation(LIBRARY)
    doc.convert_docs_to_html()  # as libdoc does for the HTML page
    tables = {}
    for kw in doc.keywords:
        parser = _Tables()
        parser.feed(kw.doc.split("Examples:", 1)[1])
        tables[kw.name] = parser
    return tables


def test_the_masked_header_in_the_get_requests_example_reads_as_written() -> None:
    row = rendered_examples()["Get Requests"].rows[1]
    assert row[:3] == ["Should Be Equal", "${requests}[0][headers][Authorization]", "RC-WSKEY ***"]


def test_no_example_is_bold_or_italic() -> None:
    # `*x*` and `_x_` are libdoc's bold and italic: in an example they eat characters.
    for name, tables in rendered_examples().items():
        assert not tables.tags_in_cells & {"b", "i"}, name
