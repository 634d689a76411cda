"""Errors of the request itself: method, action, version, region, signature, throttling,
idempotency, paging and the typed parameter readers every action uses (API.md 1.2-1.10)."""

from __future__ import annotations

from openassist.catalog.api.model import ApiErrorEntry as _E
from openassist.catalog.api.model import ErrorKind as _K

INTERNAL_ERROR = _E(
    "InternalError",
    _K.INTERNAL,
    500,
    "The request processing has failed due to some unknown error.",
)
UNSUPPORTED_HTTP_METHOD = _E(
    "UnsupportedHTTPMethod",
    _K.FORBIDDEN,
    403,
    "The HTTP method {method} is not supported; send GET or POST.",
)
MISSING_ACTION = _E(
    "MissingParameter.Action",
    _K.INVALID_PARAMETER,
    400,
    "The Action parameter is required.",
    "Action",
)
INVALID_ACTION = _E(
    "InvalidAction",
    _K.FORBIDDEN,
    403,
    "The action {action!r} is not supported.",
    "Action",
)
INVALID_VERSION = _E(
    "InvalidVersion",
    _K.INVALID_PARAMETER,
    400,
    "Version of {action} must be {expected}; got {version!r}.",
    "Version",
)
REGION_NOT_FOUND = _E(
    "InvalidRegionId.NotFound",
    _K.NOT_FOUND,
    404,
    "The RegionId {region!r} does not exist here; this server serves {regions}.",
    "RegionId",
)
THROTTLING = _E(
    "Throttling",
    _K.THROTTLED,
    429,
    "Request was denied due to request throttling; retry after {retry_after_s} s.",
)

# Signature (API.md 1.3, 1.6). The SDKs match these messages: keep them as they are.
INCOMPLETE_SIGNATURE = _E(
    "IncompleteSignature",
    _K.UNAUTHENTICATED,
    400,
    "The request signature does not conform to Aliyun standards. {reason}.",
)
MISSING_SIGNATURE_PARAMETER = _E(
    "MissingParameter",
    _K.UNAUTHENTICATED,
    400,
    'The input parameter "{parameter}" that is mandatory for processing this request is not '
    "supplied.",
    "{parameter}",
)
TIMESTAMP_MISSING = _E(
    "IllegalTimestamp",
    _K.UNAUTHENTICATED,
    400,
    'The input parameter "{parameter}" that is mandatory for processing this request is not '
    "supplied.",
    "{parameter}",
)
TIMESTAMP_MALFORMED = _E(
    "IllegalTimestamp",
    _K.UNAUTHENTICATED,
    400,
    'The input parameter "{parameter}" is not in the UTC form YYYY-MM-DDThh:mm:ssZ.',
    "{parameter}",
)
TIMESTAMP_INVALID = _E(
    "IllegalTimestamp",
    _K.UNAUTHENTICATED,
    400,
    'The input parameter "{parameter}" is invalid.',
    "{parameter}",
)
TIMESTAMP_EXPIRED = _E(
    "InvalidTimeStamp.Expired",
    _K.UNAUTHENTICATED,
    400,
    "Specified time stamp or date header is expired: {value} is more than 15 minutes from "
    "server time.",
)
# The public service answers an unknown AccessKeyId with HTTP 404 (API.md 1.6 lists 400/404);
# both SDKs only look at the code, and 404 keeps "who are you" apart from "bad request".
ACCESS_KEY_NOT_FOUND = _E(
    "InvalidAccessKeyId.NotFound",
    _K.UNAUTHENTICATED,
    404,
    "Specified access key is not found.",
    "AccessKeyId",
)
# RAM's answer for a key set Inactive (UpdateAccessKey Status=Inactive), given only to a request
# signed with that key's secret.
ACCESS_KEY_INACTIVE = _E(
    "InvalidAccessKeyId.Inactive",
    _K.UNAUTHENTICATED,
    400,
    "Specified access key is disabled; enable it (UpdateAccessKey Status=Active) or sign with "
    "another key.",
    "AccessKeyId",
)
# The legacy Python core splits this message on ':' and compares the tail to its own
# StringToSign (API.md 1.6), so the colon must stay and the string must follow it directly.
SIGNATURE_MISMATCH = _E(
    "SignatureDoesNotMatch",
    _K.UNAUTHENTICATED,
    400,
    "Specified signature is not matched with our calculation. server string to sign "
    "is:{string_to_sign}",
    "Signature",
)
SIGNATURE_NONCE_USED = _E(
    "SignatureNonceUsed",
    _K.UNAUTHENTICATED,
    400,
    "Specified signature nonce was used already.",
    "SignatureNonce",
)

