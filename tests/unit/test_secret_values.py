"""The agent's reading of ``{{oos-secret:NAME}}``: the server's syntax, nothing without
EnableParameter, a name without a value left as written, values never read as placeholders."""

from __future__ import annotations

import base64

from openassist.agent import secret_values
from openassist.protocol import agent as wire


def _task(script: str, enabled: bool = True) -> wire.TaskInfo:
    content = base64.b64encode(script.encode()).decode()
    return wire.TaskInfo(taskID="t-1", commandContent=content, enableParameter=enabled)


def test_names_follow_the_servers_syntax_each_once() -> None:
    script = 'a="{{oos-secret:db}}" b="{{ oos-secret : db }}" c="{{oos-secret:k.v-2}}" {{oos:x}}'
    assert secret_values.names(_task(script)) == ["db", "k.v-2"]
    assert secret_values.names(_task(script, enabled=False)) == []


def test_fill_replaces_known_names_only_and_once() -> None:
    text = "{{oos-secret:a}} {{ oos-secret:b }} {{oos-secret:c}}"
    values = {"a": "{{oos-secret:c}}", "b": "B"}
    assert secret_values.fill(text, values) == "{{oos-secret:c}} B {{oos-secret:c}}"
