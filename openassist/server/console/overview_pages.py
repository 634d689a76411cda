"""The Overview page: machines online and offline now, tasks per hour by outcome over the last
24 hours and 7 days, the most frequent error codes with their fix; SVG drawn on the server, the
page refreshed while open."""

from __future__ import annotations

from starlette.responses import Response

from openassist.server.console import charts
from openassist.server.console.web import Console, Visit
from openassist.server.service.overview import OUTCOMES

REFRESH_MS = 15_000  # aggregate queries: a slower pace than a task page's


class OverviewPage:
    def __init__(self, console: Console) -> None:
        self.console = console

    async def show(self, visit: Visit) -> Response:
        found = await self.console.services.overview.snapshot(
            visit.guard("DescribeManagedInstances")
        )
        machines = [
            ("Online", found.online, charts.COLOURS["succeeded"]),
            ("Offline", found.offline, charts.COLOURS["failed"]),
        ]
        errors = [(e.code, e.count, charts.COLOURS["failed"]) for e in found.errors]
        return self.console.page(
            visit,
            "overview.html",
            found=found,
            outcomes=OUTCOMES,
            colours=charts.COLOURS,
            machines_chart=charts.count_bars(machines, "chart-machines", "Machines now"),
            day_chart=charts.hour_bars(
                found.day, "chart-day", "Tasks per hour, last 24 hours, by outcome"
            ),
            week_chart=charts.hour_bars(
                found.week, "chart-week", "Tasks per hour, last 7 days, by outcome"
            ),
            errors_chart=charts.count_bars(
                errors, "chart-errors", "Most frequent error codes, last 7 days"
            ),
            live=True,
            live_url="?fragment=1",
            live_interval=REFRESH_MS,
        )
