"""Random, oversized and mistyped parameters at every registered action (iterated from the
registry): never a 500, never a traceback, always the error envelope; and a refused call leaves
no row behind in any table of the store."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, create_engine, func, select

from openassist.cli.action_reference import REFERENCE
from openassist.cli.api_client import ApiCallError
from openassist.server.api import endpoint  # noqa: F401  (registers the actions)
from openassist.server.api.registry import ACTIONS
from openassist.server.store.schema import metadata
from tests.conftest import BACKENDS
from tests.support.cluster import Cluster, backend_cluster

NAMES = [
    "Type",
    "CommandContent",
    "ContentEncoding",
    "InstanceId",
    "InstanceId.1",
    "InstanceId.2",
    "Timeout",
    "WorkingDir",
    "Username",
    "Name",
    "Description",
    "RepeatMode",
    "Frequency",
    "EnableParameter",
    "Parameters",
    "KeepCommand",
    "Launcher",
    "TerminationMode",
    "ClientToken",
    "InvokeId",
    "CommandId",
    "PageNumber",
    "PageSize",
    "MaxResults",
    "NextToken",
    "Tag.1.Key",
    "Tag.1.Value",
    "IncludeOutput",
    "InvokeRecordStatus",
    "InvokeStatus",
    "ActivationId",
    "InstanceCount",
    "TimeToLiveInHours",
    "IpAddressRange",
    "InstanceName",
    "Connected",
    "OSType",
]
VALUES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            "0",
            "-1",
            "true",
            "False",
            "null",
            "{}",
            "[]",
            '{"a": 1}',
            "t-x",
            "mi-x",
            "RunShellScript",
            "Base64",
            "PlainText",
            "%%%",
            "9" * 30,
        ]
    ),
    st.integers(min_value=1, max_value=40_000).map(lambda n: "a" * n),  # oversized values
    st.integers().map(str),
)


def _wire_names(action: str) -> list[str]:
    """The action's parameters as the wire spells them (``.N`` as ``.1`` and ``.2``)."""
    names: list[str] = []
    for parameter in REFERENCE[action].parameters:
        if ".N" in parameter.name:
            names += [parameter.name.replace(".N", ".1"), parameter.name.replace(".N", ".2")]
        else:
            names.append(parameter.name)
    return names


def params_for(action: str) -> st.SearchStrategy[dict[str, str]]:
    """Random values for the action's own parameters, the common ones, and made-up names."""
    names = st.sampled_from(sorted(set(_wire_names(action)) | set(NAMES)))
    return st.dictionaries(names | st.text(min_size=1, max_size=12), VALUES, max_size=8)


# Actions that write get more examples than those that only read.
READERS = sorted(a for a in ACTIONS if a.startswith(("Describe", "Get", "List", "Diagnose")))
WRITERS = sorted(set(ACTIONS) - set(READERS))


