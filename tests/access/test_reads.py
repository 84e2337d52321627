"""What a granted read returns (field policy, masking), what it records, and rate limits."""

import re

import pytest

from access.policy import FIELDS, Treatment, mask_certificate_number, mask_location, plan_for
from audit.models import AuditEvent
from tests.access.conftest import LITIGATION, MORTGAGE, api, consent, make_valid, statutory
from tests.licensing.factories import make_person

MASKED_ID = re.compile(r"^\d{6}\*{8}\d{3}[\dX]$")


@pytest.fixture
def shared(orgs, purposes, sysadmin):
    """One licence, two holders, granted to both the bank (consent) and the court (statute)."""
    holders = [make_person("张伟"), make_person("欧阳娜娜")]
    licence = make_valid(holders=holders)
    consent(sysadmin, orgs.bank, licence, [purposes[MORTGAGE]])
    statutory(sysadmin, orgs.court, licence, [purposes[LITIGATION]])
    return licence


def test_it_grades_every_field_and_narrows_only():
    bank = plan_for(org_type="BANK", purpose_code=MORTGAGE)
    assert bank.treatment("holder_names") is Treatment.CLEAR
    assert bank.treatment("holder_id_numbers") is Treatment.MASKED
    assert not bank.file_allowed
    court = plan_for(org_type="COURT", purpose_code=LITIGATION)
    assert court.treatment("holder_id_numbers") is Treatment.CLEAR and court.file_allowed
    other = plan_for(org_type="OTHER", purpose_code=MORTGAGE)
    assert other.treatment("certificate_number") is Treatment.MASKED
    assert other.treatment("location") is Treatment.OMITTED
    narrowed = plan_for(org_type="COURT", purpose_code=LITIGATION, consent_fields=["location"])
    assert narrowed.treatment("location") is Treatment.CLEAR
    assert narrowed.treatment("holder_id_numbers") is Treatment.OMITTED and not narrowed.file_allowed
    # A consent can never add what the policy leaves out.
    widened = plan_for(org_type="OTHER", purpose_code=MORTGAGE, consent_fields=list(FIELDS))
    assert widened.treatment("holder_names") is Treatment.OMITTED


def test_it_masks_location_and_numbers():
    assert mask_location("朝阳区建国路1号院1号楼12层1201") == "朝阳区建国路1号院1号楼****"
    assert mask_certificate_number("京(2026)朝阳区不动产权第0001234号") == "京(2026)朝阳区不动产权第***1234号"


@pytest.mark.django_db
def test_it_masks_id_numbers_for_a_bank_and_reveals_them_to_a_court(shared, bank_key, court_key):
    url = f"/api/v1/licenses/{shared.identifier}/"
    bank = api(bank_key.header)("get", url, MORTGAGE).json()
    assert [h["name"] for h in bank["holders"]] == ["张伟", "欧阳娜娜"]
    assert all(MASKED_ID.match(h["id_number"]) for h in bank["holders"])
    assert bank["location"].startswith("朝阳区建国路") and bank["file_available"] is False
    court = api(court_key.header)("get", url, LITIGATION).json()
    from registry.crypto import reveal_id_number

    assert [h["id_number"] for h in court["holders"]] == [reveal_id_number(p.holder) for p in shared.parties.all()]
    assert court["file_available"] is True


@pytest.mark.django_db
def test_it_returns_only_the_consented_fields(orgs, purposes, sysadmin, bank_key):
    licence = make_valid()
    consent(sysadmin, orgs.bank, licence, [purposes[MORTGAGE]], fields=["unit_number"])
    body = api(bank_key.header)("get", f"/api/v1/licenses/{licence.identifier}/", MORTGAGE).json()
    assert set(body) == {
        "identifier",
        "kind",
        "license_type",
        "issuer",
        "issued_at",
        "status",
        "status_changed_at",
        "unit_number",
        "file_available",
    }
    assert "holders" not in body and "location" not in body and "certificate_number" not in body


@pytest.mark.django_db
def test_it_records_each_read_with_the_fields_returned(shared, bank_key, bank_operator):
    before = AuditEvent.objects.count()
    api(bank_key.header)("get", f"/api/v1/licenses/{shared.identifier}/", MORTGAGE)
    events = list(AuditEvent.objects.order_by("seq")[before:])
    assert len(events) == 1
    event = events[0]
    assert event.action == "license.read" and event.result == "SUCCESS"
    assert event.license_identifier == shared.identifier and event.purpose == MORTGAGE
    assert event.organisation == bank_key.obj.organisation and event.actor == bank_operator
    assert bank_key.obj.prefix in event.api_key_repr
    assert "holder_names" in event.details["fields"] and "holder_id_numbers:masked" in event.details["fields"]
    assert "location" in event.details["fields"]
    # The usage history shows it back to the organisation, and to no one else.
    usage = api(bank_key.header)("get", "/api/v1/usage/").json()["results"]
    assert usage[0]["license_identifier"] == shared.identifier and usage[0]["fields"] == event.details["fields"]


@pytest.mark.django_db
def test_it_records_refused_reads_without_revealing_anything(licences, bank_key, court_key):
    before = AuditEvent.objects.count()
    response = api(court_key.header)("get", f"/api/v1/licenses/{licences.bank_ok.identifier}/", LITIGATION)
    assert response.status_code == 404
    event = AuditEvent.objects.order_by("seq")[before:].get()
    assert event.result == "DENIED" and event.details["fields"] == [] and event.license_identifier == ""
    usage = api(bank_key.header)("get", "/api/v1/usage/").json()["results"]
    assert all(u["result"] == "SUCCESS" for u in usage) or usage == []


