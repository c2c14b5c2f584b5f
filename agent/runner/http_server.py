"""`steward run --http HOST:PORT`: /healthz and /metrics, in a thread beside the jobs.

Standard library only (`http.server`): two read-only pages need no framework. The
server binds exactly the address it is given (port 0: the system picks one, and
`address` says which); `stop` closes it, and `steward run` stops it with the runner.
"""

from __future__ import annotations

import logging
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol

from agent.errors import ConfigError
from agent.runner.readiness import Readiness

log = logging.getLogger(__name__)


class MetricsPage(Protocol):
    content_type: str

    def render(self) -> bytes: ...


class OpsServer:
    """Serves /healthz (200 `ready`, else 503 naming the failing part) and /metrics."""

    def __init__(self, host: str, port: int, readiness: Readiness, metrics: MetricsPage) -> None:
        handler = _handler(readiness, metrics)
        try:
            self._server = ThreadingHTTPServer((host, port), handler)
        except OSError as exc:
            raise ConfigError(
                f"cannot serve /healthz and /metrics on {host}:{port}: {exc.strerror or exc}"
            ) from None
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="steward-http", daemon=True
        )

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    @property
    def url(self) -> str:
        host, port = self.address
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def start(self) -> OpsServer:
        self._thread.start()
        log.info("serving /healthz and /metrics on %s", self.url)
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()

    def __enter__(self) -> OpsServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def _handler(readiness: Readiness, metrics: MetricsPage) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "steward"
        sys_version = ""

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/healthz":
                report = readiness.check()
                status = HTTPStatus.OK if report.ready else HTTPStatus.SERVICE_UNAVAILABLE
                self._send(status, report.text().encode(), "text/plain; charset=utf-8")
            elif path == "/metrics":
                self._send(HTTPStatus.OK, metrics.render(), metrics.content_type)
            else:
                self._send(HTTPStatus.NOT_FOUND, b"not found: /healthz, /metrics\n", "text/plain")

        def _send(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            log.debug("http: " + format, *args)

    return Handler
