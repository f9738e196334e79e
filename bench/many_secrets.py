"""What thousands of presigned URLs cost: registering them as secrets and masking.

A run that saves N artifacts registers N download URLs as secrets and masks a few log
lines per URL (urllib3's request line with the path and query, the library's "Saved"
line, a DEBUG body with the URL written as JSON writes it). Saving N files also names
them: N files of the same name are numbered ``log (2).html`` ... before any download.

Prints, for several seeds, the CPU time of N = 1,000 and N = 10,000 and their ratio:
linear work gives about 10x, quadratic about 100x. No server: only CPU work is measured.

    .venv/bin/python bench/many_secrets.py [--quick]
"""

from __future__ import annotations

import argparse
import importlib
import json
import random
import statistics
import time
from collections.abc import Callable

from ProcessRunLibrary import masking
from ProcessRunLibrary.client import downloads


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


if __name__ == "__main__":
    main()
