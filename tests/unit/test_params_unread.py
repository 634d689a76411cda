"""The server notes the parameters no reader of the action looked at (logged at debug)."""

from __future__ import annotations

from openassist.server.api.params import Params
from openassist.server.api.task_params import tags


def test_names_no_reader_asked_for_are_unread() -> None:
    params = Params(
        {
            "Action": "SendFile",
            "Signature": "x",
            "FileOwner": "root",
            "Owner": "nobody",
            "InstanceId.1": "mi-1",
            "Tag.1.Key": "k",
            "Overwrite": "true",
        }
    )
    assert params.text("FileOwner") == "root"
    assert params.repeated("InstanceId") == ["mi-1"]
    assert tags(params) == (("k", ""),)
    assert "Overwrite" in params.raw()
    assert params.unread() == ["Owner"]
