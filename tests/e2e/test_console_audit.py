"""The console's Audit page in a real headless Chromium against a real server: the admin finds
it in the navigation, filters by event name and resource, reads who did what; a user whose
policies do not allow actiontrail:LookupEvents is not offered it and is refused at its URL.
The screenshot is kept in ``.test-artifacts/console/``."""

from __future__ import annotations

import base64
import re

from playwright.sync_api import Page, expect

from tests.e2e.test_console import _backend, _shot, _unlabelled, page
from tests.integration.test_console_audit import _user_with
from tests.support.cluster import Cluster
from tests.support.console import console_password

__all__ = ["page"]


def test_the_audit_page_in_a_real_browser(cluster: Cluster, page: Page) -> None:
    content = base64.b64encode(b"echo from the audit test").decode()
    for name in ("e2e-audited-1", "e2e-audited-2"):
        cluster.call("CreateCommand", Name=name, Type="RunShellScript", CommandContent=content)
    reader = _user_with(cluster, "e2e-audit-reader", ["ecs:Describe*"])
    base = f"http://{cluster.endpoint}/console/"

    page.goto(base)
    page.get_by_label("User name").fill("admin")
    page.get_by_label("Password").fill(console_password(cluster))
    page.get_by_role("button", name="Sign in", exact=True).click()
    sections = page.get_by_role("navigation", name="Console sections")
    sections.get_by_role("link", name="Audit").click()
    expect(page.get_by_role("heading", name="Audit")).to_be_visible()
    assert _unlabelled(page) == []

    page.get_by_label("Event name").fill("CreateCommand")
    page.get_by_label("Resource").fill("e2e-audited-2")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"/console/audit\?event=CreateCommand&resource="))
    rows = page.locator("table.audit tbody tr[data-event-id]")
    expect(rows).to_have_count(1)
    expect(rows.locator(".event-name")).to_have_text("CreateCommand")
    expect(rows.locator(".event-user")).to_have_text("admin")
    expect(rows.locator(".event-result")).to_have_text("Success")
    rows.get_by_text("Parameters").click()
    expect(rows.locator("pre")).to_contain_text("sha256:")  # the script's hash, not its text
    expect(rows.locator("pre")).not_to_contain_text("from the audit test")
    shot = _shot(page, "09-audit", _backend(cluster))
    assert shot.stat().st_size > 1000

    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("AccessKey ID").fill(reader[0])
    page.get_by_label("AccessKey secret").fill(reader[1])
    page.get_by_role("button", name="Sign in with the access key").click()
    expect(page.get_by_role("heading", name="Command Execution Results")).to_be_visible()
    expect(sections.get_by_role("link", name="Audit")).to_have_count(0)
    answer = page.goto(f"{base}audit")
    assert answer is not None and answer.status == 403
    expect(page.locator("body")).to_contain_text("actiontrail:LookupEvents")
