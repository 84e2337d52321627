"""Every endpoint × every member of the cast × licences with every kind of grant: zero leaks.

A licence answers with content only to the one organisation whose live grant covers it, for
the purpose that grant allows; every other combination answers exactly like a licence that
does not exist (same status, same body) or, for callers that are no organisation at all, one
403 that does not depend on the licence.
"""

import pytest

from access.models import Authorisation
from tests.access.conftest import LITIGATION, MORTGAGE, NOTARISATION, api

ENDPOINTS = [
    ("get", "/api/v1/licenses/{id}/"),
    ("get", "/api/v1/licenses/{id}/status"),
    ("get", "/api/v1/licenses/{id}/file"),
    ("post", "/api/v1/licenses/{id}/annotated-copies"),
]
LICENCES = ["bank_ok", "court_ok", "expired", "revoked", "exhausted", "none"]
MISSING = "1.2.156.3005.2.11100000MB03271699001.11110000MB0000001Y.20269999999.001.0"
# Who may see what, for which purpose: everything else must look like MISSING.
VISIBLE = {
    ("bank_key", "bank_ok", MORTGAGE),
    ("bank_operator", "bank_ok", MORTGAGE),
    ("court_key", "court_ok", LITIGATION),
    ("court_officer", "court_ok", LITIGATION),
}
ORG_CALLERS = {"bank_key": MORTGAGE, "bank_operator": MORTGAGE, "court_key": LITIGATION, "court_officer": LITIGATION}


@pytest.fixture
def callers(request, clerk, approver, auditor, bank_operator, court_officer, outsider, bank_key, court_key):
    return {
        "clerk": api(user=clerk),
        "approver": api(user=approver),
        "auditor": api(user=auditor),
        "outsider": api(user=outsider),
        "bank_operator": api(user=bank_operator),
        "court_officer": api(user=court_officer),
        "bank_key": api(bank_key.header),
        "court_key": api(court_key.header),
    }


def _body(response):
    return response.content


@pytest.mark.django_db
def test_it_leaks_nothing_across_the_whole_matrix(callers, licences):
    for caller_name, call in callers.items():
        purpose = ORG_CALLERS.get(caller_name, MORTGAGE)
        for method, template in ENDPOINTS:
            missing = call(method, template.format(id=MISSING), purpose)
            for name in LICENCES:
                licence = getattr(licences, name)
                response = call(method, template.format(id=licence.identifier), purpose)
                where = f"{caller_name} {method} {template} {name}"
                if caller_name not in ORG_CALLERS:
                    assert response.status_code == 403, where
                    assert response.json()["error"]["code"] == "not_an_organisation", where
                    assert _body(response) == _body(missing), where
                elif (caller_name, name, purpose) in VISIBLE:
                    # The bank's policy has no file (L4); everything else is served.
                    if template.endswith("/file") and caller_name.startswith("bank"):
                        assert response.status_code == 403, where
                        assert response.json()["error"]["code"] == "file_not_permitted"
                    else:
                        assert response.status_code in (200, 202), where
                        if template.endswith("/file"):
                            assert b"".join(response.streaming_content).startswith(b"%PDF"), where
                        else:
                            assert licence.identifier in response.content.decode(), where
                else:
                    assert response.status_code == 404, where
                    assert _body(response) == _body(missing), where
                    assert missing.status_code == 404


@pytest.mark.django_db
def test_it_lists_only_licences_with_a_live_grant_for_the_purpose(callers, licences):
    for caller_name, purpose in ORG_CALLERS.items():
        response = callers[caller_name]("get", "/api/v1/licenses/", purpose)
        assert response.status_code == 200
        seen = {item["identifier"] for item in response.json()["results"]}
        expected = {getattr(licences, n).identifier for (c, n, p) in VISIBLE if c == caller_name and p == purpose}
        assert seen == expected, caller_name
    for caller_name in ("clerk", "approver", "auditor", "outsider"):
        assert callers[caller_name]("get", "/api/v1/licenses/", MORTGAGE).status_code == 403


@pytest.mark.django_db
def test_it_never_widens_the_list_through_filters(callers, licences):
    bank = callers["bank_key"]
    for name in LICENCES:
        licence = getattr(licences, name)
        for query in (
            f"certificate_number={licence.certificate_number}",
            f"unit_number={licence.property_unit.unit_number}",
            f"status={licence.status}&kind={licence.kind}",
        ):
            items = bank("get", f"/api/v1/licenses/?{query}", MORTGAGE).json()["results"]
            assert {i["identifier"] for i in items} <= {licences.bank_ok.identifier}, (name, query)
    found = bank("get", f"/api/v1/licenses/?certificate_number={licences.bank_ok.certificate_number}", MORTGAGE)
    assert [i["identifier"] for i in found.json()["results"]] == [licences.bank_ok.identifier]
    assert bank("get", "/api/v1/licenses/?status=DRAFT", MORTGAGE).json()["results"] == []
    bad = bank("get", "/api/v1/licenses/?status=NONSENSE", MORTGAGE)
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "status"


