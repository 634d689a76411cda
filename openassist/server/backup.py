"""Online backup and restore of a server's data directory.

A backup is a directory of three parts:

- ``openassist.db``: the SQLite store, copied page by page through SQLite's backup API while the
  server keeps writing (one consistent snapshot: it runs as a single read transaction, which in
  WAL mode never blocks the writer);
- ``keys.tar``, owner-only: every other file of the data directory (the TLS CA, the certificates
  and keys the agents trust, the credentials files) and the key that seals secrets (access-key
  secrets, secret parameters, the console's session secret), so it can be kept apart from the
  database (a database copy alone reveals no secret);
- ``backup.json``: what was backed up, when, and the schema revision.

Agent packages are not secrets and can be made again; they are copied under ``agent-packages/``.
A PostgreSQL store is dumped with ``pg_dump`` instead (README); the keys are backed up the same.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import stat
import tarfile
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from openassist.errors import ConfigurationError
from openassist.server.data_dir import secure_data_dir
from openassist.server.private_files import write_private
from openassist.server.settings import ServerSettings

DATABASE = "openassist.db"
KEYS = "keys.tar"
MANIFEST = "backup.json"
PACKAGES = "agent-packages"
SEALING_KEY = "parameter-store.key"  # the default name, where restore puts the sealing key
_SQLITE_FILES = frozenset({DATABASE, f"{DATABASE}-wal", f"{DATABASE}-shm", f"{DATABASE}-journal"})


class BackupError(ConfigurationError):
    """What the operator has to change for a backup or a restore to work."""


@dataclass(frozen=True)
class BackupReport:
    database: Path | None  # None: PostgreSQL, dumped with pg_dump instead
    keys: Path
    key_files: int
    revision: str


def backup(settings: ServerSettings, destination: Path) -> BackupReport:
    """Back up the store (SQLite) and the keys of ``settings``' data directory into
    ``destination``, a directory that must not exist yet."""
    source = settings.data_dir
    if not (source / "tls").is_dir():
        raise BackupError(f"{source} is not a server's data directory (it has no tls/)")
    try:
        destination.mkdir(mode=0o700, parents=True)
    except FileExistsError:
        raise BackupError(f"{destination} exists; name a new directory for the backup") from None
    revision = ""
    database: Path | None = None
    if not settings.database_url:
        database = destination / DATABASE
        revision = _copy_database(source / DATABASE, database)
    key_files = _write_keys(settings, destination / KEYS)
    packages = settings.effective_agent_packages_dir
    if packages.is_dir():
        shutil.copytree(packages, destination / PACKAGES)
    manifest = {
        "created_at": int(time.time()),
        "data_dir": str(source.resolve()),
        "database": DATABASE if database else "postgresql: dump it with pg_dump (README)",
        "schema_revision": revision,
        "keys": KEYS,
    }
    write_private(destination / MANIFEST, json.dumps(manifest, indent=2).encode() + b"\n")
    return BackupReport(database, destination / KEYS, key_files, revision)


def _copy_database(source: Path, target: Path) -> str:
    if not source.is_file():
        raise BackupError(f"no SQLite database at {source}")
    write_private(target, b"")  # owner-only before SQLite writes a byte into it
    live = sqlite3.connect(source, timeout=30)
    copy = sqlite3.connect(target)
    try:
        live.execute("PRAGMA busy_timeout=30000")
        live.backup(copy)  # all pages in one step: one read transaction, one snapshot
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        return _check(copy, target)
    finally:
        copy.close()
        live.close()


def _check(connection: sqlite3.Connection, shown: Path) -> str:
    """The copy's schema revision, after SQLite found it whole and its references intact."""
    verdict = connection.execute("PRAGMA integrity_check").fetchone()[0]
    broken = connection.execute("PRAGMA foreign_key_check").fetchall()
    if verdict != "ok" or broken:
        raise BackupError(
            f"{shown} fails SQLite's checks: {verdict}, {len(broken)} bad reference(s)"
        )
    row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    return str(row[0]) if row else ""


def _write_keys(settings: ServerSettings, target: Path) -> int:
    """Every file of the data directory but the database and the agent packages, and the
    sealing key (wherever it is kept), into one owner-only tar file."""
    buffer = io.BytesIO()
    count = 0
    source = settings.data_dir
    packages = settings.effective_agent_packages_dir.resolve()
    sealing = settings.effective_parameter_key_file
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for directory, dirs, files in os.walk(source):
            here = Path(directory)
            dirs[:] = sorted(d for d in dirs if (here / d).resolve() != packages)
            for name in sorted(files):
                path = here / name
                relative = path.relative_to(source)
                if str(relative) in _SQLITE_FILES or not stat.S_ISREG(path.lstat().st_mode):
                    continue
                if path.resolve() == sealing.resolve():
                    continue  # added below under its own name
                _add(archive, path, str(PurePosixPath(*relative.parts)))
                count += 1
        if sealing.is_file():
            _add(archive, sealing, SEALING_KEY)
            count += 1
    write_private(target, buffer.getvalue())
    return count


def _add(archive: tarfile.TarFile, path: Path, name: str) -> None:
    data = path.read_bytes()
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o600, int(path.stat().st_mtime)
    archive.addfile(info, io.BytesIO(data))


def restore(backup_dir: Path, data_dir: Path) -> BackupReport:
    """Make ``data_dir`` (new or empty) a copy of what ``backup_dir`` holds."""
    keys = backup_dir / KEYS
    if not keys.is_file():
        raise BackupError(f"{backup_dir} is not a backup: it has no {KEYS}")
    if data_dir.exists() and any(data_dir.iterdir()):
        raise BackupError(
            f"{data_dir} is not empty; restore into a new data directory (a server's live "
            "files are never overwritten)"
        )
    secure_data_dir(data_dir)  # 0700, umask 077
    count = _extract_keys(keys, data_dir)
    revision = ""
    database = backup_dir / DATABASE
    restored: Path | None = None
    if database.is_file():
        restored = data_dir / DATABASE
        write_private(restored, b"")
        with closing(sqlite3.connect(database)) as copy, closing(sqlite3.connect(restored)) as to:
            revision = _check(copy, database)
            copy.backup(to)
    packages = backup_dir / PACKAGES
    if packages.is_dir():
        shutil.copytree(packages, data_dir / PACKAGES)
    secure_data_dir(data_dir)
    return BackupReport(restored, data_dir, count, revision)


def _extract_keys(keys: Path, data_dir: Path) -> int:
    """Regular files only, each under the data directory (no absolute path, no ``..``, no
    link), written owner-only."""
    count = 0
    with tarfile.open(keys, mode="r") as archive:
        for member in archive.getmembers():
            parts = PurePosixPath(member.name).parts
            if not member.isfile() or member.name.startswith("/") or ".." in parts:
                raise BackupError(f"{keys}: refusing the entry {member.name!r}")
            handle = archive.extractfile(member)
            assert handle is not None  # a regular file's member always has content
            write_private(data_dir.joinpath(*parts), handle.read())
            count += 1
    return count
