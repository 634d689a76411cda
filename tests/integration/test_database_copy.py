"""Attack: someone holding a copy of the database (a stolen backup, a file read before the data
directory was owner-only) tries to sign API requests and to read secrets with it.

The README says a copy of the database alone reveals no secret: access-key secrets, secret
parameter values and ClientToken answers (CreateActivation's holds the activation code) are
sealed with the key file outside the database, and activation codes are otherwise kept only as
hashes. Here the copy is the database's files (SQLite) or every table's rows (PostgreSQL).
"""

from __future__ import annotations

import json
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

import openassist.server.store.db as store_db
from openassist.cli.api_client import ApiCallError, ApiClient, Credentials
from tests.conftest import BACKENDS
from tests.support.cluster import Cluster, temporary_postgres_database

PARAMETER_VALUE = "pg-Passw0rd-only-in-the-vault"


def _database_url(cluster: Cluster) -> str:
    return cluster.database_url or f"sqlite:///{cluster.root / 'data' / 'openassist.db'}"


def _copy_of_the_database(cluster: Cluster, into: Path) -> tuple[bytes, list[dict[str, str]]]:
    """What a thief takes: the raw bytes (the SQLite files, or a dump of every table) and the
    access_keys rows as text, read from the copy."""
    into.mkdir()
    if not cluster.database_url:
        data = cluster.root / "data"
        for name in ("openassist.db", "openassist.db-wal"):
            shutil.copy(data / name, into / name)
        raw = b"".join(
            (into / name).read_bytes() for name in ("openassist.db", "openassist.db-wal")
        )
        url = f"sqlite:///{into / 'openassist.db'}"
    else:
        raw, url = b"", cluster.database_url
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            tables = sa.inspect(conn).get_table_names()
            for table in tables:  # every row of every table, as a dump would hold it
                for row in conn.execute(sa.text(f'SELECT * FROM "{table}"')):
                    raw += repr(tuple(row)).encode()
            keys = [
                {k: str(v) for k, v in row._mapping.items()}
                for row in conn.execute(sa.text("SELECT * FROM access_keys"))
            ]
    finally:
        engine.dispose()
    return raw, keys


def _signs(cluster: Cluster, key_id: str, secret: str) -> bool:
    client = ApiClient(Credentials(key_id, secret, cluster.endpoint, "local"))
    try:
        client.call("DescribeInvocations", {})
    except ApiCallError as refused:
        assert refused.code == "SignatureDoesNotMatch", refused
        return False
    return True


def test_a_database_copy_cannot_sign_requests_nor_reveal_a_secret(
    cluster: Cluster, tmp_path: Path
) -> None:
    cluster.call("CreateSecretParameter", Name="vault_password", Value=PARAMETER_VALUE)
    activation = cluster.call("CreateActivation", InstanceCount="1", ClientToken="copy-test-1")
    secret = cluster.credentials.access_key_secret
    raw, keys = _copy_of_the_database(cluster, tmp_path / "stolen")
    [admin] = [row for row in keys if row["id"] == cluster.credentials.access_key_id]
    # The thief tries every value of the key's row as its secret.
    forged = [value for name, value in admin.items() if _signs(cluster, admin["id"], value)]
    assert forged == [], f"the stored {forged} signs requests"
    for shown_once in (secret, PARAMETER_VALUE, activation["ActivationCode"]):
        assert shown_once.encode() not in raw
    assert _signs(cluster, admin["id"], secret)  # the real secret still works


def _migrate_to_the_release_before_sealing(url: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(Path(store_db.__file__).parent / "migrations"))
    [sealing] = [
        revision
        for revision in ScriptDirectory.from_config(config).walk_revisions()
        if revision.path.endswith("_sealed_access_key_secrets.py")
    ]
    assert isinstance(sealing.down_revision, str)
    engine = sa.create_engine(store_db._normalise(url))
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, sealing.down_revision)
    finally:
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def older_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Path, str]]:
    root = tmp_path / "server"
    (root / "data").mkdir(parents=True)
    if request.param == "postgres":
        with temporary_postgres_database() as url:
            yield root, url
    else:
        yield root, ""


def test_plain_secrets_of_an_older_release_are_sealed_at_start(
    older_database: tuple[Path, str], tmp_path: Path
) -> None:
    root, database_url = older_database
    url = database_url or f"sqlite:///{root / 'data' / 'openassist.db'}"
    key_id, secret = "OAOLDRELEASE0001", secrets.token_urlsafe(30)
    answer = json.dumps({"ActivationId": "old-activation", "ActivationCode": "a-old-code-0123"})
    # The schema and rows as the release before sealing wrote them.
    _migrate_to_the_release_before_sealing(url)
    engine = sa.create_engine(store_db._normalise(url))
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO access_keys VALUES (:id, :secret, 'admin', true, 0)"),
            {"id": key_id, "secret": secret},
        )
        conn.execute(
            sa.text("INSERT INTO client_tokens VALUES (:id, 'CreateActivation', 'tok', :f, :a, 0)"),
            {"id": key_id, "f": "0" * 64, "a": answer},
        )
    engine.dispose()
    credentials = {"AccessKeyId": key_id, "AccessKeySecret": secret, "RegionId": "local"}
    (root / "data" / "admin-credentials.json").write_text(json.dumps(credentials))
    with Cluster.start(root, database_url) as cluster:
        assert "sealed 1 access-key secret(s) and 1 ClientToken answer(s)" in (
            cluster.server_log.read_text()
        )
        raw, keys = _copy_of_the_database(cluster, tmp_path / "stolen")
        assert secret.encode() not in raw and b"a-old-code-0123" not in raw
        assert [row["id"] for row in keys] == [key_id]
        assert _signs(cluster, key_id, secret)  # the operator's key works as before
