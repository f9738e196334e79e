"""Run the acceptance tests against a real Control Room emulator.

    python atest/run.py [--pabot] [robot options] [paths]

Starts one emulator on a free port of 127.0.0.1 with a distinctive API key, runs Robot
Framework (or pabot, with every process sharing that emulator) at log level TRACE, and
afterwards searches output.xml, log.html, report.html and the console output for every
secret the suites used: one occurrence fails the run. Results go to results/atest/.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
import threading
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# PROCESSRUN_RESULTS: another results folder, for runs side by side (nox's lanes in CI).
OUTPUT_DIR = Path(os.environ.get("PROCESSRUN_RESULTS") or ROOT / "results") / "atest"
READY = "Control Room emulator listening on "
SIGNED_URL = re.compile(r"signature=[0-9a-f]{16}")
EMULATOR_STDERR = OUTPUT_DIR / "emulator-stderr.txt"


def start_emulator(
    workspace_id: str, api_key: str, token: str
) -> tuple[subprocess.Popen[str], str]:
    # The key and token go in the environment: `ps` shows command lines to every user.
    command = [
        sys.executable, "-m", "ProcessRunLibrary.emulator", "--port", "0",
        "--workspace-id", workspace_id, "--api-key-env", "RC_EMULATOR_API_KEY",
        "--token-env", "RC_EMULATOR_TOKEN", "--config", str(HERE / "resources" / "processes.json"),
    ]  # fmt: skip
    env = dict(os.environ, RC_EMULATOR_API_KEY=api_key, RC_EMULATOR_TOKEN=token)
    # Its standard error goes to a file: the callbacks that suites send to unreachable URLs
    # on purpose each leave a line there, which a passing run need not print.
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    with EMULATOR_STDERR.open("w", encoding="utf-8") as stderr:
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=stderr, text=True, env=env
        )
    assert process.stdout is not None
    first = process.stdout.readline().strip()
    if not first.startswith(READY):
        process.kill()
        raise SystemExit(f"The emulator did not start: {first!r}")
    threading.Thread(target=process.stdout.read, daemon=True).start()  # keep its pipe drained
    return process, first[len(READY) :]


def output_files() -> list[Path]:
    """Every file the run wrote: outputs, logs, reports, pabot's stdout and argument files."""
    return sorted(p for p in OUTPUT_DIR.rglob("*") if p.is_file())


def leaks(secret_values: dict[str, str], console: str) -> list[str]:
    found = []
    texts = {"console output": console}
    # output.xml, log.html, report.html, and the outputs of child robots the suites run.
    for path in output_files():
        texts[str(path.relative_to(OUTPUT_DIR))] = path.read_text(
            encoding="utf-8", errors="replace"
        )
    for where, text in texts.items():
        for what, value in secret_values.items():
            count = text.count(value)
            if count:
                found.append(f"{what} appears {count} times in {where}")
        # The emulator's signed URLs end in signature=<HMAC>: no value to search for, a shape.
        count = len(SIGNED_URL.findall(text))
        if count:
            found.append(f"a signed URL's signature appears {count} times in {where}")
    return found


def main(argv: list[str]) -> int:
    if OUTPUT_DIR.exists():  # a leak in an old file must not fail, nor an old clean file pass
        shutil.rmtree(OUTPUT_DIR)
    use_pabot = "--pabot" in argv
    argv = [a for a in argv if a != "--pabot"]
    paths = [a for a in argv if not a.startswith("-") and Path(a).exists()]
    options = [a for a in argv if a not in paths]
    # Distinctive values, so that a leak cannot hide behind a common word.
    secret_values = {
        "the API key": f"atest-key-{secrets.token_hex(8)}",
        "the Bearer token": f"atest-token-{secrets.token_hex(8)}",
        "the integration token": f"atest-integration-{secrets.token_hex(8)}",
        "the callback secret": f"atest-callback-{secrets.token_hex(8)}",
        "a download URL's signature": f"atest-download-signature-{secrets.token_hex(8)}",
        "a second workspace's key": f"atest-second-key-{secrets.token_hex(8)}",
    }
    workspace_id = "atest-workspace"
    emulator, url = start_emulator(
        workspace_id, secret_values["the API key"], secret_values["the Bearer token"]
    )
    # pabot starts `robot` by name: name this Python's, and skip PabotLib and its fixed port.
    runner = (
        [sys.executable, "-m", "pabot.pabot", "--processes", "2", "--no-pabotlib",
         "--command", sys.executable, "-m", "robot", "--end-command"]
        if use_pabot
        else [sys.executable, "-m", "robot"]
    )  # fmt: skip
    command = [
        *runner,
        "--outputdir", str(OUTPUT_DIR),
        "--loglevel", "TRACE:INFO",
        "--pythonpath", str(HERE / "resources"),
        *options,
        *(paths or [str(HERE / "suites")]),
    ]  # fmt: skip
    # Settings and secrets travel in the environment, not on command lines that pabot
    # writes to argument files. Inside Control Room runs a token comes in the
    # environment as RC_API_TOKEN_V1; the suites expect one.
    env = dict(
        os.environ,
        ATEST_API_URL=url,
        ATEST_WORKSPACE_ID=workspace_id,
        ATEST_API_KEY=secret_values["the API key"],
        ATEST_BEARER_TOKEN=secret_values["the Bearer token"],
        ATEST_INTEGRATION_TOKEN=secret_values["the integration token"],
        ATEST_CALLBACK_SECRET=secret_values["the callback secret"],
        ATEST_DOWNLOAD_SIGNATURE=secret_values["a download URL's signature"],
        ATEST_SECOND_KEY=secret_values["a second workspace's key"],
        RC_API_TOKEN_V1=secret_values["the Bearer token"],
    )
    env.pop("RC_API_KEY", None)
    print(f"Emulator at {url}", flush=True)
    try:
        result = subprocess.run(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
        )
    finally:
        emulator.terminate()
        emulator.wait(timeout=10)
    print(result.stdout, end="", flush=True)
    errors = EMULATOR_STDERR.read_text(encoding="utf-8", errors="replace").splitlines()
    if result.returncode and errors:  # a failing run shows what the emulator said
        print("The emulator's standard error:", *errors, sep="\n")
    lines = "line" if len(errors) == 1 else "lines"
    print(f"The emulator wrote {len(errors)} {lines} on standard error: {EMULATOR_STDERR}")
    found = leaks(secret_values, result.stdout)
    for line in found:
        print(f"SECRET LEAK: {line}")
    print(
        f"Secret scan: {len(found)} leaks of {len(secret_values)} secrets in the console output "
        f"and {len(output_files())} output files."
    )
    return result.returncode or (1 if found else 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
