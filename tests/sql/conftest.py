"""The SQL backend's tests need sqlglot and DuckDB (the ``sql`` extra); the PostgreSQL tests also
a server: ``postgres_dsn`` gives one.

``postgres_dsn`` is ``CRITLANG_POSTGRES_DSN`` when it is set. Otherwise, when PostgreSQL's
``initdb`` and ``pg_ctl`` are on PATH or under ``/usr/lib/postgresql/*/bin``, a throwaway server
is started for the session: a fresh data directory, trust authentication, listening only on
127.0.0.1 on a free port (no Unix socket), stopped and deleted at the end; as root, it runs as
the ``postgres`` user (initdb refuses root). Without one, the tests skip, saying why, except
under CI (``CI`` set), where they fail: CI must run them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytest.importorskip("sqlglot", reason="the SQL backend needs sqlglot: pip install 'critlang[sql]'")
pytest.importorskip("duckdb", reason="running the SQL needs duckdb: pip install 'critlang[sql]'")

_OS_USER = "postgres"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the PostgreSQL tests, but {reason}", pytrace=False)
    pytest.skip(reason)


def _binaries() -> Path | None:
    """The folder holding initdb and pg_ctl (the newest Debian PostgreSQL when not on PATH)."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    versions = [
        path.parent
        for path in Path("/usr/lib/postgresql").glob("*/bin/initdb")
        if path.parent.parent.name.isdigit() and (path.parent / "pg_ctl").exists()
    ]
    return max(versions, key=lambda folder: int(folder.parent.name), default=None)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class _Server:
    """A throwaway PostgreSQL server in a temporary data directory."""

    def __init__(self, binaries: Path, as_user: list[str], owner: tuple[int, int] | None) -> None:
        self.binaries = binaries
        self.as_user = as_user
        self.folder = Path(tempfile.mkdtemp(prefix="critlang-postgres-"))
        if owner is not None:
            os.chown(self.folder, *owner)
        self.data = self.folder / "data"
        self.port = _free_port()

    def _run(self, tool: str, *arguments: str) -> None:
        command = [*self.as_user, str(self.binaries / tool), *arguments]
        subprocess.run(command, check=True, capture_output=True, text=True, timeout=120)

    def start(self) -> str:
        initdb = ["initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8"]
        try:  # a Unicode character type (LOWER and UPPER of any letter), where there is one
            self._run(*initdb, "--locale=C.UTF-8")
        except subprocess.CalledProcessError:
            shutil.rmtree(self.data, ignore_errors=True)
            self._run(*initdb)
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories=''"
            " -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
        )
        log = str(self.folder / "server.log")
        self._run("pg_ctl", "-D", str(self.data), "-l", log, "-o", options, "-w", "start")
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"

    def log(self) -> str:
        path = self.folder / "server.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """A PostgreSQL server to run the query on (see the module docstring)."""
    try:
        import psycopg  # noqa: F401
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
    as_user: list[str] = []
    owner = None
    if os.geteuid() == 0:  # initdb refuses root: the server runs as the postgres user
        import pwd

        try:
            user = pwd.getpwnam(_OS_USER)
        except KeyError:
            user = None
        if user is None or shutil.which("runuser") is None:
            _unavailable(f"initdb refuses root, and there is no {_OS_USER!r} user or no runuser")
            return
        as_user, owner = ["runuser", "-u", _OS_USER, "--"], (user.pw_uid, user.pw_gid)
    server = _Server(binaries, as_user, owner)
    try:
        dsn = server.start()
    except (OSError, subprocess.SubprocessError) as error:
        detail = getattr(error, "stderr", "") or ""
        log = server.log()
        server.stop()
        _unavailable(f"a PostgreSQL server could not be started: {error} {detail} {log}")
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
