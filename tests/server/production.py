"""Serve the admin with real WSGI servers, optionally through PgBouncer, drive it
with a bounded mixed load, and check what is left behind.

Shared by the server tests (``test_production.py``, short) and the benchmark
(``python -m benchmarks.production``, the whole matrix).
"""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import typing as t
import urllib.parse

import sqlalchemy as sa

from tests.server.servers import Server

ROOT = pathlib.Path(__file__).resolve().parents[2]
PGBOUNCER = "/usr/sbin/pgbouncer"
PGBOUNCER_USER = "postgres"
"""PgBouncer refuses to run as root; when started as root it switches to this user."""


@dataclasses.dataclass(frozen=True)
class Serving:
    """A WSGI server configuration."""

    name: str
    kind: t.Literal["gunicorn", "waitress"]
    worker_class: str = "sync"
    workers: int = 1
    threads: int = 1

    @property
    def concurrency(self) -> int:
        """Requests served at once per worker process."""
        return 100 if self.worker_class == "gevent" else self.threads

    def command(self, port: int) -> list[str]:
        """The command that serves ``tests.server.wsgi:app`` on ``port``."""
        if self.kind == "waitress":
            return [
                sys.executable,
                "-m",
                "tests.server.wsgi",
                str(port),
                str(self.threads),
            ]

        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--worker-class",
            self.worker_class,
            "--workers",
            str(self.workers),
            "--graceful-timeout",
            "10",
            # A slow worker on a loaded machine must not be killed: its pool
            # report would be lost.
            "--timeout",
            "120",
            "--log-level",
            "warning",
        ]

        if self.worker_class == "gthread":
            command += ["--threads", str(self.threads)]

        return [*command, "tests.server.wsgi:app"]


SERVINGS: dict[str, Serving] = {
    serving.name: serving
    for serving in (
        Serving("gunicorn sync 4", "gunicorn", "sync", workers=4),
        Serving("gunicorn gthread 2x8", "gunicorn", "gthread", workers=2, threads=8),
        Serving("gunicorn gevent 2", "gunicorn", "gevent", workers=2),
        Serving("waitress 8", "waitress", threads=8),
    )
}
"""The servers of the production runs, by name."""


def scale_out(workers: int) -> Serving:
    """gunicorn's sync worker with ``workers`` processes."""
    return Serving(f"gunicorn sync {workers}", "gunicorn", "sync", workers=workers)


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 30

    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode} on start.")

        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return

        time.sleep(0.1)

    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within 30 s.")


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it has not exited within 20 s."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)

        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class PgBouncer:
    """Debian's PgBouncer on 127.0.0.1 and a free port, in transaction pooling,
    in front of the PostgreSQL server of ``server``; stopped on exit."""

    def __init__(self, server: Server, *, pool_size: int) -> None:
        self.server = server
        self.pool_size = pool_size
        self.port = free_port()
        self._directory = pathlib.Path(tempfile.mkdtemp(prefix="sqla-lite-pgbouncer-"))
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> PgBouncer:
        url = self.server.url
        directory = self._directory
        user = url.username or "postgres"
        (directory / "users.txt").write_text(f'"{user}" ""\n')
        (directory / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"{url.database} = host={url.host} port={url.port or 5432}"
            f" dbname={url.database}\n"
            "[pgbouncer]\n"
            "listen_addr = 127.0.0.1\n"
            f"listen_port = {self.port}\n"
            "unix_socket_dir =\n"
            "auth_type = trust\n"
            f"auth_file = {directory / 'users.txt'}\n"
            f"admin_users = {user}\n"
            "pool_mode = transaction\n"
            f"default_pool_size = {self.pool_size}\n"
            "max_client_conn = 500\n"
            "query_wait_timeout = 5\n"
            f"logfile = {directory / 'pgbouncer.log'}\n"
            f"pidfile = {directory / 'pgbouncer.pid'}\n"
        )
        command = [PGBOUNCER, "-q", str(directory / "pgbouncer.ini")]

        if os.geteuid() == 0:
            shutil.chown(directory, PGBOUNCER_USER)

            for path in directory.iterdir():
                shutil.chown(path, PGBOUNCER_USER)

            command[1:1] = ["-u", PGBOUNCER_USER]

        self._process = subprocess.Popen(command)
        _wait_for_port(self.port, self._process, "PgBouncer")
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._process is not None:
            _stop(self._process)

        shutil.rmtree(self._directory, ignore_errors=True)

    @property
    def url(self) -> sa.URL:
        """The server's URL with PgBouncer's address."""
        return self.server.url.set(host="127.0.0.1", port=self.port)

    def pools(self) -> list[dict[str, t.Any]]:
        """``SHOW POOLS`` on PgBouncer's admin console, for the tests' database."""
        import psycopg

        with psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user=self.server.url.username or "postgres",
            dbname="pgbouncer",
            autocommit=True,
            prepare_threshold=None,
        ) as conn:
            cursor = conn.execute("SHOW POOLS")
            names = [column.name for column in cursor.description or ()]
            rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

        return [row for row in rows if row["database"] == self.server.url.database]


