"""The machines a run or send form chooses, counted before anything runs: the count region of
the form (rendered with the page, after a "Count" button, or fetched by the script as the
choice changes, from ``/console/targets``)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from openassist.errors import ApiError
from openassist.server.console import forms
from openassist.server.console.web import Console, Form, Visit

FIRST_NAMES = 8
ACTIONS = {"run": "RunCommand", "send": "SendFile"}


def form_of_query(visit: Visit) -> Form:
    """The query string as a form (the count region asks with GET)."""
    fields: dict[str, list[str]] = {}
    for key, value in visit.request.query_params.multi_items():
        fields.setdefault(key, []).append(value)
    return Form(fields)


async def count_of(console: Console, visit: Visit, form: Form, action: str) -> dict[str, Any]:
    """What the count region shows: how many machines match (among those the user may act on
    with ``action``) and the first few, or why the choice is not complete."""
    try:
        choice = forms.choice_of(form)
    except ApiError as error:
        return {"count": None, "first": [], "why": error.message}
    found = await console.services.targeting.match(choice, visit.guard(action), FIRST_NAMES)
    return {"count": found.count, "first": found.first, "why": "", "how": choice.how}


class TargetCount:
    def __init__(self, console: Console) -> None:
        self.console = console

    async def page(self, visit: Visit) -> Response:
        """The count region alone (``?for=run`` or ``send``)."""
        action = ACTIONS.get(visit.request.query_params.get("for", ""), "RunCommand")
        counted = await count_of(self.console, visit, form_of_query(visit), action)
        return self.console.render("target_count.html", {"counted": counted})