@pytest.fixture(scope="module", params=BACKENDS)
def cluster(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    """As conftest's, without the per-key rate limit, which would otherwise answer most of the
    examples with Throttling instead of letting them reach their action."""
    env = {"OPENASSIST_API_RATE_PER_KEY": "0"}
    with backend_cluster(request.param, tmp_path_factory.mktemp("fuzz"), env) as running:
        yield running


@pytest.fixture(scope="module")
def store(cluster: Cluster) -> Iterator[Engine]:
    """A read-only look at the server's own database, to count its rows."""
    url = cluster.database_url or f"sqlite:///{cluster.root / 'data' / 'openassist.db'}"
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    engine = create_engine(url)
    assert row_counts(engine)["access_keys"] >= 1  # the counting sees the server's rows
    yield engine
    engine.dispose()


# Left by design by a refused call: the replay mark of every signed request, the audit event of
# every failed change (issue 16: refusals are audited) and the caller's rate-limit bucket.
BOOKKEEPING = frozenset({"replay_marks", "audit_events", "api_rate_buckets"})


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows per table, but for the bookkeeping a refused call leaves by design."""
    with engine.connect() as connection:
        return {
            table.name: int(
                connection.execute(select(func.count()).select_from(table)).scalar_one()
            )
            for table in metadata.sorted_tables
            if table.name not in BOOKKEEPING
        }


def _clean(params: dict[str, str]) -> dict[str, str]:
    cleaned = {k: v for k, v in params.items() if "\x00" not in k + v}
    cleaned.pop("RegionId", None)
    return cleaned


def _throw(cluster: Cluster, store: Engine, action: str, params: dict[str, str]) -> None:
    """No 500, no traceback, the error envelope; and a refusal leaves every table as it was."""
    params = _clean(params)
    before = row_counts(store)
    try:
        answer = cluster.client().call(action, params)
    except ApiCallError as error:
        assert error.status < 500, (action, params, error)
        assert error.code and error.message and "Traceback" not in error.message
        assert error.code != "Throttling"
        assert row_counts(store) == before, (action, params, error.code)
        return
    assert answer["RequestId"]


@pytest.mark.parametrize("action", WRITERS)
@settings(
    max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(data=st.data())
def test_writing_action_survives_random_parameters(
    cluster: Cluster, store: Engine, action: str, data: st.DataObject
) -> None:
    _throw(cluster, store, action, data.draw(params_for(action)))


@pytest.mark.parametrize("action", READERS)
@settings(
    max_examples=10, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(data=st.data())
def test_reading_action_survives_random_parameters(
    cluster: Cluster, store: Engine, action: str, data: st.DataObject
) -> None:
    _throw(cluster, store, action, data.draw(params_for(action)))


def test_every_registered_action_is_fuzzed() -> None:
    assert sorted(READERS + WRITERS) == sorted(ACTIONS)


def _token(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


DEEP = "[" * 5000 + "]" * 5000  # deeper than Python's parser recursion allows
CRAFTED = [
    # (action, parameters, code): crafted inputs that reached the store or the parser raw and
    # answered 500 (OverflowError, "row value misused", RecursionError).
    ("DescribeInvocations", {"NextToken": _token([2**70, "t-x"])}, "InvalidParameter.NextToken"),
    ("DescribeInvocations", {"NextToken": _token([1])}, "InvalidParameter.NextToken"),
    ("DescribeInvocations", {"NextToken": _token(["a", "b"])}, "InvalidParameter.NextToken"),
    ("DescribeInvocations", {"NextToken": _token([True, "t-x"])}, "InvalidParameter.NextToken"),
    ("DescribeInvocations", {"NextToken": _token([1, "t", "i"])}, "InvalidParameter.NextToken"),
    ("DescribeInvocationResults", {"NextToken": _token([1, "t"])}, "InvalidParameter.NextToken"),
    ("DescribeCommands", {"NextToken": _token([1, "c", "x", "y"])}, "InvalidParameter.NextToken"),
    ("DescribeCommands", {"NextToken": _token(DEEP)}, "InvalidParameter.NextToken"),
    (
        "RunCommand",
        {
            "Type": "RunShellScript",
            "CommandContent": "echo {{a}}",
            "InstanceId.1": "mi-none",
            "EnableParameter": "true",
            "Parameters": DEEP,
        },
        "InvalidParameter.Parameters",
    ),
    (
        "CreateParameter",
        {"Name": "deep", "Value": "v", "Type": "String", "Tags": DEEP},
        "InvalidParameter.Tags",
    ),
    (
        "CreateParameter",
        {"Name": "deep", "Value": "v", "Type": "String", "Constraints": DEEP},
        "InvalidParameter.Constraints",
    ),
    (
        "CreatePolicy",
        {"PolicyName": "deep", "PolicyDocument": "[" * 1500 + "]" * 1500},  # within 6144
        "InvalidParameter.PolicyDocument",
    ),
]


@pytest.mark.parametrize(("action", "params", "code"), CRAFTED)
def test_crafted_shapes_get_their_documented_code(
    cluster: Cluster, store: Engine, action: str, params: dict[str, str], code: str
) -> None:
    before = row_counts(store)
    with pytest.raises(ApiCallError) as refused:
        cluster.client().call(action, params)
    assert (refused.value.status, refused.value.code) == (400, code), refused.value.message
    assert row_counts(store) == before
