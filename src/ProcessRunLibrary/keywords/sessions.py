from __future__ import annotations

from robot.api.deco import keyword

from ..types import Secret, Time, non_empty
from .context import LibraryComponent, Settings


class SessionKeywords(LibraryComponent):
    @keyword
    def create_control_room_session(
        self,
        alias: str,
        api_url: str | None = None,
        workspace_id: str | None = None,
        api_key: str | Secret | None = None,
        request_timeout: Time = None,
        max_retries: int | None = None,
        verify: bool | str | None = None,
    ) -> None:
        """Creates a Control Room session and makes it the current one.

        Each session has its own API URL, workspace, key, timeouts, retries and TLS
        settings. Arguments not given fall back to the library import arguments, then
        to the environment variables (see `Importing`). Creating a session with an
        alias that exists replaces that session.

        No request is sent: a wrong key shows on the first keyword that uses the
        session. Fails at once when no workspace id or API key can be found, when
        ``api_url`` is not an http(s) URL, or when ``verify`` names no file.

        The ``api_key`` is never logged. Pass it from an environment variable, as a
        ``Secret`` (Robot Framework 7.4 and newer), or as a named argument: see
        `Logging and secrets`.

        Examples:
        | Create Control Room Session | prod | workspace_id=${PROD_WS} | api_key=${PROD_KEY} |
        | Create Control Room Session | test | api_url=http://127.0.0.1:8123/api/v1 | workspace_id=ws | api_key=${KEY} | request_timeout=5 s | max_retries=0 |
        | ${run} = | Get Process Run | ${id} | alias=prod |
        """
        self.ctx.create_session(
            non_empty("alias", alias),
            Settings(api_url, workspace_id, api_key, request_timeout, max_retries, verify),
        )

    @keyword
    def switch_control_room_session(self, alias: str) -> str | None:
        """Makes the session ``alias`` the current one and returns the previous alias.

        Keywords use the current session when their ``alias`` argument is not given.
        Fails when no session has that alias.

        Examples:
        | ${previous} = | Switch Control Room Session | test |
        | Start Process Run | ${PROCESS} |
        | Switch Control Room Session | ${previous} |
        """
        return self.ctx.switch(alias)

    @keyword
    def close_all_control_room_sessions(self) -> None:
        """Closes every Control Room session and forgets their aliases.

        The next keyword without ``alias`` creates the ``default`` session again from
        the import arguments and environment variables. Use it in a suite teardown.

        Examples:
        | [Teardown] | Close All Control Room Sessions |
        """
        self.ctx.close_all()
