"""A threaded HTTP server on 127.0.0.1 serving every compared admin app.

Run as ``python -m benchmarks.server DATABASE_URL``: it prints its port, then
serves each variant's app under ``/<variant name>`` until it is terminated.
Every response carries ``X-CPU-Time``: the CPU seconds its thread spent on it.
"""

from __future__ import annotations

import collections.abc as cabc
import sys
import time
import typing as t

from werkzeug.exceptions import NotFound
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import make_server
from werkzeug.serving import WSGIRequestHandler

from .variants import COMPARED

if t.TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIApplication
    from _typeshed.wsgi import WSGIEnvironment


class KeepAliveHandler(WSGIRequestHandler):
    """HTTP/1.1 with keep-alive, and no log line per request."""

    protocol_version = "HTTP/1.1"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Log nothing: the benchmark makes thousands of requests."""


def cpu_timed(app: WSGIApplication) -> WSGIApplication:
    """Add the thread's CPU time spent on each request as ``X-CPU-Time``.

    The response is buffered so the header can be sent after the time is known;
    Flask's responses here are buffered anyway.
    """

    def timed(
        environ: WSGIEnvironment, start_response: StartResponse
    ) -> cabc.Iterable[bytes]:
        started = time.thread_time()
        response: list[t.Any] = []

        def capture(
            status: str, headers: list[tuple[str, str]], *exc_info: t.Any
        ) -> t.Any:
            response[:] = [status, headers]
            return None

        result = app(environ, capture)

        try:
            body = list(result)
        finally:
            if hasattr(result, "close"):
                result.close()

        status, headers = response
        cpu = time.thread_time() - started
        start_response(status, [*headers, ("X-CPU-Time", repr(cpu))])
        return body

    return timed


def main(url: str) -> None:
    """Serve every compared variant on ``url``'s database until terminated."""
    mounts: dict[str, WSGIApplication] = {
        f"/{variant.name}": variant.build(url).app for variant in COMPARED
    }
    server = make_server(
        "127.0.0.1",
        0,
        cpu_timed(DispatcherMiddleware(NotFound(), mounts)),
        threaded=True,
        request_handler=KeepAliveHandler,
    )
    print(server.server_port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1])
