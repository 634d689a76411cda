"""Migration revision ids: each migration's id is its file's number, in chain order.

Five migrations once carried numbers out of chain order (after 0006 came 0009, 0012, 0013, 0010,
0007). They were renumbered 0014-0018, past every old number, so that an old id and a new id can
never be the same string. A database stamped with an old id is restamped with the new id of the
same migration before upgrading; the schema it has is unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from sqlalchemy import Connection, column, inspect, table

# old revision id -> the id the same migration carries now
RENUMBERED: Mapping[str, str] = MappingProxyType(
    {"0009": "0014", "0012": "0015", "0013": "0016", "0010": "0017", "0007": "0018"}
)

_VERSION = table("alembic_version", column("version_num"))


def restamp_renumbered(connection: Connection) -> None:
    """Replace an old revision id in ``alembic_version`` by its new one (no-op on new databases)."""
    if not inspect(connection).has_table("alembic_version"):
        return
    for old, new in RENUMBERED.items():
        connection.execute(
            _VERSION.update().where(_VERSION.c.version_num == old).values(version_num=new)
        )
