"""The log formats: one line per event, a traceback included, the bound context on each line."""

from __future__ import annotations

import asyncio
import io
import json
import logging

from openassist import logs


def _capture(form: str) -> tuple[logging.Logger, io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logs.JsonFormatter() if form == "json" else logs.TextFormatter())
    logger = logging.getLogger(f"test.logs.{form}")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, out


def test_a_traceback_stays_on_its_events_line_in_both_formats() -> None:
    for form in logs.FORMATS:
        logger, out = _capture(form)
        try:
            raise ValueError("first\nsecond")
        except ValueError:
            logger.exception("request failed\nbadly")
        lines = out.getvalue().splitlines()
        assert len(lines) == 1, lines
        if form == "json":
            event = json.loads(lines[0])
            assert event["message"] == "request failed\nbadly"
            assert "ValueError: first\nsecond" in event["exception"]
        else:
            assert "request failed\\nbadly | Traceback" in lines[0]


def test_each_task_logs_its_own_context() -> None:
    logger, out = _capture("json")

    async def serve(request_id: str, user: str) -> None:
        logs.bind(request_id=request_id, user=user)
        await asyncio.sleep(0)  # the other request runs meanwhile
        logger.info("answered")

    async def both() -> None:
        await asyncio.gather(serve("R1", "alice"), serve("R2", "bob"))

    asyncio.run(both())
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert {(e["request_id"], e["user"]) for e in events} == {("R1", "alice"), ("R2", "bob")}
    assert "instance_id" not in events[0]  # only what applies
