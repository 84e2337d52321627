"""The licence lifecycle: the only code that changes a licence.

Every public function takes keyword arguments and the acting user as `actor` (None = the system,
e.g. a task), runs in one transaction, locks the licence row, checks the move against
`TRANSITIONS`, saves, writes a `StatusEvent`, and writes exactly one audit chain event in the same
transaction. Background work (signing, watermarked renditions) is enqueued on commit.
"""

import hashlib
import secrets
from base64 import b32encode
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Prefetch, prefetch_related_objects
from django.utils import timezone

from audit.changelog import remember_state
from audit.services import record_event
from licensing import numbering, permissions
from licensing.models import (
    ArchivePackage,
    CancellationReason,
    CancellationRequest,
    CoOwnership,
    License,
    LicenseHolder,
    LicenseStatus,
    StatusEvent,
)
from registry.models import Holder, LicenseKind
from registry.prepared import PreparedRead
from registry.roles import APPROVER, user_has_role

S = LicenseStatus

# action -> {from state: to state}. The single source of legal moves.
TRANSITIONS: dict[str, dict[str, str]] = {
    "issue": {S.DRAFT: S.PENDING_SIGNATURE},
    "sign": {S.PENDING_SIGNATURE: S.VALID},
    "cancel": {S.VALID: S.CANCELLED},
    "revoke": {S.VALID: S.REVOKED},
    "suspend": {S.VALID: S.SUSPENDED},
    "reinstate": {S.SUSPENDED: S.VALID},
}
ACTION_NAMES = {
    "issue": "签发",
    "sign": "签章",
    "cancel": "注销",
    "revoke": "撤销",
    "suspend": "暂停",
    "reinstate": "恢复",
    "cancel_request": "申请注销",
    "replace": "换证/补证",
    "transfer": "转移",
}
# Reasons that belong to a specific service rather than to a plain cancellation.
REASONS_WITH_OWN_SERVICE = {
    CancellationReason.REPLACEMENT: "换证/补证",
    CancellationReason.REISSUE: "换证/补证",
    CancellationReason.TRANSFER: "转移登记",
}


class LicenseStateError(ValidationError):
    """A move that the transition table does not allow from the licence's current state."""


@dataclass(frozen=True)
class Party:
    """A holder (or obligor) to put on a licence, with an optional share for 按份共有."""

    holder: Holder
    role: str = LicenseHolder.Role.HOLDER
    share: str = ""


def _new_check_code() -> str:
    # 120 random bits, base32 without padding: case-insensitive and safe in a URL or a QR code.
    return b32encode(secrets.token_bytes(15)).decode().lower()


_LOCKED = PreparedRead(
    lambda pk: (
        License.objects.select_for_update(of=("self",))
        .select_related("license_type", "issuer", "property_unit__district")
        .filter(pk=pk)
    ),
    "licensing.locked",
)


def _locked(license: License) -> License:
    # Lock only the licence row; the related rows are read along for validation and numbering.
    # The locked state is kept for the change record of the coming save (audit.changelog).
    rows = _LOCKED(pk=license.pk)
    if not rows:
        raise License.DoesNotExist(f"licence {license.pk} does not exist")
    return remember_state(rows[0])


def _check_move(license: License, action: str) -> str:
    target = TRANSITIONS[action].get(license.status)
    if target is None:
        allowed = "、".join(str(S(s).label) for s in TRANSITIONS[action])
        raise LicenseStateError(
            f"无法{ACTION_NAMES[action]}：证照当前状态为「{S(license.status).label}」，只有「{allowed}」状态的证照可以{ACTION_NAMES[action]}",
            code="illegal_transition",
        )
    return target


_STATUS_FIELDS = ("status", "status_changed_at", "status_reason", "status_note", "updated_at")


