"""Command line: ``processrun-emulator`` / ``python -m ProcessRunLibrary.emulator``."""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import signal
import ssl
import sys
from typing import Any

from ..version import VERSION
from .clock import Clock
from .common import ConfigError, parse_json
from .limits import Limits
from .processes import load_config
from .runner import HIDDEN_VARIABLES
from .state import Workspace

DEFAULT_WORKSPACE_ID = "demo-workspace"
DEFAULT_API_KEY = "demo-key"
# Where Start Emulator (and anyone who keeps keys off command lines, which `ps` shows)
# puts the key: read when neither --api-key nor --api-key-env is given.
API_KEY_VARIABLE = "RC_EMULATOR_API_KEY"
MISSING_AIOHTTP = (
    "the emulator needs aiohttp, which is not installed: "
    "pip install 'robotframework-processrunlibrary[emulator]'"
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="processrun-emulator",
        description="A local emulator of Control Room's Process Run API (for tests).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port; 0 picks a free one (0)")
    parser.add_argument("--workspace-id", default=DEFAULT_WORKSPACE_ID)
    keys = parser.add_mutually_exclusive_group()
    keys.add_argument(
        "--api-key",
        help=f"the workspace's API key (default: ${API_KEY_VARIABLE}, else {DEFAULT_API_KEY}); "
        "a command line shows in `ps`: prefer --api-key-env",
    )
    keys.add_argument(
        "--api-key-env",
        metavar="NAME",
        help="read the API key from the environment variable NAME",
    )
    parser.add_argument("--config", help="JSON file with processes and settings")
    parser.add_argument(
        "--token",
        action="append",
        default=[],
        help="another credential accepted as 'Bearer <token>' (repeatable)",
    )
    parser.add_argument(
        "--token-env",
        action="append",
        default=[],
        metavar="NAME",
        help="read a --token from the environment variable NAME (repeatable)",
    )
    parser.add_argument(
        "--workspace",
        action="append",
        default=[],
        metavar="ID:NAME",
        help="serve another workspace ID too, whose API key is in the environment variable "
        "NAME (repeatable); it starts with the same processes",
    )
    parser.add_argument(
        "--clock-factor",
        type=float,
        help="emulated seconds per real second (overrides the config; default 1)",
    )
    parser.add_argument("--seed", help="seed of the random draws of fault rules")
    parser.add_argument(
        "--allow-commands",
        action="store_true",
        help="let the admin API (Define Process) define steps that run commands",
    )
    limits = Limits()
    parser.add_argument(
        "--max-body-size",
        type=int,
        metavar="BYTES",
        help="largest request body; a larger one is answered 413 "
        f"(config: limits.max_body_size; default {limits.max_body_size})",
    )
    parser.add_argument(
        "--max-upload-size",
        type=int,
        metavar="BYTES",
        help="largest work item file upload, spooled to disk as it arrives; a larger one is "
        f"answered 413 (config: limits.max_upload_size; default {limits.max_upload_size})",
    )
    parser.add_argument(
        "--header-timeout",
        type=float,
        metavar="SECONDS",
        help="a connection that takes longer to send a request's headers, or stays idle "
        "longer between requests, is closed "
        f"(config: limits.header_timeout; default {limits.header_timeout:g})",
    )
    parser.add_argument("--certfile", help="TLS certificate (PEM): serve https")
    parser.add_argument("--keyfile", help="TLS private key (PEM)")
    parser.add_argument("--version", action="version", version=f"%(prog)s {VERSION}")
    args = parser.parse_args(argv)
    if bool(args.certfile) != bool(args.keyfile):
        parser.error("--certfile and --keyfile go together")
    args.default_key = False
    if args.api_key_env:
        args.api_key = _from_environment(parser, "--api-key-env", args.api_key_env)
    elif args.api_key is None:
        args.api_key = os.environ.get(API_KEY_VARIABLE) or DEFAULT_API_KEY
        args.default_key = args.api_key == DEFAULT_API_KEY
    args.token += [_from_environment(parser, "--token-env", name) for name in args.token_env]
    args.workspaces = []
    for given in args.workspace:
        workspace_id, _, name = given.rpartition(":")
        if not workspace_id or not name:
            parser.error(f"--workspace {given}: give ID:NAME, e.g. staging:STAGING_API_KEY")
        args.workspaces.append((workspace_id, _from_environment(parser, "--workspace", name)))
    if args.clock_factor is not None and not (
        math.isfinite(args.clock_factor) and args.clock_factor > 0
    ):
        parser.error("--clock-factor must be a positive number")
    return args


