import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from registry import roles
from registry.models import OrganisationMember, RequestingOrganisation


def _credentials(settings):
    return json.loads((settings.VAR_DIR / "demo-credentials.json").read_text())


@pytest.mark.django_db
def test_it_seeds_a_login_for_every_role_and_writes_the_credentials_file(client, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    call_command("seed_demo", stdout=open("/dev/null", "w"))

    creds = _credentials(settings)
    assert set(creds["users"]) == set(roles.COMMISSION_ROLES)
    assert {o["type"] for o in creds["organisations"]} == {"BANK", "NOTARY", "COURT"}
    for org in creds["organisations"]:
        for key in ("admin", "operator"):
            member = OrganisationMember.objects.get(user__username=org[key]["username"])
            assert member.organisation.name == org["name"]
    assert (settings.VAR_DIR / "demo-credentials.json").stat().st_mode & 0o077 == 0

    clerk = creds["users"]["clerk"]
    # Through the sign-in form: the lockout backend (django-axes) needs the request.
    response = client.post("/admin/login/", {"username": clerk["username"], "password": clerk["password"]})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_it_is_idempotent_and_keeps_the_passwords(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    first = _credentials(settings)
    counts = (get_user_model().objects.count(), RequestingOrganisation.objects.count())

    call_command("seed_demo", stdout=open("/dev/null", "w"))

    assert _credentials(settings) == first
    assert (get_user_model().objects.count(), RequestingOrganisation.objects.count()) == counts
    user = get_user_model().objects.get(username=first["users"]["approver"]["username"])
    assert user.check_password(first["users"]["approver"]["password"])
