"""Hostile HTTP servers for the acceptance tests: a false Control Room and a thief.

``Start Hostile Servers`` starts two real HTTP servers on free ports of 127.0.0.1: the
*impostor*, which the library takes for Control Room, and the *thief*, another origin
that hostile answers point to (``next`` URLs, redirects). Both record every request they
get (method, path, whether it carried an ``Authorization`` header or a body), so that a
test can prove that nothing reached the thief.

The impostor plays one scenario per API URL: ``Hostile API URL    drip`` gives
``http://127.0.0.1:<port>/drip/api/v1``, and every request under it gets the ``drip``
answer. The scenarios are in ``SCENARIOS`` below; each says what Control Room never does.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

RUN = {"id": "r1", "state": "in_progress", "process": {"id": "p1", "name": "Hostile"}}
DRIP_PAUSE = 1.5  # seconds between two bytes of a dripping answer
HANG = 120.0  # seconds a hanging answer waits (far beyond every bound under test)


class _Recorder(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, name: str, thief_url: str = "") -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.name = name
        self.thief_url = thief_url
        self.received: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up on a dripping answer: expected, not worth a traceback

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: _Recorder
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with self.server.lock:
            self.server.received.append(
                {
                    "method": self.command,
                    "path": self.path,
                    "authorization": "Authorization" in self.headers,
                    "body": len(body),
                }
            )
        if self.server.name == "thief":
            self._json(200, {"started": True, "id": "stolen", "state": "completed", "data": []})
            return
        scenario, _, rest = self.path.lstrip("/").partition("/")
        handler = SCENARIOS.get(scenario)
        if handler is None:
            self._json(404, {"error": {"code": "no_scenario", "message": scenario}})
            return
        handler(self, "/" + rest)

    do_GET = do_POST = do_DELETE = do_PUT = _handle

    # --- answers ---------------------------------------------------------------------

    def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self._raw(status, json.dumps(body).encode(), headers)

    def _raw(self, status: int, data: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
            self.send_header(name, value)
        if "Content-Length" not in (headers or {}):
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def base(self) -> str:
        """This scenario's API URL."""
        scenario = self.path.lstrip("/").split("/", 1)[0]
        return f"{self.server.url}/{scenario}/api/v1"


def _steal_next(h: _Handler, path: str) -> None:
    """Every listing's first page points its ``next`` at the thief; runs end unresolved,
    so that a wait looks up their failed work items (another listing)."""
    if "/process-runs/" in path:
        h._json(200, {**RUN, "id": path.rsplit("/", 1)[-1], "state": "unresolved"})
        return
    run = {**RUN, "state": "unresolved"}
    page = {"data": [run] if "/process-runs" in path else [], "has_more": True}
    h._json(200, {**page, "next": f"{h.server.thief_url}/steal?cursor=2"})


def _redirect(status: int) -> Any:
    def answer(h: _Handler, path: str) -> None:
        h._json(status, {}, {"Location": f"{h.server.thief_url}/steal{path}"})

    return answer


def _drip(h: _Handler, path: str) -> None:
    """Headers at once, then the body one byte every DRIP_PAUSE seconds."""
    data = json.dumps(RUN).encode()
    h.send_response(200)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", str(len(data)))
    h.end_headers()
    h.wfile.flush()
    for byte in data:
        time.sleep(DRIP_PAUSE)
        h.wfile.write(bytes([byte]))
        h.wfile.flush()


def _drip_headers(h: _Handler, path: str) -> None:
    """The status line and headers one byte every DRIP_PAUSE seconds."""
    data = json.dumps(RUN).encode()
    head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(data)}\r\nX-Padding: {'x' * 40}\r\n\r\n"
    for char in head.encode():
        time.sleep(DRIP_PAUSE)
        h.wfile.write(bytes([char]))
        h.wfile.flush()
    h.wfile.write(data)


def _hang(h: _Handler, path: str) -> None:
    time.sleep(HANG)


def _retry_after(h: _Handler, path: str) -> None:
    busy = {"error": {"code": "service_unavailable", "message": "Come back later."}}
    h._json(503, busy, {"Retry-After": "10"})


def _body(data: bytes | str, headers: dict[str, str] | None = None) -> Any:
    def answer(h: _Handler, path: str) -> None:
        h._raw(200, data if isinstance(data, bytes) else data.encode(), headers)

    return answer


def _loop_next(h: _Handler, path: str) -> None:
    """Every page's ``next`` is the page itself."""
    h._json(200, {"data": [RUN], "next": f"{h.server.url}{h.path}", "has_more": True})


