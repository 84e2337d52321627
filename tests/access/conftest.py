"""The access cast: purposes, a commission system administrator, API keys for the bank and the
court, and licences with every kind of grant (live, expired, revoked, exhausted, none)."""

import itertools
import secrets
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone

from access import services
from access.models import Authorisation
from licensing.models import License, LicenseHolder, LicenseStatus
from registry import roles
from registry.models import Issuer, LicenseKind, LicenseType, OrganisationMember, Purpose
from registry.services import property_unit_create
from registry.validators import format_certificate_number, format_identifier
from tests.conftest import _make_user
from tests.licensing.factories import make_person

MORTGAGE = "MORTGAGE_LOAN"
LITIGATION = "LITIGATION"
NOTARISATION = "NOTARISATION"


@pytest.fixture
def purposes(db):
    made = {}
    for code, name, basis in [
        (MORTGAGE, "抵押贷款审查", Purpose.Basis.CONSENT),
        (NOTARISATION, "公证事项办理", Purpose.Basis.CONSENT),
        (LITIGATION, "诉讼与执行", Purpose.Basis.LEGAL),
        ("GOVERNMENT_SERVICE", "政务服务", Purpose.Basis.LEGAL),
    ]:
        made[code], _ = Purpose.objects.get_or_create(code=code, defaults={"name": name, "basis": basis})
    return made


@pytest.fixture
def sysadmin(role_groups):
    return _make_user("sysadmin", roles.SYSTEM_ADMIN, staff=True)


@pytest.fixture
def orgs(bank, court, purposes):
    # The bank may declare two purposes; its grants below cover only the mortgage one.
    bank.purposes.set([purposes[MORTGAGE], purposes[NOTARISATION]])
    court.purposes.set([purposes[LITIGATION]])
    return SimpleNamespace(bank=bank, court=court)


@pytest.fixture
def bank_admin(role_groups, bank):
    user = _make_user("bank_admin", roles.ORG_ADMIN, staff=True)
    OrganisationMember.objects.create(user=user, organisation=bank, role=OrganisationMember.Role.ADMIN)
    return user


def _key(org, user, sysadmin, **kw):
    key, plaintext = services.api_key_issue(organisation=org, user=user, label="测试密钥", actor=sysadmin, **kw)
    return SimpleNamespace(obj=key, plaintext=plaintext, header=f"Api-Key {plaintext}")


@pytest.fixture
def bank_key(orgs, bank_operator, sysadmin):
    return _key(orgs.bank, bank_operator, sysadmin)


@pytest.fixture
def court_key(orgs, court_officer, sysadmin):
    return _key(orgs.court, court_officer, sysadmin)


def api(header=None, user=None):
    client = Client()
    if user is not None:
        client.force_login(user)
    defaults = {"HTTP_AUTHORIZATION": header} if header else {}

    def call(method, path, purpose=None, **extra):
        headers = dict(defaults)
        if purpose:
            headers["HTTP_X_PURPOSE"] = purpose
        headers.update(extra)
        return getattr(client, method)(path, **headers)

    return call


def consent(sysadmin, org, license, purposes, *, days=30, max_uses=100, fields=None):
    holder = license.parties.filter(role="HOLDER").first().holder
    return services.authorisation_grant(
        license=license,
        organisation=org,
        holder=holder,
        purposes=purposes,
        valid_until=timezone.now() + timedelta(days=days),
        max_uses=max_uses,
        fields=fields,
        actor=sysadmin,
    )


def statutory(sysadmin, org, license, purposes, *, days=30):
    return services.statutory_access_grant(
        license=license,
        organisation=org,
        legal_document_number="(2026)京0105民初1234号",
        purposes=purposes,
        valid_until=timezone.now() + timedelta(days=days),
        actor=sysadmin,
    )


_serials = itertools.count(1)
_unit_serials = itertools.count(1)


def _unit():
    """A unit with a parcel number of its own range, apart from other factories' and the demo's."""
    n = next(_unit_serials)
    return property_unit_create(
        unit_number=f"110105004002GB{70000 + n:05d}F00031201",
        location=f"朝阳区建国路{n}号院1号楼12层1201",
        right_type="国有建设用地使用权/房屋所有权",
        right_nature="出让/商品房",
        use="城镇住宅用地/住宅",
        land_area=Decimal("35.20"),
        building_area=Decimal("89.56"),
    )


def make_valid(*, holders=None, kind=LicenseKind.CERTIFICATE, status=LicenseStatus.VALID, **extra) -> License:
    """A signed, valid licence written straight through the ORM (no signing worker needed)."""
    n = next(_serials)
    type_code = "11100000MB03271699001" if kind == LicenseKind.CERTIFICATE else "11100000MB03271699022"
    license_type = LicenseType.objects.get(code=type_code)
    issuer = Issuer.objects.get(uscc="11110000MB0000001Y")
    unit = _unit()
    serial = f"2026{n:07d}"
    license = License.objects.create(
        kind=kind,
        license_type=license_type,
        issuer=issuer,
        property_unit=unit,
        identifier=format_identifier(type_code, issuer.uscc, serial, 1),
        serial=serial,
        certificate_number=format_certificate_number(kind, 2026, unit.district, n),
        number_year=2026,
        number_serial=n,
        status=status,
        check_code=secrets.token_urlsafe(16),
        issued_at=timezone.now(),
        status_changed_at=timezone.now(),
        **extra,
    )
    license.file.save(f"{license.identifier}.pdf", ContentFile(b"%PDF-1.7 access test placeholder"), save=True)
    for i, holder in enumerate(holders or [make_person("张伟")]):
        LicenseHolder.objects.create(license=license, holder=holder, position=i, share="")
    return license


@pytest.fixture
def licences(clerk, orgs, purposes, sysadmin):
    """bank_ok: live consent (bank, mortgage); court_ok: live statutory grant (court);
    expired / revoked / exhausted: bank consents that no longer work; none: no grant at all."""
    made = {}
    for name in ("bank_ok", "court_ok", "expired", "revoked", "exhausted", "none"):
        made[name] = make_valid()
    mortgage = [purposes[MORTGAGE]]
    consent(sysadmin, orgs.bank, made["bank_ok"], mortgage)
    statutory(sysadmin, orgs.court, made["court_ok"], [purposes[LITIGATION]])
    expired = consent(sysadmin, orgs.bank, made["expired"], mortgage)
    Authorisation.objects.filter(pk=expired.pk).update(valid_until=timezone.now() - timedelta(seconds=1))
    revoked = consent(sysadmin, orgs.bank, made["revoked"], mortgage)
    services.authorisation_revoke(authorisation=revoked, actor=sysadmin, by_holder=True)
    exhausted = consent(sysadmin, orgs.bank, made["exhausted"], mortgage, max_uses=1)
    Authorisation.objects.filter(pk=exhausted.pk).update(uses=1)
    return SimpleNamespace(**made)


def detail_url(identifier):
    return f"/api/v1/licenses/{identifier}/"
