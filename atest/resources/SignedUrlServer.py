"""A false Control Room whose download URLs carry their credentials where a query-string
pattern cannot see them: a token as a path segment, and a query parameter of no known
name whose value JSON writes with ``\\/``. Its answers are JSON as PHP or Java's
org.json write it, every ``/`` escaped.

``Start Signed Url Server`` serves the credentials in this process's environment
(``FRESH_PATH_TOKEN``, ``FRESH_ARTIFACT_TOKEN``, ``FRESH_ESCAPED_QUERY``), where
SecretScan.py and SecretCounter.py (in a child robot, which inherits them) look for
them, and puts the server's API URL into ``SIGNED_URL_API_URL``. The credentials never pass
through a Robot Framework variable.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

WORKSPACE = "ws-signed"
BODY = b"downloaded content\n"


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        origin = self.server.origin
        path_token = os.environ["FRESH_PATH_TOKEN"]
        artifact_token = os.environ["FRESH_ARTIFACT_TOKEN"]
        query = os.environ["FRESH_ESCAPED_QUERY"]
        api = f"/api/v1/workspaces/{WORKSPACE}"
        route = self.path.split("?", 1)[0]
        if route == f"{api}/work-items/i1":
            self._json({
                "id": "i1", "state": "new", "payload": {},
                "files": [
                    {"id": "f1", "name": "a.txt", "size": len(BODY),
                     "download": {"url": f"{origin}/dl/{path_token}/a.txt"}},
                    {"id": "f2", "name": "b.txt", "size": len(BODY),
                     "download": {"url": f"{origin}/files/b.txt?dl={query}/2026/eu&n=1"}},
                ],
            })  # fmt: skip
        elif route == f"{api}/step-runs/s1/artifacts":
            self._json(
                {"data": [{"id": "a1", "name": "log.html"}], "has_more": False, "next": None}
            )
        elif route == f"{api}/step-runs/s1/artifacts/a1":
            self._json(
                {"id": "a1", "name": "log.html", "url": f"{origin}/art/{artifact_token}/log.html"}
            )
        elif route in (f"/dl/{path_token}/a.txt", f"/art/{artifact_token}/log.html"):
            self._send(200, BODY, "text/plain")
        else:
            self._send(404, b'{"error": {"code": "not_found"}}', "application/json")

    def _json(self, body: object) -> None:
        self._send(200, json.dumps(body).replace("/", "\\/").encode(), "application/json")

    def _send(self, status: int, data: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class SignedUrlServer:
    ROBOT_LIBRARY_SCOPE = "SUITE"

    def __init__(self) -> None:
        self.server: _Server | None = None

    def start_signed_url_server(self) -> None:
        """Serves the credentials in the environment (SecretScan's ``Create Fresh Secrets``
        makes them), or new ones."""
        for name in ("FRESH_PATH_TOKEN", "FRESH_ARTIFACT_TOKEN", "FRESH_ESCAPED_QUERY"):
            os.environ.setdefault(name, f"{name.lower()}-{secrets.token_hex(8)}")
        self.server = _Server(("127.0.0.1", 0), _Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        os.environ["SIGNED_URL_API_URL"] = f"{self.server.origin}/api/v1"
        os.environ["SIGNED_URL_WORKSPACE"] = WORKSPACE

    def stop_signed_url_server(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
