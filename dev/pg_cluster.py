"""A throwaway PostgreSQL server for tests and benchmarks: initdb under a temporary folder, a unix socket, pg_ctl.

Uses Debian's ``postgresql`` package (``make postgres`` installs it). initdb refuses to run as root, so
as root the cluster is made and run by the ``postgres`` system user the package creates.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path


class Unavailable(RuntimeError):
    """No PostgreSQL server can be started here; the message says why."""


def server_binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    raise Unavailable("PostgreSQL server binaries not found (install Debian's postgresql package: make postgres)")


class ThrowawayPostgres:
    """``with ThrowawayPostgres() as server: server.url("name")`` — a new database per name; everything is removed on exit."""

    def __init__(self, settings: dict[str, str] | None = None):
        self.bin = server_binaries()
        self.settings = {"fsync": "off", "max_connections": "100", **(settings or {})}
        self.root = Path(tempfile.mkdtemp(prefix="divergence-pg-"))
        self.data = self.root / "data"
        self.socket = self.root / "socket"
        self.socket.mkdir()
        self._run_as = None
        if os.geteuid() == 0:
            try:
                user = pwd.getpwnam("postgres")
            except KeyError as error:
                raise Unavailable("running as root and there is no 'postgres' user to run the server") from error
            self._run_as = user.pw_name
            for path in (self.root, self.socket):
                os.chown(path, user.pw_uid, user.pw_gid)

    def _command(self, *args: str) -> list[str]:
        return ["runuser", "-u", self._run_as, "--", *args] if self._run_as else list(args)

    def start(self) -> ThrowawayPostgres:
        subprocess.run(self._command(str(self.bin / "initdb"), "-D", str(self.data), "-U", "divergence", "--auth=trust",
                                     "-E", "UTF8", "--locale=C", "--no-sync"), check=True, capture_output=True)
        options = " ".join([f"-k {self.socket}", "-c listen_addresses=''"] + [f"-c {k}={v}" for k, v in self.settings.items()])
        subprocess.run(self._command(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.root / "server.log"),
                                     "-w", "start"), check=True, capture_output=True)
        return self

    def url(self, database: str = "divergence") -> str:
        """Connection URL of ``database``, created when missing."""
        import psycopg

        with psycopg.connect(self._conninfo("postgres"), autocommit=True) as admin:
            if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone() is None:
                admin.execute(f'CREATE DATABASE "{database}"')
        return f"postgresql://divergence@/{database}?host={self.socket}"

    def _conninfo(self, database: str) -> str:
        return f"host={self.socket} user=divergence dbname={database}"

    def stop(self) -> None:
        if self.data.exists():
            subprocess.run(self._command(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"),
                           capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> ThrowawayPostgres:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()