def _move(
    license: License, *, action: str, actor, reason: str = "", note: str = "", only: tuple[str, ...] = ()
) -> StatusEvent:
    """Apply a legal move to a locked licence and record it in its history.

    `only` names the other fields the caller changed when it knows them all: the UPDATE and its
    change record then cover just those and the status (the signing task, once per licence);
    otherwise every field is saved."""
    target = _check_move(license, action)
    previous = license.status
    license.status = target
    license.status_changed_at = timezone.now()
    if action in ("cancel", "revoke", "suspend"):
        license.status_reason, license.status_note = reason, note
    elif action == "reinstate":
        license.status_reason, license.status_note = "", note
    license.save(update_fields=[*only, *_STATUS_FIELDS] if only else None)
    return StatusEvent.objects.create(
        license=license, action=action, from_status=previous, to_status=target, reason=reason, note=note, actor=actor
    )


def _validate_parties(kind: str, co_ownership: str, parties: list[Party]) -> None:
    holders = [p for p in parties if p.role == LicenseHolder.Role.HOLDER]
    if not holders:
        raise ValidationError({"parties": "至少需要一名权利人"})
    if len({(p.holder.pk, p.role) for p in parties}) != len(parties):
        raise ValidationError({"parties": "同一主体不能以同一角色重复出现"})
    if co_ownership == CoOwnership.SOLE and len(holders) > 1:
        raise ValidationError({"co_ownership": "单独所有只能有一名权利人；多名权利人请选择共同共有或按份共有"})
    if co_ownership == CoOwnership.SHARES:
        if len(holders) < 2:
            raise ValidationError({"co_ownership": "按份共有至少需要两名权利人"})
        total = Decimal(0)
        for p in holders:
            text = p.share.strip().rstrip("%")
            try:
                total += Decimal(text)
            except ArithmeticError:
                raise ValidationError({"parties": f"权利人 {p.holder.name} 的份额「{p.share}」不是百分比"}) from None
        if total != 100:
            raise ValidationError({"parties": f"按份共有的份额合计应为100%，现为{total}%"})
    if kind == LicenseKind.CERTIFICATE and any(p.role == LicenseHolder.Role.OBLIGOR for p in parties):
        raise ValidationError({"parties": "不动产权证书不登记义务人"})


def _validate_issuable(license: License) -> None:
    parties = [Party(p.holder, p.role, p.share) for p in license.parties.select_related("holder")]
    _validate_parties(license.kind, license.co_ownership, parties)
    if license.license_type.kind != license.kind:
        raise ValidationError({"license_type": f"证照类型「{license.license_type.name}」与证照种类不符"})
    if not license.issuer.is_active:
        raise ValidationError({"issuer": f"发证机构「{license.issuer.name}」已停用"})
    if license.kind == LicenseKind.CERTIFICATION:
        if not license.right_or_matter:
            raise ValidationError({"right_or_matter": "不动产登记证明须填写证明权利或事项"})
        if "抵押" in license.right_or_matter and license.secured_amount is None:
            raise ValidationError({"secured_amount": "抵押权登记证明须填写被担保主债权数额"})
    if license.debt_term_start and license.debt_term_end and license.debt_term_end < license.debt_term_start:
        raise ValidationError({"debt_term_end": "债务履行期限止不能早于起始日期"})


def _enqueue_signing(license_id: int) -> None:
    from licensing.tasks import sign_license_task

    transaction.on_commit(lambda: sign_license_task.delay(license_id))


@transaction.atomic
def license_create_draft(
    *,
    actor,
    kind: str,
    license_type,
    issuer,
    property_unit,
    parties: list[Party],
    co_ownership: str = CoOwnership.SOLE,
    notes: str = "",
    right_or_matter: str = "",
    secured_amount: Decimal | None = None,
    debt_term_start=None,
    debt_term_end=None,
    encumbered_certificate_number: str = "",
) -> License:
    permissions.require(actor, "create_draft")
    _validate_parties(kind, co_ownership, parties)
    license = License.objects.create(
        kind=kind,
        license_type=license_type,
        issuer=issuer,
        property_unit=property_unit,
        co_ownership=co_ownership,
        notes=notes,
        right_or_matter=right_or_matter,
        secured_amount=secured_amount,
        debt_term_start=debt_term_start,
        debt_term_end=debt_term_end,
        encumbered_certificate_number=encumbered_certificate_number,
        check_code=_new_check_code(),
        created_by=actor,
    )
    LicenseHolder.objects.bulk_create(
        LicenseHolder(license=license, holder=p.holder, role=p.role, share=p.share, position=i)
        for i, p in enumerate(parties)
    )
    StatusEvent.objects.create(license=license, action="create_draft", to_status=S.DRAFT, actor=actor)
    record_event(action="license.create_draft", actor=actor, target=license)
    return license


