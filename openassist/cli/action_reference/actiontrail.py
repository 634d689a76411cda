"""The ActionTrail actions (the audit trail), in the table format
:mod:`openassist.cli.action_reference.entries` reads."""

TABLE = """
LookupEvents: (ActionTrail) audit events, newest first: changes, refusals, secret reads
  StartTime: from this UTC time, YYYY-MM-DDThh:mm:ssZ; default 7 days before EndTime
  EndTime: until this UTC time; default now
  LookupAttribute.N.Key: EventName, User, ResourceName, EventId, EventAccessKeyId or ServiceName
  LookupAttribute.N.Value: the value it must have
  MaxResults: events per page, 1-50
  NextToken: the NextToken of the previous answer
"""
