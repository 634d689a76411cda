"""``openassist backup`` of a server under write load and ``openassist restore`` into a new data
directory: the restored server serves the same results and the same agent reconnects to it. The
commands are the README's, run as written (paths and addresses put in)."""

from __future__ import annotations

import json
import os
import shlex
import sqlite3
import stat
import subprocess
import sys
import tarfile
import threading
from pathlib import Path

import psycopg
import pytest

from openassist.cli.api_client import ApiClient, Credentials
from tests.support.cluster import (
    Cluster,
    _start_server,
    _stop,
    free_port,
    postgres_admin_url,
    temporary_postgres_database,
    wait_until,
)
from tests.support.held_agent import HeldAgent
from tests.support.readme import operating_commands

OPENASSIST = str(Path(sys.executable).with_name("openassist"))
README_BACKUP = "/var/backups/openassist/2026-12-07"
README_DATA = "/var/lib/openassist"
README_RESTORED = "/var/lib/openassist-restored"


def _run(
    command: str, put: dict[str, str], env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """One README command with its example paths replaced by ``put``'s (longest first), in an
    environment without OPENASSIST_* variables but ``env``'s."""
    for example in sorted(put, key=len, reverse=True):
        command = command.replace(example, put[example])
    argv = shlex.split(command)
    if argv[0] == "openassist":
        argv[0] = OPENASSIST
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OPENASSIST_")}
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=300, env={**clean, **(env or {})}, check=False
    )


def test_backup_under_write_load_restores_the_same_results_and_agent(tmp_path: Path) -> None:
    backup_cmd, restore_cmd = operating_commands("Backup and restore")[:2]
    destination = tmp_path / "backup"
    restored_root = tmp_path / "restored"
    with Cluster.start(tmp_path / "old") as old:
        agent = old.new_agent("kept")
        kept = old.run("echo kept-output; exit 4", agent.instance_id)
        before = old.wait_final(kept)
        held = HeldAgent(old)  # the load's target: takes no task, so the load only writes
        created: list[str] = []
        stop = threading.Event()

        def write_load() -> None:
            client = old.client()
            params = {"Type": "RunShellScript", "CommandContent": "true"}
            while not stop.is_set():
                answer = client.call("RunCommand", {**params, "InstanceId.1": held.instance_id})
                created.append(answer["InvokeId"])

        loader = threading.Thread(target=write_load)
        loader.start()
        try:
            wait_until(lambda: len(created) >= 5, 60, what="the write load to start")
            at_start = len(created)
            made = _run(
                backup_cmd,
                {README_BACKUP: str(destination), README_DATA: str(old.root / "data")},
            )
            at_end = len(created)
            wait_until(lambda: len(created) > at_end, 60, what="the load to go on")
        finally:
            stop.set()
            loader.join(60)
        assert made.returncode == 0, made.stderr
        assert at_end > at_start or len(created) > at_end  # the server kept writing meanwhile

        # The copy is one consistent snapshot: every task in it whole, at least those created
        # before the backup began, none that was never created.
        with sqlite3.connect(destination / "openassist.db") as copy:
            tasks = {row[0] for row in copy.execute("SELECT id FROM invocations")}
            orphans = copy.execute(
                "SELECT count(*) FROM invocations i WHERE NOT EXISTS "
                "(SELECT 1 FROM invocation_instances x WHERE x.invoke_id = i.id)"
            ).fetchone()[0]
        assert orphans == 0
        assert set(created[:at_start]) | {kept} <= tasks <= set(created) | {kept}

        keys = destination / "keys.tar"
        assert stat.S_IMODE(keys.stat().st_mode) == 0o600
        with tarfile.open(keys) as archive:
            names = set(archive.getnames())
        assert {"tls/ca.pem", "tls/server.key", "parameter-store.key"} <= names
        assert "admin-credentials.json" in names
        assert not any(name.startswith("openassist.db") for name in names)

        refused = _run(
            restore_cmd,
            {README_BACKUP: str(destination), README_RESTORED: str(old.root / "data")},
        )
        assert refused.returncode == 1 and "is not empty" in refused.stderr

        # The old server is gone for good; the agent keeps running and trying to reach it.
        old.kill_server()
        restored = _run(
            restore_cmd,
            {README_BACKUP: str(destination), README_RESTORED: str(restored_root / "data")},
        )
        assert restored.returncode == 0, restored.stderr
        api_port = free_port()
        server = _start_server(restored_root, api_port, old.agent_port, "", None)
        try:
            document = json.loads((restored_root / "data" / "admin-credentials.json").read_text())
            client = ApiClient(
                Credentials(
                    document["AccessKeyId"],
                    document["AccessKeySecret"],
                    f"127.0.0.1:{api_port}",
                    document["RegionId"],
                )
            )
            answer = client.call(
                "DescribeInvocationResults",
                {"InvokeId": kept, "ContentEncoding": "PlainText"},
            )
            assert answer["Invocation"]["InvocationResults"]["InvocationResult"] == before

            # The agent, still running, trusts the same CA: it reconnects and takes a task.
            again = client.call(
                "RunCommand",
                {
                    "Type": "RunShellScript",
                    "CommandContent": "echo back",
                    "InstanceId.1": agent.instance_id,
                },
            )["InvokeId"]

            def final() -> dict[str, str] | None:
                results = client.call(
                    "DescribeInvocationResults",
                    {"InvokeId": again, "ContentEncoding": "PlainText"},
                )["Invocation"]["InvocationResults"]["InvocationResult"]
                done = results[0]["InvocationStatus"] not in ("Pending", "Running")
                return results[0] if done else None

            result = wait_until(final, 120, what="the agent to reconnect and run a command")
            assert (result["InvocationStatus"], result["Output"]) == ("Success", "back\n")
        finally:
            _stop(server)


@pytest.mark.skipif(not postgres_admin_url(), reason="needs OPENASSIST_TEST_POSTGRES_URL")
def test_postgresql_backup_is_keys_and_the_readmes_pg_dump(tmp_path: Path) -> None:
    dump, load = operating_commands("Backup and restore")[2:4]
    backup_cmd = operating_commands("Backup and restore")[0]
    dump_file = tmp_path / "openassist.pgdump"
    with (
        temporary_postgres_database() as url,
        temporary_postgres_database() as empty,
        Cluster.start(tmp_path / "pg", url) as cluster,
    ):
        kept = cluster.run("echo on-postgres", cluster.register_agent("pg").instance_id)
        made = _run(
            backup_cmd,
            {README_BACKUP: str(tmp_path / "keys-only"), README_DATA: str(cluster.root / "data")},
            {"OPENASSIST_DATABASE_URL": url},
        )
        assert made.returncode == 0, made.stderr
        assert "dump it with pg_dump" in made.stdout
        assert (tmp_path / "keys-only" / "keys.tar").is_file()
        assert not (tmp_path / "keys-only" / "openassist.db").exists()
        put = {
            "/var/backups/openassist/openassist.pgdump": str(dump_file),
            "postgresql://openassist@db/openassist-restored": empty,
            "postgresql://openassist@db/openassist": url,
        }
        for command in (dump, load):
            ran = _run(command, put)
            assert ran.returncode == 0, (command, ran.stderr)
        with psycopg.connect(empty) as connection:
            row = connection.execute(
                b"SELECT status FROM invocation_instances WHERE invoke_id = %s", (kept,)
            ).fetchone()
        assert row is not None
