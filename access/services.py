"""Writes of the access app: grants, revocations, API keys, annotated-copy requests.

Each function takes keyword arguments and an `actor`, runs in one transaction, locks what it
changes, and writes exactly one audit chain event (`access.grant` / `access.revoke`) in that
transaction, so a grant never exists without its record. Errors a user can cause are
`ValidationError`s keyed by field; a caller without the right gets `PermissionDenied`.
"""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from access import permissions
from access.models import AnnotatedCopy, ApiKey, Authorisation, StatutoryGrant
from access.policy import FIELDS, validate_field_names
from audit.services import record_event
from licensing.models import License, LicenseHolder, LicenseStatus
from registry.models import OrganisationMember, OrganisationType, Purpose, RequestingOrganisation

STATUTORY_ORG_TYPES = {OrganisationType.COURT, OrganisationType.GOVERNMENT}


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise PermissionDenied(message)


class _Problems:
    """Every problem found with a request, by field, raised together: a clerk who made two
    mistakes is told of both at once."""

    def __init__(self):
        self.by_field: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.by_field.setdefault(field, []).append(message)

    def raise_any(self) -> None:
        if self.by_field:
            raise ValidationError(self.by_field)


def _check_purposes(problems: _Problems, purposes, organisation, basis: str) -> list[Purpose]:
    purposes = list(purposes or [])
    if not purposes:
        problems.add("purposes", "至少选择一个用证事由")
    declared = set(organisation.purposes.values_list("pk", flat=True))
    for p in purposes:
        if p.basis != basis:
            problems.add("purposes", f"事由“{p.name}”的依据是{p.get_basis_display()}，不能用于此类授权")
        elif p.pk not in declared:
            problems.add("purposes", f"{organisation} 不得以“{p.name}”事由用证")
    return purposes


def _check_common(problems: _Problems, *, license, organisation, valid_until, now=None) -> None:
    now = now or timezone.now()
    if organisation.status != RequestingOrganisation.Status.ACTIVE:
        problems.add("organisation", f"{organisation} 已暂停，不能授予用证权限")
    if not license.identifier:
        problems.add("license", "证照尚未签发，不能授权")
    if valid_until is None or valid_until <= now:
        problems.add("valid_until", "有效期须晚于当前时间")


def _check_authorisation_grant(
    *, license, organisation, holder, purposes, valid_until, max_uses, fields=None, now=None
) -> tuple[list[str], list[Purpose]]:
    """Every reason this consent cannot be recorded, as one ValidationError keyed by field; else
    the field names and purposes to record."""
    problems = _Problems()
    _check_common(problems, license=license, organisation=organisation, valid_until=valid_until, now=now)
    if license.identifier and license.status != LicenseStatus.VALID:
        problems.add("license", f"证照状态为{license.get_status_display()}，不能授权")
    if not LicenseHolder.objects.filter(license=license, holder=holder, role=LicenseHolder.Role.HOLDER).exists():
        problems.add("holder", "授权人不是该证照的权利人")
    if max_uses is None or int(max_uses) < 1:
        problems.add("max_uses", "最多使用次数至少为 1")
    field_names = []
    try:
        field_names = validate_field_names(FIELDS if fields is None else fields)
    except ValueError as exc:
        problems.add("fields", str(exc))
    purposes = _check_purposes(problems, purposes, organisation, Purpose.Basis.CONSENT)
    problems.raise_any()
    return field_names, purposes


@transaction.atomic
def authorisation_grant(
    *, license, organisation, holder, purposes, valid_until, max_uses, fields=None, actor
) -> Authorisation:
    """Record a holder's consent for `organisation` to use `license`."""
    _require(permissions.can_manage_grants(actor), "只有登记机构系统管理员可以登记权利人授权")
    license = License.objects.select_for_update().get(pk=license.pk)
    field_names, purposes = _check_authorisation_grant(
        license=license,
        organisation=organisation,
        holder=holder,
        purposes=purposes,
        valid_until=valid_until,
        max_uses=max_uses,
        fields=fields,
    )
    grant = Authorisation.objects.create(
        license=license,
        organisation=organisation,
        holder=holder,
        fields=field_names,
        valid_until=valid_until,
        max_uses=int(max_uses),
        granted_by=actor,
    )
    grant.purposes.set(purposes)
    permissions.give_view(organisation, license)
    record_event(
        action="access.grant",
        actor=actor,
        target=license,
        organisation=organisation,
        details={
            "grant": "authorisation",
            "grant_id": grant.pk,
            "holder": str(holder.pk),
            "purposes": [p.code for p in purposes],
            "fields": field_names,
            "valid_until": valid_until.isoformat(),
            "max_uses": grant.max_uses,
        },
    )
    return grant


