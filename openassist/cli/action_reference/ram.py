"""The RAM actions (users, access keys, policies, login profiles), in the table format
:mod:`openassist.cli.action_reference.entries` reads."""

TABLE = """
CreateUser: (RAM) create a user; it can do nothing until a policy is attached
  UserName*: 1-64 of letters, digits, '.', '@', '-' and '_'
  DisplayName: at most 128 characters; default the name
  Email: contact address
  MobilePhone: contact number
  Comments: at most 128 characters
GetUser: (RAM) show a user
  UserName*: the user
ListUsers: (RAM) list users by name
  Marker: the Marker of the previous answer
  MaxItems: users per answer, 1-1000, default 100
UpdateUser: (RAM) rename a user or change its details
  UserName*: the user
  NewUserName: its new name
  NewDisplayName: new display name
  NewEmail: new contact address
  NewMobilePhone: new contact number
  NewComments: new comments
DeleteUser: (RAM) delete a user without keys or policies
  UserName*: the user
CreateAccessKey: (RAM) create an access key; its secret is shown once
  UserName: the user; default the caller
ListAccessKeys: (RAM) list a user's access keys (never their secrets)
  UserName: the user; default the caller
UpdateAccessKey: (RAM) enable or disable an access key
  UserAccessKeyId*: the key
  Status*: Active or Inactive
  UserName: the key's user; default the caller
DeleteAccessKey: (RAM) delete an access key
  UserAccessKeyId*: the key
  UserName: the key's user; default the caller
CreatePolicy: (RAM) create a custom policy
  PolicyName*: 1-128 of letters, digits and '-'
  PolicyDocument*: the policy, JSON, Version "1"
  Description: at most 1024 characters
GetPolicy: (RAM) show a policy and its default document
  PolicyName*: the policy
  PolicyType*: System or Custom
ListPolicies: (RAM) list system and custom policies
  PolicyType: System or Custom; default both
  Marker: the Marker of the previous answer
  MaxItems: policies per answer, 1-1000, default 100
DeletePolicy: (RAM) delete a custom policy attached to no one
  PolicyName*: the policy
CreatePolicyVersion: (RAM) add a version (at most 5) to a custom policy
  PolicyName*: the policy
  PolicyDocument*: the new document
  SetAsDefault: true to make it the version in force
  RotateStrategy: None or DeleteOldestNonDefaultVersionWhenLimitExceeded
AttachPolicyToUser: (RAM) grant a policy to a user
  UserName*: the user
  PolicyName*: the policy
  PolicyType*: System or Custom
DetachPolicyFromUser: (RAM) take a policy from a user
  UserName*: the user
  PolicyName*: the policy
  PolicyType*: System or Custom
ListPoliciesForUser: (RAM) list the policies of a user
  UserName*: the user
CreateLoginProfile: (RAM) give a user a console password (8-32 characters)
  UserName*: the user
  Password*: the password
GetLoginProfile: (RAM) whether a user has a console password
  UserName*: the user
UpdateLoginProfile: (RAM) change a user's console password (its sessions end)
  UserName*: the user
  Password: the new password
DeleteLoginProfile: (RAM) take a user's console password away (its sessions end)
  UserName*: the user
"""
