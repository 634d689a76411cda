"""The console at fleet scale in a real browser (Debian's Chromium): 5,000 machines, a task with
1,000 results, a week of tasks, seeded in the store of a real server. Every page is opened the
way a person does it; its timings (the browser's navigation timing) are written to
``.test-artifacts/console/scale-timings-BACKEND.json`` and printed, never asserted. Screenshots:
the results table, the grouping, the overview charts, the run form targeting a tag, the run it
starts (833 machines, split into 9 tasks and shown as one table), the stop confirmations."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.e2e.test_console import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    WAIT_MS,
    _backend,
    _shot,
    _unlabelled,
)
from tests.support.cluster import Cluster
from tests.support.console import console_password
from tests.support.fleet_seed import SeededFleet, seed_fleet


@pytest.fixture(scope="module")
def fleet(cluster: Cluster) -> SeededFleet:
    return seed_fleet(cluster, machines=5000, week_tasks=400)


@pytest.fixture(scope="module")
def page(cluster: Cluster) -> Iterator[Page]:
    """A signed-in page of a headless Chromium."""
    env_proxy = {k: os.environ.pop(k) for k in list(os.environ) if k.lower().endswith("_proxy")}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
            )
            context = browser.new_context(viewport={"width": 1366, "height": 768})
            context.set_default_timeout(WAIT_MS)
            signed = context.new_page()
            signed.goto(f"http://{cluster.endpoint}/console/signin")
            signed.get_by_label("User name").fill("admin")
            signed.get_by_label("Password").fill(console_password(cluster))
            signed.get_by_role("button", name="Sign in", exact=True).click()
            expect(signed.get_by_role("heading", name="Command Execution Results")).to_be_visible()
            yield signed
            context.close()
            browser.close()
    finally:
        os.environ.update(env_proxy)


def _timing(page: Page) -> dict[str, float]:
    """ms from the navigation's start: the server's answer complete, the DOM ready, loaded."""
    found = page.evaluate(
        """() => { const n = performance.getEntriesByType('navigation')[0];
                   return {response: n.responseEnd, dom: n.domContentLoadedEventEnd,
                           load: n.loadEventEnd, bytes: n.transferSize}; }"""
    )
    return {k: round(float(v), 1) for k, v in found.items()}


def _open(page: Page, url: str, timings: dict[str, dict[str, float]], name: str) -> None:
    page.goto(url)
    page.wait_for_load_state("load")
    timings[name] = _timing(page)
    assert _unlabelled(page) == [], name  # every field has a name a screen reader can say


def test_every_page_at_five_thousand_machines_in_a_browser(
    cluster: Cluster, fleet: SeededFleet, page: Page
) -> None:
    backend, shots = _backend(cluster), []
    timings: dict[str, dict[str, float]] = {}
    base = f"http://{cluster.endpoint}/console"
    task = f"{base}/invocations/{fleet.invoke_id}"

    _open(page, f"{base}/invocations", timings, "task list")
    expect(page.locator(f"tr[data-invoke-id='{fleet.invoke_id}']")).to_contain_text(
        "1000 instances"
    )

    # The task of 1,000 machines: failures first, 50 rows a page, sortable, searchable.
    _open(page, task, timings, "task: failures tab")
    tabs = page.get_by_role("navigation", name="Instances by outcome")
    expect(tabs.get_by_role("link", name="Execution failed (128)")).to_have_attribute(
        "aria-current", "page"
    )
    expect(page.locator("table.result-rows tbody tr")).to_have_count(50)
    page.get_by_role("link", name="Duration").click()
    expect(page.get_by_role("columnheader", name=re.compile("Duration"))).to_have_attribute(
        "aria-sort", "ascending"
    )
    page.get_by_label("Machine name or ID").fill("node-09")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("table")).to_contain_text("Machines 1 to 50 of 88")
    shots.append(_shot(page, "scale-01-results-table", backend))
    _open(page, f"{task}?tab=all&sort=exit_code&dir=desc&page=20", timings, "task: page 20")
    expect(page.get_by_role("table")).to_contain_text("Machines 951 to 1000 of 1000")

    # Grouped by identical output, a machine's card one click away.
    _open(page, f"{task}?tab=all&view=groups", timings, "task: grouped")
    groups = page.locator("article.group")
    expect(groups).to_have_count(6)
    expect(groups.first).to_contain_text("620 machines: Task Completed")
    shots.append(_shot(page, "scale-02-grouped-output", backend))
    groups.nth(2).get_by_role("link").first.click()
    expect(page.locator("article.instance .error-code")).to_have_text("ExitCodeNonzero")
    timings["machine card"] = _timing(page)

    # Stop asks first, with how many machines still run.
    page.goto(f"{task}?tab=running")
    page.get_by_role("button", name="Stop the whole task").click()
    expect(page.locator("#stop-question")).to_contain_text("on 12 of its 1000 machines")
    expect(page.get_by_role("button", name="Stop it on 12 machines")).to_be_focused()
    shots.append(_shot(page, "scale-03-stop-confirmation", backend))
    page.get_by_role("link", name="Cancel, keep it running").click()
    expect(tabs.get_by_role("link", name="Running (12)")).to_be_visible()

    # The run form: a tag chosen, the machines counted by the server as it is typed.
    _open(page, f"{base}/run", timings, "run form")
    page.get_by_label("Script", exact=True).fill("uptime")
    page.get_by_label("By tag").check()
    page.get_by_label(re.compile(r"^Tags \(key=value")).fill("role=web, zone=a")
    expect(page.locator("#target-total")).to_have_text("833")
    shots.append(_shot(page, "scale-04-run-form-tag-targets", backend))
    # Run: 833 machines are 9 tasks of at most 100, kept as one run: one table of its machines
    # across the 9 tasks (failures first: the 167 offline), and one Stop for all of them.
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.get_by_role("heading", name="Run on 833 machines")).to_be_visible()
    expect(page.locator("table.results tbody tr")).to_have_count(9)
    expect(page.locator(".run-counts")).to_contain_text("of 833 done")
    expect(page.locator("table.result-rows")).to_contain_text("Machines 1 to 50 of 167")
    timings["split run"] = _timing(page)
    run_url = page.url
    page.get_by_role("link", name=re.compile(r"^All \(833\)")).click()
    page.get_by_role("link", name="Machine", exact=True).click()
    expect(page.get_by_role("columnheader", name=re.compile("Machine"))).to_have_attribute(
        "aria-sort", "descending"
    )
    expect(page.locator("table.result-rows tbody tr").first).to_contain_text("node-4995")
    shots.append(_shot(page, "scale-04b-split-run", backend))
    page.get_by_role("button", name="Stop the whole run").click()
    expect(page.locator("#stop-question")).to_contain_text("on 666 of its 833 machines, in 9")
    expect(page.get_by_role("button", name="Stop it on 666 machines")).to_be_focused()
    shots.append(_shot(page, "scale-04c-split-run-stop", backend))
    page.get_by_role("button", name="Stop it on 666 machines").click()
    expect(page.get_by_role("status")).to_have_text("Stop requested for 666 machines of this run.")
    expect(page.locator(".run-counts")).to_contain_text("833 of 833 done")
    assert page.url.startswith(run_url.split("?")[0])
    _open(page, f"{base}/run", timings, "run form again")
    page.get_by_label("Every machine online now").check()
    expect(page.locator("#target-total")).to_have_text(str(fleet.online))

    _open(page, f"{base}/instances", timings, "instances")
    expect(page.locator("table.instances-table tbody tr")).to_have_count(100)

    _open(page, f"{base}/overview", timings, "overview")
    expect(page.locator("#machines-online")).to_have_text(str(fleet.online))
    expect(page.locator("#chart-week g.bar")).to_have_count(168)
    expect(page.locator("#chart-day g.bar")).to_have_count(24)
    shots.append(_shot(page, "scale-05-overview-charts", backend))

    # Keyboard: the first Tab reaches the skip link, and it moves the focus to the content.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    report = ARTIFACTS / f"scale-timings-{backend}.json"
    report.write_text(json.dumps(timings, indent=2))
    print(f"\nconsole page timings ({backend}, ms from navigation start):")
    for name, figures in timings.items():
        print(f"  {name:18} {figures}")
    for shot in shots:
        assert shot.exists() and shot.stat().st_size > 1000, shot
