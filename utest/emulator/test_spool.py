"""Work item files and step run artifacts live on disk, in the workspace's spool, not in
the emulator's memory (issue 17): a real emulator process with its own TMPDIR, so that
its spool folder can be looked at, and its RSS read from /proc."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest
import requests

from conftest import KEY, READY, WS, Emulator, launch, stop
from ProcessRunLibrary.emulator.runner import _collect
from ProcessRunLibrary.emulator.spool import Spool

MIB = 1024 * 1024
FILE_SIZE = 20 * MIB


class Spooled(Emulator):
    def __init__(self, base_url: str, pid: int, tmp: Path) -> None:
        super().__init__(base_url)
        self.pid = pid
        self.tmp = tmp

    def rss(self) -> int:
        """The emulator process's resident memory, in bytes."""
        status = Path(f"/proc/{self.pid}/status").read_text("utf-8")
        line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
        return int(line.split()[1]) * 1024

    def spooled(self) -> list[Path]:
        """The files in the emulator's spool folders."""
        return sorted(
            p for folder in self.tmp.glob("processrun-emulator-*") for p in folder.iterdir()
        )


@pytest.fixture(scope="module")
def spooled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Spooled]:
    tmp = tmp_path_factory.mktemp("spool")
    config = tmp / "config.json"
    quick = {"id": "quick", "name": "Quick", "new_seconds": 0, "run_seconds": 0.1}
    leave = "import os; open(os.environ['ROBOT_ARTIFACTS'] + '/a.txt', 'w').write('x' * 1000)"
    command = {"name": "Artifact", "command": [sys.executable, "-c", leave]}
    real = {"id": "real", "name": "Real", "steps": [command]}
    config.write_text(json.dumps({"processes": [quick, real]}), "utf-8")
    process, line = launch(
        "--workspace-id", WS, "--api-key", KEY, "--config", str(config),
        env={**os.environ, "TMPDIR": str(tmp)},
    )  # fmt: skip
    assert line.startswith(READY), line + (process.stderr.read() if process.stderr else "")
    emulator = Spooled(line[len(READY) :].strip(), process.pid, tmp)
    yield emulator
    emulator.http.close()
    stop(process)
    assert list(tmp.glob("processrun-emulator-*")) == []  # removed on exit


@pytest.fixture
def emu(spooled: Spooled) -> Spooled:
    spooled.admin("POST", "/reset", json={"processes": True})
    return spooled


def new_item(emu: Emulator) -> str:
    body = {"process": {"id": "quick"}, "payload": {}}
    response = emu.api("POST", "/work-items", json=body)
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


def upload(emu: Emulator, item_id: str, name: str, content: bytes) -> None:
    body = {"file_name": name, "file_size": len(content)}
    answer = emu.api("POST", f"/work-items/{item_id}/files", json=body).json()["upload"]
    sent = requests.post(
        answer["url"], data=answer["form_data"], files={"file": (name, content)}, timeout=60
    )
    assert sent.status_code == 204, sent.text


def downloads(emu: Emulator, item_id: str) -> list[bytes]:
    files = emu.api("GET", f"/work-items/{item_id}").json()["files"]
    return [requests.get(f["download"]["url"], timeout=60).content for f in files]


def wait_ended(emu: Emulator, run_id: str) -> None:
    """Until the run is completed (the emulator's clock runs in real time here)."""
    deadline = time.monotonic() + 20
    while emu.api("GET", f"/process-runs/{run_id}").json()["state"] != "completed":
        assert time.monotonic() < deadline
        time.sleep(0.05)


def content(seed: int, size: int = FILE_SIZE) -> bytes:
    return bytes([seed]) * (size - 1) + b"\n"


def test_uploads_keep_the_emulators_memory_flat(emu: Spooled) -> None:
    warm_up = new_item(emu)
    upload(emu, warm_up, "warm-up.bin", content(0))  # the first upload's one-off costs
    assert downloads(emu, warm_up) == [content(0)]
    before = emu.rss()
    item_id = new_item(emu)
    for seed in range(1, 6):
        upload(emu, item_id, f"file-{seed}.bin", content(seed))
    grown = emu.rss() - before
    assert grown < FILE_SIZE // 2, f"RSS grew by {grown} bytes"
    assert [p.stat().st_size for p in emu.spooled()] == [FILE_SIZE] * 6
    assert downloads(emu, item_id) == [content(seed) for seed in range(1, 6)]


