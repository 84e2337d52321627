"""The access demo seeder: one working key per demo organisation, kept across re-runs, and a
different set of grants per organisation with some revoked or expired."""

import io

import pytest
from django.utils import timezone

from access import services
from access.demo import seed
from access.models import Authorisation, StatutoryGrant
from registry import demo as registry_demo
from tests.access.conftest import make_valid


@pytest.mark.django_db
def test_it_seeds_keys_and_grants_and_keeps_the_keys_on_a_rerun():
    credentials = registry_demo.seed({})
    out = io.StringIO()
    seed(credentials=credentials, previous={}, stdout=out)
    assert "no issued licences" in out.getvalue()
    keys = {org["name"]: org["api_key"] for org in credentials["organisations"]}
    assert len(keys) == 3
    assert all(services.api_key_verify(k).organisation.name == name for name, k in keys.items())

    for _ in range(12):
        make_valid()
    again = registry_demo.seed({})
    seed(credentials=again, previous=credentials, stdout=io.StringIO())
    assert {org["name"]: org["api_key"] for org in again["organisations"]} == keys
    per_org = {}
    for grant in [*Authorisation.objects.all(), *StatutoryGrant.objects.all()]:
        per_org.setdefault(grant.organisation.name, set()).add(grant.license_id)
    assert len(per_org) == 3 and len({frozenset(s) for s in per_org.values()}) == 3
    now = timezone.now()
    assert Authorisation.objects.filter(revoked_at__isnull=False).exists()
    assert Authorisation.objects.filter(valid_until__lt=now).exists()
    assert StatutoryGrant.objects.filter(organisation__org_type="COURT").exists()
    count = Authorisation.objects.count() + StatutoryGrant.objects.count()
    seed(credentials=again, previous=again, stdout=io.StringIO())
    assert Authorisation.objects.count() + StatutoryGrant.objects.count() == count