DRAFT_FIELDS = (
    "kind",
    "license_type",
    "issuer",
    "property_unit",
    "co_ownership",
    "notes",
    "right_or_matter",
    "secured_amount",
    "debt_term_start",
    "debt_term_end",
    "encumbered_certificate_number",
)


@transaction.atomic
def license_update_draft(*, license: License, actor, parties: list[Party] | None = None, **fields) -> License:
    """Edit a draft's content and parties. Only drafts are editable: an issued licence is fixed."""
    permissions.require(actor, "create_draft")
    unknown = set(fields) - set(DRAFT_FIELDS)
    if unknown:
        raise ValidationError(f"不能修改字段：{', '.join(sorted(unknown))}")
    license = _locked(license)
    if license.status != S.DRAFT:
        raise LicenseStateError(f"只能修改草稿：证照当前状态为「{S(license.status).label}」", code="not_draft")
    for name, value in fields.items():
        setattr(license, name, value)
    if parties is not None:
        _validate_parties(license.kind, license.co_ownership, parties)
        license.parties.all().delete()
        LicenseHolder.objects.bulk_create(
            LicenseHolder(license=license, holder=p.holder, role=p.role, share=p.share, position=i)
            for i, p in enumerate(parties)
        )
    license.save()
    record_event(action="license.update_draft", actor=actor, target=license, details={"fields": sorted(fields)})
    return license


def _assign_numbers(license: License, *, serial: str | None = None, version: int = 1) -> None:
    """Allocate the certificate number and the identifier of a licence being issued."""
    now = timezone.localtime()
    number, number_serial = numbering.allocate_certificate_number(
        kind=license.kind, year=now.year, district=license.property_unit.district
    )
    license.certificate_number, license.number_year, license.number_serial = number, now.year, number_serial
    license.serial = serial or numbering.allocate_identifier_serial(
        license_type=license.license_type, issuer=license.issuer, year=now.year
    )
    license.version = version
    license.identifier = numbering.build_identifier(
        license_type=license.license_type, issuer=license.issuer, serial=license.serial, version=version
    )


def _issue_locked(license: License, *, actor, serial: str | None = None, version: int = 1) -> None:
    _check_move(license, "issue")
    _validate_issuable(license)
    _assign_numbers(license, serial=serial, version=version)
    license.issued_at = timezone.now()
    license.issued_by = actor
    license.signing_error = ""
    _move(license, action="issue", actor=actor)
    _enqueue_signing(license.pk)


@transaction.atomic
def license_issue(*, license: License, actor) -> License:
    """Validate a draft, allocate its numbers and queue it for signing (`PENDING_SIGNATURE`)."""
    permissions.require(actor, "issue")
    license = _locked(license)
    _issue_locked(license, actor=actor)
    record_event(action="license.issue", actor=actor, target=license)
    return license


def lock_for_signing(license_id: int) -> License | None:
    """Lock a licence that awaits its signature, with what rendering reads; None if it does not.

    The row lock is held by the signing task while it renders and signs, so two workers given
    the same licence serialise here and the second finds nothing to do.
    """
    [license] = _LOCKED(pk=license_id) or [None]
    if license is None or license.status != S.PENDING_SIGNATURE:
        return None
    # One query for the parties and their holders (a two-level prefetch would take two).
    prefetch_related_objects([license], Prefetch("parties", queryset=LicenseHolder.objects.select_related("holder")))
    return remember_state(license)


