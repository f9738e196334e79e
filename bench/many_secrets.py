"""What thousands of presigned URLs cost: registering them as secrets and masking.

A run that saves N artifacts registers N download URLs as secrets and masks a few log
lines per URL (urllib3's request line with the path and query, the library's "Saved"
line, a DEBUG body with the URL written as JSON writes it). Saving N files also names
them: N files of the same name are numbered ``log (2).html`` ... before any download.

Prints, for several seeds, the CPU time of N = 1,000 and N = 10,000 and their ratio:
linear work gives about 10x, quadratic about 100x. Then the whole path end to end:
`save_step_run_artifacts` lists N small artifacts, asks for each one's URL and saves it,
from a local server in a thread of this process (the CPU figure is the client's thread
only, ``time.thread_time``; wall time includes the server).

    .venv/bin/python bench/many_secrets.py [--quick]
"""

from __future__ import annotations

import argparse
import importlib
import json
import random
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from ProcessRunLibrary import masking
from ProcessRunLibrary.client import ControlRoomClient, Credentials, downloads
from ProcessRunLibrary.keywords.stepruns import save_step_run_artifacts


def signed_url(rng: random.Random, index: int) -> str:
    token = "".join(rng.choices("0123456789abcdef", k=64))
    if index % 2:  # a token in the path, no query
        return f"https://files.example.com/dl/{token}/artifact-{index}.txt"
    return (
        f"https://bucket.s3.amazonaws.com/ws/run/artifact-{index}.txt?X-Amz-Algorithm=AWS4"
        f"&X-Amz-Credential=AKIAEXAMPLE%2F20261205&X-Amz-Signature={token}"
    )


def register_and_mask(count: int, seed: int) -> float:
    """CPU seconds to register ``count`` URLs, masking three lines after each."""
    fresh = importlib.reload(masking)  # no secret of an earlier measurement stays
    rng = random.Random(seed)
    urls = [signed_url(rng, i) for i in range(count)]
    started = time.process_time()
    for url in urls:
        fresh.register(url)
        path = url.split("/", 3)[3]
        masked = [
            fresh.mask(f'https://files.example.com:443 "GET /{path} HTTP/1.1" 200 12'),
            fresh.mask_known(f"Saved 'artifact.txt' (12 bytes) from {url}."),
            fresh.mask_known(json.dumps({"url": url}).replace("/", "\\/")),
        ]
        assert all(token not in line for line in masked for token in [url[-64:], path[-60:]])
    return time.process_time() - started


def number_names(count: int, seed: int) -> float:
    """CPU seconds to name ``count`` files that all have the same name."""
    rng = random.Random(seed)
    name = rng.choice(["log.html", "output.xml", "report.pdf"])
    files = [downloads.RemoteFile(name, str) for _ in range(count)]
    started = time.process_time()
    downloads.plan(files, "*")
    return time.process_time() - started


class _Artifacts(BaseHTTPRequestHandler):
    """A step run with ``server.count`` artifacts, each a few bytes at a signed URL."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes: without this, Nagle's algorithm holds
        # the body until the client's delayed ACK, 40 ms a request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        count: int = self.server.count  # type: ignore[attr-defined]
        origin = f"http://127.0.0.1:{self.server.server_port}"  # type: ignore[attr-defined]
        path, _, query = self.path.partition("?")
        if path.endswith("/step-runs/s1/artifacts"):
            start = int(query.partition("cursor=")[2] or 0)
            end = min(start + 1_000, count)
            more = f"{origin}{path}?cursor={end}" if end < count else None
            names = ["log.html", "output.xml", "report.html"]
            data = [{"id": f"a{i}", "name": names[i % 3]} for i in range(start, end)]
            self._send(json.dumps({"data": data, "has_more": more is not None, "next": more}))
        elif "/step-runs/s1/artifacts/" in path:
            artifact = path.rsplit("/", 1)[1]
            token = f"{artifact}-{'0123456789abcdef' * 4}"
            self._send(json.dumps({"id": artifact, "url": f"{origin}/files/{token}/f?sig={token}"}))
        else:
            self._send("<html>small</html>")

    def _send(self, text: str) -> None:
        data = text.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def save_artifacts(count: int, seed: int) -> float:
    """Client CPU seconds to list and save ``count`` artifacts (printed: wall seconds)."""
    importlib.reload(masking)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Artifacts)
    server.daemon_threads = True
    server.count = count  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    api = f"http://127.0.0.1:{server.server_address[1]}/api/v1"
    client = ControlRoomClient(api, "ws", Credentials(f"bench-key-{seed}"))
    try:
        with tempfile.TemporaryDirectory() as folder:
            wall, cpu = time.perf_counter(), time.thread_time()
            saved = save_step_run_artifacts(client, "s1", Path(folder))
            cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
            assert len(saved) == count and saved[-1].name.endswith(")" + saved[-1].suffix)
    finally:
        server.shutdown()
        server.server_close()
    print(f"  saved {count:,} artifacts in {wall:.1f} s wall, {cpu:.1f} s CPU of the client")
    return cpu


def table(
    what: str, measure: Callable[[int, int], float], sizes: tuple[int, int], seeds: int
) -> None:
    small, large = sizes
    print(f"\n### {what}\n")
    print(f"| seed | {small:,} (CPU s) | {large:,} (CPU s) | ratio |")
    print("|---:|---:|---:|---:|")
    ratios = []
    for seed in range(seeds):
        a, b = measure(small, seed), measure(large, seed)
        ratios.append(b / a)
        print(f"| {seed} | {a:.3f} | {b:.3f} | {b / a:.1f}x |")
    print(f"\nMedian ratio {statistics.median(ratios):.1f}x (linear: {large / small:.0f}x).")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one seed")
    seeds = 1 if parser.parse_args().quick else 3
    table("Registering and masking signed URLs", register_and_mask, (1_000, 10_000), seeds)
    table("Numbering files of one name", number_names, (2_000, 20_000), seeds)
    table("Saving small artifacts end to end", save_artifacts, (1_000, 10_000), 1)


if __name__ == "__main__":
    main()
