"""The audit sink's parts in-process, on real files and sockets: the file outlet (owner-only,
never through a link, rotated, reopened after logrotate moved it), syslog over UDP, TCP and a
Unix datagram socket, and the store's shipped marks (per row: a transaction committing after
a later one is still shipped), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection

from openassist.errors import ConfigurationError
from openassist.server.service.audit import failed, new_event
from openassist.server.service.audit_outlets import FileOutlet, Line, OutletError, SyslogOutlet
from openassist.server.service.audit_sink import AuditSink
from openassist.server.settings import load_server_settings
from openassist.server.store import audit as store
from openassist.server.store.audit import AuditRecord
from openassist.server.store.db import Database
from tests.support.cluster import postgres_admin_url
from tests.support.store import opened_database
from tests.support.syslog import RFC5424, syslog_receiver


def _line(n: int, failed_: bool = False) -> Line:
    text = json.dumps({"eventId": f"e-{n}", "eventName": "RunCommand"}, separators=(",", ":"))
    return Line(time_ms=1_765_000_000_123 + n, name="RunCommand", failed=failed_, text=text)


def _event(n: int, **params: str) -> AuditRecord:
    return new_event(
        now=1_765_000_000_000 + n,
        action="CreateSecretParameter",
        source="oos",
        user_name="admin",
        access_key_id="LTAI-test",
        source_ip="127.0.0.1",
        user_agent="test",
        request_id=f"r-{n}",
        params=params or {"Name": f"p{n}"},
    )


def test_the_file_is_owner_only_and_appended_one_line_per_event(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_text('{"earlier":"line"}\n')
    path.chmod(0o644)
    outlet = FileOutlet(path, max_bytes=0)
    outlet.write([_line(1), _line(2)])
    outlet.write([_line(3)])
    outlet.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    lines = path.read_text().splitlines()
    assert lines[0] == '{"earlier":"line"}'
    assert [json.loads(x)["eventId"] for x in lines[1:]] == ["e-1", "e-2", "e-3"]


def test_the_file_is_never_written_through_a_link(tmp_path: Path) -> None:
    """An attacker who can write the sink's directory plants a link to a file the server may
    write (here: a stand-in for /etc/shadow); the outlet refuses and the target is untouched."""
    victim = tmp_path / "victim"
    victim.write_text("root:x:0:0\n")
    path = tmp_path / "audit.jsonl"
    path.symlink_to(victim)
    outlet = FileOutlet(path, max_bytes=0)
    with pytest.raises(OutletError, match="symbolic link"):
        outlet.write([_line(1)])
    outlet.close()
    assert victim.read_text() == "root:x:0:0\n"
    path.unlink()
    os.link(victim, path)  # a second name of the same file: refused too
    with pytest.raises(OutletError, match="hard links"):
        FileOutlet(path, max_bytes=0).write([_line(1)])
    assert victim.read_text() == "root:x:0:0\n"


def test_the_file_rotates_at_its_size_and_reopens_after_logrotate(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    size = len(_line(1).text) + 1
    outlet = FileOutlet(path, max_bytes=3 * size)
    for n in range(1, 6):
        outlet.write([_line(n)])
    older = [json.loads(x)["eventId"] for x in (tmp_path / "audit.jsonl.1").read_text().split()]
    newer = [json.loads(x)["eventId"] for x in path.read_text().splitlines()]
    assert (older, newer) == (["e-1", "e-2", "e-3"], ["e-4", "e-5"])
    path.rename(tmp_path / "moved-by-logrotate")
    outlet.write([_line(6)])
    outlet.close()
    assert [json.loads(x)["eventId"] for x in path.read_text().splitlines()] == ["e-6"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "e-6" not in (tmp_path / "moved-by-logrotate").read_text()


@pytest.mark.parametrize("kind", ["udp", "tcp", "unix"])
def test_syslog_gets_one_rfc5424_message_per_event(kind: str, tmp_path: Path) -> None:
    where: str | int = str(tmp_path / "log.sock") if kind == "unix" else 0
    with syslog_receiver(kind, where) as receiver:
        outlet = SyslogOutlet(receiver.address)
        outlet.write([_line(1), _line(2, failed_=True)])
        outlet.write([_line(3)])
        receiver.wait_for("e-3")
        outlet.close()
        parsed = [RFC5424.match(m.decode()) for m in receiver.messages]
    assert all(parsed)
    headers = [(p["pri"], p["app"], p["procid"], p["msgid"]) for p in parsed if p]
    pid = str(os.getpid())
    assert headers == [
        ("110", "openassist", pid, "RunCommand"),  # log audit (13) * 8 + info (6)
        ("109", "openassist", pid, "RunCommand"),  # ... + notice (5): a failure
        ("110", "openassist", pid, "RunCommand"),
    ]
    assert parsed[0] and parsed[0]["time"] == "2025-12-06T05:46:40.124Z"
    assert [d["eventId"] for d in receiver.documents()] == ["e-1", "e-2", "e-3"]


def test_a_syslog_that_is_down_refuses_the_batch_and_a_restarted_one_gets_the_next() -> None:
    with syslog_receiver("tcp") as receiver:
        address = receiver.address
        outlet = SyslogOutlet(address)
        outlet.write([_line(1)])
        receiver.wait_for("e-1")
    with pytest.raises(OutletError, match=re.escape(f"syslog {address}")):
        outlet.write([_line(2)])  # nobody listens: the caller keeps the batch
    port = int(address.rsplit(":", 1)[1])
    with syslog_receiver("tcp", port) as again:
        outlet.write([_line(2)])
        again.wait_for("e-2")
    outlet.close()


def test_bad_sink_settings_name_the_setting() -> None:
    for value in ("syslog.example:514", "tcp://host", "udp://:514", "unix:relative"):
        with pytest.raises(ConfigurationError, match="audit_sink_syslog"):
            load_server_settings({"OPENASSIST_AUDIT_SINK_SYSLOG": value})
    with pytest.raises(
        ConfigurationError, match=re.escape("audit_sink_file: 'audit.jsonl' is not an abs")
    ):
        load_server_settings({"OPENASSIST_AUDIT_SINK_FILE": "audit.jsonl"})


@pytest.fixture(params=["sqlite", "postgres"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "postgres" and not postgres_admin_url():
        pytest.skip("OPENASSIST_TEST_POSTGRES_URL is not set")
    with opened_database(request.param, tmp_path, migrated=True) as database:
        yield database


def _ids(path: Path) -> list[str]:
    return (
        [json.loads(x)["eventId"] for x in path.read_text().splitlines()] if path.exists() else []
    )


def test_shipped_events_are_marked_and_a_failure_recorded_later_ships_again(
    db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "audit.jsonl"
    sink = AuditSink(db, [FileOutlet(path, 0)], "local")
    first, second = _event(1, Name="db-password", Value="hunter2-secret"), _event(2)

    async def scenario() -> None:
        await db.write(lambda conn: store.insert_event(conn, first))
        await db.write(lambda conn: store.insert_event(conn, second))
        assert await sink.ship_once() == 2
        assert await sink.ship_once() == 0  # marked: not again
        refused = failed(first, "InvalidParameter", "no")
        await db.write(lambda conn: store.record_failure(conn, refused))
        assert await sink.ship_once() == 1

    asyncio.run(scenario())
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert [(d["eventId"], d["errorCode"]) for d in lines] == [
        (first.event_id, ""),
        (second.event_id, ""),
        (first.event_id, "InvalidParameter"),
    ]
    assert lines[0]["requestParameters"] == {"Name": "db-password", "Value": "***"}
    assert "hunter2" not in path.read_text()


def test_an_event_committed_after_a_later_one_is_still_shipped(
    db: Database, tmp_path: Path
) -> None:
    """Sequence order is not commit order on PostgreSQL: the event of the transaction that
    commits last, with the lower seq, must not be skipped (a single high-water cursor would)."""
    if db.is_sqlite:
        pytest.skip("SQLite has one writer: sequence order is commit order")
    path = tmp_path / "audit.jsonl"
    sink = AuditSink(db, [FileOutlet(path, 0)], "local")
    slow, fast = _event(1), _event(2)
    held: Connection = db.engine.connect()
    transaction = held.begin()
    store.insert_event(held, slow)  # takes the lower seq, commits last

    async def scenario() -> None:
        await db.write(lambda conn: store.insert_event(conn, fast))
        assert await sink.ship_once() == 1
        transaction.commit()
        held.close()
        assert await sink.ship_once() == 1

    asyncio.run(scenario())
    assert _ids(path) == [fast.event_id, slow.event_id]


def _huge(n: int, size: int) -> Line:
    """An event larger than one datagram takes (request parameters of ``size`` characters)."""
    document = {
        "eventId": f"e-{n}",
        "eventName": "RunCommand",
        "userIdentity": {"userName": "admin"},
        "resourceName": ",".join(f"mi-{k:024d}" for k in range(size // 27)),
        "requestParameters": {"InstanceIds": "x" * size},
        "errorCode": "",
    }
    text = json.dumps(document, separators=(",", ":"))
    return Line(time_ms=1_765_000_000_123 + n, name="RunCommand", failed=False, text=text)


@pytest.mark.parametrize(("kind", "size"), [("udp", 70_000), ("unix", 400_000)])
def test_an_event_too_large_for_a_datagram_goes_shortened_and_the_next_follow(
    kind: str, size: int, tmp_path: Path
) -> None:
    """Past the datagram limit (65,507 bytes over UDP; the socket buffer for a Unix socket) the
    send fails (EMSGSIZE) every time: the batch used to be refused for ever, and every event
    after it waited behind it."""
    where: str | int = str(tmp_path / "log.sock") if kind == "unix" else 0
    with syslog_receiver(kind, where) as receiver:
        outlet = SyslogOutlet(receiver.address)
        outlet.write([_line(1), _huge(2, size), _line(3)])
        receiver.wait_for("e-3")
        outlet.close()
        documents = receiver.documents()
    assert [d["eventId"] for d in documents] == ["e-1", "e-2", "e-3"]
    short = documents[1]
    assert short["truncated"] is True and "requestParameters" not in short
    assert short["eventName"] == "RunCommand" and short["userIdentity"] == {"userName": "admin"}
    assert len(short["resourceName"]) == 1024
    assert "truncated" not in documents[0] and "truncated" not in documents[2]


def test_the_sink_ships_past_an_event_too_large_for_udp(db: Database) -> None:
    """The store's events through the sink to UDP syslog: the large one does not hold back the
    next (it used to fail the batch at every attempt, and nothing after it was shipped)."""
    large, after = _event(1, Description="d" * 70_000), _event(2)  # a forged form's, say
    with syslog_receiver("udp") as receiver:
        outlet = SyslogOutlet(receiver.address)
        sink = AuditSink(db, [outlet], "local")

        async def scenario() -> None:
            await db.write(lambda conn: store.insert_event(conn, large))
            await db.write(lambda conn: store.insert_event(conn, after))
            assert await sink.ship_once() == 2
            assert await sink.ship_once() == 0  # both marked shipped

        asyncio.run(scenario())
        receiver.wait_for(after.event_id)
        outlet.close()
        documents = receiver.documents()
    assert [d["eventId"] for d in documents] == [large.event_id, after.event_id]
    assert documents[0]["truncated"] is True


def _open_paths() -> set[str]:
    found = set()
    for fd in Path("/proc/self/fd").iterdir():
        with contextlib.suppress(OSError):  # closed while listed
            found.add(os.readlink(fd))
    return found


def test_reopen_lets_go_of_a_moved_file_at_once(tmp_path: Path) -> None:
    """What SIGHUP does (tests/integration/test_audit_sink.py sends a real one to a server)."""
    path = tmp_path / "audit.jsonl"
    outlet = FileOutlet(path, max_bytes=0)
    outlet.write([_line(1)])
    moved = tmp_path / "audit.jsonl.1"
    path.rename(moved)
    assert str(moved) in _open_paths()
    outlet.reopen()
    assert str(moved) not in _open_paths() and not path.exists()
    outlet.write([_line(2)])
    outlet.close()
    assert [json.loads(x)["eventId"] for x in path.read_text().splitlines()] == ["e-2"]