def license_mark_signed(*, license: License, pdf: bytes, signer_fingerprint: str, signed_at, actor=None) -> None:
    """Store the signed file and make the licence VALID.

    `license` comes from `lock_for_signing` in the same transaction (the signing task's).
    """
    assert transaction.get_connection().in_atomic_block, "mark a licence signed inside the locking transaction"
    _check_move(license, "sign")
    digest = hashlib.sha256(pdf).hexdigest()
    license.file.save(f"{license.identifier}.pdf", ContentFile(pdf), save=False)
    license.file_sha256 = digest
    license.signer_fingerprint = signer_fingerprint
    license.signed_at = signed_at
    license.signing_error = ""
    signed_fields = ("file", "file_sha256", "signer_fingerprint", "signed_at", "signing_error")
    _move(license, action="sign", actor=actor, only=signed_fields)
    record_event(action="license.sign", actor=actor, target=license, details={"sha256": digest})


@transaction.atomic
def license_record_signing_error(*, license_id: int, error: str, permanent: bool) -> None:
    """Keep the last signing error on the licence (it stays `PENDING_SIGNATURE`, retryable)."""
    license = License.objects.select_for_update().get(pk=license_id)
    if license.status != S.PENDING_SIGNATURE:
        return
    license.signing_error = error[:2000]
    license.signing_attempts += 1
    license.save(update_fields=["signing_error", "signing_attempts", "updated_at"])
    record_event(
        action="license.sign_failed",
        target=license,
        result="FAILURE",
        reason=error[:500],
        details={"permanent": permanent, "attempt": license.signing_attempts},
    )


def _check_cancellation(reason: str, note: str) -> None:
    if reason not in CancellationReason.values:
        raise ValidationError({"reason": f"未知的注销原因「{reason}」"})
    if reason == CancellationReason.OTHER and not note.strip():
        raise ValidationError({"note": "注销原因为「其他」时必须填写说明"})
    if reason in REASONS_WITH_OWN_SERVICE:
        label, service = CancellationReason(reason).label, REASONS_WITH_OWN_SERVICE[reason]
        raise ValidationError({"reason": f"「{label}」须通过{service}办理，会同时签发新证"})


def _enqueue_cancelled_rendition(license_id: int) -> None:
    from licensing.tasks import render_cancelled_copy_task

    transaction.on_commit(lambda: render_cancelled_copy_task.delay(license_id))


@transaction.atomic
def license_cancel(*, license: License, actor, reason: str, note: str = "") -> License:
    """注销. 'Issued in error' needs a second person: use `license_cancel_request` for it."""
    permissions.require(actor, "cancel")
    _check_cancellation(reason, note)
    if reason == CancellationReason.ISSUED_IN_ERROR:
        raise ValidationError({"reason": "「签发错误」注销须由审核员审批：请提交注销申请"})
    license = _locked(license)
    _move(license, action="cancel", actor=actor, reason=reason, note=note)
    _enqueue_cancelled_rendition(license.pk)
    record_event(action="license.cancel", actor=actor, target=license, reason=reason, details={"note": note})
    return license


@transaction.atomic
def license_cancel_request(*, license: License, actor, note: str, reason: str = CancellationReason.ISSUED_IN_ERROR):
    """Ask an approver to cancel a licence issued in error (the two-person rule)."""
    permissions.require(actor, "cancel_request")
    if not note.strip():
        raise ValidationError({"note": "请说明签发错误的情况"})
    license = _locked(license)
    _check_move(license, "cancel")
    if CancellationRequest.objects.filter(license=license, status=CancellationRequest.Status.PENDING).exists():
        raise ValidationError(f"证照 {license.certificate_number} 已有待审批的注销申请")
    request = CancellationRequest.objects.create(license=license, reason=reason, note=note, requested_by=actor)
    record_event(action="license.cancel_request", actor=actor, target=license, reason=reason, details={"note": note})
    return request


