import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from licensing import services
from licensing.models import CancellationReason
from licensing.public import mask_certificate_number
from tests.licensing.factories import force_valid, make_draft, make_issued

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_workers(monkeypatch):
    monkeypatch.setattr(services, "_enqueue_signing", lambda license_id: None)
    monkeypatch.setattr(services, "_enqueue_cancelled_rendition", lambda license_id: None)


def test_it_answers_valid_with_public_facts_only(client, clerk):
    license = force_valid(make_issued(clerk))

    response = client.get(f"/v/{license.check_code}")

    assert response.status_code == 200
    page = response.content.decode()
    assert "核验结果（0）：有效" in page
    assert mask_certificate_number(license.certificate_number) in page
    assert license.certificate_number not in page  # the full number is not public
    holder = license.holders.get()
    assert holder.name not in page and holder.id_number_masked not in page
    assert license.property_unit.location not in page
    event = AuditEvent.objects.filter(action="license.verify").latest("seq")
    assert event.license_identifier == license.identifier and event.details["answer"] == 0


def test_it_answers_no_longer_valid_for_a_cancelled_licence(client, clerk):
    license = force_valid(make_issued(clerk))
    services.license_cancel(license=license, actor=clerk, reason=CancellationReason.DESTRUCTION)

    page = client.get(f"/v/{license.check_code}").content.decode()

    assert "核验结果（3）" in page and "已注销" in page


def test_it_answers_not_found_for_unknown_codes_and_drafts(client, clerk):
    draft = make_draft(clerk)
    for code in ("nonexistentcode", draft.check_code):
        response = client.get(f"/v/{code}")
        assert response.status_code == 404
        assert "核验结果（5）" in response.content.decode()
    assert AuditEvent.objects.filter(action="license.verify", result="FAILURE", reason="not found").count() == 2


def test_it_checks_an_uploaded_file_by_its_hash_without_parsing_it(client, clerk):
    license = force_valid(make_issued(clerk))
    ours = license.file.read()

    passed = client.post(f"/v/{license.check_code}", {"file": SimpleUploadedFile("a.pdf", ours)})
    altered = client.post(f"/v/{license.check_code}", {"file": SimpleUploadedFile("b.pdf", ours + b"\n%tampered")})
    not_pdf = client.post(f"/v/{license.check_code}", {"file": SimpleUploadedFile("c.pdf", b"\x00\x01 not a pdf")})

    assert "（0）文件核验通过" in passed.content.decode()
    assert "（2）文件核验未通过" in altered.content.decode()
    assert "（2）文件核验未通过" in not_pdf.content.decode()


def test_it_refuses_an_oversized_upload_with_a_clear_message(client, clerk, settings):
    settings.PUBLIC_CHECK_MAX_UPLOAD_BYTES = 1024
    license = force_valid(make_issued(clerk))

    response = client.post(f"/v/{license.check_code}", {"file": SimpleUploadedFile("big.pdf", b"x" * 2048)})

    assert "文件过大" in response.content.decode()


def test_it_masks_certificate_numbers():
    assert mask_certificate_number("京(2026)朝阳区不动产权第0001234号") == "京(2026)朝阳区不动产权第****234号"
