"""Memory of a large download: the library's streaming download against reading it whole.

A local HTTP server (a thread of this process, 127.0.0.1, free port) serves a file of
``--size`` MB made up on the fly, so the server holds no copy. Each measurement runs in
a fresh child process, which reports its peak resident memory (``ru_maxrss``) and the
peak of Python allocations (``tracemalloc``):

- idle: the child imports the same modules and downloads nothing (the floor);
- library: ``client.downloads.save_files`` (what ``Download Step Run Artifacts`` and
  ``Download Process Run Output Files`` use) streams the file to disk;
- whole: ``requests.get(url).content`` written to disk, the usual one-liner (baseline).

    .venv/bin/python bench/download_memory.py [--size 200] [--quick]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import threading
import tracemalloc
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from _harness import PYTHON, machine

BLOCK = bytes(range(256)) * 4096  # 1 MiB


class _Big(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        size = int(self.path.split("size=")[1])
        self.send_response(200)
        self.send_header("Content-Length", str(size))
        self.end_headers()
        left = size
        while left:
            piece = BLOCK[: min(left, len(BLOCK))]
            self.wfile.write(piece)
            left -= len(piece)

    def log_message(self, *args: Any) -> None:
        pass


def child(mode: str, url: str, target: str) -> None:
    """Runs in a fresh interpreter: one download, then its figures as JSON on stdout."""
    import requests

    from ProcessRunLibrary.client import ControlRoomClient, Credentials
    from ProcessRunLibrary.client.downloads import RemoteFile, save_files

    tracemalloc.start()
    if mode == "library":
        client = ControlRoomClient("http://127.0.0.1:9/api/v1", "ws", Credentials("bench-key"))
        save_files(client, [RemoteFile(Path(target).name, lambda: url)], Path(target).parent)
    elif mode == "whole":
        Path(target).write_bytes(requests.get(url, timeout=60).content)
    _, peak = tracemalloc.get_traced_memory()
    size = Path(target).stat().st_size if mode != "idle" else 0
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"size": size, "rss": rss_kib * 1024, "traced": peak}))


def measure(mode: str, url: str, folder: Path) -> dict[str, int]:
    target = folder / f"{mode}.bin"
    out = subprocess.run(
        [PYTHON, __file__, "--child", mode, url, str(target)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    target.unlink(missing_ok=True)
    return dict(json.loads(out))


def mb(n: float) -> str:
    return f"{n / 1e6:,.1f} MB"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=200, help="file size in MB")
    parser.add_argument("--quick", action="store_true", help="a 20 MB file")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    size = (20 if args.quick else args.size) * 1_000_000
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Big)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/big?size={size}"
    try:
        with tempfile.TemporaryDirectory() as folder:
            results = {m: measure(m, url, Path(folder)) for m in ("idle", "library", "whole")}
    finally:
        server.shutdown()
        server.server_close()
    print(machine())
    print()
    print(f"Download of a {mb(size)} file from 127.0.0.1, one fresh process per row:")
    print()
    print("| way | saved | peak RSS | RSS above idle | peak Python allocations | vs. file size |")
    print("|---|---|---|---|---|---|")
    idle = results["idle"]["rss"]
    for mode, label in (
        ("idle", "idle (imports only)"),
        ("library", "library (`save_files`, streamed)"),
        ("whole", "baseline (`requests.get(url).content`)"),
    ):
        r = results[mode]
        print(
            f"| {label} | {mb(r['size'])} | {mb(r['rss'])} | {mb(max(r['rss'] - idle, 0))} "
            f"| {mb(r['traced'])} | {r['traced'] / size:.4f} |"
        )


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
