"""The web console in a real headless browser (Debian's Chromium driven by Playwright) against a
real server and two real agents: sign in, run a command that succeeds on one agent and fails on
the other, follow the View action to both tabs, read the recommended solution, stop a running task.
Screenshots are kept in ``.test-artifacts/console/``.

Pages are never reloaded by the test while tasks run: what changes is the console's live update.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from openassist.catalog import ENTRIES
from tests.support.cluster import Agent, Cluster
from tests.support.console import console_password

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parents[2] / ".test-artifacts" / "console"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 45_000
SCRIPT = 'test -z "$OA_E2E_FAIL" || { echo "disk check failed"; exit 4; }; echo "disk check ok"'

if not CHROMIUM.exists():
    pytest.skip(
        "/usr/bin/chromium is absent: run scripts/system-packages (Debian's chromium package)",
        allow_module_level=True,
    )


@pytest.fixture(scope="module")
def agents(cluster: Cluster) -> tuple[Agent, Agent]:
    good = cluster.new_agent("e2e-web", tags={"tier": "web"})
    bad = cluster.new_agent(
        "e2e-db",
        env={"OA_E2E_FAIL": "1", "OPENASSIST_AGENT_SCRIPT_ENV": "OA_E2E_FAIL"},
        tags={"tier": "db"},
    )
    return good, bad


@pytest.fixture(scope="module")
def page(cluster: Cluster) -> Iterator[Page]:
    env_proxy = {k: os.environ.pop(k) for k in list(os.environ) if k.lower().endswith("_proxy")}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
            )
            context = browser.new_context(viewport={"width": 1366, "height": 768})
            context.set_default_timeout(WAIT_MS)
            yield context.new_page()
            context.close()
            browser.close()
    finally:
        os.environ.update(env_proxy)


def _shot(page: Page, name: str, backend: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{backend}-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def _unlabelled(page: Page) -> list[str]:
    """Form fields a screen reader could not name (no <label> and no aria-label)."""
    return list(
        page.evaluate(
            """() => Array.from(document.querySelectorAll(
                'input:not([type=hidden]), select, textarea'))
              .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))
              .map(e => e.name)"""
        )
    )


def _backend(cluster: Cluster) -> str:
    return "postgres" if cluster.database_url else "sqlite"


def test_operator_flow_in_a_real_browser(
    cluster: Cluster, agents: tuple[Agent, Agent], page: Page
) -> None:
    good, bad = agents
    backend, shots = _backend(cluster), []
    base = f"http://{cluster.endpoint}/console/"

    # Unauthenticated: sent to sign-in. A wrong password is refused, the right one lets in.
    page.goto(base)
    expect(page).to_have_url(re.compile(r"/console/signin\?next="))
    page.get_by_label("User name").fill("admin")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("not correct")
    page.get_by_label("Password").fill(console_password(cluster))
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("heading", name="Command Execution Results")).to_be_visible()
    shots.append(_shot(page, "01-results-empty", backend))

    # Run one command on both agents through the Run command form.
    page.get_by_role("navigation", name="Console sections").get_by_role(
        "link", name="Run command"
    ).click()
    assert _unlabelled(page) == []
    page.get_by_label("Script", exact=True).fill(SCRIPT)
    page.get_by_label("By instance ID").check()
    page.get_by_label("Instance IDs (comma or space separated)").fill(
        f"{good.instance_id}, {bad.instance_id}"
    )
    expect(page.locator("#target-total")).to_have_text("2")  # counted as typed, on the server
    page.get_by_label("Timeout (seconds)", exact=True).fill("60")
    shots.append(_shot(page, "02-run-form", backend))
    page.get_by_role("button", name="Run").click()
    expect(page).to_have_url(re.compile(r"/console/invocations/t-[0-9a-f]+"))
    invoke_id = page.url.rsplit("/", 1)[-1].split("?")[0]
    # No reload: the live update brings the final status.
    expect(page.locator("#overall-status")).to_have_text("Partially failed")

    # The Command Execution Result list, then the View action.
    page.get_by_role("link", name="Command Execution Results").first.click()
    row = page.locator(f"tr[data-invoke-id='{invoke_id}']")
    expect(row).to_contain_text("Partially failed")
    shots.append(_shot(page, "03-results", backend))
    assert _unlabelled(page) == []
    row.get_by_role("link", name="View").click()
    expect(page.get_by_role("heading", name=f"Task {invoke_id}")).to_be_visible()

    tabs = page.get_by_role("navigation", name="Instances by outcome")
    tabs.get_by_role("link", name=re.compile("Task Completed")).click()
    expect(tabs.get_by_role("link", name="Task Completed (1)")).to_have_attribute(
        "aria-current", "page"
    )
    done = page.locator(f"tr[data-instance-id='{good.instance_id}']")
    expect(done.locator(".instance-status")).to_have_text("Task Completed")
    expect(done.locator(".exit-code")).to_have_text("0")
    expect(done.locator(".first-line")).to_have_text("disk check ok")
    expect(page.locator(f"tr[data-instance-id='{bad.instance_id}']")).to_have_count(0)
    shots.append(_shot(page, "04-task-completed-tab", backend))

    tabs.get_by_role("link", name=re.compile("Execution failed")).click()
    failed_row = page.locator(f"tr[data-instance-id='{bad.instance_id}']")
    expect(failed_row.locator(".instance-status")).to_have_text("Execution failed")
    expect(failed_row.locator(".exit-code")).to_have_text("4")
    expect(failed_row.locator(".first-line")).to_have_text("disk check failed")
    shots.append(_shot(page, "05-execution-failed-tab", backend))

    # The machine's full card, one click away.
    failed_row.get_by_role("link", name="e2e-db").click()
    failed = page.locator(f"article[data-instance-id='{bad.instance_id}']")
    expect(failed.locator(".error-code")).to_have_text("ExitCodeNonzero")
    expect(failed.locator(".cause")).to_contain_text("4")
    solution = failed.locator(".solution").inner_text()
    assert solution == ENTRIES["ExitCodeNonzero"].solution
    expect(failed.locator("pre.output")).to_have_text("disk check failed\n")
    shots.append(_shot(page, "05b-machine-card", backend))

    # Full output link.
    failed.get_by_role("link", name="Full output").click()
    expect(page.locator("body")).to_have_text(re.compile(r"^\s*disk check failed\s*$"))
    page.go_back()
    page.go_back()

    # A long task: watch it run live, then stop it from its page.
    page.goto(f"{base}run?instance={good.instance_id}")
    page.get_by_label("Script", exact=True).fill("echo waiting for stop; sleep 300")
    page.get_by_label("Timeout (seconds)", exact=True).fill("600")
    page.get_by_role("button", name="Run").click()
    running = page.locator(f"tr[data-instance-id='{good.instance_id}']")
    expect(running.locator(".instance-status")).to_have_text("Running")
    expect(running.locator(".first-line")).to_contain_text("waiting for stop")
    shots.append(_shot(page, "06-running", backend))
    running.get_by_role("button", name=f"Stop on {good.instance_id}").click()
    expect(page.get_by_role("status")).to_contain_text("Stop requested")
    stopped_tab = tabs.get_by_role("link", name=re.compile("Stopped"))
    expect(stopped_tab).to_have_text(re.compile(r"Stopped \(1\)"))
    stopped_tab.click()
    expect(running.locator(".instance-status")).to_have_text("Stopped")
    expect(page.locator("#overall-status")).to_have_text("Stopped")
    shots.append(_shot(page, "07-stopped", backend))

    # Instances page: both agents online with their tags.
    page.get_by_role("link", name="Instances", exact=True).click()
    for agent, tag in ((good, "tier=web"), (bad, "tier=db")):
        listed = page.locator(f"tr[data-instance-id='{agent.instance_id}']")
        expect(listed).to_contain_text("Online")
        expect(listed).to_contain_text(tag)
    shots.append(_shot(page, "08-instances", backend))

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/console/signin$"))
    page.goto(base)
    expect(page).to_have_url(re.compile(r"/console/signin\?next="))

    for shot in shots:
        assert shot.exists() and shot.stat().st_size > 1000, shot
