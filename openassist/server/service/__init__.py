"""The use cases: one module per concept (commands, invocations, files, fleet, activations,
parameter store, identities ...). Services check what they are given (``checks.py``), raise the
domain errors of ``openassist.errors`` from the API error catalog, and reach the database only
through ``openassist.server.store``; the API, the console and the gateway all call them."""
