"""Messages of the official Cloud Assistant agent protocol (``/luban/api/...``).

Field names are the official agent's wire spellings (camelCase); unknown fields are ignored on
decode so both the official agent and ours interoperate. Our agent's additions are optional.
What the server sends carries every field, defaults included: the official agent reads an
absent number as 0 (``logQuota`` 0 would shrink its output quota to its 12,000-byte floor).
"""

from __future__ import annotations

import msgspec

API_PREFIX = "/luban/api"
REGISTER = f"{API_PREFIX}/instance/register"
DEREGISTER = f"{API_PREFIX}/instance/deregister"
HEARTBEAT = f"{API_PREFIX}/heart-beat"
TASK_LIST = f"{API_PREFIX}/v1/task/list"
TASK_REPORT = f"{API_PREFIX}/v1/task/"  # + a report kind (protocol.reports.ReportKind)
UPDATE_CHECK = f"{API_PREFIX}/v1/update/update_check"
# OpenAssist: where our agent downloads the package an update check offered (+ file name).
UPDATE_PACKAGE = f"{API_PREFIX}/v1/update/package/"
STATE_CONFIGURATIONS = f"{API_PREFIX}/instance/list_instance_state_configurations"
CONNECTION_DETECT = f"{API_PREFIX}/connection_detect"
KICK_CHANNEL = "/luban/notify_server"
KICK_MESSAGE = "kick_vm"  # fetch the task list; the agent answers "accept:kick_vm"
KICK_DEREGISTER = "kick_vm agent deregister"  # the agent removes its registration

# Headers of a signed agent request.
H_INSTANCE = "x-acs-instance-id"
H_TIMESTAMP = "x-acs-timestamp"
H_REQUEST = "x-acs-request-id"
H_SIGNATURE = "x-acs-signature"
# Our agent's optional extensions.
H_BOOT_ID = "x-openassist-boot-id"
GOODBYE_PARAM = "goodbye"  # last heartbeat: "stopped" (service) or "shutdown" (machine)
# Unix ms since when the agent could not reach the server; sent on every call until one succeeds.
OUTAGE_PARAM = "outage_since"
UPGRADING_PARAM = "upgrading"  # heartbeat while the agent replaces itself: the new version
CAPABILITIES_PARAM = "caps"  # heartbeat: what this agent can do, comma-separated
RUNNING_PARAM = "running"  # heartbeat: how many tasks it runs now
# heartbeat: why the agent gave up an upgraded version that failed to start, and went back
UPGRADE_FAILED_PARAM = "upgrade_failed"
# Task list: our agent asks for the values of ``{{oos-secret:...}}`` at each run (SECRET_VALUES),
# so the task it is handed (and may keep on disk, as a schedule) holds the placeholders only.
SECRETS_PARAM = "secrets"
SECRETS_PER_RUN = "per-run"
# OpenAssist: the secret parameter values of one task (``?taskId=``), for the run about to start.
SECRET_VALUES = f"{API_PREFIX}/v1/openassist/secret_values"
# OpenAssist: one task's command as a per-run agent is handed it (``?taskId=``), placeholders kept.
TASK_CONTENT = f"{API_PREFIX}/v1/openassist/task_content"
# heartbeat: the agent's own duties failing again and again ("fetch: OSError: ...; ...")
FAULTS_PARAM = "faults"
# The official agent's first task fetch of a process: ``reason=startup&cold_start=true|false``
# (true: the first start since the machine booted). Ours adds ``caps`` (with "journal": it
# reported its interrupted runs before this fetch and keeps its schedules).
STARTUP_REASON = "startup"
COLD_START_PARAM = "cold_start"
JOURNAL_CAPABILITY = "journal"

OUTPUT_QUOTA = 24576
OUTPUT_INTERVAL_MS = 3000


class Tag(msgspec.Struct, omit_defaults=True):
    key: str = ""
    value: str = ""


class RegisterRequest(msgspec.Struct, omit_defaults=True):
    activationCode: str
    activationId: str
    publicKey: str
    machineId: str = ""
    regionId: str = ""
    instanceName: str = ""
    hostname: str = ""
    intranetIp: str = ""
    osVersion: str = ""
    osType: str = ""
    agentVersion: str = ""
    tag: list[Tag] = msgspec.field(default_factory=list)


class RegisterResponse(msgspec.Struct, omit_defaults=True):
    code: int
    instanceId: str = ""
    errCode: str = ""
    errMsg: str = ""


