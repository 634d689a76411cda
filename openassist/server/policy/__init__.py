"""The RAM policy language: parse and validate a policy document, and decide a request.

Pure functions, no I/O, no clock (the request's context carries the time). ``parse_policy``
turns a document's text into a ``PolicyDocument`` or raises ``PolicyDocumentError`` saying what to
fix; ``evaluate`` decides an ``AccessRequest`` against a principal's policies: an explicit Deny
wins, then any Allow, and with neither the request is denied (implicitly). Imports only the
standard library.
"""

from openassist.server.policy.conditions import CONDITION_OPERATORS, Condition
from openassist.server.policy.document import (
    MAX_DOCUMENT_LENGTH,
    Effect,
    PolicyDocument,
    PolicyDocumentError,
    Statement,
    parse_policy,
)
from openassist.server.policy.evaluate import (
    AccessRequest,
    Decision,
    NamedPolicy,
    PolicySet,
    evaluate,
    grants_everything,
    might_allow,
)

__all__ = [
    "CONDITION_OPERATORS",
    "MAX_DOCUMENT_LENGTH",
    "AccessRequest",
    "Condition",
    "Decision",
    "Effect",
    "NamedPolicy",
    "PolicyDocument",
    "PolicyDocumentError",
    "PolicySet",
    "Statement",
    "evaluate",
    "grants_everything",
    "might_allow",
    "parse_policy",
]