@transaction.atomic
def authorisation_revoke(*, authorisation, actor, by_holder: bool = False, reason: str = "") -> Authorisation:
    """Withdraw a consent: the holder (recorded by the commission on their request) or the
    commission itself. Effective on the organisation's next request."""
    _require(permissions.can_manage_grants(actor), "只有登记机构系统管理员可以撤回权利人授权")
    grant = Authorisation.objects.select_for_update().select_related("license", "organisation").get(pk=authorisation.pk)
    if grant.revoked_at is not None:
        raise ValidationError({"authorisation": "该授权已撤回"})
    grant.revoked_at = timezone.now()
    grant.revoked_by = actor
    grant.revocation_source = Authorisation.RevokedBy.HOLDER if by_holder else Authorisation.RevokedBy.COMMISSION
    grant.revocation_reason = reason
    grant.save(update_fields=["revoked_at", "revoked_by", "revocation_source", "revocation_reason"])
    permissions.take_view_if_unused(grant.organisation, grant.license)
    record_event(
        action="access.revoke",
        actor=actor,
        target=grant.license,
        organisation=grant.organisation,
        reason=reason,
        details={"grant": "authorisation", "grant_id": grant.pk, "source": grant.revocation_source},
    )
    return grant


def _check_statutory_access_grant(
    *, license, organisation, legal_document_number, purposes, valid_until, now=None
) -> tuple[str, list[Purpose]]:
    """Every reason this statutory grant cannot be recorded (one ValidationError keyed by
    field); else the cleaned document number and the purposes."""
    problems = _Problems()
    _check_common(problems, license=license, organisation=organisation, valid_until=valid_until, now=now)
    if organisation.org_type not in STATUTORY_ORG_TYPES:
        problems.add("organisation", "法定依据授权只能授予法院或政府部门")
    legal_document_number = (legal_document_number or "").strip()
    if not legal_document_number:
        problems.add("legal_document_number", "须填写法律文书编号")
    purposes = _check_purposes(problems, purposes, organisation, Purpose.Basis.LEGAL)
    problems.raise_any()
    return legal_document_number, purposes


@transaction.atomic
def statutory_access_grant(
    *, license, organisation, legal_document_number, purposes, valid_until, actor
) -> StatutoryGrant:
    """Record access on a statutory basis for a court or government department."""
    _require(permissions.can_manage_grants(actor), "只有登记机构系统管理员可以登记法定依据授权")
    license = License.objects.select_for_update().get(pk=license.pk)
    legal_document_number, purposes = _check_statutory_access_grant(
        license=license,
        organisation=organisation,
        legal_document_number=legal_document_number,
        purposes=purposes,
        valid_until=valid_until,
    )
    grant = StatutoryGrant.objects.create(
        license=license,
        organisation=organisation,
        legal_document_number=legal_document_number,
        valid_until=valid_until,
        granted_by=actor,
    )
    grant.purposes.set(purposes)
    permissions.give_view(organisation, license)
    record_event(
        action="access.grant",
        actor=actor,
        target=license,
        organisation=organisation,
        details={
            "grant": "statutory",
            "grant_id": grant.pk,
            "legal_document_number": legal_document_number,
            "purposes": [p.code for p in purposes],
            "valid_until": valid_until.isoformat(),
        },
    )
    return grant


@transaction.atomic
def statutory_access_revoke(*, grant, actor, reason: str = "") -> StatutoryGrant:
    _require(permissions.can_manage_grants(actor), "只有登记机构系统管理员可以撤销法定依据授权")
    grant = StatutoryGrant.objects.select_for_update().select_related("license", "organisation").get(pk=grant.pk)
    if grant.revoked_at is not None:
        raise ValidationError({"grant": "该授权已撤销"})
    grant.revoked_at = timezone.now()
    grant.revoked_by = actor
    grant.revocation_reason = reason
    grant.save(update_fields=["revoked_at", "revoked_by", "revocation_reason"])
    permissions.take_view_if_unused(grant.organisation, grant.license)
    record_event(
        action="access.revoke",
        actor=actor,
        target=grant.license,
        organisation=grant.organisation,
        reason=reason,
        details={"grant": "statutory", "grant_id": grant.pk},
    )
    return grant


# --- API keys ---------------------------------------------------------------------------------
KEY_SEPARATOR = "."


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def split_key(plaintext: str) -> tuple[str, str] | None:
    prefix, sep, secret = (plaintext or "").strip().partition(KEY_SEPARATOR)
    if not sep or not prefix or not secret or len(prefix) > 16:
        return None
    return prefix, secret