@pytest.mark.django_db
def test_it_requires_a_purpose_header_and_names_it(callers, licences):
    bank = callers["bank_key"]
    url = f"/api/v1/licenses/{licences.bank_ok.identifier}/"
    for response in (bank("get", url), bank("get", "/api/v1/licenses/")):
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "purpose_required"
        assert response.json()["error"]["field"] == "X-Purpose"
    unknown = bank("get", url, "NO_SUCH_PURPOSE")
    assert unknown.status_code == 400 and unknown.json()["error"]["field"] == "X-Purpose"
    # A purpose the bank may not declare at all: 403, the same for every licence.
    assert bank("get", url, LITIGATION).status_code == 403
    assert bank("get", url, LITIGATION).content == bank("get", f"/api/v1/licenses/{MISSING}/", LITIGATION).content
    # A declarable purpose that no grant of this licence covers: 404 like a missing licence.
    wrong = bank("get", url, NOTARISATION)
    assert wrong.status_code == 404
    assert wrong.content == bank("get", f"/api/v1/licenses/{MISSING}/", NOTARISATION).content
    assert bank("get", "/api/v1/licenses/", NOTARISATION).json()["results"] == []


@pytest.mark.django_db
def test_it_stops_access_on_the_next_request_after_revocation(callers, licences, sysadmin):
    from access import services

    bank = callers["bank_key"]
    url = f"/api/v1/licenses/{licences.bank_ok.identifier}/"
    assert bank("get", url, MORTGAGE).status_code == 200
    grant = Authorisation.objects.get(license=licences.bank_ok)
    services.authorisation_revoke(authorisation=grant, actor=sysadmin, by_holder=True, reason="权利人撤回")
    assert bank("get", url, MORTGAGE).status_code == 404
    assert bank("get", "/api/v1/licenses/", MORTGAGE).json()["results"] == []


@pytest.mark.django_db
def test_it_stops_access_when_a_grant_expires_even_with_the_guardian_row_left(callers, licences):
    from django.utils import timezone

    from access.models import LicenseGroupObjectPermission

    bank = callers["bank_key"]
    url = f"/api/v1/licenses/{licences.bank_ok.identifier}/"
    assert bank("get", url, MORTGAGE).status_code == 200
    Authorisation.objects.filter(license=licences.bank_ok).update(valid_until=timezone.now())
    assert LicenseGroupObjectPermission.objects.filter(content_object=licences.bank_ok).exists()
    assert bank("get", url, MORTGAGE).status_code == 404


@pytest.mark.django_db
def test_it_needs_the_guardian_permission_as_well_as_the_grant(callers, licences):
    from access.models import LicenseGroupObjectPermission

    LicenseGroupObjectPermission.objects.filter(content_object=licences.bank_ok).delete()
    assert callers["bank_key"]("get", f"/api/v1/licenses/{licences.bank_ok.identifier}/", MORTGAGE).status_code == 404


@pytest.mark.django_db
def test_it_uses_up_a_consent_one_read_at_a_time(callers, licences, sysadmin, orgs, purposes, clerk):
    from tests.access.conftest import consent, make_valid

    licence = make_valid()
    grant = consent(sysadmin, orgs.bank, licence, [purposes[MORTGAGE]], max_uses=2)
    bank = callers["bank_key"]
    url = f"/api/v1/licenses/{licence.identifier}/"
    assert [bank("get", url, MORTGAGE).status_code for _ in range(3)] == [200, 200, 404]
    grant.refresh_from_db()
    assert grant.uses == 2
    # The list does not consume uses but no longer shows an exhausted grant's licence.
    assert licence.identifier not in {
        i["identifier"] for i in bank("get", "/api/v1/licenses/", MORTGAGE).json()["results"]
    }


@pytest.mark.django_db
def test_it_refuses_a_suspended_organisation(callers, licences, orgs):
    orgs.bank.status = "SUSPENDED"
    orgs.bank.save()
    response = callers["bank_key"]("get", f"/api/v1/licenses/{licences.bank_ok.identifier}/", MORTGAGE)
    assert response.status_code == 401  # its keys stop working with it
    session = callers["bank_operator"]("get", f"/api/v1/licenses/{licences.bank_ok.identifier}/", MORTGAGE)
    assert session.status_code == 403 and session.json()["error"]["code"] == "organisation_suspended"
