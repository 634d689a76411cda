"""Logging for the server, the agent and the CLI: one line per event, as text or as JSON.

Each line carries the request id, the user (access key or console user) and the instance id of
the request or agent it is about, when there is one: handlers bind them with ``bind`` at the
start of their work, in a context variable, so every line logged while serving that request
(one asyncio task) carries them and no other request's. A traceback stays on its event's line
(newlines escaped in text; a field in JSON).
"""

from __future__ import annotations

import logging
import sys
import time
from contextvars import ContextVar
from typing import Any

import msgspec

FORMATS = ("text", "json")
_FIELDS: dict[str, ContextVar[str]] = {
    "request_id": ContextVar("request_id", default=""),
    "user": ContextVar("user", default=""),
    "instance_id": ContextVar("instance_id", default=""),
}


def bind(**fields: str) -> None:
    """Name the request id, user or instance id that the current task's lines are about."""
    for name, value in fields.items():
        _FIELDS[name].set(value)


def _context() -> dict[str, str]:
    return {name: value for name, var in _FIELDS.items() if (value := var.get())}


def _timestamp(record: logging.LogRecord) -> str:
    seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
    return f"{seconds}.{int(record.msecs):03d}Z"


class TextFormatter(logging.Formatter):
    """``TIME LEVEL logger: message key=value ...`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{_timestamp(record)} {record.levelname} {record.name}: {record.getMessage()}"
        context = _context()
        if context:
            line += " " + " ".join(f"{key}={value}" for key, value in context.items())
        if record.exc_info:
            line += " | " + self.formatException(record.exc_info)
        return line.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the context, the exception."""

    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, Any] = {
            "time": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_context(),
        }
        if record.exc_info:
            event["exception"] = self.formatException(record.exc_info)
        return msgspec.json.encode(event).decode()


def configure(level: str, form: str = "text") -> None:
    """Send every logger's lines to stderr in ``form`` ("text" or "json"), replacing what was
    configured before (the server reconfigures once its settings are read)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if form == "json" else TextFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