def api_key_verify(plaintext: str) -> ApiKey | None:
    """The usable key `plaintext` names, or None (unknown, wrong secret, expired, revoked)."""
    parts = split_key(plaintext)
    if parts is None:
        return None
    key = ApiKey.objects.select_related("user", "organisation").filter(prefix=parts[0]).first()
    if key is None or not hmac.compare_digest(key.key_hash, hash_secret(parts[1])):
        return None
    return key if permissions.api_key_usable(key) else None


def _check_api_key_issue(*, organisation, user, label, expires_at=None) -> str:
    """Every reason this key cannot be issued (one ValidationError keyed by field); else the
    cleaned label."""
    problems = _Problems()
    label = (label or "").strip()
    if not label:
        problems.add("label", "须填写密钥名称")
    if not OrganisationMember.objects.filter(user=user, organisation=organisation).exists():
        problems.add("user", f"使用人须是 {organisation} 的机构人员")
    if expires_at is not None and expires_at <= timezone.now():
        problems.add("expires_at", "到期时间须晚于当前时间")
    problems.raise_any()
    return label


@transaction.atomic
def api_key_issue(*, organisation, user, label, expires_at=None, actor) -> tuple[ApiKey, str]:
    """Issue a key; returns it with its plaintext, which exists only in this return value."""
    _require(permissions.can_manage_organisation(actor, organisation), f"无权为 {organisation} 签发接口密钥")
    label = _check_api_key_issue(organisation=organisation, user=user, label=label, expires_at=expires_at)
    prefix = secrets.token_hex(4)
    while ApiKey.objects.filter(prefix=prefix).exists():
        prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        organisation=organisation,
        user=user,
        label=label,
        prefix=prefix,
        key_hash=hash_secret(secret),
        created_by=actor,
        expires_at=expires_at,
    )
    record_event(
        action="access.grant",
        actor=actor,
        target=key,
        organisation=organisation,
        api_key=key,
        details={"grant": "api_key", "prefix": prefix, "label": label, "user": user.get_username()},
    )
    return key, f"{prefix}{KEY_SEPARATOR}{secret}"


@transaction.atomic
def api_key_revoke(*, api_key, actor, reason: str = "") -> ApiKey:
    key = ApiKey.objects.select_for_update().select_related("organisation").get(pk=api_key.pk)
    _require(permissions.can_manage_organisation(actor, key.organisation), f"无权吊销 {key.organisation} 的接口密钥")
    if key.revoked_at is not None:
        raise ValidationError({"api_key": "该密钥已吊销"})
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked_at"])
    record_event(
        action="access.revoke",
        actor=actor,
        target=key,
        organisation=key.organisation,
        api_key=key,
        reason=reason,
        details={"grant": "api_key", "prefix": key.prefix},
    )
    return key


def api_key_touch(key: ApiKey, now=None) -> None:
    """Record last use, at most once a minute per key: a write per request would cost every
    request a row lock for a value nobody needs to the second."""
    now = now or timezone.now()
    if key.last_used_at is None or key.last_used_at < now - timedelta(seconds=60):
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now


# --- annotated copies -------------------------------------------------------------------------
ANNOTATED_COPY_LIFETIME = timedelta(days=30)


def annotated_copy_request(*, license, organisation, purpose, access, api_key=None, actor) -> AnnotatedCopy:
    """Create the copy record and enqueue its making (on commit). `access` is the read the caller
    was just granted by `access.permissions.access_for`; the caller's transaction wraps this."""
    from access.tasks import make_annotated_copy

    valid_until = timezone.now() + ANNOTATED_COPY_LIFETIME
    grant_end = None
    if access.authorisation_id:
        grant_end = Authorisation.objects.values_list("valid_until", flat=True).get(pk=access.authorisation_id)
    elif access.statutory_grant_id:
        grant_end = StatutoryGrant.objects.values_list("valid_until", flat=True).get(pk=access.statutory_grant_id)
    if grant_end and grant_end < valid_until:
        valid_until = grant_end  # a copy never outlives the grant it was made under
    local_date = timezone.localtime(valid_until).date()
    watermark = f"仅供{organisation.name}用于{purpose.name}，有效期至{local_date:%Y年%m月%d日}"
    copy = AnnotatedCopy.objects.create(
        license=license,
        organisation=organisation,
        purpose=purpose,
        api_key=api_key,
        requested_by=actor,
        authorisation_id=access.authorisation_id,
        statutory_grant_id=access.statutory_grant_id,
        valid_until=valid_until,
        watermark=watermark,
    )
    transaction.on_commit(lambda: make_annotated_copy.delay(str(copy.pk)))
    return copy