# Idempotency (API.md 1.9).
CLIENT_TOKEN_MALFORMED = _E(
    "InvalidClientToken.Malformed",
    _K.INVALID_PARAMETER,
    400,
    "ClientToken must be at most {limit} printable ASCII characters.",
    "ClientToken",
)
IDEMPOTENT_PARAMETER_MISMATCH = _E(
    "IdempotentParameterMismatch",
    _K.CONFLICT,
    400,
    "The request uses the same ClientToken as a previous, but non-identical request; use a new "
    "ClientToken for a different request.",
    "ClientToken",
)
IDEMPOTENT_PROCESSING = _E(
    "IdempotentProcessing",
    _K.CONFLICT,
    403,
    "The previous idempotent request(s) is still processing.",
    "ClientToken",
)

# Request bodies (issue 13.4): read against a limit per endpoint before any other check.
REQUEST_BODY_TOO_LARGE = _E(
    "RequestBodyTooLarge",
    _K.LIMIT_EXCEEDED,
    413,
    "The request body is larger than {limit} bytes, this endpoint's limit ({setting}).",
)
REQUEST_BODY_INVALID = _E(
    "InvalidRequestBody",
    _K.INVALID_PARAMETER,
    400,
    "{reason}",
)

# Paging (API.md 1.10).
NEXT_TOKEN_INVALID = _E(
    "InvalidParameter.NextToken",
    _K.INVALID_PARAMETER,
    400,
    "The NextToken is not one this server issued; pass the NextToken of the previous page "
    "unchanged, or omit it to start from the first page.",
    "NextToken",
)
PAGE_NUMBER_INVALID = _E(
    "InvalidParam.PageNumber",
    _K.INVALID_PARAMETER,
    400,
    "PageNumber must be an integer from 1 to {maximum}; got {value!r}.",
    "PageNumber",
)
PAGE_SIZE_INVALID = _E(
    "InvalidParam.PageSize",
    _K.INVALID_PARAMETER,
    400,
    "{parameter} must be an integer from 1 to {maximum}; got {value!r}.",
    "PageSize",
)
MAX_RESULTS_INVALID = _E(
    "InvalidParameter.MaxResults",
    _K.INVALID_PARAMETER,
    400,
    "{parameter} must be an integer from 1 to {maximum}; got {value!r}.",
    "MaxResults",
)

# The typed parameter readers: any parameter of any action (families of codes).
MISSING_PARAMETER = _E(
    "MissingParameter.{parameter}",
    _K.INVALID_PARAMETER,
    400,
    "The input parameter “{parameter}” that is mandatory for processing this request is not "
    "supplied.",
    "{parameter}",
)
PARAMETER_TOO_LONG = _E(
    "InvalidParameter.{parameter}",
    _K.INVALID_PARAMETER,
    400,
    "The parameter {parameter} is longer than {limit} characters.",
    "{parameter}",
)
PARAMETER_NOT_INTEGER = _E(
    "InvalidParameter.{parameter}",
    _K.INVALID_PARAMETER,
    400,
    "The parameter {parameter} must be an integer, got {value!r}.",
    "{parameter}",
)
PARAMETER_OUT_OF_RANGE = _E(
    "InvalidParameter.{parameter}",
    _K.INVALID_PARAMETER,
    400,
    "The parameter {parameter} is out of range.",
    "{parameter}",
)
PARAMETER_TOO_SMALL = _E(
    "InvalidParameter.{parameter}",
    _K.INVALID_PARAMETER,
    400,
    "The parameter {parameter} must be at least {minimum}.",
    "{parameter}",
)
PARAMETER_TOO_LARGE = _E(
    "InvalidParameter.{parameter}",
    _K.INVALID_PARAMETER,
    400,
    "The parameter {parameter} must be at most {limit}.",
    "{parameter}",
)
PARAMETER_NOT_BOOLEAN = _E(
    "InvalidParameter.{parameter}",
    _K.INVALID_PARAMETER,
    400,
    "The parameter {parameter} must be true or false, got {value!r}.",
    "{parameter}",
)
PARAMETER_TOO_MANY = _E(
    "InvalidParameter.{parameter}",
    _K.LIMIT_EXCEEDED,
    403,
    "At most {limit} values of {parameter} may be given; got {count}.",
    "{parameter}",
)
