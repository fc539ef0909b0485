"""A throwaway PostgreSQL server on loopback for the index tests.

Uses the Debian `postgresql` package's binaries (/usr/lib/postgresql/*/bin,
installed by .ci/run). PostgreSQL refuses to run as root, so as root the
cluster belongs to the `postgres` user and its commands run through runuser.
The server listens on 127.0.0.1 on a free port and asks for a password over
TCP; clients find it in PGPASSWORD, as a deployment would.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from typing import List, Optional

USER = "filegraph"
PASSWORD = "test-only-password"


@dataclass
class PostgresServer:
    url: str  # no password: it is in PGPASSWORD
    password: str
    directory: str
    bin_dir: str
    owner: Optional[str]

    def stop(self) -> None:
        _run(self.owner, [os.path.join(self.bin_dir, "pg_ctl"), "-D", os.path.join(self.directory, "data"),
                          "-m", "fast", "-w", "stop"])
        shutil.rmtree(self.directory, ignore_errors=True)


def bin_dir() -> Optional[str]:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return os.path.dirname(found[-1]) if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(owner: Optional[str], command: List[str]) -> None:
    if owner:
        command = ["runuser", "-u", owner, "--"] + command
    subprocess.run(command, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)


def start() -> PostgresServer:
    binaries = bin_dir()
    if binaries is None:
        raise RuntimeError("PostgreSQL binaries not found under /usr/lib/postgresql (apt-get install postgresql)")
    owner = "postgres" if os.geteuid() == 0 else None
    directory = tempfile.mkdtemp(prefix="filegraph-pg-")
    pwfile = os.path.join(directory, "pwfile")
    with open(pwfile, "w") as handle:
        handle.write(PASSWORD + "\n")
    if owner:
        shutil.chown(directory, owner)
        shutil.chown(pwfile, owner)
    port = _free_port()
    data = os.path.join(directory, "data")
    _run(owner, [os.path.join(binaries, "initdb"), "-D", data, "-U", USER, "--pwfile", pwfile,
                 "--auth-host=scram-sha-256", "--auth-local=trust", "--no-sync", "-E", "UTF8"])
    options = f"-p {port} -k {directory} -c listen_addresses=127.0.0.1 -c fsync=off"
    _run(owner, [os.path.join(binaries, "pg_ctl"), "-D", data, "-o", options, "-l",
                 os.path.join(directory, "server.log"), "-w", "start"])
    return PostgresServer(f"postgresql://{USER}@127.0.0.1:{port}/postgres", PASSWORD, directory, binaries, owner)
