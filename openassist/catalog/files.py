"""Codes of SendFile on the instance (API.md 5.12).

Bad names, paths, modes, owners and content are Invalid (the request cannot work on this
instance); a file that could not be written is Failed, the status API.md 2.9 reserves for "file
could not be created".
"""

from __future__ import annotations

from openassist.catalog.model import CatalogEntry, Phase, Source
from openassist.protocol.statuses import InstanceStatus as S


def _entry(
    code: str, status: S, message: str, solution: str, legacy: str, *, retryable: bool = False
) -> CatalogEntry:
    return CatalogEntry(
        code=code,
        phase=Phase.SEND_FILE,
        status=status,
        message=message,
        solution=solution,
        retryable=retryable,
        source=Source.AGENT,
        legacy_info=legacy,
    )


ENTRIES: tuple[CatalogEntry, ...] = (
    _entry(
        "FileAlreadyExists",
        S.FAILED,
        "A file with the same name exists in the same path.",
        "Send again with Overwrite=true to replace the file, or change TargetDir or Name.",
        "File already exists",
    ),
    _entry(
        "FileNameInvalid",
        S.INVALID,
        "The file name is invalid.",
        'Use a name valid on the target OS: no `/` (Linux) or `\\ / : * ? " < > |` (Windows), '
        "not `.` or `..`, at most 255 characters.",
        "File name is invalid",
    ),
    _entry(
        "FilePathInvalid",
        S.INVALID,
        "The file path is invalid.",
        "Give TargetDir as an absolute path valid on the target OS (`/opt/app` or `C:\\app`), at "
        "most 255 characters.",
        "File path is invalid",
    ),
    _entry(
        "FileAuthorityInvalid",
        S.INVALID,
        "The file permissions are invalid.",
        "Give FileMode as chmod octal permission digits, such as `0644` or `0755` (Linux only); "
        "set-uid, set-gid and sticky bits are never given to a sent file.",
        "the authority of file is invalid",
    ),
    _entry(
        "UserGroupNotExists",
        S.INVALID,
        "The specified user group does not exist in the instance.",
        "Create the group on the instance (`groupadd NAME`) or pass an existing FileGroup; "
        "the default group is root.",
        "Group not exists",
    ),
    _entry(
        "FileContentInvalid",
        S.INVALID,
        "The file content is invalid.",
        "Send non-empty content; with ContentType=Base64 encode it with `base64 -w0 FILE`, "
        "and keep it within 32 KB after encoding.",
        "the content of file is invalid",
    ),
    _entry(
        "FileCreateFail",
        S.FAILED,
        "The file could not be created.",
        "Check on the instance that TargetDir's file system is writable and not full (`df -h DIR`) "
        "and that the agent may write there; the cause is in ErrorInfo and the agent log "
        "(`journalctl -u openassist-agent`). Then send the file again.",
        "the file creation is failed due to unknown error",
        retryable=True,
    ),
)
