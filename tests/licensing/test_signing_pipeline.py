"""The signing pipeline end to end: issue → real worker → signed, validated PDF → VALID."""

import hashlib
import io
import json
import subprocess
import tempfile
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.utils import timezone

from audit.models import AuditEvent
from licensing import services, tasks
from licensing.models import CancellationReason, CoOwnership, License, LicenseStatus, StatusEvent
from licensing.validation import validate_pdf
from registry.models import LicenseKind
from tests.concurrency import run_at_once
from tests.licensing.factories import make_draft, make_issued, make_person

S = LicenseStatus
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def dev_pki():
    call_command("init_dev_pki", stdout=io.StringIO())


@pytest.fixture
def no_enqueue(monkeypatch):
    monkeypatch.setattr(services, "_enqueue_signing", lambda license_id: None)
    monkeypatch.setattr(services, "_enqueue_cancelled_rendition", lambda license_id: None)


def _wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def _pdf_tool(tool: str, data: bytes, *args: str) -> str:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as fh:
        fh.write(data)
        fh.flush()
        result = subprocess.run(
            [tool, *args, fh.name, *(["-"] if tool == "pdftotext" else [])], capture_output=True, text=True, timeout=60
        )
    return result.stdout + result.stderr


def test_it_signs_an_issued_licence_through_a_real_worker(dev_pki, celery_worker, clerk):
    holders = [make_person("张伟"), make_person("王芳")]
    draft = make_draft(clerk, holders=holders, co_ownership=CoOwnership.JOINT)

    license = services.license_issue(license=draft, actor=clerk)

    assert _wait_for(lambda: License.objects.get(pk=license.pk).status == S.VALID), License.objects.get(
        pk=license.pk
    ).signing_error
    license.refresh_from_db()
    data = license.file.read()
    assert hashlib.sha256(data).hexdigest() == license.file_sha256
    assert license.signed_at is not None and len(license.signer_fingerprint) == 64

    validation = validate_pdf(data)
    assert (validation.intact, validation.trusted, validation.timestamp_ok) == (True, True, True), validation.problems
    assert validation.signer_fingerprint == license.signer_fingerprint

    pdfsig = _pdf_tool("pdfsig", data)
    assert "Signature is Valid" in pdfsig
    assert "Total document signed" in pdfsig

    text = _pdf_tool("pdftotext", data)
    for expected in ("张伟", "王芳", license.property_unit.unit_number, license.certificate_number, license.identifier):
        assert expected in text.replace("\n", ""), expected

    # A redelivered task finds the licence VALID and does nothing.
    assert tasks.sign_license_task.apply(args=[license.pk]).get() == "noop"
    assert AuditEvent.objects.filter(action="license.sign", license_identifier=license.identifier).count() == 1
    assert StatusEvent.objects.filter(license=license, action="sign").count() == 1
    license.refresh_from_db()
    assert license.file_sha256 == hashlib.sha256(data).hexdigest()


def test_it_signs_a_certification_with_its_obligors(dev_pki, clerk, no_enqueue):
    license = make_issued(clerk, kind=LicenseKind.CERTIFICATION)

    assert tasks.sign_license_task.apply(args=[license.pk]).get() == "signed"

    license.refresh_from_db()
    text = _pdf_tool("pdftotext", license.file.read())
    assert "不动产登记证明" in text
    assert "李强" in text  # the obligor
    assert "抵押权" in text


@pytest.mark.skipif(not settings.USING_POSTGRES, reason="two workers at once need PostgreSQL row locks (CI runs it)")
def test_it_leaves_one_file_and_one_event_when_two_workers_sign_at_once(dev_pki, clerk, no_enqueue):
    license = make_issued(clerk)
    results = run_at_once(lambda: tasks.sign_license_task.apply(args=[license.pk]).get(), [(), ()])

    assert sorted(results) == ["noop", "signed"]
    assert AuditEvent.objects.filter(action="license.sign").count() == 1
    assert StatusEvent.objects.filter(license=license, action="sign").count() == 1


def test_it_records_a_permanent_error_and_keeps_the_licence_pending(dev_pki, clerk, no_enqueue, monkeypatch):
    license = make_issued(clerk)

    def broken_render(*args, **kwargs):
        raise ValueError("layout overflow in 坐落")

    monkeypatch.setattr(tasks, "render_license_pdf", broken_render)
    assert tasks.sign_license_task.apply(args=[license.pk]).get() == "failed"

    license.refresh_from_db()
    assert license.status == S.PENDING_SIGNATURE
    assert "layout overflow" in license.signing_error
    assert not license.file
    assert AuditEvent.objects.filter(action="license.sign_failed", result="FAILURE").count() == 1


