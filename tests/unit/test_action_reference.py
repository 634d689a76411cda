"""The ``openassist ecs`` reference: one entry per registered action, and only those; each
parameter named as on the wire and read by the server."""

from __future__ import annotations

import re
from pathlib import Path

from openassist.cli.action_reference import REFERENCE, action_help, action_list
from openassist.server.api import endpoint  # noqa: F401  (importing registers the actions)
from openassist.server.api.registry import ACTIONS

SERVER = Path(__file__).parents[2] / "openassist" / "server"
WIRE_NAME = re.compile(r"[A-Z][A-Za-z0-9]*(\.N(\.(Key|Value))?)?")


def test_every_registered_action_has_an_entry_and_every_entry_is_registered() -> None:
    assert set(REFERENCE) == set(ACTIONS)


def test_every_entry_has_a_summary_and_well_formed_unique_parameters() -> None:
    for name, reference in REFERENCE.items():
        assert reference.name == name and reference.summary.strip(), name
        names = [p.name for p in reference.parameters]
        assert len(names) == len(set(names)), name
        for parameter in reference.parameters:
            assert WIRE_NAME.fullmatch(parameter.name), (name, parameter.name)
            assert parameter.meaning.strip(), (name, parameter.name)


def test_every_documented_parameter_is_read_by_the_server() -> None:
    """A parameter in the help that no server module spells would be a promise not kept."""
    literals = set()
    for path in SERVER.rglob("*.py"):
        literals |= set(re.findall(r'"([A-Za-z][A-Za-z0-9]*)"', path.read_text()))
    for name, reference in REFERENCE.items():
        for parameter in reference.parameters:
            base = parameter.name.split(".")[0]
            assert base in literals, f"{name}: {parameter.name} is read nowhere in the server"


def test_required_parameters_are_marked() -> None:
    required = {p.name for p in REFERENCE["RunCommand"].parameters if p.required}
    assert required == {"Type", "CommandContent"}
    assert {p.name for p in REFERENCE["SendFile"].parameters if p.required} == {
        "InstanceId.N",
        "Name",
        "TargetDir",
        "Content",
    }


def test_help_texts_name_the_action_and_its_parameters() -> None:
    listing = action_list()
    assert all(name in listing for name in ACTIONS)
    text = action_help("StopInvocation")
    assert "--InvokeId" in text and "--InstanceId.N" in text and "--RegionId" in text
