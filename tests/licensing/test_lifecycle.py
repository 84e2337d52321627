import re

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError

from audit.models import AuditEvent
from licensing import services
from licensing.models import CancellationReason, CancellationRequest, CoOwnership, License, LicenseStatus, StatusEvent
from registry.models import LicenseKind
from registry.validators import parse_certificate_number, validate_identifier
from tests.concurrency import run_at_once
from tests.licensing.factories import force_valid, make_draft, make_issued, make_person

S = LicenseStatus
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_signing_worker(monkeypatch):
    # These tests are about the services; enqueued signing is exercised with a real worker elsewhere.
    monkeypatch.setattr(services, "_enqueue_signing", lambda license_id: None)
    monkeypatch.setattr(services, "_enqueue_cancelled_rendition", lambda license_id: None)


def _set_status(license, status):
    License.objects.filter(pk=license.pk).update(status=status)  # test setup only
    license.refresh_from_db()
    return license


def _call(action, license, clerk, approver):
    calls = {
        "issue": lambda: services.license_issue(license=license, actor=clerk),
        "cancel": lambda: services.license_cancel(license=license, actor=clerk, reason=CancellationReason.DESTRUCTION),
        "revoke": lambda: services.license_revoke(license=license, actor=approver, note="行政复议决定"),
        "suspend": lambda: services.license_suspend(license=license, actor=clerk, note="异议审查"),
        "reinstate": lambda: services.license_reinstate(license=license, actor=clerk, note="异议不成立"),
        "replace": lambda: services.license_replace(
            license=license, actor=clerk, reason=CancellationReason.REPLACEMENT
        ),
        "transfer": lambda: services.license_transfer(
            license=license, actor=clerk, buyers=[services.Party(make_person("买方"))]
        ),
        "cancel_request": lambda: services.license_cancel_request(license=license, actor=clerk, note="录入错误"),
    }
    return calls[action]()


# Which states each service accepts; everything else must be refused.
ACCEPTED = {
    "issue": {S.DRAFT},
    "cancel": {S.VALID},
    "revoke": {S.VALID},
    "suspend": {S.VALID},
    "reinstate": {S.SUSPENDED},
    "replace": {S.VALID},
    "transfer": {S.VALID},
    "cancel_request": {S.VALID},
}


@pytest.mark.parametrize(
    ("action", "state"),
    [(a, s) for a, ok in ACCEPTED.items() for s in S.values if s not in ok],
)
def test_it_refuses_every_illegal_transition_naming_the_current_state(action, state, clerk, approver):
    license = _set_status(make_draft(clerk), state)
    events_before = (StatusEvent.objects.count(), AuditEvent.objects.count(), License.objects.count())

    with pytest.raises(ValidationError) as excinfo:
        _call(action, license, clerk, approver)

    assert S(state).label in " ".join(excinfo.value.messages)
    license.refresh_from_db()
    assert license.status == state
    assert (StatusEvent.objects.count(), AuditEvent.objects.count(), License.objects.count()) == events_before


def test_it_issues_a_draft_with_a_valid_identifier_and_certificate_number(clerk):
    license = make_issued(clerk)

    assert license.status == S.PENDING_SIGNATURE
    validate_identifier(license.identifier)
    assert license.identifier.startswith("1.2.156.3005.2.11100000MB03271699001.11110000MB0000001Y.")
    assert license.identifier.split(".")[-2] == "001"
    number = parse_certificate_number(license.certificate_number)
    assert re.fullmatch(r"京\(\d{4}\)朝阳区不动产权第\d{7}号", license.certificate_number)
    assert number.serial == license.number_serial == 1
    assert len(license.check_code) >= 20  # >= 100 bits of base32


def test_it_numbers_certifications_separately_from_certificates(clerk):
    first = make_issued(clerk)
    certification = make_issued(clerk, kind=LicenseKind.CERTIFICATION)

    assert "不动产证明第0000001号" in certification.certificate_number
    assert first.number_serial == certification.number_serial == 1
    assert first.certificate_number != certification.certificate_number


def test_it_refuses_to_issue_shares_that_do_not_add_up(clerk):
    a, b = make_person("王芳"), make_person("刘洋")
    with pytest.raises(ValidationError, match="100%"):
        services.license_create_draft(
            actor=clerk,
            kind=LicenseKind.CERTIFICATE,
            license_type=make_draft(clerk).license_type,
            issuer=make_draft(clerk).issuer,
            property_unit=make_draft(clerk).property_unit,
            parties=[services.Party(a, share="50%"), services.Party(b, share="40%")],
            co_ownership=CoOwnership.SHARES,
        )


