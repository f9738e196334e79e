"""What the keyword classes share: the sessions and the library's defaults."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from robot.api import logger

from ..errors import ConfigurationError, InvalidArgument
from ..masking import register
from ..returns import JsonDict
from ..text import counted
from ..types import (
    api_url_argument,
    non_negative_int,
    positive_time_argument,
    reveal,
    time_argument,
    verify_argument,
)

if TYPE_CHECKING:
    from ..client import ControlRoomClient

DEFAULT_API_URL = "https://cloud.robocorp.com/api/v1"


@dataclass(frozen=True)
class Settings:
    """Connection settings as given; ``None`` means "fall back further"."""

    api_url: str | None = None
    workspace_id: str | None = None
    api_key: str | None = None
    request_timeout: Any = None
    max_retries: Any = None
    verify: Any = None

    def over(self, fallback: Settings) -> Settings:
        """These settings, with the unset ones taken from ``fallback``."""
        given = {k: v for k, v in vars(self).items() if v is not None}
        return replace(fallback, **given)


class LibraryContext:
    """The state every keyword class reads: sessions, defaults for sessions and waits."""

    def __init__(self, defaults: Settings, timeout: Any, poll_interval: Any) -> None:
        self.defaults = defaults
        # Times are checked when a keyword first needs them, like the session settings,
        # not at import: Robot Framework puts every import argument, the API key too,
        # into the message of a failed import, on the console and in output.xml.
        self._timeout = timeout
        self._poll_interval = poll_interval
        self.sessions: dict[str, ControlRoomClient] = {}
        self.current_alias: str | None = None

    @property
    def timeout(self) -> float:
        return _import_time(time_argument, "timeout", self._timeout)

    @timeout.setter
    def timeout(self, seconds: float) -> None:
        self._timeout = seconds

    @property
    def poll_interval(self) -> float:
        return _import_time(positive_time_argument, "poll_interval", self._poll_interval)

    @poll_interval.setter
    def poll_interval(self, seconds: float) -> None:
        self._poll_interval = seconds

    def create_session(self, alias: str, given: Settings) -> None:
        client = build_client(given.over(self.defaults))
        if alias in self.sessions:
            self.sessions[alias].close()
        self.sessions[alias] = client
        self.current_alias = alias
        logger.info(
            f"Created Control Room session '{alias}' for workspace '{client.workspace_id}' "
            f"at {client.api_url}."
        )

    def client(self, alias: str | None = None) -> ControlRoomClient:
        """The session to use: ``alias``, else the current one, else ``default`` made now."""
        if alias is None:
            if self.current_alias is None:
                self.create_session("default", Settings())
            alias = self.current_alias
        if alias not in self.sessions:
            known = ", ".join(f"'{a}'" for a in self.sessions) or "none"
            raise InvalidArgument(
                f"Argument 'alias' names no Control Room session: '{alias}'. Sessions: {known}."
            )
        return self.sessions[alias]

    def switch(self, alias: str) -> str | None:
        self.client(alias)  # fails naming the alias when there is no such session
        previous, self.current_alias = self.current_alias, alias
        return previous

    def close_all(self) -> None:
        for client in self.sessions.values():
            client.close()
        self.sessions.clear()
        self.current_alias = None


def _import_time(convert: Callable[[str, Any], float], name: str, value: Any) -> float:
    """Seconds in a wait default, failing with a message that says where it came from."""
    try:
        return convert(name, value)
    except InvalidArgument as error:
        raise InvalidArgument(
            f"ProcessRunLibrary was imported with a bad argument: {error}"
        ) from None


def build_client(settings: Settings) -> ControlRoomClient:
    """A client from settings, filling what is missing from the environment."""
    # requests is imported with the first session, not with the library: robots that
    # never call Control Room (libdoc, dry runs, other pabot processes) do not pay for it.
    from ..client import ControlRoomClient, Credentials

    api_url = api_url_argument(
        settings.api_url or os.environ.get("RC_API_URL_V1") or DEFAULT_API_URL
    )
    workspace_id = settings.workspace_id or os.environ.get("RC_WORKSPACE_ID")
    if not workspace_id:
        raise ConfigurationError(
            "No workspace id: give 'workspace_id' when importing ProcessRunLibrary or to "
            "'Create Control Room Session', or set the environment variable RC_WORKSPACE_ID."
        )
    credentials = Credentials(*_credentials(settings.api_key))
    request_timeout = positive_time_argument("request_timeout", settings.request_timeout)
    verify = verify_argument(settings.verify)
    if verify is False:
        logger.warn(
            f"TLS certificate verification is off for the Control Room session at {api_url} "
            "(verify=False): the connection is not protected against impersonation."
        )
    return ControlRoomClient(
        api_url,
        workspace_id,
        credentials,
        request_timeout=request_timeout,
        max_retries=non_negative_int("max_retries", settings.max_retries),
        verify=verify,
    )


def _credentials(api_key: Any) -> tuple[str, str]:
    for name, value, scheme in (
        ("Argument 'api_key'", reveal(api_key), "RC-WSKEY"),
        ("The environment variable RC_API_KEY", os.environ.get("RC_API_KEY"), "RC-WSKEY"),
        ("The environment variable RC_API_TOKEN_V1", os.environ.get("RC_API_TOKEN_V1"), "Bearer"),
    ):
        # Blank counts as not given (a key of only white space went out as 'RC-WSKEY ').
        secret = value.strip() if isinstance(value, str) else ""
        if secret:
            register(value, secret)
            if any(c.isspace() or not c.isprintable() for c in secret):
                raise InvalidArgument(
                    f"{name} must not contain white space or control characters: it is sent "
                    "in the Authorization header."
                )
            if not secret.isascii():
                raise InvalidArgument(
                    f"{name} must hold only ASCII characters: it is sent in the "
                    "Authorization header."
                )
            return secret, scheme
    raise ConfigurationError(
        "No API key: give 'api_key' when importing ProcessRunLibrary or to "
        "'Create Control Room Session', or set the environment variable RC_API_KEY "
        "(inside a Control Room run, RC_API_TOKEN_V1 is used)."
    )


def to_dotdict(value: Any) -> Any:
    """JSON as Robot users like it: every dictionary, also inside lists, a :class:`JsonDict`.

    The value given is not changed."""
    kind = type(value)
    if kind is dict or kind is JsonDict:
        converted = JsonDict(value)
        for key, item in value.items():
            if type(item) in _NESTED:
                converted[key] = to_dotdict(item)
        return converted
    if kind is list:
        return [to_dotdict(item) if type(item) in _NESTED else item for item in value]
    return value


_NESTED = (dict, JsonDict, list)


def found(items: list[Any], what: str, plural: str | None = None, of: str = "") -> Any:
    """What a listing keyword returns: ``items`` (JsonDicts already, as the client parses
    answers), after the one log line that says how many there are (``Found 2 work items
    of ...``)."""
    logger.info(f"Found {counted(len(items), what, plural)}{of}.")
    return items


class LibraryComponent:
    """Base of the keyword classes: access to the shared :class:`LibraryContext`."""

    def __init__(self, ctx: LibraryContext) -> None:
        self.ctx = ctx
