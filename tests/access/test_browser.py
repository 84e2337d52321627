"""An organisation's developer reads the API documentation in a real browser and calls the API
from it: Swagger UI must render from our own static files (no CDN on the commission's network)
and its "Try it out" must work with an API key and a stated purpose."""

import pytest

from tests.access.conftest import MORTGAGE, consent, make_valid
from tests.licensing.test_browser import _browser


@pytest.mark.browser
def test_a_developer_reads_the_docs_and_calls_the_api_from_them(live_server, orgs, purposes, sysadmin, bank_key):
    from playwright.sync_api import sync_playwright

    licence = make_valid()
    consent(sysadmin, orgs.bank, licence, [purposes[MORTGAGE]])
    outside_requests = []

    # The ORM is not touched while Playwright's event loop runs in this thread.
    with sync_playwright() as p:
        browser = _browser(p)
        try:
            page = browser.new_page()
            ours = live_server.url
            page.on("request", lambda r: None if r.url.startswith(ours) else outside_requests.append(r.url))
            page.goto(f"{live_server.url}/api/docs/")
            page.wait_for_selector(".opblock-summary-path")
            title = page.locator(".info .title").inner_text()
            paths = page.locator(".opblock-summary-path").all_inner_texts()

            page.click("button.authorize")
            page.fill(".auth-container input", bank_key.header)
            page.click(".auth-btn-wrapper button.authorize")
            page.click(".auth-btn-wrapper button.btn-done")

            ping = _try(page, "/api/v1/ping", {})
            detail = _try(
                page,
                "/api/v1/licenses/{identifier}/",
                {"identifier": licence.identifier, "X-Purpose": MORTGAGE},
            )
        finally:
            browser.close()

    assert "北京市不动产登记电子证照 API" in title
    assert "/api/v1/licenses/{identifier}/" in [path.replace("\u200b", "") for path in paths]  # zero-width breaks
    assert outside_requests == []  # every script, style and image came from our own server
    assert ping[0] == "200" and orgs.bank.name in ping[1]
    assert detail[0] == "200" and licence.identifier in detail[1]


def _try(page, path: str, parameters: dict) -> tuple[str, str]:
    """Open a GET operation, fill its parameters, execute it; (status code, response body) as shown."""
    block = page.locator(".opblock-get").filter(has=page.locator(f".opblock-summary-path[data-path='{path}']"))
    block.locator(".opblock-summary").click()
    block.locator("button.try-out__btn").click()
    for name, value in parameters.items():
        block.locator(f"tr[data-param-name='{name}'] input").fill(value)
    block.locator("button.execute").click()
    status = block.locator(".live-responses-table tr.response .response-col_status").first
    status.wait_for()
    body = block.locator(".live-responses-table tr.response .highlight-code").first
    return status.inner_text().strip(), body.inner_text()
