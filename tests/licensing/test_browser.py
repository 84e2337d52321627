"""A clerk issues a draft in a real browser; anyone checks a signed licence through its QR URL."""

import pytest

from licensing import services
from licensing.models import License, LicenseStatus
from tests.licensing.factories import force_valid, make_draft, make_issued

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(autouse=True)
def _no_workers(monkeypatch):
    # The signing itself is tested with a real worker elsewhere; here the page flow matters.
    monkeypatch.setattr(services, "_enqueue_signing", lambda license_id: None)
    monkeypatch.setattr(services, "_enqueue_cancelled_rendition", lambda license_id: None)


def _browser(p):
    return p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)


@pytest.mark.browser
def test_it_lets_a_clerk_issue_a_draft_from_its_admin_page(live_server, clerk):
    from playwright.sync_api import sync_playwright

    draft = make_draft(clerk)
    change_url = f"{live_server.url}/admin/licensing/license/{draft.pk}/change/"

    # The ORM is not touched while Playwright's event loop runs in this thread.
    with sync_playwright() as p:
        browser = _browser(p)
        try:
            page = browser.new_page()
            page.goto(f"{live_server.url}/admin/login/?next=/admin/licensing/license/{draft.pk}/change/")
            page.fill("#id_username", "clerk")
            page.fill("#id_password", "pw-clerk-Secret1")
            page.click("input[type=submit]")
            page.wait_for_url(change_url)
            page.click("text=签发 >> nth=0")
            page.click("input[value='确认签发']")
            page.wait_for_url(change_url)
            message = page.locator("ul.messagelist").inner_text()
            history = page.locator("text=状态历史").count()
            status = page.locator(".field-status .readonly").inner_text()
        finally:
            browser.close()

    assert "签发：已完成" in message
    assert history >= 1
    assert status == "待签章"
    issued = License.objects.get(pk=draft.pk)
    assert issued.status == LicenseStatus.PENDING_SIGNATURE and issued.certificate_number


@pytest.mark.browser
def test_it_shows_the_public_check_page_to_anyone(live_server, clerk):
    from playwright.sync_api import sync_playwright

    license = force_valid(make_issued(clerk))

    with sync_playwright() as p:
        browser = _browser(p)
        try:
            page = browser.new_page()
            page.goto(f"{live_server.url}/v/{license.check_code}")
            answer = page.locator("#answer").inner_text()
            status = page.locator("#status").inner_text()
            page.set_input_files(
                "input[type=file]",
                files=[{"name": "x.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.7 other"}],
            )
            page.click("button[type=submit]")
            file_answer = page.locator("#file-answer").inner_text()
        finally:
            browser.close()

    assert "（0）：有效" in answer
    assert status == "有效"
    assert "（2）" in file_answer
