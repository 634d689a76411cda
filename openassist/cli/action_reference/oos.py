"""The OOS actions (plain and secret parameters), in the table format
:mod:`openassist.cli.action_reference.entries` reads."""

TABLE = """
CreateParameter: (OOS) store a plain parameter for {{oos:Name}}
  Name*: 1-200 of letters, digits, - and _
  Type*: String or StringList
  Value*: 1-4096 characters
  Description: at most 200 characters
  Constraints: JSON: AllowedValues, AllowedPattern, MinLength, MaxLength
  Tags: JSON object of tags
  ClientToken: idempotency token, at most 64 ASCII characters
CreateSecretParameter: (OOS) store a secret parameter, sealed, for {{oos-secret:Name}}
  Name*: 1-180 of letters, digits, - and _
  Value*: 1-4096 characters
  Type: Secret
  Description: at most 200 characters
  Constraints: JSON: AllowedValues, AllowedPattern, MinLength, MaxLength
  Tags: JSON object of tags
  ClientToken: idempotency token, at most 64 ASCII characters
GetParameter: (OOS) read a plain parameter
  Name*: the parameter
  ParameterVersion: 1-100; default the latest
GetSecretParameter: (OOS) read a secret parameter
  Name*: the parameter
  ParameterVersion: 1-100; default the latest
  WithDecryption: true to return the value itself
DeleteParameter: (OOS) delete a plain parameter
  Name*: the parameter
DeleteSecretParameter: (OOS) delete a secret parameter
  Name*: the parameter
"""
