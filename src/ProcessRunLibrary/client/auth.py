"""Credentials, set the way requests sets auth (a ``requests.auth.AuthBase``).

Both sessions of a :class:`Transport` always have an auth: the API session
:class:`HeaderAuth` (``RC-WSKEY ...`` or ``Bearer ...``), the session of presigned URLs
:class:`NoAuth`. requests reads ``~/.netrc`` (or ``NETRC``) only for a request without
any auth, so netrc never speaks for the user, while ``trust_env`` keeps the proxy and CA
bundle variables working.
"""

from __future__ import annotations

from dataclasses import dataclass

import requests
from requests.auth import AuthBase


@dataclass(frozen=True)
class Credentials:
    """How requests authenticate: a workspace API key or a Control Room run token."""

    secret: str
    scheme: str = "RC-WSKEY"  # or "Bearer"

    @property
    def header(self) -> str:
        return f"{self.scheme} {self.secret}"


class HeaderAuth(AuthBase):
    """``Authorization: RC-WSKEY ...`` or ``Bearer ...``, set the way requests sets auth."""

    def __init__(self, header: str) -> None:
        self.header = header

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = self.header
        return request


class NoAuth(AuthBase):
    """No credentials. Being an auth at all keeps requests from asking ~/.netrc."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers.pop("Authorization", None)
        return request


NO_AUTH = NoAuth()