def test_it_refuses_lifecycle_moves_to_users_without_the_role(outsider, clerk):
    license = make_draft(clerk)
    with pytest.raises(PermissionDenied):
        services.license_issue(license=license, actor=outsider)
    assert License.objects.get(pk=license.pk).status == S.DRAFT


def test_it_cancels_with_a_reason_and_requires_a_note_for_other(clerk):
    license = force_valid(make_issued(clerk))
    with pytest.raises(ValidationError, match="其他"):
        services.license_cancel(license=license, actor=clerk, reason=CancellationReason.OTHER, note=" ")

    services.license_cancel(license=license, actor=clerk, reason=CancellationReason.MORTGAGE_RELEASE)

    license.refresh_from_db()
    assert (license.status, license.status_reason) == (S.CANCELLED, CancellationReason.MORTGAGE_RELEASE)


def test_it_sends_issued_in_error_to_a_second_person(clerk, approver):
    license = force_valid(make_issued(clerk))
    with pytest.raises(ValidationError, match="审批"):
        services.license_cancel(license=license, actor=clerk, reason=CancellationReason.ISSUED_IN_ERROR)

    request = services.license_cancel_request(license=license, actor=clerk, note="权利人姓名录入错误")
    assert License.objects.get(pk=license.pk).status == S.VALID
    with pytest.raises(ValidationError, match="待审批"):
        services.license_cancel_request(license=license, actor=clerk, note="again")

    services.license_cancel_approve(request=request, actor=approver, note="核实无误")

    license.refresh_from_db()
    assert (license.status, license.status_reason) == (S.CANCELLED, CancellationReason.ISSUED_IN_ERROR)
    assert CancellationRequest.objects.get().status == CancellationRequest.Status.APPROVED


def test_it_refuses_approval_by_the_requester_or_by_a_clerk(clerk, approver, django_user_model):
    from django.contrib.auth.models import Group

    from registry.roles import APPROVER, GROUP_NAMES

    license = force_valid(make_issued(clerk))
    # A clerk who is also an approver still may not approve their own request.
    clerk.groups.add(Group.objects.get(name=GROUP_NAMES[APPROVER]))
    clerk = django_user_model.objects.get(pk=clerk.pk)
    request = services.license_cancel_request(license=license, actor=clerk, note="录入错误")

    with pytest.raises(ValidationError, match="申请人以外"):
        services.license_cancel_approve(request=request, actor=clerk)
    other_clerk = django_user_model.objects.create_user("clerk2", password="x")
    with pytest.raises(PermissionDenied):
        services.license_cancel_approve(request=request, actor=other_clerk)

    assert License.objects.get(pk=license.pk).status == S.VALID


def test_it_suspends_and_reinstates(clerk):
    license = force_valid(make_issued(clerk))
    services.license_suspend(license=license, actor=clerk, note="异议登记审查中")
    assert License.objects.get(pk=license.pk).status == S.SUSPENDED
    services.license_reinstate(license=license, actor=clerk, note="异议撤回")
    assert License.objects.get(pk=license.pk).status == S.VALID


def test_it_replaces_a_licence_with_a_new_version_and_cancels_the_old_one(clerk):
    old = force_valid(make_issued(clerk))

    new = services.license_replace(license=old, actor=clerk, reason=CancellationReason.REISSUE, note="遗失补发")

    old.refresh_from_db()
    assert (old.status, old.status_reason) == (S.CANCELLED, CancellationReason.REISSUE)
    assert new.supersedes == old and old.superseded_by == new
    assert new.status == S.PENDING_SIGNATURE
    assert new.serial == old.serial and new.version == old.version + 1
    assert new.identifier.split(".")[-2] == "002"
    validate_identifier(new.identifier)
    assert new.certificate_number != old.certificate_number
    assert list(new.holders.all()) == list(old.holders.all())


def test_it_transfers_by_cancelling_the_sellers_certificate_and_issuing_the_buyers(clerk):
    seller_cert = force_valid(make_issued(clerk))
    buyer = make_person("赵敏")

    buyer_cert = services.license_transfer(license=seller_cert, actor=clerk, buyers=[services.Party(buyer)])

    seller_cert.refresh_from_db()
    assert (seller_cert.status, seller_cert.status_reason) == (S.CANCELLED, CancellationReason.TRANSFER)
    assert list(buyer_cert.holders.all()) == [buyer]
    assert buyer_cert.property_unit == seller_cert.property_unit
    assert buyer_cert.supersedes == seller_cert
    assert buyer_cert.serial != seller_cert.serial


