"""Codes about the instance and its agent: delivery, execution and stop."""

from __future__ import annotations

from openassist.catalog.model import CatalogEntry, Phase, Source
from openassist.protocol.statuses import InstanceStatus as S

# Shared fragments, so every entry names the same commands.
STATUS_CHECK = "`openassist ecs DescribeCloudAssistantStatus --InstanceId.1 INSTANCE_ID`"
RESTART = "`systemctl restart openassist-agent`"
AGENT_LOG = (
    "the agent log (`journalctl -u openassist-agent`, or its stderr when run in the foreground)"
)
REACH = (
    "`curl --cacert ca.pem https://SERVER:8643/luban/api/connection_detect` must print `ok` "
    "(ca.pem is the CA file the agent trusts, 8643 the server's agent port)"
)

# Codes that leave the task without ever running it are Aborted (API.md 2.4: "could not be
# delivered"); codes that cut a started run short are Error, since no exit code exists to judge.
ENTRIES: tuple[CatalogEntry, ...] = (
    CatalogEntry(
        code="InstanceNotRunning",
        phase=Phase.DELIVERY,
        status=S.ABORTED,
        message="The instance was not in the running state when the task was created.",
        solution=(
            "Boot the machine (or mark it running again if an operator marked it stopped), wait "
            f"until {STATUS_CHECK} shows CloudAssistantStatus true, then run the command again."
        ),
        retryable=False,
        source=Source.SERVER,
        legacy_info="the instance is not running when create task",
    ),
    CatalogEntry(
        code="InstanceNotExists",
        phase=Phase.DELIVERY,
        status=S.ABORTED,
        message="The specified instance does not exist.",
        solution=(
            "Check the instance id with `openassist ecs DescribeManagedInstances`; a machine that "
            "was deleted or never registered must be registered with an activation code first."
        ),
        retryable=False,
        source=Source.SERVER,
        legacy_info="the specified instance does not exists",
    ),
    CatalogEntry(
        code="InstanceDeregistered",
        phase=Phase.DELIVERY,
        status=S.ABORTED,
        message="The managed instance has been unregistered.",
        solution=(
            "The machine was deregistered and takes no tasks. Register it again with an "
            "activation code (`openassist ecs CreateActivation`, then register the agent with the "
            "code and id) and target its new instance id."
        ),
        retryable=False,
        source=Source.SERVER,
    ),
    CatalogEntry(
        code="ClientNotRunning",
        phase=Phase.DELIVERY,
        status=S.ABORTED,
        message="The Cloud Assistant Agent is not running.",
        solution=(
            "Start the agent service on the instance: `systemctl start openassist-agent` (or "
            "`openassist agent run` in the foreground; for the official agent, `systemctl start "
            "aliyun.service` with ALIYUN_ASSIST_SERVER_HOST set to this server). If it has never "
            "connected, register it with an activation code first; then run the command again."
        ),
        retryable=False,
        source=Source.SERVER,
        legacy_info="the aliyun service is not running on the instance",
    ),
    CatalogEntry(
        code="ClientNotOnline",
        phase=Phase.DELIVERY,
        status=S.ABORTED,
        message="The Cloud Assistant Agent is not connected to the server.",
        solution=(
            "The agent's connection was lost and has not come back. Check that the agent runs "
            f"(`systemctl status openassist-agent`) and can reach the server: {REACH}. "
            f"Restart it with {RESTART}, then run the command again."
        ),
        retryable=True,
        source=Source.SERVER,
    ),
    CatalogEntry(
        code="ClientNetworkBlocked",
        phase=Phase.DELIVERY,
        status=S.ABORTED,
        message="The network environment of the instance is abnormal.",
        solution=(
            f"Check from the instance that the server's agent port is reachable over TLS: {REACH}. "
            "If not, check DNS, routes, proxies and firewalls between instance and server; the "
            f"outage window is in {AGENT_LOG}."
        ),
        retryable=True,
        source=Source.SERVER,
    ),
    CatalogEntry(
        code="SecurityGroupRuleDenied",
        phase=Phase.DELIVERY,
        status=S.ABORTED,
        message="A security group rule denies access to the Cloud Assistant service.",
        solution=(
            "The agent connects from an address that the server's agent access rules deny. See the "
            "access rules configured on the server and allow the instance's source address "
            "(including any NAT or proxy address it connects through), then run the command again."
        ),
        retryable=False,
        source=Source.SERVER,
        legacy_info="the security group rules denied access to the aliyun service",
    ),
    CatalogEntry(
        code="ClientNeedUpgrade",
        phase=Phase.DELIVERY,
        # Invalid, not Aborted: the request asks for something this agent cannot do at all.
        status=S.INVALID,
        message="The Cloud Assistant Agent needs to be upgraded to support the specified feature.",
        solution=(
            "Upgrade the agent on the instance to a version that has the feature named in "
            f"ErrorInfo (install the newer openassist package, then {RESTART}), or run the "
            "command without that feature."
        ),
        retryable=False,
        source=Source.SERVER,
        legacy_info="the aliyun service in the instance need upgrade",
    ),
    CatalogEntry(
        code="ClientIsUpgrading",
        phase=Phase.DELIVERY,
        status=S.ABORTED,
        message="The Cloud Assistant Agent is being upgraded.",
        solution=(
            f"The agent is replacing itself with a new version. Wait until {STATUS_CHECK} shows it "
            "online with its new version, then run the command again."
        ),
        retryable=True,
        source=Source.SERVER,
        legacy_info="the aliyun service in the instance is upgrading now",
    ),
    CatalogEntry(
        code="DeliveryTimeout",
        phase=Phase.DELIVERY,
        status=S.ABORTED,
        message="The Cloud Assistant server failed to send the task to the Cloud Assistant Agent.",
        solution=(
            "The agent is connected but did not fetch the task in time; run the command again. "
            f"If it keeps happening, look for task-list errors in {AGENT_LOG} and restart it "
            f"with {RESTART}."
        ),
        retryable=True,
        source=Source.SERVER,
        legacy_info="the command delivery has been timeout",
    ),
    CatalogEntry(
        code="TaskConcurrencyLimit",
        phase=Phase.DELIVERY,
        status=S.ABORTED,
        message="Too many tasks are running on the instance at the same time.",
        solution=(
            "Wait for running tasks on the instance to finish (`openassist ecs DescribeInvocations "
            "--InstanceId INSTANCE_ID --InvocationStatus Running`), stop stale ones with "
            "StopInvocation, then run the command again."
        ),
        retryable=True,
        source=Source.AGENT,
    ),
    CatalogEntry(
        code="ExecutionTimeout",
        phase=Phase.EXECUTION,
        status=S.TIMEOUT,
        message="The command execution timed out.",
        solution=(
            "The script ran past its Timeout and its process group was killed. Raise Timeout "
            "(seconds) if the work really takes that long, or find where it hangs from the "
            "partial output (often a program waiting for input: pass `-y` or redirect stdin "
            "from /dev/null)."
        ),
        retryable=False,
        source=Source.AGENT,
        legacy_info="the command execution has been timeout",
    ),
    CatalogEntry(
        code="ExecutionException",
        phase=Phase.EXECUTION,
        status=S.ERROR,
        message="An exception occurred during command execution.",
        solution=(
            "The agent could not start the process or failed while running it; the cause is in "
            "ErrorInfo (often a missing launcher or interpreter, a full disk, or a script the "
            "run-as user cannot read). "
            f"Check {AGENT_LOG} around the task id, fix it, and run again."
        ),
        retryable=True,
        source=Source.AGENT,
        legacy_info="the command execution got an exception",
    ),
    CatalogEntry(
        code="ExecutionInterrupted",
        phase=Phase.EXECUTION,
        status=S.ERROR,
        message="The command execution was interrupted.",
        solution=(
            "The run was cut short before it could report an exit code. Check whether the script's "
            f"work completed, look in {AGENT_LOG} for the cause, then run the command again."
        ),
        retryable=True,
        source=Source.AGENT,
        legacy_info="the command execution has been interrupted",
    ),
    CatalogEntry(
        code="ExitCodeNonzero",
        phase=Phase.EXECUTION,
        status=S.FAILED,
        message=(
            "The command finished executing, but the exit code of the command process is not 0."
        ),
        solution=(
            "The script ran and exited with the ExitCode shown. Find the failing step in the "
            "output, and reproduce it by running the script on the instance as the same user in "
            "the same working directory."
        ),
        retryable=False,
        source=Source.AGENT,
        legacy_info="the command execution exit code is not zero",
    ),
    CatalogEntry(
        code="ClientNotResponse",
        phase=Phase.EXECUTION,
        # The task was delivered and may have run; without a report its outcome is unknown.
        status=S.ERROR,
        message="The Cloud Assistant Agent did not respond.",
        solution=(
            f"The agent took the task, then went silent. Search {AGENT_LOG} for the task id: if it "
            "is there, look for what blocked the report; if not, restart the agent with "
            f"{RESTART} and run the command again."
        ),
        retryable=True,
        source=Source.SERVER,
        legacy_info="the aliyun service in the instance does not response",
    ),
    CatalogEntry(
        code="ClientRestarted",
        phase=Phase.EXECUTION,
        status=S.ERROR,
        message="The task was interrupted because the Cloud Assistant Agent was restarted.",
        solution=(
            f"Find why the agent restarted (crash, upgrade, or a manual restart) in {AGENT_LOG}, "
            f"check whether the script's work completed, and run it again once {STATUS_CHECK} "
            "shows the agent online."
        ),
        retryable=True,
        source=Source.AGENT,
    ),
    CatalogEntry(
        code="InstanceRestarted",
        phase=Phase.EXECUTION,
        status=S.ERROR,
        message="The instance was restarted during task execution.",
        solution=(
            "The OS rebooted while the script ran. If the script itself reboots, make the reboot "
            "its last step (or put the follow-up work in a RepeatMode=NextRebootOnly task); "
            f"otherwise run the command again once {STATUS_CHECK} shows the agent online."
        ),
        retryable=True,
        source=Source.AGENT,
    ),
    CatalogEntry(
        code="InstanceReleased",
        phase=Phase.EXECUTION,
        # Aborted: the instance left the inventory, so no result can ever be delivered.
        status=S.ABORTED,
        message="The instance was released during command execution.",
        solution=(
            "The instance was deleted from the inventory, so no result will arrive. Remove it from "
            "the targets, or register the machine again with an activation code if it was deleted "
            "by mistake."
        ),
        retryable=False,
        source=Source.SERVER,
        legacy_info="the instance has released when create task",
    ),
    CatalogEntry(
        code="TerminationException",
        phase=Phase.STOP,
        # Error, not Failed: Failed claims the script exited non-zero, and Terminated that the
        # stop worked; here the processes may still run and no exit code is known.
        status=S.ERROR,
        message="Failed to stop the task.",
        solution=(
            "Read ErrorInfo for the cause and retry StopInvocation. If it fails again, find the "
            "script's processes on the instance (`ps -eo pid,pgid,cmd`) and end the process group "
            "with `kill -TERM -PGID`, then `kill -KILL -PGID`."
        ),
        retryable=True,
        source=Source.AGENT,
    ),
    CatalogEntry(
        code="ErrorBudgetSpent",
        # The rollout was stopped (not a machine out of reach): the CLI's exit code is then the
        # failures' own, 2.
        phase=Phase.STOP,
        status=S.CANCELLED,
        message="The task was not started here: more targets failed than its MaxErrors allows.",
        solution=(
            "Read the failed targets' results (`openassist ecs DescribeInvocationResults "
            "--InvokeId INVOKE_ID`), fix the cause, then run the command again on the targets "
            "that were cancelled (or with a larger MaxErrors)."
        ),
        retryable=False,
        source=Source.SERVER,
    ),
)
