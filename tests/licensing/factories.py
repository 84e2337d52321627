"""Licences for tests, built through the services as a clerk would."""

import itertools
from decimal import Decimal

from licensing import services
from licensing.models import CoOwnership, License, LicenseHolder
from registry.models import HolderKind, IdType, Issuer, LicenseKind, LicenseType
from registry.services import holder_create, property_unit_create
from registry.validators import id_number_check_char

COMMISSION_USCC = "11110000MB0000001Y"
_units = itertools.count(1)
_people = itertools.count(1)


def make_person(name="张伟", *, district="110105", birth="19900307"):
    body = f"{district}{birth}{next(_people):03d}"
    return holder_create(
        kind=HolderKind.PERSON, name=name, id_type=IdType.RESIDENT_ID, id_number=body + id_number_check_char(body)
    )


def make_unit(district_code="110105", **overrides):
    n = next(_units)
    values = {
        "location": f"朝阳区建国路{n}号院1号楼12层1201",
        "right_type": "国有建设用地使用权/房屋所有权",
        "right_nature": "出让/商品房",
        "use": "城镇住宅用地/住宅",
        "land_area": Decimal("35.20"),
        "building_area": Decimal("89.56"),
    }
    values.update(overrides)
    return property_unit_create(unit_number=f"{district_code}003001GB{n:05d}F00031201", **values)


def make_draft(actor, *, kind=LicenseKind.CERTIFICATE, holders=None, unit=None, co_ownership=CoOwnership.SOLE, **extra):
    type_code = "11100000MB03271699001" if kind == LicenseKind.CERTIFICATE else "11100000MB03271699022"
    parties = [services.Party(h) for h in (holders or [make_person()])]
    if kind == LicenseKind.CERTIFICATION:
        extra.setdefault("right_or_matter", "抵押权")
        extra.setdefault("secured_amount", Decimal("1500000.00"))
        parties.append(services.Party(make_person("李强"), LicenseHolder.Role.OBLIGOR))
    return services.license_create_draft(
        actor=actor,
        kind=kind,
        license_type=LicenseType.objects.get(code=type_code),
        issuer=Issuer.objects.get(uscc=COMMISSION_USCC),
        property_unit=unit or make_unit(),
        parties=parties,
        co_ownership=co_ownership,
        **extra,
    )


def make_issued(actor, **kwargs) -> License:
    return services.license_issue(license=make_draft(actor, **kwargs), actor=actor)


def force_valid(license: License) -> License:
    """Skip the signing worker for tests about later moves: mark signed with a placeholder file.

    Goes through the same service the signing task uses, so history and audit stay consistent.
    """
    from django.db import transaction
    from django.utils import timezone

    with transaction.atomic():
        services.license_mark_signed(
            license_id=license.pk,
            pdf=b"%PDF-1.7 test placeholder",
            signer_fingerprint="0" * 64,
            signed_at=timezone.now(),
        )
    license.refresh_from_db()
    return license
