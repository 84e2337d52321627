"""The commission's and the organisation administrators' admin pages for keys, grants and users:
writes go through the services, and what a service would refuse is shown on the form, with the
input kept and nothing written."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from guardian.shortcuts import get_perms

from access import permissions
from access.models import ApiKey, Authorisation, StatutoryGrant
from audit.models import AuditEvent
from registry import roles
from registry.models import OrganisationMember
from tests.access.conftest import LITIGATION, MORTGAGE, NOTARISATION, make_valid
from tests.conftest import _make_user
from tests.licensing.factories import make_person

pytestmark = pytest.mark.django_db


def _login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _when(days: int) -> dict:
    """The admin's split date/time widget values for now + `days` (local time)."""
    moment = timezone.localtime(timezone.now() + timedelta(days=days))
    return {"valid_until_0": moment.strftime("%Y-%m-%d"), "valid_until_1": moment.strftime("%H:%M:%S")}


def _consent_form(license, org, holder, purposes, **overrides) -> dict:
    data = {
        "license": license.pk,
        "organisation": org.pk,
        "holder": holder.pk,
        "purposes": [p.pk for p in purposes],
        "fields": ["identifier", "status", "holder_names"],
        "max_uses": 5,
        **_when(30),
    }
    data.update(overrides)
    return data


def test_the_commission_records_a_consent_through_the_admin(sysadmin, orgs, purposes, clerk):
    license = make_valid()
    holder = license.parties.get().holder
    response = _login(sysadmin).post(
        "/admin/access/authorisation/add/", _consent_form(license, orgs.bank, holder, [purposes[MORTGAGE]])
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    grant = Authorisation.objects.get(license=license, organisation=orgs.bank)
    assert grant.fields == ["identifier", "status", "holder_names"] and grant.max_uses == 5
    assert grant.granted_by == sysadmin
    assert "view_license" in get_perms(permissions.organisation_group(orgs.bank), license)
    event = AuditEvent.objects.get(action="access.grant", license_identifier=license.identifier)
    assert event.details["grant_id"] == grant.pk and event.actor == sysadmin


def test_the_consent_form_names_every_problem_and_writes_nothing(sysadmin, orgs, purposes, clerk):
    license = make_valid()
    stranger = make_person("李娜")  # not a party of this licence
    client = _login(sysadmin)
    form = _consent_form(license, orgs.bank, stranger, [purposes[MORTGAGE], purposes[LITIGATION]], **_when(-1))

    response = client.post("/admin/access/authorisation/add/", {**form, "max_uses": 0})
    assert response.status_code == 200  # the form again, not an error page
    assert response.context["adminform"].form.errors == {"max_uses": ["最多使用次数至少为 1"]}

    response = client.post("/admin/access/authorisation/add/", form)  # what the service refuses
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["valid_until"] == ["有效期须晚于当前时间"]
    assert errors["holder"] == ["授权人不是该证照的权利人"]
    assert any("不能用于此类授权" in message for message in errors["purposes"])  # a legal purpose, for consent
    page = response.content.decode()
    assert f'value="{stranger.pk}"' in page and 'value="5"' in page  # the clerk's input is still there
    assert not Authorisation.objects.filter(license=license).exists()
    assert not AuditEvent.objects.filter(action="access.grant").exists()


def test_the_consent_form_refuses_a_purpose_the_organisation_never_declared(sysadmin, orgs, purposes, clerk):
    license = make_valid()
    orgs.bank.purposes.set([purposes[NOTARISATION]])
    form = _consent_form(license, orgs.bank, license.parties.get().holder, [purposes[MORTGAGE]])
    response = _login(sysadmin).post("/admin/access/authorisation/add/", form)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["purposes"] == [f"{orgs.bank} 不得以“抵押贷款审查”事由用证"]
    assert not Authorisation.objects.exists()


def test_the_commission_records_a_statutory_grant_and_is_told_who_may_not_have_one(sysadmin, orgs, purposes, clerk):
    license = make_valid()
    client = _login(sysadmin)
    form = {
        "license": license.pk,
        "organisation": orgs.bank.pk,
        "legal_document_number": "(2026)京0105民初1234号",
        "purposes": [purposes[LITIGATION].pk],
        **_when(10),
    }
    refused = client.post("/admin/access/statutorygrant/add/", form)
    assert refused.status_code == 200
    errors = refused.context["adminform"].form.errors
    assert errors["organisation"] == ["法定依据授权只能授予法院或政府部门"]
    assert not StatutoryGrant.objects.exists()

    accepted = client.post("/admin/access/statutorygrant/add/", {**form, "organisation": orgs.court.pk})
    assert accepted.status_code == 302, accepted.content.decode()[:3000]
    grant = StatutoryGrant.objects.get(license=license)
    assert grant.organisation == orgs.court and grant.legal_document_number == "(2026)京0105民初1234号"
    assert list(grant.purposes.all()) == [purposes[LITIGATION]]


def test_an_organisation_admin_cannot_record_grants(bank_admin, orgs, purposes, clerk):
    license = make_valid()
    form = _consent_form(license, orgs.bank, license.parties.get().holder, [purposes[MORTGAGE]])
    assert _login(bank_admin).post("/admin/access/authorisation/add/", form).status_code == 403
    assert not Authorisation.objects.exists()


def test_the_key_form_refuses_a_past_expiry_on_the_field(bank_admin, bank_operator, orgs):
    past = timezone.localtime(timezone.now() - timedelta(hours=1))
    response = _login(bank_admin).post(
        "/admin/access/apikey/add/",
        {
            "organisation": orgs.bank.pk,
            "user": bank_operator.pk,
            "label": "过期的密钥",
            "expires_at_0": past.strftime("%Y-%m-%d"),
            "expires_at_1": past.strftime("%H:%M:%S"),
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["expires_at"] == ["到期时间须晚于当前时间"]
    assert not ApiKey.objects.exists()


def test_editing_an_organisation_admin_keeps_their_role(bank_admin, orgs, role_groups):
    colleague = _make_user("bank_admin2", roles.ORG_ADMIN, staff=True)
    OrganisationMember.objects.create(user=colleague, organisation=orgs.bank, role=OrganisationMember.Role.ADMIN)
    client = _login(bank_admin)
    url = f"/admin/access/organisationuser/{colleague.pk}/change/"
    form = client.get(url).context["adminform"].form
    assert form["role"].value() == OrganisationMember.Role.ADMIN
    # Post back what the page shows, with only the e-mail address corrected.
    data = {name: form[name].value() for name in ("username", "first_name", "role")}
    data.update(email="admin2@bank.example", is_active="on", password="")
    assert client.post(url, data).status_code == 302
    colleague.refresh_from_db()
    assert colleague.email == "admin2@bank.example" and colleague.is_staff
    assert OrganisationMember.objects.get(user=colleague).role == OrganisationMember.Role.ADMIN
    assert colleague.groups.filter(name=roles.GROUP_NAMES[roles.ORG_ADMIN]).exists()


def test_an_organisation_admin_is_told_they_cannot_deactivate_themselves(bank_admin, orgs):
    client = _login(bank_admin)
    url = f"/admin/access/organisationuser/{bank_admin.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in ("username", "first_name", "role")}
    data.update(email="", password="")  # is_active left unticked
    response = client.post(url, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"is_active": ["不能停用自己的账户"]}
    bank_admin.refresh_from_db()
    assert bank_admin.is_active
