"""The rollout options of ``openassist run`` and ``send-file``: both list them in ``--help``,
pass them as the API's parameters, and follow a task given a delivery deadline until it."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

import pytest

from openassist.cli.main import _parser, main
from openassist.cli.rollout_progress import follow_s, rollout_params

OPTIONS = ("--max-concurrency", "--max-errors", "--batch-wait", "--delivery-deadline")


@pytest.mark.parametrize("command", ["run", "send-file"])
def test_help_lists_the_rollout_options(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    shown = capsys.readouterr().out
    assert all(option in shown for option in OPTIONS)
    assert "2030-01-02T03:04:05Z" in shown


def test_send_file_options_become_the_api_parameters() -> None:
    argv = ["send-file", "a.conf", "--to", "/etc/app", "-i", "web-1"]
    argv += ["--max-concurrency", "10%", "--max-errors", "2", "--delivery-deadline", "600"]
    args = _parser(argv).parse_args(argv)
    assert rollout_params(args) == {
        "MaxConcurrency": "10%",
        "MaxErrors": "2",
        "DeliveryDeadline": "600",
    }


def _args(**given: object) -> argparse.Namespace:
    values = {"timeout": 60, "max_concurrency": "", "batch_wait": "", "delivery_deadline": ""}
    return argparse.Namespace(**{**values, **given})


def test_a_delivery_deadline_lengthens_the_wait_to_cover_it() -> None:
    plain = follow_s(_args(), machines=3, per_call=100)
    assert follow_s(_args(delivery_deadline="3600"), 3, 100) == plain + 3600
    when = (datetime.now(UTC) + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    until = follow_s(_args(delivery_deadline=when), 3, 100) - plain
    assert 7100 < until <= 7200
    past = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert follow_s(_args(delivery_deadline=past), 3, 100) == plain