class TaskInfo(msgspec.Struct):
    taskID: str
    type: str = "RunShellScript"
    commandId: str = ""
    commandName: str = ""
    commandContent: str = ""  # Base64
    workingDirectory: str = ""
    timeOut: str = "60"  # seconds, as a string on the wire
    cron: str = ""
    username: str = ""
    windowsPasswordName: str = ""
    enableParameter: bool = False
    containerId: str = ""
    containerName: str = ""
    builtInParameter: dict[str, str] = msgspec.field(default_factory=dict)
    creationTime: int = 0
    invokeVersion: int = 0
    # OpenAssist extensions (the official agent ignores unknown fields).
    terminationMode: str = ""
    launcher: str = ""
    # The command keeps its {{oos-secret:...}} placeholders: the agent asks for the values at
    # each run (SECRET_VALUES). A schedule an earlier release kept without it may hold values.
    secretsPerRun: bool = False


class OutputInfo(msgspec.Struct):
    interval: int = OUTPUT_INTERVAL_MS
    logQuota: int = OUTPUT_QUOTA
    skipEmpty: bool = True
    sendStart: bool = True
    # OpenAssist: the server keeps full output up to this many bytes, so our agent sends all of
    # it (0: only the last logQuota bytes matter, as with the official agent).
    fullOutputCap: int = 0


class RunItem(msgspec.Struct):
    task: TaskInfo
    output: OutputInfo = msgspec.field(default_factory=OutputInfo)
    # Once | Period | NextRebootOnly | EveryReboot | Rate | At; beside ``task``, not inside it.
    repeat: str = "Once"


class StopItem(msgspec.Struct):
    task: TaskInfo
    repeat: str = "Once"  # with ``task.cron``: the agent stops a schedule, not a one-shot run


class FileTaskInfo(msgspec.Struct):
    """One send-file task. ``signature`` is the hex MD5 of the Base64 ``content`` text."""

    taskID: str
    name: str
    destination: str
    content: str  # Base64
    contentType: str = "Base64"
    mode: str = "0644"
    owner: str = "root"
    group: str = "root"
    overwrite: bool = False
    signature: str = ""
    timeout: int = 60


class FileItem(msgspec.Struct):
    task: FileTaskInfo
    output: OutputInfo = msgspec.field(default_factory=OutputInfo)


class TaskListResponse(msgspec.Struct):
    code: int = 200
    instanceId: str = ""
    run: list[RunItem] = msgspec.field(default_factory=list)
    stop: list[StopItem] = msgspec.field(default_factory=list)
    file: list[FileItem] = msgspec.field(default_factory=list)


class HeartbeatResponse(msgspec.Struct):
    code: int = 200
    instanceId: str = ""
    # Milliseconds until the next heartbeat; the official agent accepts 55,000-65,000.
    nextInterval: int = 60000


encode = msgspec.json.encode


def decode_register(data: bytes) -> RegisterRequest:
    return msgspec.json.decode(data, type=RegisterRequest)


def decode_task_list(data: bytes) -> TaskListResponse:
    return msgspec.json.decode(data, type=TaskListResponse)


class SecretValuesResponse(msgspec.Struct, omit_defaults=True):
    """The values of the task's ``{{oos-secret:NAME}}`` references, by NAME; or, with a code
    other than 200, why there are none (errCode QueryParameterStoreFailed)."""

    code: int = 200
    values: dict[str, str] = msgspec.field(default_factory=dict)
    errCode: str = ""
    errMsg: str = ""

    def __repr__(self) -> str:  # never the values, wherever it is shown
        return f"SecretValuesResponse(code={self.code}, names={sorted(self.values)})"


class TaskContentResponse(msgspec.Struct, omit_defaults=True):
    """A task's command (Base64), ``{{oos-secret:...}}`` placeholders kept; or why not."""

    code: int = 200
    content: str = ""
    errCode: str = ""
    errMsg: str = ""


class UpdateCheckRequest(msgspec.Struct):
    app_version: str
    os: str = "linux"
    arch: str = ""
    os_version: str = ""
    app_id: str = "aliyun assistant"
    kernel_version: str = ""


class UpdateInfo(msgspec.Struct):
    file_name: str = ""
    md5: str = ""
    url: str = ""
    sha256: str = ""  # OpenAssist: what our agent checks the package against
    signature: str = ""  # OpenAssist: the server key's signature (protocol.package_signature)


class UpdateCheckResponse(msgspec.Struct):
    need_update: int = 0
    flag: int = 0
    instanceId: str = ""
    next_interval: int = 1800  # seconds until the next check
    update_info: UpdateInfo = msgspec.field(default_factory=UpdateInfo)
    code: int = 200