class AppServer:
    """``serving`` running the admin of ``variant`` on ``url``; stopped on exit,
    after which :attr:`pool_reports` holds each worker's pool state."""

    def __init__(
        self,
        serving: Serving,
        url: str,
        variant: str,
        *,
        pgbouncer: bool = False,
    ) -> None:
        self.serving = serving
        self.port = free_port()
        self._report = pathlib.Path(tempfile.mkdtemp(prefix="sqla-lite-serve-"))
        self._environment = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "SQLA_LITE_SERVE_URL": url,
            "SQLA_LITE_SERVE_VARIANT": variant,
            "SQLA_LITE_SERVE_PGBOUNCER": "1" if pgbouncer else "0",
            "SQLA_LITE_SERVE_REPORT": str(self._report),
        }
        self._process: subprocess.Popen[bytes] | None = None
        self.pool_reports: list[dict[str, int]] = []

    def __enter__(self) -> AppServer:
        self._process = subprocess.Popen(
            self.serving.command(self.port), cwd=ROOT, env=self._environment
        )
        _wait_for_port(self.port, self._process, self.serving.name)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._process is not None:
            _stop(self._process)

        self.pool_reports = [
            json.loads(path.read_text()) for path in sorted(self._report.glob("*.json"))
        ]
        shutil.rmtree(self._report, ignore_errors=True)


@dataclasses.dataclass
class LoadResult:
    """What a load run measured on the client side."""

    requests: int = 0
    seconds: float = 0.0
    latencies: list[float] = dataclasses.field(default_factory=list)
    server_errors: int = 0
    failures: int = 0
    """Requests that got no HTTP response (reset, timeout)."""
    accepted: dict[str, int] = dataclasses.field(
        default_factory=lambda: {"create": 0, "edit": 0}
    )
    """POSTs answered with a redirect (saved), by kind."""
    posts_refused: int = 0
    """POSTs answered with the form again (a validation or database error)."""

    @property
    def throughput(self) -> float:
        """Requests per second."""
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, fraction: float) -> float:
        """Latency in milliseconds below which ``fraction`` of requests finished."""
        if not self.latencies:
            return 0.0

        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


Request: t.TypeAlias = tuple[str, str, dict[str, str] | None]
"""Kind (``read``, ``create``, ``edit``), path and form."""


def _mix(ids: dict[str, int], client: int) -> list[Request]:
    """One round of each client: reads of every kind and two writes."""
    return [
        ("read", "/admin/person/", None),
        ("create", "/admin/person/new/", {"name": f"load-{client}", "score": "1"}),
        ("read", f"/admin/person/details/?id={ids['alice']}", None),
        ("read", "/admin/person/?search=ali", None),
        (
            "edit",
            f"/admin/person/edit/?id={ids['bob']}",
            {"name": "bob", "score": str(client)},
        ),
        ("read", "/admin/person/ajax/lookup/?name=team&query=r", None),
        ("read", "/admin/person/?search=load", None),
        ("read", f"/admin/person/details/?id={ids['bob']}", None),
    ]


