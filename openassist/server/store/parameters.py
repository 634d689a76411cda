"""Queries on the parameter store."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict

from sqlalchemy import Connection, delete, select

from openassist.server.store.records import Parameter
from openassist.server.store.schema.settings import parameters


def insert_parameter(conn: Connection, parameter: Parameter) -> None:
    conn.execute(parameters.insert().values(**asdict(parameter)))


def get_parameter(conn: Connection, name: str) -> Parameter | None:
    row = conn.execute(select(parameters).where(parameters.c.name == name)).first()
    return Parameter(**row._mapping) if row else None


def parameters_named(conn: Connection, names: Iterable[str]) -> dict[str, Parameter]:
    wanted = sorted(set(names))
    if not wanted:
        return {}
    rows = conn.execute(select(parameters).where(parameters.c.name.in_(wanted)))
    return {row.name: Parameter(**row._mapping) for row in rows}


def delete_parameter(conn: Connection, name: str) -> None:
    conn.execute(delete(parameters).where(parameters.c.name == name))
