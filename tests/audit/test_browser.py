"""An audit administrator signs in with a real browser and follows a licence's timeline."""

import pytest

from audit.models import AuditEvent
from audit.services import record_event
from tests.audit.conftest import IDENTIFIER, FakeLicence

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.mark.browser
def test_it_lets_the_audit_administrator_sign_in_and_read_a_licence_timeline(live_server, auditor, clerk, bank):
    from playwright.sync_api import sync_playwright

    licence = FakeLicence()
    record_event(action="license.issue", actor=clerk, target=licence, reason="首次登记")
    record_event(
        action="license.read", target=licence, organisation=bank, purpose="抵押贷款审查", details={"fields": ["坐落"]}
    )
    record_event(action="license.suspend", actor=clerk, target=licence, reason="司法查封")

    # The ORM is not touched while Playwright's event loop runs in this thread.
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{live_server.url}/admin/login/?next=/audit/")
            page.fill("#id_username", "auditor")
            page.fill("#id_password", "pw-auditor-Secret1")
            page.click("input[type=submit]")
            page.wait_for_url(f"{live_server.url}/audit/")
            assert page.locator("h1").inner_text() == "审计事件检索"

            page.fill("#id_license_identifier", IDENTIFIER)
            page.click("button[type=submit]")
            page.click(f"a[href='/audit/licences/{IDENTIFIER}/']  >> nth=0")
            page.wait_for_url(f"{live_server.url}/audit/licences/{IDENTIFIER}/")
            rows = page.locator("table.events tbody tr").all_inner_texts()
            uses = page.locator("table").nth(1).inner_text()
        finally:
            browser.close()

    assert [r.split("\t")[4] for r in rows] == ["license.issue", "license.read", "license.suspend"]
    assert "司法查封" in rows[2] and bank.name in rows[1]
    assert bank.name in uses and "坐落" in uses
    assert AuditEvent.objects.filter(action="auth.login", actor=auditor).exists()