def load(
    port: int,
    ids: dict[str, int],
    *,
    clients: int,
    requests: int,
    seconds: float,
    timeout: float = 60.0,
) -> LoadResult:
    """Send ``requests`` requests from ``clients`` keep-alive connections, or
    stop after ``seconds``, whichever comes first."""
    result = LoadResult()
    lock = threading.Lock()
    sent = 0
    deadline = time.monotonic() + seconds

    def take() -> bool:
        nonlocal sent

        with lock:
            if sent >= requests or time.monotonic() >= deadline:
                return False

            sent += 1
            return True

    def client(number: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        mix = _mix(ids, number)
        step = 0

        while take():
            kind, path, form = mix[step % len(mix)]
            step += 1
            method = "GET" if form is None else "POST"
            body = urllib.parse.urlencode(form) if form is not None else None
            headers = (
                {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
            )
            started = time.perf_counter()

            try:
                connection.request(method, path, body, headers)
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                connection.close()
                status = 0

            elapsed = time.perf_counter() - started

            with lock:
                result.requests += 1
                result.latencies.append(elapsed)

                if status == 0:
                    result.failures += 1
                elif status >= 500:
                    result.server_errors += 1
                elif kind in result.accepted:
                    if status == 302:
                        result.accepted[kind] += 1
                    else:
                        result.posts_refused += 1

        connection.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    started = time.perf_counter()

    for thread in threads:
        thread.start()

    for thread in threads:
        thread.join()

    result.seconds = time.perf_counter() - started
    return result


@dataclasses.dataclass
class Outcome:
    """One production run: the load's figures and what was left behind."""

    serving: str
    database: str
    variant: str
    load: LoadResult
    rows_written: int
    """Rows the accepted creates should have written, found in the table."""
    idle_in_transaction: int
    """Backends idle in a transaction right after the load, servers still up."""
    checked_out: int
    """Connections still checked out of the workers' pools when they exited."""
    checkouts_unmatched: int
    """Checkouts minus checkins over every worker."""
    connections: int
    """Database connections the workers' pools opened (to PgBouncer, if used)."""
    workers: int
    """Worker processes the server ran."""
    workers_reported: int
    """Worker processes that wrote their pool report as they exited."""
    pgbouncer_waiting: int | None
    """``cl_waiting`` of PgBouncer's ``SHOW POOLS`` after the load."""

    def __str__(self) -> str:
        load = self.load
        return (
            f"{self.serving} on {self.database}, {self.variant}: {load.requests}"
            f" requests, {load.server_errors} 5xx, {load.failures} without reply,"
            f" accepted {load.accepted}, refused {load.posts_refused}, rows"
            f" {self.rows_written}, idle in transaction {self.idle_in_transaction},"
            f" checked out {self.checked_out}, unmatched checkouts"
            f" {self.checkouts_unmatched}, PgBouncer waiting {self.pgbouncer_waiting},"
            f" workers reported {self.workers_reported} of {self.workers}"
        )

    @property
    def clean(self) -> bool:
        """Nothing failed and nothing was left behind."""
        return (
            self.load.server_errors == 0
            and self.load.failures == 0
            and self.rows_written == self.load.accepted["create"]
            and self.idle_in_transaction == 0
            and self.checked_out == 0
            and self.checkouts_unmatched == 0
            and not self.pgbouncer_waiting
            and self.workers_reported == self.workers
        )


def _created(server: Server) -> int:
    with server.control.connect() as conn:
        return int(
            conn.execute(
                sa.text("SELECT count(*) FROM person WHERE name LIKE 'load-%'")
            ).scalar_one()
        )


def run(
    server: Server,
    ids: dict[str, int],
    serving: Serving,
    *,
    variant: str = "ours",
    pgbouncer: bool = False,
    clients: int = 8,
    requests: int = 400,
    seconds: float = 30.0,
    pool_size: int | None = None,
    warm_up: int | None = None,
) -> Outcome:
    """Serve, load, stop and check one combination on ``server``.

    :param warm_up: Unmeasured requests first, 8 per worker by default, so the
        latencies do not include compiling the templates.
    """
    from tests.server.pools import with_pool

    pool_size = pool_size or min(serving.concurrency, clients)
    warm_up = 8 * serving.workers if warm_up is None else warm_up

    with contextlib.ExitStack() as stack:
        url = server.url
        bouncer: PgBouncer | None = None

        if pgbouncer:
            # Fewer server connections than clients: PgBouncer must share them.
            bouncer = stack.enter_context(
                PgBouncer(server, pool_size=max(2, clients // 2))
            )
            url = bouncer.url

        app_server = AppServer(
            serving,
            with_pool(url, size=pool_size, timeout=10.0),
            variant,
            pgbouncer=pgbouncer,
        )

        with app_server:
            # Unmeasured: every worker compiles the templates on its first pages.
            load(
                app_server.port, ids, clients=clients, requests=warm_up, seconds=seconds
            )
            creates_before = _created(server)
            result = load(
                app_server.port,
                ids,
                clients=clients,
                requests=requests,
                seconds=seconds,
            )
            idle = server.idle_in_transaction()
            waiting = (
                sum(int(pool["cl_waiting"]) for pool in bouncer.pools())
                if bouncer is not None
                else None
            )

        creates = _created(server) - creates_before

    reports = app_server.pool_reports
    return Outcome(
        serving=serving.name,
        database=f"{server.name} via PgBouncer" if pgbouncer else server.name,
        variant=variant,
        load=result,
        rows_written=creates,
        idle_in_transaction=idle,
        checked_out=sum(report["checked_out"] for report in reports),
        checkouts_unmatched=sum(
            report["checkouts"] - report["checkins"] for report in reports
        ),
        connections=sum(report["connections"] for report in reports),
        workers=serving.workers,
        workers_reported=len(reports),
        pgbouncer_waiting=waiting,
    )
