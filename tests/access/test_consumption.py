"""Which consent pays for a read, and that concurrent reads never take more uses than granted."""

import pytest
from django.conf import settings
from django.db import transaction

from access import permissions
from access.models import Authorisation
from tests.access.conftest import MORTGAGE, consent, make_valid
from tests.concurrency import run_at_once


@pytest.mark.django_db
def test_it_takes_the_use_of_the_consent_that_expires_first(sysadmin, orgs, purposes):
    licence = make_valid()
    later = consent(sysadmin, orgs.bank, licence, [purposes[MORTGAGE]], days=60, max_uses=5)
    sooner = consent(sysadmin, orgs.bank, licence, [purposes[MORTGAGE]], days=10, max_uses=1)
    taken = []
    for _ in range(3):
        with transaction.atomic():
            access = permissions.access_for(orgs.bank, purposes[MORTGAGE], licence, consume=True)
        taken.append(access.authorisation_id)
    assert taken == [sooner.pk, later.pk, later.pk]
    assert Authorisation.objects.get(pk=sooner.pk).uses == 1
    assert Authorisation.objects.get(pk=later.pk).uses == 2


@pytest.mark.skipif(not settings.USING_POSTGRES, reason="row-lock concurrency needs PostgreSQL (CI runs it)")
@pytest.mark.django_db(transaction=True)
def test_it_never_lets_concurrent_reads_take_more_uses_than_granted(sysadmin, orgs, purposes):
    licence = make_valid()
    sooner = consent(sysadmin, orgs.bank, licence, [purposes[MORTGAGE]], days=10, max_uses=3)
    later = consent(sysadmin, orgs.bank, licence, [purposes[MORTGAGE]], days=60, max_uses=2)

    def read_twice():
        taken = []
        for _ in range(2):
            with transaction.atomic():
                access = permissions.access_for(orgs.bank, purposes[MORTGAGE], licence, consume=True)
            taken.append(access.authorisation_id if access else None)
        return taken

    results = [r for pair in run_at_once(read_twice, [()] * 8) for r in pair]
    assert len(results) == 16
    assert sorted(r for r in results if r) == sorted([sooner.pk] * 3 + [later.pk] * 2)
    assert [g.uses for g in Authorisation.objects.filter(pk__in=[sooner.pk, later.pk]).order_by("valid_until")] == [
        3,
        2,
    ]
