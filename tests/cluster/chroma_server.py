"""A real Chroma server the test can stop and start again (same port, same data), and an
HTTP proxy in front of it that can hold one request: the test stops the server while a
worker's write is on its way, so the outage falls in the middle of an index run by an
event, not by timing."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from tests.postgres import _free_port

_HOP = {"connection", "keep-alive", "transfer-encoding", "content-encoding", "content-length"}


class ChromaServer:
    """`chroma run` on 127.0.0.1 over `path`."""

    def __init__(self, path: Path) -> None:
        exe = shutil.which("chroma", path=str(Path(sys.executable).parent))
        assert exe, "the chroma CLI comes with chromadb"
        self.exe, self.path, self.port = exe, path, _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        args = [self.exe, "run", "--path", str(self.path), "--host", "127.0.0.1"]
        self.proc = subprocess.Popen(
            [*args, "--port", str(self.port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 60
        tick = threading.Event()
        while True:
            try:
                if httpx.get(f"{self.url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                assert self.proc.poll() is None, "chroma run exited"
                assert time.monotonic() < deadline, "chroma server did not start"
                tick.wait(0.1)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


@contextmanager
def chroma_server(path: Path) -> Iterator[ChromaServer]:
    server = ChromaServer(path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


class HoldingProxy:
    """Forwards every request to `upstream`; the `nth` request that `hold` picks waits for
    `release` after setting `entered`. A request the upstream cannot take is answered by
    closing the connection, as a server that died would."""

    def __init__(self, upstream: str, hold: Callable[[str, str], bool], nth: int = 1) -> None:
        self.upstream, self.hold, self.nth = upstream, hold, nth
        self.entered, self.release = threading.Event(), threading.Event()
        self._seen = 0
        self._lock = threading.Lock()
        self._client = httpx.Client(base_url=upstream, timeout=60)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def _held(self, method: str, path: str) -> bool:
        if not self.hold(method, path):
            return False
        with self._lock:
            self._seen += 1
            return self._seen == self.nth

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if proxy._held(self.command, self.path):
                    proxy.entered.set()
                    proxy.release.wait(timeout=120)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
                try:
                    answer = proxy._client.request(
                        self.command, self.path, content=body, headers=headers
                    )
                except httpx.TransportError:
                    self.close_connection = True  # no answer: the server is gone
                    return
                self.send_response(answer.status_code)
                for k, v in answer.headers.items():
                    if k.lower() not in _HOP:
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _forward

        return Handler

    def __enter__(self) -> HoldingProxy:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()
        self._client.close()