def test_a_download_has_the_bytes_and_headers_of_the_upload(emu: Spooled) -> None:
    item_id = new_item(emu)
    data = bytes(range(256)) * 1000
    upload(emu, item_id, "r\u00e9sum\u00e9.bin", data)
    [file] = emu.api("GET", f"/work-items/{item_id}").json()["files"]
    answer = requests.get(file["download"]["url"], timeout=10)
    assert answer.content == data
    assert answer.headers["Content-Length"] == str(len(data))
    assert answer.headers["Content-Type"] == "application/octet-stream"
    assert answer.headers["Content-Disposition"] == (
        "attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.bin"
    )
    unsigned = requests.get(file["download"]["url"].split("?")[0], timeout=10)
    assert (unsigned.status_code, unsigned.json()["error"]["message"]) == (
        403,
        "The URL is not signed.",
    )


def test_reset_removes_the_spooled_files(emu: Spooled) -> None:
    upload(emu, new_item(emu), "a.bin", content(1, 1000))
    emu.admin("POST", "/work-items", json={"process_id": "quick", "files": [
        {"name": "b.txt", "content": "seeded"}
    ]})  # fmt: skip
    assert [p.read_bytes() for p in emu.spooled()] in (
        [content(1, 1000), b"seeded"],
        [b"seeded", content(1, 1000)],
    )
    emu.admin("POST", "/reset", json={})
    assert emu.spooled() == []


def test_deleting_an_item_removes_its_files(emu: Spooled) -> None:
    item_id = new_item(emu)
    upload(emu, item_id, "a.bin", content(2, 1000))
    assert len(emu.spooled()) == 1
    answer = emu.api(
        "POST", "/work-items/batch", json={"batch_operation": "delete", "work_item_ids": [item_id]}
    )
    assert answer.json() == {"accepted": True}
    assert emu.spooled() == []


def test_a_copied_item_keeps_its_files_when_the_first_run_is_deleted(emu: Spooled) -> None:
    item_id = new_item(emu)
    upload(emu, item_id, "a.bin", content(3, 1000))
    first = emu.start("quick", {"type": "with_inputs"})
    wait_ended(emu, first)
    second = emu.start("quick", {"type": "with_work_item_ids", "work_item_ids": [item_id]})
    wait_ended(emu, second)
    assert [p.stat().st_nlink for p in emu.spooled()] == [2, 2]  # a hard link, not a copy
    assert emu.api("DELETE", f"/process-runs/{first}").status_code == 200
    assert len(emu.spooled()) == 1
    [copy] = emu.api("GET", "/work-items", params={"process_run_id": second}).json()["data"]
    assert downloads(emu, copy["id"]) == [content(3, 1000)]
    assert emu.api("DELETE", f"/process-runs/{second}").status_code == 200
    assert emu.spooled() == []


def test_a_commands_artifacts_are_on_disk_until_its_run_is_deleted(emu: Spooled) -> None:
    run_id = emu.start("real", {"type": "with_payloads", "payloads": [{}]})
    wait_ended(emu, run_id)
    [artifact] = emu.spooled()
    assert artifact.read_bytes() == b"x" * 1000
    [step_run] = emu.api("GET", "/step-runs", params={"process_run_id": run_id}).json()["data"]
    listed = emu.api("GET", f"/step-runs/{step_run['id']}/artifacts").json()["data"]
    assert [(a["name"], a["size"]) for a in listed] == [("a.txt", 1000)]
    assert emu.api("DELETE", f"/process-runs/{run_id}").status_code == 200
    assert emu.spooled() == []


def test_artifacts_are_copied_into_the_spool_without_following_a_link(tmp_path: Path) -> None:
    folder = tmp_path / "artifacts"
    (folder / "sub").mkdir(parents=True)
    (folder / "log.html").write_bytes(b"<html>")
    (folder / "sub" / "output.xml").write_bytes(b"<robot/>")
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"outside")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "more.txt").write_bytes(b"outside")
    (folder / "link.txt").symlink_to(secret)
    (folder / "linked").symlink_to(outside)
    os.mkfifo(folder / "fifo")
    spool = Spool()
    try:
        found = _collect(str(folder), spool)
        assert [(name, stored.read()) for name, stored in found] == [
            ("log.html", b"<html>"),
            ("sub/output.xml", b"<robot/>"),
        ]
        assert all(stored.path.parent == spool.folder for _, stored in found)
    finally:
        spool.close()


def test_the_spool_folder_is_removed_on_close() -> None:
    spool = Spool()
    stored = spool.store(b"x")
    folder = stored.path.parent
    spool.close()
    assert not folder.exists()


def test_a_copy_is_written_out_where_the_file_system_has_no_hard_links() -> None:
    spool = Spool()
    try:
        first = spool.store(b"hello")
        with mock.patch("os.link", side_effect=OSError("no hard links here")):
            copy = spool.copy(first)
        first.discard()
        assert (copy.read(), copy.size, copy.path.stat().st_nlink) == (b"hello", 5, 1)
    finally:
        spool.close()
