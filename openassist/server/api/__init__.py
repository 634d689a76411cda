"""The RPC API at ``/``: signature check, parameter reading with the documented codes, one
handler per action (``*_actions.py``) calling the services, and one renderer for answers and
errors in the ECS envelope (JSON or ``Format=XML``)."""
