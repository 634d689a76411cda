"""The limits of commands, tasks and files, checked in one place (issue 15.4).

The services check every command, task and file they are given, so the API and the console
refuse the same input with the same code and message. The API's parameter readers refuse the
same limits earlier, while reading (same entries), where the wire order of checks is fixed.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from typing import Any

from openassist.catalog import api
from openassist.catalog.api import ApiErrorEntry
from openassist.errors import DomainError, InvalidParameter, LimitExceeded
from openassist.server.service.context import Limits

MAX_COMMAND_NAME = 128
MAX_DESCRIPTION = 512
MAX_WORKING_DIR = 200
MAX_LAUNCHER = 1024
MAX_USERNAME = 255
MAX_FILE_NAME = 255
MAX_TARGET_DIR = 255
MAX_FILE_OWNER = 64
MAX_FILE_BASE64 = 32 * 1024  # SendFile's Content, after Base64 encoding (API.md 2.9)
# Permission bits only: a set-uid, set-gid or sticky bit (a leading 1-7 of four digits) would let
# whoever runs the file act as its owner (issue 13.3).
FILE_MODE = re.compile(r"0?[0-7]{3}")


def length(
    value: str, parameter: str, limit: int, too_long: ApiErrorEntry = api.PARAMETER_TOO_LONG
) -> str:
    """``value`` if it is at most ``limit`` characters; else the ``too_long`` refusal."""
    if len(value) > limit:
        raise DomainError.of(too_long, parameter=parameter, limit=limit)
    return value


def timeout(value: int, limits: Limits) -> int:
    if value < 1:
        raise InvalidParameter(api.PARAMETER_TOO_SMALL, parameter="Timeout", minimum=1)
    if value > limits.max_timeout_s:
        raise LimitExceeded(api.TIMEOUT_TOO_LARGE, parameter="Timeout", limit=limits.max_timeout_s)
    return value


def content(raw: bytes, limits: Limits) -> bytes:
    """A command's script: not blank, within the Base64 size limit."""
    if not raw.strip():
        raise InvalidParameter(api.CONTENT_EMPTY)
    size = len(base64.b64encode(raw))
    if size > limits.max_content_base64:
        raise LimitExceeded(api.CONTENT_TOO_LARGE, size=size, limit=limits.max_content_base64)
    return raw


def command_fields(fields: Mapping[str, Any], limits: Limits) -> None:
    """The parts of a command a caller names (``CommandSpec`` field names), on creation and on
    ModifyCommand; a field left out is not checked."""
    length(fields.get("name") or "", "Name", MAX_COMMAND_NAME, api.COMMAND_NAME_TOO_LONG)
    description = fields.get("description") or ""
    length(description, "Description", MAX_DESCRIPTION, api.COMMAND_DESCRIPTION_TOO_LONG)
    length(fields.get("working_dir") or "", "WorkingDir", MAX_WORKING_DIR)
    length(fields.get("launcher") or "", "Launcher", MAX_LAUNCHER, api.LAUNCHER_TOO_LONG)
    if fields.get("timeout") is not None:
        timeout(fields["timeout"], limits)


def task_fields(
    working_dir: str | None, username: str, seconds: int | None, limits: Limits
) -> None:
    """What a task adds to its command: working directory, user and timeout."""
    length(working_dir or "", "WorkingDir", MAX_WORKING_DIR)
    length(username, "Username", MAX_USERNAME, api.USERNAME_TOO_LONG)
    if seconds is not None:
        timeout(seconds, limits)


def file_fields(
    name: str, target_dir: str, mode: str, data: bytes, owner: str, group: str, description: str
) -> None:
    """SendFile's arguments, in the order the API reads them."""
    if not name:
        raise InvalidParameter(api.MISSING_PARAMETER, parameter="Name")
    length(name, "Name", MAX_FILE_NAME, api.FILE_NAME_TOO_LONG)
    if not target_dir:
        raise InvalidParameter(api.MISSING_PARAMETER, parameter="TargetDir")
    length(target_dir, "TargetDir", MAX_TARGET_DIR)
    if not target_dir.startswith("/"):
        raise InvalidParameter(api.FILE_TARGET_DIR_INVALID)
    if not FILE_MODE.fullmatch(mode):
        raise InvalidParameter(api.FILE_MODE_INVALID)
    size = len(base64.b64encode(data))
    if size > MAX_FILE_BASE64:
        raise LimitExceeded(api.FILE_TOO_LARGE, size=size, limit=MAX_FILE_BASE64)
    length(owner, "FileOwner", MAX_FILE_OWNER)
    length(group, "FileGroup", MAX_FILE_OWNER)
    length(description, "Description", MAX_DESCRIPTION, api.FILE_DESCRIPTION_TOO_LONG)
