"""The ECS Cloud Assistant actions (commands, tasks, files, settings, managed instances, tags):
one entry per action, in the table format :mod:`openassist.cli.action_reference.entries` reads."""

TABLE = """
RunCommand: create a command and run it at once on instances (or on the instances with tags)
  Type*: RunShellScript, RunBatScript or RunPowerShellScript
  CommandContent*: the script, plain text or Base64 as ContentEncoding says; at most 24 KB Base64
  ContentEncoding: PlainText (default) or Base64
  InstanceId.N: the instances to run on, 1-100 (mi-...); or ResourceTag.N
  ResourceTag.N.Key: run on the instances with this tag instead of InstanceId.N
  ResourceTag.N.Value: the value of that tag
  ResourceGroupId: every target must be in this resource group (InvalidResourceGroup.NotMatch)
  Name: name of the command, at most 128 characters
  Description: at most 512 characters
  WorkingDir: directory to run in; default the user's home
  Timeout: seconds before the run is killed (ExecutionTimeout); default 60
  EnableParameter: true to fill {{name}} and {{ACS::...}} placeholders
  Parameters: JSON object of placeholder values, at most 10: {"name":"value"}
  RepeatMode: Once (default), Period, NextRebootOnly, EveryReboot or DryRun (check, run nothing)
  Frequency: rate(5m), at(2030-06-06 13:15:30 Asia/Shanghai) or cron, seconds first: Period
  Username: user to run as; default root
  ContainerId: run inside this container: [docker://]<64 hex characters>
  ContainerName: run inside the container with this name
  Launcher: program that starts the script, at most 1 KB
  TerminationMode: Process or ProcessTree, what a stop or timeout kills
  MaxConcurrency: (OpenAssist) at most this many targets at once: N or N% of them, 1 or more
  MaxErrors: (OpenAssist) once more than N (or N%) targets failed, cancel those not started
  BatchWait: (OpenAssist) seconds (0-3600) a slot freed by a finished target stays empty
  DeliveryDeadline: (OpenAssist) an offline target waits until then: seconds or a UTC time
  KeepCommand: true to keep the command for InvokeCommand afterwards
  ClientToken: idempotency token, at most 64 ASCII characters
  +TAGS
CreateCommand: save a command to run later with InvokeCommand
  Name*: at most 128 characters
  Type*: RunShellScript, RunBatScript or RunPowerShellScript
  CommandContent*: the script, Base64 unless ContentEncoding=PlainText; at most 24 KB Base64
  ContentEncoding: Base64 (default) or PlainText
  Description: at most 512 characters
  WorkingDir: directory to run in; default the user's home
  Timeout: seconds per run; default 60
  EnableParameter: true if the script has {{name}} placeholders
  Launcher: program that starts the script, at most 1 KB
  ClientToken: idempotency token, at most 64 ASCII characters
  +TAGS
InvokeCommand: run a saved command on instances
  CommandId*: the command (c-...)
  InstanceId.N: the instances to run on, 1-100 (mi-...); or ResourceTag.N
  ResourceTag.N.Key: run on the instances with this tag instead of InstanceId.N
  ResourceTag.N.Value: the value of that tag
  ResourceGroupId: every target must be in this resource group (InvalidResourceGroup.NotMatch)
  Parameters: JSON object of placeholder values, required when the command has parameters
  RepeatMode: Once (default), Period, NextRebootOnly, EveryReboot or DryRun (check, run nothing)
  Frequency: rate(5m), at(2030-06-06 13:15:30 Asia/Shanghai) or cron, seconds first: Period
  Username: user to run as; default root
  ContainerId: run inside this container: [docker://]<64 hex characters>
  ContainerName: run inside the container with this name
  Timeout: seconds for this run; default the command's
  WorkingDir: directory for this run; default the command's
  TerminationMode: Process or ProcessTree, what a stop or timeout kills
  MaxConcurrency: (OpenAssist) at most this many targets at once: N or N% of them, 1 or more
  MaxErrors: (OpenAssist) once more than N (or N%) targets failed, cancel those not started
  BatchWait: (OpenAssist) seconds (0-3600) a slot freed by a finished target stays empty
  DeliveryDeadline: (OpenAssist) an offline target waits until then: seconds or a UTC time
  ClientToken: idempotency token, at most 64 ASCII characters
  +TAGS
DescribeCommands: list saved commands
  CommandId: only this command
  Name: by name; * matches any text
  Description: by description; * matches any text
  Type: RunShellScript, RunBatScript or RunPowerShellScript
  ContentEncoding: encoding of the returned CommandContent, Base64 (default) or PlainText
  +TAG_FILTER
  +PAGING
ModifyCommand: change a saved command (its content and Type stay)
  CommandId*: the command (c-...)
  Name: at most 128 characters
  Description: at most 512 characters
  WorkingDir: at most 200 characters
  Timeout: seconds per run
  Launcher: at most 1 KB
DeleteCommand: delete a saved command
  CommandId*: the command (c-...)
DescribeInvocations: list tasks with the state of each instance
  InvokeId: only this task (t-...)
  CommandId: only the tasks of this command
  CommandName: only the tasks of commands with this name
  CommandType: RunShellScript, RunBatScript or RunPowerShellScript
  InstanceId: only the tasks on this instance
  InvokeStatus: Running, Finished, Success, Failed, Stopped, Stopping, PartialFailed, Pending
  RepeatMode: Once, Period, NextRebootOnly or EveryReboot
  Timed: true for timed tasks still active, false for the others
  ResourceGroupId: only the tasks run or invoked with this ResourceGroupId
  IncludeOutput: true to include each instance's output (needs InvokeId or InstanceId)
  ContentEncoding: encoding of CommandContent and Output, Base64 (default) or PlainText
  +TAG_FILTER
  +PAGING
DescribeInvocationResults: the result of each instance of tasks: status, exit code, output
  InvokeId: only this task (t-...)
  InstanceId: only this instance
  CommandId: only the tasks of this command
  InvokeRecordStatus: Running, Finished, Failed, PartialFailed, Stopped or Stopping
  IncludeHistory: true for every run of a Period or EveryReboot task (needs InvokeId)
  ContentEncoding: encoding of Output, Base64 (default) or PlainText
  +PAGING
StopInvocation: stop a task on all or some of its instances
  InvokeId*: the task (t-...)
  InstanceId.N: only these instances, 1-50; default all
ModifyInvocationAttribute: change a timed task that is still going
  InvokeId*: the task (t-...), Period, NextRebootOnly or EveryReboot
  CommandContent: new script (a new command)
  ContentEncoding: PlainText (default) or Base64
  EnableParameter: true to fill {{name}} placeholders
  Parameters: JSON object of placeholder values, at most 10
  Frequency: the new schedule (Period tasks only)
  InstanceId.N: instances to add; at most 100 in all
  ClientToken: idempotency token, at most 64 ASCII characters
DescribeInvocationFullOutput: (OpenAssist) the whole output of one run, read from an offset
  InvokeId*: the task (t-...)
  InstanceId*: the instance
  Offset: first byte to return; default 0
  MaxBytes: at most this many bytes, up to 4 MB; default 1 MB
  ContentEncoding: encoding of Output, Base64 (default) or PlainText
WaitInvocationResults: (OpenAssist) wait until a result of a task changes after Cursor
  InvokeId*: the task (t-... or f-...)
  Cursor: the Cursor of the previous answer; default 0 (answers at once if anything changed)
  WaitSeconds: at most this long, 0-30; default 10
  IncludeResults: true: a command task's rows too (at most 50 instances), as PlainText
DiagnoseInvocation: (OpenAssist) why each instance of a task failed, and what to do
  InvokeId*: the task (t-...)
  InstanceId: only this instance
SendFile: write a file on instances
  InstanceId.N*: the instances, 1-50
  ResourceGroupId: every target must be in this resource group (InvalidResourceGroup.NotMatch)
  Name*: file name, at most 255 characters
  TargetDir*: absolute directory, created if missing
  Content*: the file, plain text or Base64 as ContentType says; at most 32 KB Base64
  ContentType: PlainText (default) or Base64
  FileMode: octal mode; default 0644
  FileOwner: owner; default root
  FileGroup: group; default root
  Overwrite: true to replace an existing file
  Timeout: seconds; default 60
  Description: at most 512 characters
  ClientToken: idempotency token, at most 64 ASCII characters
  MaxConcurrency: (OpenAssist) at most this many targets at once: N or N% of them, 1 or more
  MaxErrors: (OpenAssist) once more than N (or N%) targets failed, cancel those not started
  BatchWait: (OpenAssist) seconds (0-3600) a slot freed by a finished target stays empty
  DeliveryDeadline: (OpenAssist) an offline target waits until then: seconds or a UTC time
  +TAGS
DescribeSendFileResults: list file tasks with the state of each instance
  InvokeId: only this file task (f-...)
  InstanceId: only this instance
  Name: only files with this name
  InvocationStatus: Pending, Running, Success, Failed or PartialFailed
  +PAGING
DescribeCloudAssistantStatus: whether each instance's agent is online, its version and tasks
  InstanceId.N: these instances, up to 100 (paging is then ignored)
  OSType: Linux, Windows or FreeBSD
  +PAGING
DescribeCloudAssistantSettings: read server-wide agent settings
  SettingType.N*: AgentUpgradeConfig
ModifyCloudAssistantSettings: change server-wide agent settings
  SettingType*: AgentUpgradeConfig
  AgentUpgradeConfig*: JSON: {"Enabled", "TimeZone", "AllowedUpgradeWindow", "DisableUpgrade"}
CreateActivation: create an activation code that lets machines register as managed instances
  InstanceName: name prefix of the instances, 2-50 characters, starting with a letter
  Description: at most 100 characters
  InstanceCount: how many machines may register, 1-1000; default 10
  TimeToLiveInHours: hours the code stays valid; default 4
  IpAddressRange: addresses or CIDR blocks allowed to register; default any
  ResourceGroupId: the resource group of the machines it registers (rg-...)
  ClientToken: idempotency token, at most 64 ASCII characters
  +TAGS
DescribeActivations: list activations (the codes themselves are never shown again)
  ActivationId: only this activation
  InstanceName: only activations with this name prefix
  ResourceGroupId: only activations of this resource group
  +TAG_FILTER
  +PAGING
DisableActivation: stop an activation code from registering more machines
  ActivationId*: the activation
DeleteActivation: delete an activation that has no registered instances
  ActivationId*: the activation
DescribeManagedInstances: list managed instances
  InstanceId.N: these instances, 1-50
  InstanceName: by name
  ActivationId: registered with this activation
  ResourceGroupId: in this resource group
  OsType: linux, windows or FreeBSD
  Connected: true or false
  +TAG_FILTER
  +PAGING
ModifyManagedInstance: rename a managed instance
  InstanceId*: the instance (mi-...)
  InstanceName*: 2-128 characters, starting with a letter
JoinResourceGroup: move a managed instance to another resource group
  ResourceGroupId*: the group, at most 64 characters
  ResourceId*: the instance (mi-...)
  ResourceType*: instance
DeregisterManagedInstance: deregister a managed instance; its tasks end InstanceDeregistered
  InstanceId*: the instance (mi-...)
  ClientToken: idempotency token, at most 64 ASCII characters
ReleaseManagedInstance: (OpenAssist) delete a machine from the inventory for good
  InstanceId*: the instance (mi-...)
TagResources: tag managed instances (the tags ResourceTag.N targets)
  ResourceType*: managedinstance
  ResourceId.N*: the instances, 1-50
  Tag.N.Key*: a tag to set (N = 1-20)
  Tag.N.Value: its value
UntagResources: remove tags from managed instances
  ResourceType*: managedinstance
  ResourceId.N*: the instances, 1-50
  TagKey.N: the keys to remove
  All: true to remove every tag
ListTagResources: the tags of managed instances
  ResourceType*: managedinstance
  ResourceId.N: these instances; or Tag.N
  Tag.N.Key: the instances with this tag
  Tag.N.Value: its value
  NextToken: the NextToken of the previous answer
"""