def _locked_pending_request(request: CancellationRequest, actor) -> CancellationRequest:
    request = CancellationRequest.objects.select_for_update().select_related("license").get(pk=request.pk)
    if request.status != CancellationRequest.Status.PENDING:
        raise ValidationError(f"该注销申请已处理（{request.get_status_display()}）")
    if actor is None or actor.pk == request.requested_by_id:
        raise ValidationError("注销申请须由申请人以外的审核员审批")
    if not user_has_role(actor, APPROVER):
        raise ValidationError("只有审核员可以审批注销申请")
    return request


@transaction.atomic
def license_cancel_approve(*, request: CancellationRequest, actor, note: str = "") -> License:
    """The second person approves: the licence is cancelled in the same transaction."""
    permissions.require(actor, "cancel_approve")
    request = _locked_pending_request(request, actor)
    license = _locked(request.license)
    _move(license, action="cancel", actor=actor, reason=request.reason, note=request.note)
    request.status = CancellationRequest.Status.APPROVED
    request.decided_by, request.decided_at, request.decision_note = actor, timezone.now(), note
    request.save()
    _enqueue_cancelled_rendition(license.pk)
    record_event(
        action="license.cancel_approve",
        actor=actor,
        target=license,
        reason=request.reason,
        details={"request_id": request.pk, "requested_by": request.requested_by.get_username(), "note": note},
    )
    return license


@transaction.atomic
def license_cancel_reject(*, request: CancellationRequest, actor, note: str) -> CancellationRequest:
    permissions.require(actor, "cancel_approve")
    if not note.strip():
        raise ValidationError({"note": "驳回须填写审批意见"})
    request = _locked_pending_request(request, actor)
    request.status = CancellationRequest.Status.REJECTED
    request.decided_by, request.decided_at, request.decision_note = actor, timezone.now(), note
    request.save()
    record_event(
        action="license.cancel_reject",
        actor=actor,
        target=request.license,
        reason=request.reason,
        details={"request_id": request.pk, "note": note},
    )
    return request


def _simple_move(action: str, audit_action: str, *, license: License, actor, note: str, reason: str = "") -> License:
    permissions.require(actor, action)
    if not note.strip():
        raise ValidationError({"note": f"{ACTION_NAMES[action]}须填写说明（依据、文号等）"})
    license = _locked(license)
    _move(license, action=action, actor=actor, reason=reason, note=note)
    record_event(action=audit_action, actor=actor, target=license, reason=reason, details={"note": note})
    return license


@transaction.atomic
def license_revoke(*, license: License, actor, note: str, reason: str = CancellationReason.COURT_RULING) -> License:
    """撤销: the licence is withdrawn (e.g. registration annulled). Final."""
    return _simple_move("revoke", "license.revoke", license=license, actor=actor, note=note, reason=reason)


@transaction.atomic
def license_suspend(*, license: License, actor, note: str) -> License:
    """暂时失效, e.g. while a dispute is examined; `license_reinstate` undoes it."""
    return _simple_move("suspend", "license.suspend", license=license, actor=actor, note=note)


@transaction.atomic
def license_reinstate(*, license: License, actor, note: str) -> License:
    return _simple_move("reinstate", "license.reinstate", license=license, actor=actor, note=note)


def _copy_as_draft(old: License, *, actor, parties: list[Party], co_ownership: str, **changes) -> License:
    fields = {
        "kind": old.kind,
        "license_type": old.license_type,
        "issuer": old.issuer,
        "property_unit": old.property_unit,
        "co_ownership": co_ownership,
        "notes": old.notes,
        "right_or_matter": old.right_or_matter,
        "secured_amount": old.secured_amount,
        "debt_term_start": old.debt_term_start,
        "debt_term_end": old.debt_term_end,
        "encumbered_certificate_number": old.encumbered_certificate_number,
    }
    fields.update(changes)
    _validate_parties(fields["kind"], co_ownership, parties)
    new = License.objects.create(**fields, check_code=_new_check_code(), created_by=actor, supersedes=old)
    LicenseHolder.objects.bulk_create(
        LicenseHolder(license=new, holder=p.holder, role=p.role, share=p.share, position=i)
        for i, p in enumerate(parties)
    )
    StatusEvent.objects.create(license=new, action="create_draft", to_status=S.DRAFT, actor=actor)
    return new