def test_it_rolls_back_a_transfer_that_fails_halfway(clerk, monkeypatch):
    seller_cert = force_valid(make_issued(clerk))
    counts = (License.objects.count(), StatusEvent.objects.count())

    def broken_issue(*args, **kwargs):
        raise RuntimeError("number allocation failed")

    monkeypatch.setattr(services, "_issue_locked", broken_issue)
    with pytest.raises(RuntimeError):
        services.license_transfer(license=seller_cert, actor=clerk, buyers=[services.Party(make_person("买方"))])

    assert License.objects.get(pk=seller_cert.pk).status == S.VALID
    assert (License.objects.count(), StatusEvent.objects.count()) == counts


LIFECYCLE_CALLS = {
    "license.create_draft": lambda clerk, approver, lic: make_draft(clerk),
    "license.issue": lambda clerk, approver, lic: services.license_issue(license=make_draft(clerk), actor=clerk),
    "license.cancel": lambda clerk, approver, lic: services.license_cancel(
        license=lic, actor=clerk, reason=CancellationReason.DESTRUCTION
    ),
    "license.cancel_request": lambda clerk, approver, lic: services.license_cancel_request(
        license=lic, actor=clerk, note="错"
    ),
    "license.revoke": lambda clerk, approver, lic: services.license_revoke(
        license=lic, actor=approver, note="撤销决定"
    ),
    "license.suspend": lambda clerk, approver, lic: services.license_suspend(license=lic, actor=clerk, note="审查"),
    "license.replace": lambda clerk, approver, lic: services.license_replace(
        license=lic, actor=clerk, reason=CancellationReason.REPLACEMENT
    ),
    "license.transfer": lambda clerk, approver, lic: services.license_transfer(
        license=lic, actor=clerk, buyers=[services.Party(make_person("买方"))]
    ),
}


@pytest.mark.parametrize("action", sorted(LIFECYCLE_CALLS))
def test_it_writes_exactly_one_chain_event_per_service_call(action, clerk, approver):
    license = force_valid(make_issued(clerk))
    before = AuditEvent.objects.order_by("-seq").first().seq

    LIFECYCLE_CALLS[action](clerk, approver, license)

    new_events = list(AuditEvent.objects.filter(seq__gt=before))
    assert [e.action for e in new_events if e.action == action] == [action]
    # make_draft in the "issue" case writes its own create_draft event first.
    assert len(new_events) == (2 if action == "license.issue" else 1)


def test_it_records_the_approval_and_reinstatement_as_one_event_each(clerk, approver):
    license = force_valid(make_issued(clerk))
    request = services.license_cancel_request(license=license, actor=clerk, note="错")
    seq = AuditEvent.objects.order_by("-seq").first().seq
    services.license_cancel_approve(request=request, actor=approver)
    assert list(AuditEvent.objects.filter(seq__gt=seq).values_list("action", flat=True)) == ["license.cancel_approve"]

    other = force_valid(make_issued(clerk))
    services.license_suspend(license=other, actor=clerk, note="审查")
    seq = AuditEvent.objects.order_by("-seq").first().seq
    services.license_reinstate(license=other, actor=clerk, note="结束")
    assert list(AuditEvent.objects.filter(seq__gt=seq).values_list("action", flat=True)) == ["license.reinstate"]


def test_it_rolls_the_action_back_when_the_audit_event_cannot_be_written(clerk, monkeypatch):
    license = force_valid(make_issued(clerk))

    def failing_record_event(**kwargs):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(services, "record_event", failing_record_event)
    with pytest.raises(RuntimeError):
        services.license_cancel(license=license, actor=clerk, reason=CancellationReason.DESTRUCTION)

    license.refresh_from_db()
    assert license.status == S.VALID
    assert not StatusEvent.objects.filter(license=license, action="cancel").exists()


@pytest.mark.skipif(not settings.USING_POSTGRES, reason="row-lock concurrency needs PostgreSQL (CI runs it)")
@pytest.mark.django_db(transaction=True)
def test_it_allocates_unique_consecutive_serials_to_parallel_issuers(clerk):
    drafts = [make_draft(clerk) for _ in range(24)]
    # Same district for all: they compete for one counter.

    def issue(chunk):
        for draft in chunk:
            services.license_issue(license=draft, actor=clerk)

    run_at_once(issue, [(drafts[i::6],) for i in range(6)])
    serials = sorted(License.objects.values_list("number_serial", flat=True))
    assert serials == list(range(1, 25))
    assert License.objects.values("certificate_number").distinct().count() == 24
    identifiers = set(License.objects.values_list("identifier", flat=True))
    assert len(identifiers) == 24
