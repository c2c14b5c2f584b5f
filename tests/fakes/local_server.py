"""The lifecycle shared by the fakes that are real HTTP servers on 127.0.0.1.

A fake subclasses ``LocalHTTPServer``, names its request handler in ``handler`` and keeps
its own request handling; handlers reach the fake as ``self.server.fake``::

    class _Handler(QuietHandler):
        server: LocalServer[FakeThing]

    class FakeThing(LocalHTTPServer):
        handler = _Handler
        url_path = "/api"

    with FakeThing() as fake:
        httpx.get(fake.url)  # http://127.0.0.1:<port>/api
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Generic, Self, TypeVar

FakeT = TypeVar("FakeT")


class LocalServer(ThreadingHTTPServer, Generic[FakeT]):
    """A threading HTTP server whose handler threads never block interpreter exit."""

    daemon_threads = True
    fake: FakeT


class QuietHandler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Keep pytest output clean: no per-request access log on stderr."""

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def write_reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
        """Send one answer; a client that already gave up (its own timeout) is no error."""
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


class LocalHTTPServer:
    """Bind a free port on 127.0.0.1, serve from a daemon thread, stop on ``__exit__``."""

    handler: ClassVar[type[BaseHTTPRequestHandler]]
    """The request handler class; it reaches this object as ``self.server.fake``."""
    server_class: ClassVar[type[LocalServer[Any]]] = LocalServer
    poll_interval: ClassVar[float] = 0.05
    url_path: ClassVar[str] = ""
    """Appended to ``http://127.0.0.1:<port>`` to make ``url``."""

    def __init__(self) -> None:
        self.url = ""
        self._stopping = threading.Event()
        """Set by ``stop()``: handlers holding a connection wait on it to wake early."""
        self._server: LocalServer[Any] | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return int(self._server.server_address[1])

    def start(self) -> Self:
        """Bind a free port on 127.0.0.1 and serve from a daemon thread."""
        self._stopping.clear()
        self._server = self.server_class(("127.0.0.1", 0), self.handler)
        self._server.fake = self
        self.url = f"http://127.0.0.1:{self.port}{self.url_path}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": self.poll_interval},
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Shut down; also wakes handlers waiting on ``_stopping`` (injected timeouts, hangs)."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
