"""Every error the RPC API and the console can answer, as data: code, kind, HTTP status,
message template with named fields, and the request parameter it is about.

The per-instance codes (what happened on one instance) are the other half of the catalog, in
``openassist.catalog``; these are the answers to a request. Must not import the server.

How to add an error:

1. Add an entry to the module of its area (``request``, ``tasks``, ``parameters``,
   ``resources``, ``ram``; ``console`` only for console wording), as an UPPER_CASE constant::

       WIDGET_NOT_FOUND = _E(
           "InvalidWidgetId.NotFound",  # the wire code (a family: "MissingParameter.{parameter}")
           _K.NOT_FOUND,  # the kind: chooses the exception class
           404,  # the HTTP status the SDKs see
           "The widget {widget_id} does not exist.",  # str.format over named fields; {x!r} works
           "WidgetId",  # the parameter to fix ("" when none)
       )

   Reuse an entry when the code, status and message are the same; a code may have several
   entries when the message differs (one fix each).
2. Raise it from the service (or the API's parameter reading) with the exception class of its
   kind, from ``openassist.errors``, giving every field by name::

       raise NotFound(api.WIDGET_NOT_FOUND, widget_id=widget_id)

   ``DomainError.of(entry, **fields)`` picks the class from the entry when code passes entries
   around (the parameter readers take ``too_long=api.X`` and the like).
3. Nothing else: the RPC endpoint (``server/api/endpoint.py``) and the console (``error_box``)
   render any ``ApiError``. ``tests/unit/test_api_error_catalog.py`` finds the new site by
   scanning the source and checks the entry exists, its kind matches the class and the fields
   given are the fields it uses; an entry no code raises must be listed in ``RESERVED``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from openassist.catalog.api import console, parameters, ram, request, resources, tasks
from openassist.catalog.api.console import *  # noqa: F403
from openassist.catalog.api.model import ApiErrorEntry, ErrorKind
from openassist.catalog.api.parameters import *  # noqa: F403
from openassist.catalog.api.ram import *  # noqa: F403
from openassist.catalog.api.request import *  # noqa: F403
from openassist.catalog.api.resources import *  # noqa: F403
from openassist.catalog.api.tasks import *  # noqa: F403

__all__ = ["ENTRIES", "RESERVED", "ApiErrorEntry", "ErrorKind"]


def _named(*modules: object) -> Mapping[str, ApiErrorEntry]:
    table: dict[str, ApiErrorEntry] = {}
    for module in modules:
        for name, value in vars(module).items():
            if isinstance(value, ApiErrorEntry):
                if name in table:
                    raise ValueError(f"API error {name} is defined twice")
                table[name] = value
    return MappingProxyType(table)


# Entry name -> entry: the whole catalog.
ENTRIES: Mapping[str, ApiErrorEntry] = _named(request, tasks, parameters, resources, ram, console)

# Entries kept although no code raises them today (a documented code we may answer again).
RESERVED: frozenset[str] = frozenset()