def _current_parties(license: License) -> list[Party]:
    return [Party(p.holder, p.role, p.share) for p in license.parties.select_related("holder").order_by("position")]


@transaction.atomic
def license_replace(*, license: License, actor, reason: str, note: str = "", notes: str | None = None) -> License:
    """换证 / 补证: a new version of the licence is issued and the old one cancelled, linked old → new.

    The new licence keeps the identifier's serial with the next version number and gets a new
    certificate number; both happen in this one transaction.
    """
    permissions.require(actor, "replace")
    if reason not in (CancellationReason.REPLACEMENT, CancellationReason.REISSUE):
        raise ValidationError({"reason": "换证/补证的原因只能是「换证」或「补证」"})
    old = _locked(license)
    _check_move(old, "cancel")
    changes = {} if notes is None else {"notes": notes}
    new = _copy_as_draft(old, actor=actor, parties=_current_parties(old), co_ownership=old.co_ownership, **changes)
    _move(old, action="cancel", actor=actor, reason=reason, note=note or f"由 {new.pk} 号新证取代")
    _issue_locked(new, actor=actor, serial=old.serial, version=old.version + 1)
    _enqueue_cancelled_rendition(old.pk)
    # One event for the whole move, on the new licence (its timeline starts here); it names the old one.
    record_event(
        action="license.replace",
        actor=actor,
        target=new,
        reason=reason,
        details={"supersedes": old.identifier, "supersedes_number": old.certificate_number, "note": note},
    )
    return new


@transaction.atomic
def license_transfer(
    *, license: License, actor, buyers: list[Party], co_ownership: str = CoOwnership.SOLE, note: str = ""
) -> License:
    """转移: the seller's certificate is cancelled and the buyer's issued, in one transaction."""
    permissions.require(actor, "transfer")
    old = _locked(license)
    if old.kind != LicenseKind.CERTIFICATE:
        raise ValidationError("只有不动产权证书可以办理转移")
    _check_move(old, "cancel")
    new = _copy_as_draft(old, actor=actor, parties=buyers, co_ownership=co_ownership, notes="")
    _move(old, action="cancel", actor=actor, reason=CancellationReason.TRANSFER, note=note)
    _issue_locked(new, actor=actor)
    _enqueue_cancelled_rendition(old.pk)
    record_event(
        action="license.transfer",
        actor=actor,
        target=new,
        reason=CancellationReason.TRANSFER,
        details={"supersedes": old.identifier, "supersedes_number": old.certificate_number, "note": note},
    )
    return new


@transaction.atomic
def license_file(*, license: License, actor) -> ArchivePackage:
    """归档: package the signed licence with its metadata, validation material and manifest.

    Once per status the licence reaches with a signed file; the package is never changed.
    """
    from licensing.archiving import build_package  # pyHanko validation: load only when filing

    permissions.require(actor, "file")
    license = _locked(license)
    if not license.file:
        raise LicenseStateError(
            f"无法归档：证照当前状态为「{S(license.status).label}」，尚无签章文件", code="not_signed"
        )
    if license.archives.filter(status_at_filing=license.status).exists():
        raise ValidationError(f"证照 {license.certificate_number} 已按「{S(license.status).label}」状态归档")
    year = timezone.localtime().year
    archive_number = f"BJGZ-DZZZ-{year}-{numbering.next_value(f'archive:{year}'):07d}"
    data, manifest = build_package(license, archive_number)
    package = ArchivePackage(
        license=license,
        archive_number=archive_number,
        status_at_filing=license.status,
        package_sha256=hashlib.sha256(data).hexdigest(),
        manifest=manifest,
        filed_by=actor,
    )
    package.package.save(f"{archive_number}.zip", ContentFile(data), save=False)
    package.save()
    record_event(
        action="license.file",
        actor=actor,
        target=license,
        details={"archive_number": archive_number, "sha256": package.package_sha256},
    )
    return package