def _cycle(h: _Handler, path: str) -> None:
    """Page A points to page B, and B back to A."""
    other = "b" if "page=a" in path or "page=" not in path else "a"
    h._json(200, {"data": [RUN], "next": f"{h.base()}/workspaces/ws/process-runs?page={other}"})


def _runs_gone(h: _Handler, path: str) -> None:
    """Listings are empty and every run is 404: a Control Room that lost its runs."""
    if "/process-runs/" in path:
        run = path.rsplit("/", 1)[-1]
        message = f"Process run {run} was not found."
        h._json(404, {"error": {"code": "not_found", "message": message}})
        return
    h._json(200, {"data": [], "next": None, "has_more": False})


def _huge(h: _Handler, path: str) -> None:
    """A body of 11 MB sent without Content-Length (read to the end of the connection)."""
    h.send_response(200)
    h.send_header("Content-Type", "application/json")
    h.send_header("Connection", "close")
    h.end_headers()
    h.wfile.write(b'{"id": "r1", "state": "new", "padding": "')
    chunk = b"x" * 1024 * 1024
    try:
        for _ in range(11):
            h.wfile.write(chunk)
        h.wfile.write(b'"}')
    except OSError:
        pass
    h.close_connection = True


SCENARIOS: dict[str, Any] = {
    "steal-next": _steal_next,
    "redirect-302": _redirect(302),
    "redirect-307": _redirect(307),
    "drip": _drip,
    "drip-headers": _drip_headers,
    "hang": _hang,
    "retry-after": _retry_after,
    "loop-next": _loop_next,
    "cycle": _cycle,
    "runs-gone": _runs_gone,
    "huge": _huge,
    "huge-declared": _body(b"{}", {"Content-Length": str(1 << 30)}),
    "empty": _body(b""),
    "null": _body("null"),
    "list": _body("[]"),
    "data-string": _body('{"data": "abc", "next": null}'),
    "next-number": _body('{"data": [], "next": 7, "has_more": true}'),
    "items-strings": _body('{"data": ["a", "b"], "next": null}'),
    "state-number": _body('{"id": "r1", "state": 7}'),
    "truncated": _body('{"started": tr'),
    "no-started": _body('{"id": "r1"}'),
    "deep": _body("[" * 100_000 + "]" * 100_000),
    "deep-object": _body('{"id": "r1", "state": "new", "x": ' + "[" * 70 + "]" * 70 + "}"),
    "not-started": _body('{"started": false}'),
}


class HostileServer:
    """Robot keywords over the two servers."""

    ROBOT_LIBRARY_SCOPE = "SUITE"

    def __init__(self) -> None:
        self.thief: _Recorder | None = None
        self.impostor: _Recorder | None = None

    def start_hostile_servers(self) -> None:
        self.thief = _Recorder("thief")
        self.impostor = _Recorder("impostor", self.thief.url)
        for server in (self.thief, self.impostor):
            threading.Thread(target=server.serve_forever, daemon=True).start()

    def stop_hostile_servers(self) -> None:
        for server in (self.thief, self.impostor):
            if server is not None:
                server.shutdown()
                server.server_close()

    def hostile_api_url(self, scenario: str) -> str:
        """The API URL under which the impostor plays ``scenario``."""
        assert self.impostor is not None
        if scenario not in SCENARIOS:
            raise AssertionError(f"No scenario '{scenario}'.")
        return f"{self.impostor.url}/{scenario}/api/v1"

    def thief_origin(self) -> str:
        """The thief's origin as the library names it (``http://127.0.0.1:<port>``)."""
        assert self.thief is not None
        return self.thief.url

    def impostor_origin(self) -> str:
        assert self.impostor is not None
        return self.impostor.url

    def clear_received(self) -> None:
        for server in (self.thief, self.impostor):
            if server is not None:
                with server.lock:
                    server.received.clear()

    def thief_should_have_received_nothing(self) -> None:
        assert self.thief is not None
        with self.thief.lock:
            got = list(self.thief.received)
        if got:
            keys = sum(r["authorization"] for r in got)
            raise AssertionError(
                f"The thief got {len(got)} requests ({keys} with credentials): "
                + ", ".join(f"{r['method']} {urlsplit(r['path']).path}" for r in got)
            )

    def impostor_requests(self) -> list[str]:
        """``METHOD path`` of every request the impostor got, scenario prefix removed."""
        assert self.impostor is not None
        with self.impostor.lock:
            got = list(self.impostor.received)
        return [f"{r['method']} /{r['path'].lstrip('/').partition('/')[2]}" for r in got]
