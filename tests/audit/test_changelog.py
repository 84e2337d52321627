"""Change records of licences: written from the state the service locked, not by re-reading it."""

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.context import acting_as
from licensing import services
from licensing.models import License, LicenseStatus
from tests.licensing.factories import force_valid, make_draft, make_issued

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_signing_worker(monkeypatch):
    monkeypatch.setattr(services, "_enqueue_signing", lambda license_id: None)
    monkeypatch.setattr(services, "_enqueue_cancelled_rendition", lambda license_id: None)


def _updates(license):
    return LogEntry.objects.get_for_object(license).filter(action=LogEntry.Action.UPDATE).order_by("pk")


def test_it_records_what_an_issue_changed_without_reading_the_licence_again(clerk):
    draft = make_draft(clerk)
    with acting_as(clerk), CaptureQueriesContext(connection) as queries:
        issued = services.license_issue(license=draft, actor=clerk)
    license_reads = [q["sql"] for q in queries if q["sql"].startswith('SELECT "licensing_license"')]
    assert len(license_reads) == 1, license_reads  # the locking read only

    [entry] = _updates(issued)
    assert entry.changes_dict["status"] == [LicenseStatus.DRAFT, LicenseStatus.PENDING_SIGNATURE]
    assert entry.changes_dict["identifier"][1] == issued.identifier
    assert entry.changes_dict["certificate_number"][1] == issued.certificate_number
    assert "updated_at" not in entry.changes_dict
    assert entry.actor == clerk


def test_it_diffs_against_the_database_state_not_against_a_stale_caller_copy(clerk):
    license = force_valid(make_issued(clerk))
    stale = License.objects.get(pk=license.pk)
    License.objects.filter(pk=license.pk).update(notes="changed behind the caller's back")
    services.license_suspend(license=stale, actor=clerk, note="核查")

    entry = _updates(license).last()
    assert entry.changes_dict["status"] == [LicenseStatus.VALID, LicenseStatus.SUSPENDED]
    assert "notes" not in entry.changes_dict  # the locked row already had the new notes


def test_it_falls_back_to_reading_the_row_for_a_save_outside_the_services(clerk):
    license = make_issued(clerk)
    license.notes = "备注"
    license.save(update_fields=["notes", "updated_at"])

    entry = _updates(license).last()
    assert entry.changes_dict == {"notes": ["", "备注"]}
