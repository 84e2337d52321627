"""The clerk's and approver's admin: thin callers of the services, clear messages on mistakes."""

import pytest

from licensing import services
from licensing.models import CancellationReason, CancellationRequest, License, LicenseStatus
from registry.models import Issuer, LicenseType
from tests.licensing.factories import force_valid, make_draft, make_issued, make_person, make_unit

S = LicenseStatus
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_workers(monkeypatch):
    monkeypatch.setattr(services, "_enqueue_signing", lambda license_id: None)
    monkeypatch.setattr(services, "_enqueue_cancelled_rendition", lambda license_id: None)


def _draft_form(unit, holders, **overrides):
    data = {
        "kind": "CERTIFICATE",
        "license_type": LicenseType.objects.get(code="11100000MB03271699001").pk,
        "issuer": Issuer.objects.get(uscc="11110000MB0000001Y").pk,
        "property_unit": unit.pk,
        "co_ownership": "SOLE",
        "notes": "",
        "right_or_matter": "",
        "encumbered_certificate_number": "",
        "parties-TOTAL_FORMS": str(len(holders)),
        "parties-INITIAL_FORMS": "0",
        "parties-MIN_NUM_FORMS": "0",
        "parties-MAX_NUM_FORMS": "1000",
        "status_events-TOTAL_FORMS": "0",
        "status_events-INITIAL_FORMS": "0",
        "status_events-MIN_NUM_FORMS": "0",
        "status_events-MAX_NUM_FORMS": "1000",
    }
    for i, (holder, share) in enumerate(holders):
        data.update(
            {
                f"parties-{i}-holder": holder.pk,
                f"parties-{i}-role": "HOLDER",
                f"parties-{i}-share": share,
                f"parties-{i}-position": str(i),
            }
        )
    data.update(overrides)
    return data


def test_it_lets_a_clerk_create_a_draft_with_holders_inline(client, clerk):
    client.force_login(clerk)
    unit, holder = make_unit(), make_person("陈静")

    response = client.post("/admin/licensing/license/add/", _draft_form(unit, [(holder, "")]))

    assert response.status_code == 302, response.content.decode()[:2000]
    license = License.objects.get()
    assert license.status == S.DRAFT
    assert list(license.holders.all()) == [holder]
    assert license.created_by == clerk and license.check_code


def test_it_explains_a_refused_draft_instead_of_failing(client, clerk):
    client.force_login(clerk)
    unit, a, b = make_unit(), make_person("甲"), make_person("乙")

    response = client.post(
        "/admin/licensing/license/add/", _draft_form(unit, [(a, "60%"), (b, "30%")], co_ownership="SHARES")
    )

    assert response.status_code == 200  # the same form again, not an error page or an empty form
    form = response.context["adminform"].form
    assert any("100%" in message for message in form.non_field_errors())
    page = response.content.decode()
    assert 'value="60%"' in page and 'value="30%"' in page  # the clerk's parties are still there
    assert not License.objects.exists()


def test_it_issues_from_the_licence_page_and_shows_status_read_only(client, clerk):
    client.force_login(clerk)
    draft = make_draft(clerk)

    page = client.get(f"/admin/licensing/license/{draft.pk}/change/").content.decode()
    assert f"/admin/licensing/license/{draft.pk}/action/issue/" in page
    assert 'name="status"' not in page

    response = client.post(f"/admin/licensing/license/{draft.pk}/action/issue/", {"note": ""})

    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == S.PENDING_SIGNATURE
    page = client.get(f"/admin/licensing/license/{draft.pk}/change/").content.decode()
    assert "状态历史" in page and "待签章" in page
    assert draft.certificate_number in page


def test_it_offers_the_cancellation_reasons_and_reports_an_illegal_move(client, clerk):
    client.force_login(clerk)
    license = force_valid(make_issued(clerk))

    form = client.get(f"/admin/licensing/license/{license.pk}/action/cancel/").content.decode()
    for label in ("抵押权注销", "灭失", "法院裁定", "其他"):
        assert label in form
    assert "签发错误" not in form  # goes through the approval queue

    client.post(
        f"/admin/licensing/license/{license.pk}/action/cancel/", {"reason": CancellationReason.DESTRUCTION, "note": ""}
    )
    assert License.objects.get(pk=license.pk).status == S.CANCELLED

    again = client.post(f"/admin/licensing/license/{license.pk}/action/suspend/", {"note": "x"})
    assert again.status_code == 200
    assert "已注销" in again.content.decode()


def test_it_runs_the_issued_in_error_approval_queue(client, clerk, approver):
    license = force_valid(make_issued(clerk))
    client.force_login(clerk)
    client.post(f"/admin/licensing/license/{license.pk}/action/cancel_request/", {"note": "权利人录入错误"})
    request = CancellationRequest.objects.get()

    # The requesting clerk has no approve button and cannot approve by URL.
    assert (
        client.post(f"/admin/licensing/cancellationrequest/{request.pk}/decide/approve/", {"note": ""}).status_code
        == 403
    )

    client.force_login(approver)
    queue = client.get("/admin/licensing/cancellationrequest/").content.decode()
    assert str(license) in queue
    page = client.get(f"/admin/licensing/cancellationrequest/{request.pk}/change/").content.decode()
    assert "批准并注销" in page
    client.post(f"/admin/licensing/cancellationrequest/{request.pk}/decide/approve/", {"note": "同意"})

    license.refresh_from_db()
    assert (license.status, license.status_reason) == (S.CANCELLED, CancellationReason.ISSUED_IN_ERROR)


def test_it_refuses_lifecycle_pages_to_users_without_the_role(client, clerk, outsider, auditor):
    license = force_valid(make_issued(clerk))
    client.force_login(auditor)
    # The auditor may look but not act.
    assert client.get(f"/admin/licensing/license/{license.pk}/change/").status_code == 200
    assert client.post(f"/admin/licensing/license/{license.pk}/action/revoke/", {"note": "x"}).status_code == 403
    assert client.get(f"/admin/licensing/license/{license.pk}/file/").status_code == 404
    client.force_login(outsider)
    assert client.get(f"/admin/licensing/license/{license.pk}/change/").status_code == 302  # to the login page
    assert License.objects.get(pk=license.pk).status == S.VALID
