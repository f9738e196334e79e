"""A hostile Control Room for the download suites: a real HTTP server on a free port of
127.0.0.1 that lists step run artifacts and output files with names that try to escape
the download folder, serves them from signed URLs, and records whether a download
request carried an Authorization header.

The signature in its URLs is ``ATEST_DOWNLOAD_SIGNATURE`` from atest/run.py, which
searches every output file for it afterwards: a leaked download URL fails the run.
"""

from __future__ import annotations

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

# Names as a hostile or careless server might send them, and the safe names they become.
ARTIFACT_NAMES = [
    "log.html",
    "../../escaped.txt",
    "/etc/passwd",
    "..",
    "..\\..\\windows\\win.ini",
    "re\x00port.txt",
    "LOG.html",
    "output.xml",
]


class HostileFiles:
    ROBOT_LIBRARY_SCOPE = "SUITE"

    def __init__(self) -> None:
        self.server: ThreadingHTTPServer | None = None
        self.seen: list[str] = []
        self.signature = os.environ.get("ATEST_DOWNLOAD_SIGNATURE", "atest-download-signature")

    def start_hostile_file_server(self) -> str:
        """Starts the server; returns its API URL (``http://127.0.0.1:<port>/api/v1``)."""
        library = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                library._answer(self)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"{self._base()}/api/v1"

    def stop_hostile_file_server(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def get_hostile_server_requests(self) -> list[str]:
        """Each request as ``GET <path> authorization=<yes|no>``, without its query."""
        return list(self.seen)

    def clear_hostile_server_requests(self) -> None:
        self.seen.clear()

    # --- the server -----------------------------------------------------------------

    def _base(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_port}"

    def _url(self, name: str) -> str:
        return f"{self._base()}/files/{name}?X-Amz-Expires=3600&X-Amz-Signature={self.signature}"

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        auth = "yes" if handler.headers.get("Authorization") else "no"
        self.seen.append(f"GET {parts.path} authorization={auth}")
        segments = parts.path.strip("/").split("/")
        if segments[0] == "files":
            query = parse_qs(parts.query)
            if query.get("X-Amz-Signature") != [self.signature]:
                return self._send(handler, 403, b"<Error>SignatureDoesNotMatch</Error>")
            return self._send(handler, 200, f"content of {segments[1]}".encode())
        # /api/v1/workspaces/<ws>/...
        rest = segments[4:]
        if rest[:1] == ["step-runs"] and rest[2:] == ["artifacts"]:
            data = [{"id": f"a{i}", "name": n, "size": 12} for i, n in enumerate(ARTIFACT_NAMES)]
            return self._json(handler, {"next": None, "has_more": False, "data": data})
        if rest[:1] == ["step-runs"] and rest[2:3] == ["artifacts"] and len(rest) == 4:
            index = int(rest[3][1:])
            body = {
                "id": rest[3],
                "name": ARTIFACT_NAMES[index],
                "size": 12,
                "url": self._url(rest[3]),
            }
            return self._json(handler, body)
        if rest == ["outputs"]:
            outputs = [
                {
                    "id": "out-1",
                    "created_at": "2026-01-01T00:00:00Z",
                    "payload": None,
                    "files": [
                        {
                            "id": "f1",
                            "name": "../report.pdf",
                            "size": 12,
                            "download": {"url": self._url("f1")},
                        },
                        {
                            "id": "f2",
                            "name": "report.pdf",
                            "size": 12,
                            "download": {"url": self._url("f2")},
                        },
                    ],
                },
                {
                    "id": "../out-2",
                    "created_at": "2026-01-01T00:00:00Z",
                    "payload": None,
                    "files": [
                        {
                            "id": "f3",
                            "name": "data.csv",
                            "size": 12,
                            "download": {"url": self._url("f3")},
                        }
                    ],
                },
            ]
            return self._json(handler, {"next": None, "has_more": False, "data": outputs})
        return self._json(
            handler, {"error": {"code": "not_found", "message": "No such thing."}}, 404
        )

    def _json(self, handler: BaseHTTPRequestHandler, body: Any, status: int = 200) -> None:
        self._send(handler, status, json.dumps(body).encode(), "application/json")

    @staticmethod
    def _send(
        handler: BaseHTTPRequestHandler, status: int, body: bytes, kind: str = "text/plain"
    ) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", kind)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
