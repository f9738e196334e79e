"""What one emulator process serves: its workspaces and the credentials that open them
(Served, Context), its limits, and the check of an Authorization header (authorize)."""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable
from dataclasses import InitVar, dataclass, field
from typing import Any

from ..common import ConfigError, forbidden
from ..faults import FaultSet
from ..limits import Limits
from ..requestlog import RequestLog
from ..state import Workspace
from .callbacks import Callbacks

# A workspace id goes into every API path: no character that a path would need to escape.
WORKSPACE_ID = re.compile(r"[A-Za-z0-9._-]{1,100}")


@dataclass
class Served:
    """One workspace the emulator serves, with the credentials that open it: its API key
    and the tokens issued for it."""

    workspace: Workspace
    api_key: str
    tokens: set[str]
    callbacks: Callbacks

    def accepts_token(self, credential: str) -> bool:
        """A token the emulator issued (`--token`, `POST /_emulator/tokens`)."""
        return any(same_secret(credential, t) for t in self.tokens)

    def accepts_credential(self, credential: str) -> bool:
        """The integrations endpoint's `token`: the API key or an issued token."""
        return same_secret(credential, self.api_key) or self.accepts_token(credential)


@dataclass
class Context:
    """What one emulator process holds: the workspaces it serves (the first is the one it
    was started with), and the fault rules and request log, which all of them share."""

    workspace: Workspace
    # The first workspace's credentials: kept in its Served, not here.
    api_key: InitVar[str]
    tokens: InitVar[set[str] | None] = None
    seed: Any = None
    limits: Limits = field(default_factory=lambda: Limits())
    faults: FaultSet = field(init=False)
    log: RequestLog = field(default_factory=RequestLog)
    served: dict[str, Served] = field(init=False)

    def __post_init__(self, api_key: str, tokens: set[str] | None) -> None:
        self.faults = FaultSet(self.seed)
        self.served = {}
        self.add_workspace(self.workspace, api_key, tokens or set())

    @property
    def callbacks(self) -> Callbacks:
        """The first workspace's callback deliveries."""
        return self.served[self.workspace.workspace_id].callbacks

    def add_workspace(self, workspace: Workspace, api_key: str, tokens: set[str]) -> Served:
        """Serve one more workspace. Its id and its credentials must be its own: a key or
        token opens one workspace, as in Control Room."""
        workspace_id = workspace.workspace_id
        if not WORKSPACE_ID.fullmatch(workspace_id) or not workspace_id.strip("."):
            raise ConfigError(
                "A workspace id must be 1 to 100 letters, digits, '-', '_' or '.', and not "
                f"only dots, got '{workspace_id[:100]}'."
            )
        if workspace_id in self.served:
            raise ConfigError(f"Workspace '{workspace_id}' is served already.")
        if not credential(api_key):
            raise ConfigError(
                f"The API key of workspace '{workspace_id}' must be {CREDENTIAL_RULE}."
            )
        owner = self.owner_of(api_key)
        if owner is not None:
            raise ConfigError(
                f"Workspace '{workspace_id}' needs an API key of its own: "
                f"workspace '{owner}' has this one."
            )
        served = Served(workspace, api_key, set(), Callbacks(workspace))
        self.served[workspace_id] = served
        for token in tokens:
            self.add_token(served, token)
        return served

    def owner_of(self, credential: str) -> str | None:
        """The workspace that has `credential` as its key or one of its tokens."""
        for served in self.served.values():
            if same_secret(credential, served.api_key) or served.accepts_token(credential):
                return served.workspace.workspace_id
        return None

    def add_token(self, served: Served, token: str) -> None:
        """A token that opens `served` (`Bearer <token>`, the integrations' `token`)."""
        if not credential(token):
            raise ConfigError(f"A token must be {CREDENTIAL_RULE}.")
        owner = self.owner_of(token)
        if owner is not None and not served.accepts_token(token):
            raise ConfigError(
                "A token must be a credential of its own: workspace "
                f"'{owner}' has it as its API key or a token."
            )
        served.tokens.add(token)

    def new_workspace(self, workspace_id: str, api_key: str) -> Served:
        """A workspace like the first: the same clock and settings, and the processes the
        first one started with (of the configuration file, or the demo processes)."""
        first = self.workspace
        workspace = Workspace(
            workspace_id,
            first.initial_processes,
            clock=first.clock,
            stopping_seconds=first.stopping_seconds,
            page_size=first.page_size,
            url_expiry_seconds=first.url_expiry_seconds,
        )
        workspace.allow_commands = first.allow_commands
        return self.add_workspace(workspace, api_key, set())

    def holding(self, has: Callable[[Workspace], bool]) -> Workspace:
        """The workspace for which `has` is true (a download or upload URL names no
        workspace, only its file), else the first (whose lookup then answers 404)."""
        return next((s.workspace for s in self.served.values() if has(s.workspace)), self.workspace)

    def reset(self, reset_processes: bool) -> None:
        for served in self.served.values():
            served.workspace.reset(reset_processes=reset_processes)
            served.callbacks.cancel_all()
        self.faults = FaultSet(self.seed)
        self.log.clear()

    async def close(self) -> None:
        for served in self.served.values():
            await served.workspace.close_commands()  # no command outlives the emulator
            await served.callbacks.close()
            served.workspace.spool.close()  # the bytes of its files: nothing left on disk


MAX_CREDENTIAL = 1024
CREDENTIAL_RULE = f"1 to {MAX_CREDENTIAL} printable ASCII characters, with no space at either end"


def credential(value: str) -> bool:
    """Whether `value` can be a key or token: what an Authorization header carries whole
    (HTTP drops spaces at its ends; aiohttp refuses a header over 64 KiB)."""
    return (
        0 < len(value) <= MAX_CREDENTIAL
        and value.isascii()
        and value.isprintable()
        and value == value.strip()
    )


def same_secret(given: str, expected: str) -> bool:
    """Compare in constant time. Header values that are not UTF-8 arrive with surrogate
    escapes, which a plain encode() refuses: they are compared byte for byte."""
    return hmac.compare_digest(
        given.encode("utf-8", "surrogateescape"), expected.encode("utf-8", "surrogateescape")
    )


def authorize(ctx: Context, header: str | None) -> Served:
    """Authorization: exactly `RC-WSKEY <api key>` or `Bearer <token>` with a token the
    emulator issued, as Control Room takes them: the scheme as written, one space. The
    API key as a Bearer token, or with another spelling of the scheme, is refused with a
    message that says how to send it (a robot that passes here passes in Control Room).
    Returns the workspace the credential opens."""
    if not header:
        raise forbidden(
            "Missing Authorization header: send 'RC-WSKEY <api key>' or 'Bearer <token>'."
        )
    scheme, _, credential = header.partition(" ")
    for served in ctx.served.values():
        if scheme == "RC-WSKEY" and same_secret(credential, served.api_key):
            return served
        if scheme == "Bearer" and served.accepts_token(credential):
            return served
    last = header.split()[-1] if header.split() else ""
    for served in ctx.served.values():
        if same_secret(last, served.api_key):
            raise forbidden(
                "The API key must be sent as 'RC-WSKEY <api key>': that scheme, one space."
            )
        if served.accepts_token(last):
            raise forbidden("A token must be sent as 'Bearer <token>': that scheme, one space.")
    raise forbidden("The API key or token in the Authorization header is not valid.")


def check_workspace(served: Served, workspace_id: str) -> None:
    if workspace_id != served.workspace.workspace_id:
        raise forbidden(f"No access to workspace '{workspace_id}' with this API key.")
