"""Parameter readers and paging tokens."""

from __future__ import annotations

import pytest

from openassist.catalog import api
from openassist.errors import ApiError
from openassist.protocol.statuses import CommandType
from openassist.server.api.envelope import page_query
from openassist.server.api.params import Params
from openassist.server.store.paging import decode_token, encode_token


def test_booleans_in_any_case() -> None:
    params = Params({"A": "True", "B": "false", "C": "TRUE"})
    assert params.boolean("A") and params.boolean("C") and not params.boolean("B")
    with pytest.raises(ApiError) as error:
        Params({"A": "yes"}).boolean("A")
    assert error.value.code == "InvalidParameter.A"


def test_repeated_parameters_are_ordered_by_index() -> None:
    params = Params({"InstanceId.2": "b", "InstanceId.10": "c", "InstanceId.1": "a"})
    assert params.repeated("InstanceId") == ["a", "b", "c"]
    with pytest.raises(ApiError) as error:
        params.repeated("InstanceId", max_items=2, too_many=api.INSTANCES_TOO_MANY)
    assert (error.value.code, error.value.http_status) == ("InstanceIds.ExceedLimit", 403)


def test_required_and_length_limits() -> None:
    with pytest.raises(ApiError) as error:
        Params({}).text("Type", required=True)
    assert error.value.code == "MissingParameter.Type"
    with pytest.raises(ApiError) as error:
        Params({"Name": "x" * 129}).text("Name", max_len=128, too_long=api.COMMAND_NAME_TOO_LONG)
    assert (error.value.code, error.value.http_status) == ("CmdName.ExceedLimit", 403)


def test_choice_is_case_insensitive_and_refuses_unknown_values() -> None:
    found = Params({"Type": "runshellscript"}).choice(
        "Type", CommandType, not_found=api.COMMAND_TYPE_NOT_FOUND
    )
    assert found is CommandType.RUN_SHELL_SCRIPT
    with pytest.raises(ApiError) as error:
        Params({"Type": "Bogus"}).choice("Type", CommandType, not_found=api.COMMAND_TYPE_NOT_FOUND)
    assert (error.value.code, error.value.http_status) == ("InvalidCmdType.NotFound", 404)


def test_integers() -> None:
    assert Params({"Timeout": "30"}).integer("Timeout", default=60) == 30
    assert Params({}).integer("Timeout", default=60) == 60
    with pytest.raises(ApiError) as error:
        Params({"Timeout": "abc"}).integer("Timeout", default=60)
    assert error.value.code == "InvalidParameter.Timeout"


def test_tokens_round_trip_and_refuse_garbage() -> None:
    key = (1700000000000, "t-abc")
    assert decode_token(encode_token(key)) == key
    for garbage in ("!!!", "e30", encode_token(()) + "x", "bnVsbA"):
        with pytest.raises(ValueError):
            decode_token(garbage)


def test_page_query_schemes() -> None:
    assert page_query(Params({})).limit == 10
    page = page_query(Params({"PageNumber": "3", "PageSize": "20"}))
    assert (page.limit, page.offset) == (20, 40)
    token = encode_token((5, "t-x"))
    page = page_query(Params({"MaxResults": "7", "NextToken": token}))
    assert (page.limit, page.after) == (7, (5, "t-x"))
    for bad, code in (
        ({"PageSize": "51"}, "InvalidParam.PageSize"),
        ({"PageNumber": "0"}, "InvalidParam.PageNumber"),
        ({"MaxResults": "0"}, "InvalidParameter.MaxResults"),
        ({"NextToken": "garbage!"}, "InvalidParameter.NextToken"),
    ):
        with pytest.raises(ApiError) as error:
            page_query(Params(bad))
        assert error.value.code == code


def test_numbers_beyond_the_store_are_refused_not_crashed_on() -> None:
    with pytest.raises(ApiError) as error:
        page_query(Params({"PageNumber": "922337203685477582"}))
    assert error.value.code == "InvalidParam.PageNumber"
    with pytest.raises(ApiError) as error:
        Params({"Offset": str(2**70)}).integer("Offset", default=0)
    assert error.value.code == "InvalidParameter.Offset"


def test_address_rules() -> None:
    from openassist.server.service.access import address_in

    assert address_in("10.1.2.3", ["10.0.0.0/8"])
    assert address_in("::1", ["192.0.2.0/24", "::1"])
    assert not address_in("127.0.0.1", ["192.0.2.0/24", "not-a-network"])
    assert not address_in("not-an-address", ["0.0.0.0/0"])