@pytest.mark.django_db
def test_it_answers_status_and_names_a_successor_only_when_visible(orgs, purposes, sysadmin, bank_key):
    from django.utils import timezone

    from licensing.models import License

    old, new, hidden_new = make_valid(), make_valid(), make_valid()
    other = make_valid()
    consent(sysadmin, orgs.bank, old, [purposes[MORTGAGE]])
    consent(sysadmin, orgs.bank, new, [purposes[MORTGAGE]])
    consent(sysadmin, orgs.bank, other, [purposes[MORTGAGE]])
    License.objects.filter(pk=new.pk).update(supersedes=old)
    License.objects.filter(pk=hidden_new.pk).update(supersedes=other)
    License.objects.filter(pk__in=[old.pk, other.pk]).update(
        status="CANCELLED", status_reason="REPLACEMENT", status_changed_at=timezone.now()
    )
    call = api(bank_key.header)
    body = call("get", f"/api/v1/licenses/{old.identifier}/status", MORTGAGE).json()
    assert body["status"] == "CANCELLED" and body["reason"] == "REPLACEMENT" and body["reason_label"] == "换证"
    assert body["superseded_by"] == new.identifier
    assert call("get", f"/api/v1/licenses/{other.identifier}/status", MORTGAGE).json()["superseded_by"] is None


@pytest.mark.django_db
def test_it_limits_each_key_and_says_when_to_retry(settings, bank_key, court_key):
    settings.ACCESS_API_RATE = "2/min"
    bank = api(bank_key.header)
    assert [bank("get", "/api/v1/ping").status_code for _ in range(2)] == [200, 200]
    limited = bank("get", "/api/v1/ping")
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) > 0
    assert limited.json()["error"]["code"] == "rate_limited"
    # Another key has its own budget.
    assert api(court_key.header)("get", "/api/v1/ping").status_code == 200


@pytest.mark.django_db
def test_it_refuses_bad_expired_and_revoked_keys(bank_key, sysadmin, orgs, bank_operator):
    from datetime import timedelta

    from django.utils import timezone

    from access import services
    from access.models import ApiKey

    assert api(bank_key.header)("get", "/api/v1/ping").status_code == 200
    key = ApiKey.objects.get(pk=bank_key.obj.pk)
    assert key.last_used_at is not None
    assert bank_key.plaintext.split(".", 1)[1] not in key.key_hash  # only the hash is stored
    wrong = api(bank_key.header[:-2] + "xx")("get", "/api/v1/ping")
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_api_key"
    assert wrong["WWW-Authenticate"] == "Api-Key"
    assert api()("get", "/api/v1/ping").status_code == 401
    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert api(bank_key.header)("get", "/api/v1/ping").status_code == 401
    other, plaintext = services.api_key_issue(organisation=orgs.bank, user=bank_operator, label="二号", actor=sysadmin)
    assert api(f"Api-Key {plaintext}")("get", "/api/v1/ping").status_code == 200
    services.api_key_revoke(api_key=other, actor=sysadmin)
    assert api(f"Api-Key {plaintext}")("get", "/api/v1/ping").status_code == 401


@pytest.mark.django_db
def test_it_lets_an_organisation_admin_manage_only_its_own_keys(bank_admin, court_officer, orgs, bank_operator):
    from django.core.exceptions import PermissionDenied

    from access import services

    key, _ = services.api_key_issue(organisation=orgs.bank, user=bank_operator, label="行内", actor=bank_admin)
    with pytest.raises(PermissionDenied):
        services.api_key_issue(organisation=orgs.court, user=court_officer, label="越权", actor=bank_admin)
    with pytest.raises(PermissionDenied):
        services.authorisation_grant(
            license=make_valid(),
            organisation=orgs.bank,
            holder=None,
            purposes=[],
            valid_until=None,
            max_uses=1,
            actor=bank_admin,
        )
    assert key.organisation == orgs.bank


@pytest.mark.django_db
def test_it_shows_an_organisation_admin_only_its_own_keys_in_the_admin(bank_admin, bank_key, court_key, sysadmin):
    from django.test import Client

    client = Client()
    client.force_login(bank_admin)
    page = client.get("/admin/access/apikey/")
    assert page.status_code == 200
    assert bank_key.obj.prefix in page.content.decode() and court_key.obj.prefix not in page.content.decode()
    assert client.get(f"/admin/access/apikey/{court_key.obj.pk}/change/").status_code in (302, 403, 404)
    assert client.get("/admin/access/authorisation/").status_code == 403
    users = client.get("/admin/access/organisationuser/").content.decode()
    assert "bank_operator" in users and "court_officer" not in users
    client.force_login(sysadmin)
    page = client.get("/admin/access/apikey/").content.decode()
    assert bank_key.obj.prefix in page and court_key.obj.prefix in page


@pytest.mark.django_db
def test_it_shows_a_new_key_once_in_the_admin(bank_admin, bank_operator, orgs):
    from django.test import Client

    from access.models import ApiKey
    from access.services import api_key_verify

    client = Client()
    client.force_login(bank_admin)
    response = client.post(
        "/admin/access/apikey/add/",
        {
            "organisation": orgs.bank.pk,
            "user": bank_operator.pk,
            "label": "后台签发",
            "expires_at_0": "",
            "expires_at_1": "",
        },
        follow=True,
    )
    text = response.content.decode()
    match = re.search(r"([0-9a-f]{8}\.[A-Za-z0-9_-]{43})", text)
    assert match, text[:2000]
    key = api_key_verify(match.group(1))
    assert key == ApiKey.objects.get(label="后台签发")
    assert match.group(1) not in client.get(f"/admin/access/apikey/{key.pk}/change/").content.decode()