def test_it_retries_transient_errors_then_records_them(dev_pki, clerk, no_enqueue, monkeypatch):
    license = make_issued(clerk)
    calls = []

    def flaky_sign(pdf):
        calls.append(1)
        raise ConnectionError("TSA unreachable")

    monkeypatch.setattr(tasks, "sign_pdf", flaky_sign)
    tasks.sign_license_task.apply(args=[license.pk])

    license.refresh_from_db()
    assert len(calls) == tasks.MAX_SIGNING_RETRIES + 1
    assert license.status == S.PENDING_SIGNATURE
    assert license.signing_attempts == tasks.MAX_SIGNING_RETRIES + 1
    assert "TSA unreachable" in license.signing_error

    # Once the TSA is back, a retry succeeds.
    monkeypatch.undo()
    monkeypatch.setattr(services, "_enqueue_cancelled_rendition", lambda license_id: None)
    assert tasks.sign_license_task.apply(args=[license.pk]).get() == "signed"
    license.refresh_from_db()
    assert license.status == S.VALID and license.signing_error == ""


def test_the_reconciler_re_enqueues_only_stale_pending_licences(clerk, no_enqueue, monkeypatch):
    stale, fresh = make_issued(clerk), make_issued(clerk)
    License.objects.filter(pk=stale.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    enqueued = []
    monkeypatch.setattr(tasks.sign_license_task, "delay", lambda license_id: enqueued.append(license_id))

    assert tasks.reconcile_pending_signatures() == 1

    assert enqueued == [stale.pk]
    assert fresh.pk not in enqueued


def test_it_renders_a_watermarked_copy_of_a_cancelled_licence_and_keeps_the_original(dev_pki, clerk, no_enqueue):
    license = make_issued(clerk)
    tasks.sign_license_task.apply(args=[license.pk])
    license.refresh_from_db()
    original_sha = license.file_sha256
    services.license_cancel(license=license, actor=clerk, reason=CancellationReason.DESTRUCTION)

    assert tasks.render_cancelled_copy_task.apply(args=[license.pk]).get() == "rendered"
    assert tasks.render_cancelled_copy_task.apply(args=[license.pk]).get() == "noop"

    license.refresh_from_db()
    assert license.file_sha256 == original_sha == hashlib.sha256(license.file.read()).hexdigest()
    copy = license.cancelled_file.read()
    assert "已注销" in _pdf_tool("pdftotext", copy)
    assert validate_pdf(copy).intact


@pytest.fixture
def archivist(role_groups, django_user_model):
    from django.contrib.auth.models import Group

    from registry.roles import ARCHIVIST, GROUP_NAMES

    user = django_user_model.objects.create_user("archivist", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name=GROUP_NAMES[ARCHIVIST]))
    return user


def test_it_files_a_signed_licence_as_a_verifiable_package(dev_pki, clerk, archivist, no_enqueue):
    import zipfile

    license = make_issued(clerk)
    with pytest.raises(services.LicenseStateError, match="尚无签章文件"):
        services.license_file(license=license, actor=archivist)
    tasks.sign_license_task.apply(args=[license.pk])

    package = services.license_file(license=license, actor=archivist)

    data = package.package.read()
    assert hashlib.sha256(data).hexdigest() == package.package_sha256
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = set(archive.namelist())
        assert {"license.pdf", "metadata.json", "validation.json", "manifest-sha256.txt"} <= names
        for line in archive.read("manifest-sha256.txt").decode().splitlines():
            digest, name = line.split("  ")
            assert hashlib.sha256(archive.read(name)).hexdigest() == digest
        validation = json.loads(archive.read("validation.json"))
        metadata = json.loads(archive.read("metadata.json"))
    assert validation["intact"] and validation["trusted"]
    assert metadata["identifier"] == license.identifier and metadata["retention"] == "永久"
    holder = license.holders.get()
    assert holder.id_number_masked in json.dumps(metadata, ensure_ascii=False)
    assert AuditEvent.objects.filter(action="license.file", license_identifier=license.identifier).count() == 1

    with pytest.raises(ValidationError, match="已按"):
        services.license_file(license=license, actor=archivist)
    with pytest.raises(PermissionDenied):
        services.license_file(license=license, actor=clerk)
    services.license_cancel(license=license, actor=clerk, reason=CancellationReason.DESTRUCTION)
    assert services.license_file(license=license, actor=archivist).status_at_filing == S.CANCELLED
