"""The OOS parameter store (API.md 7): plain and secret parameters, and the values that
``{{oos:name}}`` / ``{{oos-secret:name}}`` stand for in a command.

Secrets are sealed before they reach the database and opened only to answer GetSecretParameter
with WithDecryption=true or to hand a task to its agent (over TLS); the command text kept in the
store and shown by the API keeps the placeholder.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import Connection

from openassist.catalog import api
from openassist.errors import Conflict, Internal, InvalidParameter, NotFound
from openassist.server import json_input
from openassist.server.service import ids
from openassist.server.service.context import ServiceContext
from openassist.server.service.parameters import StoreReference
from openassist.server.service.secret_box import SecretBox, SecretUnreadable
from openassist.server.store import parameters as store
from openassist.server.store.records import Parameter

SECRET = "Secret"  # noqa: S105 (a parameter type, not a password)
PLAIN_TYPES = ("String", "StringList")
_NAME = re.compile(r"[A-Za-z0-9_-]+")
_RESERVED_PREFIXES = ("aliyun", "acs", "alibaba", "alicloud", "oos")
MAX_VALUE = 4096


@dataclass(frozen=True)
class NewParameter:
    name: str
    type: str
    value: str
    description: str = ""
    constraints: str = ""
    tags: Mapping[str, str] | None = None
    resource_group_id: str = ""


class MissingStoreParameter(Exception):
    def __init__(self, reference: StoreReference, why: str) -> None:
        super().__init__(why)
        self.reference = reference


def not_found(name: str, hint: str = "") -> NotFound:
    return NotFound(api.STORE_PARAMETER_NOT_FOUND, name=name, hint=hint)


def check_name(name: str, secret: bool) -> None:
    limit = 180 if secret else 200
    if not 1 <= len(name) <= limit or not _NAME.fullmatch(name):
        raise InvalidParameter(api.STORE_NAME_INVALID, limit=limit, name=name)
    if name.lower().startswith(_RESERVED_PREFIXES):
        raise InvalidParameter(api.STORE_NAME_RESERVED)


def check_value(value: str, constraints: str) -> None:
    """Value length, then the Constraints document (AllowedValues, AllowedPattern, MinLength,
    MaxLength), each refusal naming the rule."""
    if not 1 <= len(value) <= MAX_VALUE:
        raise InvalidParameter(api.STORE_VALUE_LENGTH, limit=MAX_VALUE)
    if not constraints:
        return
    try:
        rules = json_input.loads(constraints)
        if not isinstance(rules, dict):
            raise ValueError
    except ValueError:
        raise InvalidParameter(api.STORE_CONSTRAINTS_NOT_OBJECT) from None
    allowed = rules.get("AllowedValues")
    if isinstance(allowed, list) and value not in [str(v) for v in allowed]:
        raise InvalidParameter(api.STORE_VALUE_NOT_ALLOWED)
    pattern = rules.get("AllowedPattern")
    try:
        if isinstance(pattern, str) and not re.fullmatch(pattern, value):
            raise InvalidParameter(api.STORE_VALUE_NOT_MATCHED, pattern=pattern)
    except re.error:
        raise InvalidParameter(api.STORE_PATTERN_INVALID, pattern=pattern) from None
    low, high = rules.get("MinLength"), rules.get("MaxLength")
    if (isinstance(low, int) and len(value) < low) or (isinstance(high, int) and len(value) > high):
        raise InvalidParameter(api.STORE_VALUE_OUT_OF_RANGE)


class ParameterStoreService:
    def __init__(self, context: ServiceContext, box: SecretBox) -> None:
        self._ctx = context
        self._box = box

    @property
    def key_id(self) -> str:
        return self._box.key_id

    async def create(self, new: NewParameter, created_by: str) -> Parameter:
        secret = new.type == SECRET
        check_name(new.name, secret)
        check_value(new.value, new.constraints)
        parameter = Parameter(
            id=ids.parameter_id(secret),
            name=new.name,
            type=new.type,
            value=self._box.seal(new.name, new.value) if secret else new.value,
            description=new.description,
            constraints=new.constraints,
            tags=json.dumps(dict(new.tags or {}), sort_keys=True),
            resource_group_id=new.resource_group_id,
            version=1,
            key_id=self._box.key_id if secret else "",
            created_by=created_by,
            created_at=self._ctx.clock.now_ms(),
        )

        def insert(conn: Connection) -> None:
            if store.get_parameter(conn, new.name) is not None:
                raise Conflict(api.STORE_PARAMETER_EXISTS, name=new.name)
            store.insert_parameter(conn, parameter)

        await self._ctx.db.write(insert)
        return parameter

    async def get(self, name: str, *, secret: bool, version: int | None) -> Parameter:
        found = await self._ctx.db.read(lambda conn: store.get_parameter(conn, name))
        if found is None or (found.type == SECRET) != secret:
            other = "GetParameter" if secret else "GetSecretParameter"
            hint = f" A parameter of that name exists: read it with {other}." if found else ""
            raise not_found(name, hint)
        if version is not None and version != found.version:
            raise NotFound(
                api.STORE_VERSION_NOT_FOUND, name=name, version=version, current=found.version
            )
        return found

    def reveal(self, parameter: Parameter) -> str:
        """The plaintext value of a (secret or plain) parameter."""
        if parameter.type != SECRET:
            return parameter.value
        try:
            return self._box.open(parameter.name, parameter.value)
        except SecretUnreadable as error:
            raise Internal(api.STORE_DECRYPTION_FAILED, reason=str(error)) from None

    async def delete(self, name: str, *, secret: bool) -> None:
        def remove(conn: Connection) -> None:
            found = store.get_parameter(conn, name)
            if found is None or (found.type == SECRET) != secret:
                raise not_found(name)
            store.delete_parameter(conn, name)

        await self._ctx.db.write(remove)

    def values_for(
        self, conn: Connection, references: Iterable[StoreReference]
    ) -> dict[StoreReference, str]:
        """The value of each reference, read in the caller's transaction; raises
        MissingStoreParameter for one that is gone or cannot be opened."""
        wanted = list(references)
        found = store.parameters_named(conn, [r.name for r in wanted])
        values: dict[StoreReference, str] = {}
        for reference in wanted:
            parameter = found.get(reference.name)
            problem = _reference_problem(reference, parameter)
            if problem or parameter is None:
                raise MissingStoreParameter(reference, problem)
            try:
                values[reference] = (
                    self._box.open(parameter.name, parameter.value)
                    if reference.secret
                    else parameter.value
                )
            except SecretUnreadable as error:
                raise MissingStoreParameter(reference, str(error)) from None
        return values


def check_references(conn: Connection, references: Iterable[StoreReference]) -> None:
    """Refuse a task whose ``{{oos:...}}`` / ``{{oos-secret:...}}`` names no parameter of its
    kind (ParameterStore.InvalidParameters, 403, as the vendor answers)."""
    wanted = list(references)
    found = store.parameters_named(conn, [r.name for r in wanted])
    for reference in wanted:
        problem = _reference_problem(reference, found.get(reference.name))
        if problem:
            raise InvalidParameter(api.STORE_REFERENCE_INVALID, problem=problem)


def _reference_problem(reference: StoreReference, parameter: Parameter | None) -> str:
    placeholder = reference.placeholder
    if parameter is None:
        return f"{placeholder} names no parameter in the parameter store; create it first."
    if reference.secret and parameter.type != SECRET:
        return f"{placeholder} names a plain parameter; use {{{{oos:{reference.name}}}}}."
    if not reference.secret and parameter.type == SECRET:
        return f"{placeholder} names a secret parameter; use {{{{oos-secret:{reference.name}}}}}."
    return ""
