"""Picking the container a task names from the engine's list: a table of lists and wants."""

from __future__ import annotations

from typing import Any

import pytest

from openassist.agent.containers.target import Wanted, pick, wanted
from openassist.agent.tasks import Unrunnable
from openassist.protocol.reports import ReportKind

WEB = "a" * 64
OTHER = "ab" + "c" * 62
POD = "d" * 64


def _entry(cid: str, name: str, state: str = "running", k8s: str = "") -> dict[str, Any]:
    labels = {"io.kubernetes.container.name": k8s} if k8s else {}
    return {"Id": cid, "Names": [f"/{name}"], "State": state, "Labels": labels}


ENGINE = [
    _entry(WEB, "web", k8s="app"),
    _entry(OTHER, "other", state="exited"),
    _entry(POD, "k8s_app_pod-1", k8s="app"),
]


@pytest.mark.parametrize(
    ("container_id", "name", "expected"),
    [
        (WEB, "", "web"),
        ("docker://" + WEB.upper(), "", "web"),  # any case, with the runtime prefix
        ("aaaa", "", "web"),  # a prefix, as docker ps prints it
        ("", "/web", "web"),
        ("", "k8s_app_pod-1", "k8s_app_pod-1"),
        (POD, "app", "k8s_app_pod-1"),  # the id settles which of two "app" containers
    ],
)
def test_the_named_container_is_picked(container_id: str, name: str, expected: str) -> None:
    assert pick(ENGINE, wanted(container_id, name)).name == expected


@pytest.mark.parametrize(
    ("container_id", "name", "code"),
    [
        ("", "app", "ContainerNameDuplicated"),
        ("a", "", "InvalidContainerId"),  # a prefix shared by two containers
        ("", "nosuch", "ContainerNotFound"),
        ("e" * 64, "web", "ContainerNotFound"),
        (WEB, "other", "ContainerNameAndIdNotMatch"),
        ("", "other", "ContainerStateAbnormal"),
        ("lxc://" + WEB, "", "UnsupportedContainerRuntime"),
        ("docker://", "", "InvalidContainerId"),
        ("", ".hidden", "InvalidContainerName"),
    ],
)
def test_each_problem_has_its_code(container_id: str, name: str, code: str) -> None:
    with pytest.raises(Unrunnable) as refused:
        pick(ENGINE, wanted(container_id, name))
    assert refused.value.code == code
    assert refused.value.kind is ReportKind.INVALID


def test_runtime_prefix_is_kept_apart() -> None:
    assert wanted("cri-o://" + POD, "") == Wanted("cri-o", POD, "")
