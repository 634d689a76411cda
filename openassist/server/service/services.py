"""Every use case the front ends (RPC API and console) call, wired once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from openassist.server.service.access_keys import AccessKeyService
from openassist.server.service.activations import ActivationService
from openassist.server.service.agent_upgrades import AgentUpgradeService
from openassist.server.service.audit import AuditTrail
from openassist.server.service.clock import Clock
from openassist.server.service.commands import CommandService
from openassist.server.service.console_sessions import ConsoleSessionService
from openassist.server.service.context import Limits
from openassist.server.service.diagnosis import DiagnosisService
from openassist.server.service.files import FileService
from openassist.server.service.fleet import FleetService
from openassist.server.service.idempotency import IdempotencyService
from openassist.server.service.identities import IdentityService
from openassist.server.service.invocations import InvocationService
from openassist.server.service.overview import OverviewService
from openassist.server.service.parameter_store import ParameterStoreService
from openassist.server.service.principals import Principals
from openassist.server.service.ram_policies import PolicyService
from openassist.server.service.rate_limits import SharedRateBuckets
from openassist.server.service.result_waits import ResultWaitService
from openassist.server.service.sign_in_failures import SharedSignInFailures
from openassist.server.service.split_runs import SplitRunService
from openassist.server.service.targeting import TargetingService
from openassist.server.service.task_tables import TaskTableService


@dataclass(frozen=True)
class Services:
    access_keys: AccessKeyService
    invocations: InvocationService
    commands: CommandService
    fleet: FleetService
    files: FileService
    activations: ActivationService
    diagnosis: DiagnosisService
    task_tables: TaskTableService
    split_runs: SplitRunService
    targeting: TargetingService
    overview: OverviewService
    parameter_store: ParameterStoreService
    agent_upgrades: AgentUpgradeService
    idempotency: IdempotencyService
    console_sessions: ConsoleSessionService
    result_waits: ResultWaitService
    limits: Limits
    clock: Clock
    identities: IdentityService
    policies: PolicyService
    principals: Principals
    audit: AuditTrail
    # The API's per-key buckets in the store (several nodes); None: in each process.
    rate_buckets: SharedRateBuckets | None = None
    # Failed console sign-ins in the store (several nodes); None: in each process.
    sign_in_failures: SharedSignInFailures | None = None
