"""Names of downloaded files and folders: Windows' reserved names, Unicode twins, and
distinct folders for outputs whose ids give the same folder name."""

from __future__ import annotations

from pathlib import Path

import pytest

from ProcessRunLibrary.client import downloads
from ProcessRunLibrary.client.downloads import RemoteFile, plan, safe_name
from ProcessRunLibrary.keywords.context import LibraryContext, Settings
from ProcessRunLibrary.keywords.stepruns import StepRunKeywords

from .test_stepruns import _real_client, server  # noqa: F401 - a fixture


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("COM\u00b9", "_COM\u00b9"),
        ("lpt\u00b2.txt", "_lpt\u00b2.txt"),
        ("LPT\u00b3", "_LPT\u00b3"),
        ("CONIN$", "_CONIN$"),
        ("conout$.log", "_conout$.log"),
        ("com0", "_com0"),
        ("Lpt0.tar.gz", "_Lpt0.tar.gz"),
        ("nul .txt", "_nul .txt"),
        ("aux.", "_aux"),
        ("console.txt", "console.txt"),
        ("COM10", "COM10"),
        ("CONIN", "CONIN"),
    ],
)
def test_names_windows_reserves_get_a_leading_underscore(name, safe):
    assert safe_name(name) == safe


def test_names_are_normalised_to_nfc_and_lose_lone_surrogates():
    assert safe_name("cafe\u0301.txt") == "caf\u00e9.txt"
    assert safe_name("a\udc80b.txt") == "ab.txt"


def test_nfc_and_nfd_twins_are_one_name_for_numbering():
    files = [
        RemoteFile("caf\u00e9.txt", str),
        RemoteFile("cafe\u0301.txt", str),
        RemoteFile("CAF\u00c9.txt", str),
    ]
    assert [name for _, name in plan(files, "*")] == [
        "caf\u00e9.txt",
        "caf\u00e9 (2).txt",
        "CAF\u00c9 (3).txt",
    ]


def test_numbering_skips_names_the_server_already_used():
    names = ["log (2).html", "log.html", "log.html", "log.html", "LOG (3).HTML"]
    files = [RemoteFile(n, str) for n in names]
    assert [name for _, name in plan(files, "*")] == [
        "log (2).html", "log.html", "log (3).html", "log (4).html", "LOG (3) (2).HTML",
    ]  # fmt: skip


def test_numbering_many_files_of_one_name_is_linear(monkeypatch):
    """20,000 files of one name took 40 s: each tried every number taken before it."""
    calls = 0
    original = downloads.numbered

    def counting(name: str, number: int) -> str:
        nonlocal calls
        calls += 1
        return original(name, number)

    monkeypatch.setattr(downloads, "numbered", counting)
    chosen = plan([RemoteFile("log.html", str) for _ in range(3_000)], "*")
    assert chosen[-1][1] == "log (3000).html"
    assert calls < 2 * 3_000


def test_outputs_whose_ids_give_one_folder_get_a_folder_each(server, tmp_path, monkeypatch):  # noqa: F811
    client = _real_client()
    ctx = LibraryContext(Settings(), 30, 1)
    ctx.sessions["default"], ctx.current_alias = client, "default"
    server.script["/o1"] = [(200, b"one", None)]
    server.script["/o2"] = [(200, b"two", None)]
    server.script["/o3"] = [(200, b"three", None)]
    outputs = [
        {
            "id": f"{prefix}/1",
            "files": [{"name": "a.txt", "download": {"url": f"{server.url}/{path}?sig=s-{path}"}}],
        }
        for prefix, path in (("x", "o1"), ("y", "o2"), ("Z", "o3"))
    ]
    outputs[2]["id"] = "1"
    monkeypatch.setattr(client, "list_outputs", lambda run_id, limit=None: outputs)
    paths = StepRunKeywords(ctx).download_process_run_output_files("r1", str(tmp_path))
    assert paths == [
        str(tmp_path / "1" / "a.txt"),
        str(tmp_path / "1 (2)" / "a.txt"),
        str(tmp_path / "1 (3)" / "a.txt"),
    ]
    assert [Path(p).read_text() for p in paths] == ["one", "two", "three"]


def test_a_numbered_name_stays_within_255_bytes():
    name = "\u00e9" * 125 + ".html"  # 255 bytes
    chosen = [n for _, n in plan([RemoteFile(name, str), RemoteFile(name, str)], "*")]
    assert chosen == [name, "\u00e9" * 123 + " (2).html"]
    assert len(chosen[1].encode()) == 255
