"""The admin served over HTTP by werkzeug's threaded server, on 127.0.0.1 in a
thread, and a minimal HTTP client for it."""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import http.client
import socket
import struct
import threading
import types
import typing as t
import urllib.parse

from flask import Flask
from werkzeug.serving import make_server
from werkzeug.serving import WSGIRequestHandler


@dataclasses.dataclass
class Reply:
    """An HTTP response as the client saw it."""

    status: int
    location: str
    body: str


class QuietHandler(WSGIRequestHandler):
    """Logs nothing; counts the connections a client dropped mid-response."""

    dropped: t.ClassVar[list[BaseException]]

    def log(self, type: str, message: str, *args: t.Any) -> None:
        """Keep thousands of access-log lines out of the test output."""

    def connection_dropped(self, error: BaseException, environ: t.Any = None) -> None:
        """Record that the client went away while the response was written."""
        self.dropped.append(error)


class LiveServer:
    """Serves ``app`` with one thread per request until the block ends, and
    records the connections clients dropped.

    :param send_buffer: The socket send buffer of each connection, in bytes; a
        small one makes a long response block on a client that does not read.
    """

    def __init__(self, app: Flask, *, send_buffer: int | None = None) -> None:
        self.dropped: list[BaseException] = []
        handler = type("Handler", (QuietHandler,), {"dropped": self.dropped})
        self._server = make_server(
            "127.0.0.1", 0, app, threaded=True, request_handler=handler
        )

        if send_buffer is not None:
            # Accepted connections inherit the listening socket's buffer size.
            self._server.socket.setsockopt(
                socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer
            )

        # A short poll interval: shutdown() waits for the loop to notice.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}
        )
        self.port = self._server.server_port

    def __enter__(self) -> LiveServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: types.TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def connection(self) -> http.client.HTTPConnection:
        """A new connection to the server."""
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def abandon(self, path: str) -> bytes:
        """GET ``path`` with a small receive window, read the first bytes, and
        reset the connection, as a client that goes away mid-download does."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", self.port))

        try:
            sock.sendall(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
            head = sock.recv(1024)
            # A zero linger time makes close() send a reset, not a clean close.
            sock.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
        finally:
            sock.close()

        return head

    def get(self, path: str) -> Reply:
        """GET ``path``."""
        return self._request("GET", path, None)

    def post(self, path: str, data: dict[str, str]) -> Reply:
        """POST ``data`` to ``path`` as a form."""
        return self._request("POST", path, urllib.parse.urlencode(data))

    def _request(self, method: str, path: str, body: str | None) -> Reply:
        conn = self.connection()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}

        try:
            conn.request(method, path, body, headers)
            response = conn.getresponse()
            return Reply(
                response.status,
                response.getheader("Location", ""),
                response.read().decode(),
            )
        finally:
            conn.close()


def run_together(calls: cabc.Iterable[cabc.Callable[[], object]]) -> None:
    """Run each call in a thread of its own, all at once; return when all end."""
    threads = [threading.Thread(target=call) for call in calls]

    for thread in threads:
        thread.start()

    for thread in threads:
        thread.join()