def _from_environment(parser: argparse.ArgumentParser, option: str, name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        parser.error(f"{option} {name}: the environment variable {name} is not set or empty")
    HIDDEN_VARIABLES.add(name)  # a step's command never sees a credential of the emulator
    return value


def read_config(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as file:
            data = parse_json(file.read())
        # validate here, to name the file in the message
        rest = {k: v for k, v in data.items() if k != "limits"} if isinstance(data, dict) else data
        load_config(rest)
        Limits().replace(data.get("limits", {}), "'limits'")
    except OSError as error:
        raise ConfigError(f"cannot read configuration file '{path}': {error.strerror}.") from None
    except ValueError as error:  # ConfigError and JSONDecodeError
        if not isinstance(error, ConfigError):
            error = ConfigError(f"not valid JSON: {error}.")
        raise ConfigError(f"configuration file '{path}': {error}") from None
    return data


def build_context(args: argparse.Namespace) -> Any:
    from .server.context import Context

    base_dir = os.path.dirname(os.path.abspath(args.config)) if args.config else None
    config = read_config(args.config) if args.config else {}
    limits = Limits().replace(config.pop("limits", {}), "'limits'")
    given = {
        "max_body_size": args.max_body_size,
        "max_upload_size": args.max_upload_size,
        "header_timeout": args.header_timeout,
    }
    limits = limits.replace({k: v for k, v in given.items() if v is not None}, "the options")
    settings = load_config(config, base_dir)
    factor = args.clock_factor if args.clock_factor is not None else settings["clock_factor"]
    workspace = Workspace(
        args.workspace_id,
        settings["processes"],
        clock=Clock(factor),
        stopping_seconds=settings["stopping_seconds"],
        page_size=settings["page_size"],
        url_expiry_seconds=settings["url_expiry_seconds"],
    )
    seed: Any = args.seed
    if seed is not None and seed.lstrip("-").isdigit():
        seed = int(seed)
    workspace.allow_commands = args.allow_commands
    ctx = Context(
        workspace=workspace, api_key=args.api_key, tokens=set(args.token), seed=seed, limits=limits
    )
    for workspace_id, api_key in args.workspaces:
        ctx.new_workspace(workspace_id, api_key)
    return ctx


async def serve(args: argparse.Namespace) -> None:
    from aiohttp import web

    from .runner import set_origin
    from .server.app import MAX_LINE_SIZE, create_app
    from .server.loglimit import bound_logging

    # Handlers first: whoever reads the first line may signal at once.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stop.set)
        except (NotImplementedError, RuntimeError):  # Windows
            signal.signal(signum, lambda *_: loop.call_soon_threadsafe(stop.set))
    bound_logging()
    ctx = build_context(args)
    ssl_context = None
    if args.certfile:
        ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ssl_context.load_cert_chain(args.certfile, args.keyfile)
    # handler_cancellation: a hung request ends when its client gives up.
    # shutdown_timeout: hung requests do not hold up a stop.
    # keepalive_timeout: also how long a connection may take to send its first headers.
    runner = web.AppRunner(
        create_app(ctx),
        access_log=None,
        handler_cancellation=True,
        keepalive_timeout=ctx.limits.header_timeout,
        shutdown_timeout=1.0,
        max_line_size=MAX_LINE_SIZE,
        max_field_size=MAX_LINE_SIZE,
    )
    await runner.setup()
    site = web.TCPSite(runner, args.host, args.port, ssl_context=ssl_context)
    await site.start()
    port = runner.addresses[0][1]
    scheme = "https" if ssl_context else "http"
    host = f"[{args.host}]" if ":" in args.host else args.host
    set_origin(f"{scheme}://{host}:{port}")  # where step runs' commands reach the emulator
    print(f"Control Room emulator listening on {scheme}://{host}:{port}/api/v1", flush=True)
    # The key is a secret (the output may go to a CI log); the demo key is documented.
    key = DEFAULT_API_KEY if args.default_key else "(given, not shown)"
    print(
        f"Workspace id: {ctx.workspace.workspace_id}  API key: {key}  "
        f"Clock factor: {ctx.workspace.clock.factor:g}  Processes: "
        f"{', '.join(ctx.workspace.processes)}",
        flush=True,
    )
    for workspace_id in list(ctx.served)[1:]:
        print(f"Workspace id: {workspace_id}  API key: (given, not shown)", flush=True)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        import aiohttp  # noqa: F401  (only the server needs it: the `emulator` extra)
    except ImportError:
        print(f"processrun-emulator: error: {MISSING_AIOHTTP}.", file=sys.stderr, flush=True)
        return 2
    try:
        asyncio.run(serve(args))
    except (OSError, ValueError, ConfigError) as error:
        # Bad config file, port in use, bad certificate: one line, no traceback.
        print(f"processrun-emulator: error: {error}", file=sys.stderr, flush=True)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
