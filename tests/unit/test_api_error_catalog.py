"""The API error catalog against the code that raises from it.

"Can return" is derived from the source, so sites added later are checked too: every
``<Kind>(api.NAME, field=...)`` / ``DomainError.of(api.NAME, ...)`` names an entry of that kind
with exactly the fields it uses, every other ``api.NAME`` reference names an entry, no code is
spelled by hand in ``ApiError("Code", ...)``, and every entry is raised somewhere or listed as
reserved.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from openassist import errors
from openassist.catalog import api
from openassist.catalog.api import ENTRIES, RESERVED, ErrorKind
from openassist.errors import ApiError, DomainError, NotFound
from openassist.server.api.throttle import ThrottlingError

PACKAGE = Path(errors.__file__).parent
CATALOG = PACKAGE / "catalog" / "api"
KIND_CLASSES = {cls.__name__: cls.kind for cls in DomainError.__subclasses__()}
KIND_CLASSES.update(ThrottlingError=ErrorKind.THROTTLED)  # takes its entry itself
# 409 conflicts; 413: a request body over its endpoint's limit (docs/security.md), refused
# before it is read.
DOCUMENTED_STATUSES = {400, 403, 404, 409, 413, 429, 500}
READER_CODES = {"too_long_code", "too_large_code", "too_many_code", "not_found_code"}


@dataclass(frozen=True)
class Reference:
    where: str
    name: str
    raised_as: str | None  # the exception class, when the reference is a raise site
    given: frozenset[str] | None  # the field names given; None when **fields is passed on


def _sources() -> list[tuple[Path, ast.Module]]:
    return [
        (path, ast.parse(path.read_text(), str(path)))
        for path in sorted(PACKAGE.rglob("*.py"))
        if CATALOG not in path.parents
    ]


def _callee(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Attribute):
        return "of" if func.attr == "of" else func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _entry_name(node: ast.expr) -> str | None:
    is_entry = (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "api"
        and node.attr.isupper()
    )
    return node.attr if is_entry and isinstance(node, ast.Attribute) else None


def references() -> list[Reference]:
    found: list[Reference] = []
    for path, tree in _sources():
        where = str(path.relative_to(PACKAGE.parent))
        raised: set[int] = set()
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = _entry_name(node.args[0])
            callee = _callee(node)
            if name is None or (callee not in KIND_CLASSES and callee != "of"):
                continue
            raised.add(id(node.args[0]))
            spread = any(k.arg is None for k in node.keywords)
            given = None if spread else frozenset(k.arg for k in node.keywords if k.arg)
            kind = None if callee == "of" else callee
            found.append(Reference(f"{where}:{node.lineno}", name, kind, given))
        for other in ast.walk(tree):
            name = _entry_name(other) if isinstance(other, ast.expr) else None
            if isinstance(other, ast.expr) and name is not None and id(other) not in raised:
                found.append(Reference(f"{where}:{other.lineno}", name, None, None))
    return found


def _literal_codes(node: ast.expr) -> list[str]:
    """The codes a hand-spelled first argument can take; an f-string field becomes ``{}``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return ["".join(str(v.value) if isinstance(v, ast.Constant) else "{}" for v in node.values)]
    return [
        code
        for child in ast.iter_child_nodes(node)
        if isinstance(child, ast.expr)
        for code in _literal_codes(child)
    ]


def hand_spelled_codes() -> list[tuple[str, str]]:
    """(site, code) of every ``ApiError(...)`` built by hand and of every ``*_code=`` literal
    handed to a parameter reader: none may be left."""
    found: list[tuple[str, str]] = []
    for path, tree in _sources():
        if path.name == "errors.py" and path.parent == PACKAGE:
            continue
        where = str(path.relative_to(PACKAGE.parent))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            if _callee(node) == "ApiError" and node.args:
                found += [(f"{where}:{node.lineno}", c) for c in _literal_codes(node.args[0])]
            for keyword in node.keywords:
                value = keyword.value
                if keyword.arg in READER_CODES and isinstance(value, ast.Constant):
                    found.append((f"{where}:{node.lineno}", str(value.value)))
    return found


def test_every_raise_site_names_an_entry_of_its_kind_with_its_fields() -> None:
    problems = []
    for ref in references():
        entry = ENTRIES.get(ref.name)
        if entry is None:
            problems.append(f"{ref.where}: api.{ref.name} is not in the catalog")
            continue
        if ref.raised_as and KIND_CLASSES[ref.raised_as] is not entry.kind:
            problems.append(f"{ref.where}: {ref.name} is {entry.kind}, raised as {ref.raised_as}")
        checked = ref.given is not None and ref.raised_as != "ThrottlingError"
        if checked and ref.given != entry.fields:
            problems.append(
                f"{ref.where}: {ref.name} uses {sorted(entry.fields)}, "
                f"given {sorted(ref.given or ())}"
            )
    assert not problems, "\n".join(problems)


def test_no_error_is_spelled_by_hand() -> None:
    """Every code comes from the catalog: an ``ApiError(...)`` built outside ``errors.py`` (or a
    reader given a code string) would answer a code no test can see."""
    assert hand_spelled_codes() == []


def test_every_entry_is_raised_somewhere_or_reserved() -> None:
    named = {ref.name for ref in references()}
    unreached = [
        name for name, entry in ENTRIES.items() if name not in named and name not in RESERVED
    ]
    assert not unreached, f"raised nowhere and not reserved: {unreached}"
    assert set(ENTRIES) >= RESERVED, "a reserved name is not an entry"


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_entry_is_well_formed(name: str) -> None:
    entry = ENTRIES[name]
    assert entry.http_status in DOCUMENTED_STATUSES
    sample = {field: f"<{field}>" for field in entry.fields}
    code, message, parameter = entry.render(sample)
    assert re.fullmatch(r"[A-Za-z<>_{}]+(\.[A-Za-z<>_]+)*", code), code
    assert message.strip() and all(f"<{f}>" in code + message + parameter for f in sample)
    assert parameter == "" or re.fullmatch(r"[A-Za-z<>_]+", parameter), parameter


def test_a_domain_error_carries_its_entry_fields_and_wire_shape() -> None:
    error = NotFound(api.COMMAND_NOT_FOUND, command_id="c-1")
    assert isinstance(error, ApiError)
    assert (error.code, error.message, error.http_status, error.parameter) == (
        "InvalidCmdId.NotFound",
        "The command c-1 does not exist.",
        404,
        "CommandId",
    )
    family = DomainError.of(api.MISSING_PARAMETER, parameter="Name")
    assert type(family) is errors.InvalidParameter and family.code == "MissingParameter.Name"
    # A refinement of a kind (ThrottlingError, defined once its module is imported) does not
    # replace the kind's class.
    assert issubclass(ThrottlingError, errors.Throttled)
    assert type(DomainError.of(api.THROTTLING, retry_after_s=2)) is errors.Throttled
    with pytest.raises(TypeError):
        NotFound(api.MISSING_PARAMETER, parameter="Name")  # an entry raised as the wrong kind
    with pytest.raises(KeyError):
        NotFound(api.COMMAND_NOT_FOUND)  # a field left out


def test_a_name_defined_twice_is_refused() -> None:
    from openassist.catalog.api import _named, request

    with pytest.raises(ValueError, match="defined twice"):
        _named(request, request)
