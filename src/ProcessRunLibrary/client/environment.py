"""What requests reads from the environment on every request (proxies, the CA bundle),
read again only when the environment has changed.

To find the proxies of a request, requests walks every environment variable twice
(``urllib.request.getproxies`` and ``proxy_bypass``): with 70 variables that costs
about 80 µs, more than the library's own work for a GET and a tenth of the whole
request. Where proxies come from the environment alone (not on macOS or Windows, whose
system settings urllib also asks), the answer depends only on the environment and the
URL's scheme and host: :class:`EnvironmentSession` keeps it per scheme and host while
``os.environ`` stays as it was. ``Set Environment Variable  HTTPS_PROXY  ...`` changes
``os.environ``, so the next request reads everything again, as requests would.
"""

from __future__ import annotations

import os
import urllib.request
from typing import Any

import requests

# requests asks urllib, which asks only the environment on these platforms.
_ENVIRONMENT_ONLY = (
    urllib.request.getproxies is urllib.request.getproxies_environment
    and urllib.request.proxy_bypass is getattr(urllib.request, "proxy_bypass_environment", None)
)


class EnvironmentSession(requests.Session):
    """A ``requests.Session`` whose ``merge_environment_settings`` is read again only
    when ``os.environ`` (or a setting it depends on) has changed."""

    def __init__(self) -> None:
        super().__init__()
        self._environ: dict[Any, Any] | None = None  # os.environ as last read
        self._merged: dict[tuple[Any, ...], Any] = {}

    def merge_environment_settings(
        self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> Any:  # requests' own settings mapping
        environ = getattr(os.environ, "_data", None)  # the mapping os.environ writes to
        key = self._key(url, proxies, stream, verify, cert)
        if key is None or type(environ) is not dict:
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        if environ != self._environ:
            self._merged.clear()
            self._environ = dict(environ)
        merged = self._merged.get(key)
        if merged is None:
            merged = super().merge_environment_settings(url, {}, stream, verify, cert)
            self._merged[key] = merged
        # A copy: what requests is handed, it may change.
        return {**merged, "proxies": dict(merged["proxies"])}

    def _key(
        self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> tuple[Any, ...] | None:
        """What the merged settings depend on besides the environment, or ``None`` when
        they cannot be kept (proxies given, system proxy settings, unhashable values)."""
        if not (_ENVIRONMENT_ONLY and self.trust_env and not proxies and not self.proxies):
            return None
        if not isinstance(url, str) or "://" not in url:
            return None
        scheme, _, rest = url.partition("://")
        # The host with its port and user: everything the proxy bypass rules look at.
        authority = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
        key = (scheme.lower(), authority, stream, verify, cert, self.stream, self.verify, self.cert)
        try:
            hash(key)
        except TypeError:
            return None
        return key
