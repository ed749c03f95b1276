"""The SQL backend's tests need sqlglot and DuckDB (the ``sql`` extra); the PostgreSQL tests also
a server: ``postgres_dsn`` gives one.

``postgres_dsn`` is ``CRITLANG_POSTGRES_DSN`` when it is set. Otherwise, when PostgreSQL's
``initdb`` is on PATH or under ``/usr/lib/postgresql/*/bin``, a throwaway server is started for
the session: a fresh data directory, trust authentication, listening only on 127.0.0.1 on a free
port (no Unix socket), stopped and deleted at the end; as root, it runs as the ``postgres`` user
(initdb refuses root). The server is the session's child, not a daemon: on Linux it stops when
the session's process dies, however it dies. Without one, the tests skip, saying why, except
under CI (``CI`` set), where they fail: CI must run them.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytest.importorskip("sqlglot", reason="the SQL backend needs sqlglot: pip install 'critlang[sql]'")
pytest.importorskip("duckdb", reason="running the SQL needs duckdb: pip install 'critlang[sql]'")

_OS_USER = "postgres"
_PR_SET_PDEATHSIG = 1  # prctl(2)


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the PostgreSQL tests, but {reason}", pytrace=False)
    pytest.skip(reason)


def _binaries() -> Path | None:
    """The folder holding initdb and postgres (the newest Debian PostgreSQL when not on PATH)."""
    found = shutil.which("initdb")
    if found and (Path(found).resolve().parent / "postgres").exists():
        return Path(found).resolve().parent
    versions = [
        path.parent
        for path in Path("/usr/lib/postgresql").glob("*/bin/initdb")
        if path.parent.parent.name.isdigit() and (path.parent / "postgres").exists()
    ]
    return max(versions, key=lambda folder: int(folder.parent.name), default=None)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _tie_to_parent() -> None:
    """In the server's process, before it starts: have the kernel stop it (fast shutdown,
    SIGINT) when the test session's process dies, however it dies (Linux)."""
    if sys.platform == "linux":
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGINT)


class _Server:
    """A throwaway PostgreSQL server in a temporary data directory: a child of the test session
    (not a daemon), which stops with it."""

    def __init__(self, binaries: Path, owner: tuple[int, int] | None) -> None:
        self.binaries = binaries
        # as root, initdb and the server run as the postgres user (initdb refuses root)
        self.credentials: dict[str, object] = {}
        self.folder = Path(tempfile.mkdtemp(prefix="critlang-postgres-"))
        if owner is not None:
            os.chown(self.folder, *owner)
            self.credentials = {"user": owner[0], "group": owner[1], "extra_groups": []}
        self.data = self.folder / "data"
        self.port = _free_port()
        self.dsn = f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"
        self.process: subprocess.Popen[bytes] | None = None

    def _initdb(self, *options: str) -> None:
        command = [str(self.binaries / "initdb"), "-D", str(self.data), "-A", "trust"]
        command += ["-U", "postgres", "-E", "UTF8", *options]
        subprocess.run(command, check=True, capture_output=True, timeout=120, **self.credentials)

    def start(self) -> str:
        import psycopg

        try:  # a Unicode character type (LOWER and UPPER of any letter), where there is one
            self._initdb("--locale=C.UTF-8")
        except subprocess.CalledProcessError:
            shutil.rmtree(self.data, ignore_errors=True)
            self._initdb()
        settings = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": "",
            "fsync": "off",
            "full_page_writes": "off",
            "synchronous_commit": "off",
        }
        command = [str(self.binaries / "postgres"), "-D", str(self.data)]
        for name, value in settings.items():
            command += ["-c", f"{name}={value}"]
        with (self.folder / "server.log").open("wb") as log:
            self.process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                process_group=0,  # not stopped by the terminal's Ctrl-C before the tests end
                preexec_fn=_tie_to_parent,
                **self.credentials,
            )
        deadline = time.monotonic() + 60
        while True:
            try:
                psycopg.connect(self.dsn, connect_timeout=2).close()
                return self.dsn
            except psycopg.OperationalError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def log(self) -> str:
        path = self.folder / "server.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def stop(self) -> None:
        try:
            if self.process is not None and self.process.poll() is None:
                self.process.send_signal(signal.SIGINT)  # fast shutdown
                try:
                    self.process.wait(60)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """A PostgreSQL server to run the query on (see the module docstring)."""
    try:
        import psycopg
    except ImportError:
        _unavailable("psycopg is not installed: pip install 'critlang[postgres]'")
    given = os.environ.get("CRITLANG_POSTGRES_DSN")
    if given:
        yield given
        return
    binaries = _binaries()
    if binaries is None:
        _unavailable(
            "no PostgreSQL server: set CRITLANG_POSTGRES_DSN, or install PostgreSQL (initdb)"
        )
        return
    owner = None
    if os.geteuid() == 0:
        import pwd

        try:
            user = pwd.getpwnam(_OS_USER)
        except KeyError:
            _unavailable(f"initdb refuses root, and there is no {_OS_USER!r} user to run it as")
            return
        owner = (user.pw_uid, user.pw_gid)
    server = _Server(binaries, owner)
    try:
        dsn = server.start()
    except (OSError, subprocess.SubprocessError, psycopg.Error) as error:
        detail = getattr(error, "stderr", b"") or b""
        log = server.log()
        server.stop()
        _unavailable(f"a PostgreSQL server could not be started: {error} {detail!r} {log}")
        return
    try:
        yield dsn
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_schema(postgres_dsn: str) -> Iterator[Callable[[str], str]]:
    """Names a schema of the test database for one test data set; every schema named is dropped
    at the end of the session (the database may be a shared one, ``CRITLANG_POSTGRES_DSN``)."""
    import psycopg

    made: set[str] = set()

    def name(label: str) -> str:
        schema = f"critlang_test_{os.getpid()}_{label}"
        made.add(schema)
        return schema

    yield name
    with psycopg.connect(postgres_dsn, autocommit=True) as connection:
        for schema in sorted(made):
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
