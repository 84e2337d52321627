"""What is printed on a licence: the mapping from the database to `LicenseDocument`.

ID numbers are printed masked: the certificate does not need them in clear, and the file travels
(holders forward it, organisations download it).
"""

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from licensing.models import License, LicenseHolder
from licensing.rendering import LicenseDocument
from registry.models import LicenseKind

TITLES = {LicenseKind.CERTIFICATE: "不动产权证书", LicenseKind.CERTIFICATION: "不动产登记证明"}


def check_url(license: License) -> str:
    """The absolute public check URL printed in the QR code."""
    return settings.SITE_URL + reverse("public-check", args=[license.check_code])


def _term(start, end) -> str:
    if start and end:
        return f"{start:%Y年%m月%d日}起{end:%Y年%m月%d日}止"
    if start:
        return f"{start:%Y年%m月%d日}起"
    return ""


def license_document(license: License) -> LicenseDocument:
    unit = license.property_unit
    parties = list(license.parties.select_related("holder").order_by("position", "id"))
    holders = tuple(
        (p.holder.name, p.holder.get_id_type_display(), p.holder.id_number_masked, p.share)
        for p in parties
        if p.role == LicenseHolder.Role.HOLDER
    )
    obligors = tuple(p.holder.name for p in parties if p.role == LicenseHolder.Role.OBLIGOR)
    issued = timezone.localtime(license.issued_at).date() if license.issued_at else timezone.localdate()
    return LicenseDocument(
        kind=license.kind,
        title=TITLES[license.kind],
        certificate_number=license.certificate_number or "",
        identifier=license.identifier or "",
        license_type_code=license.license_type.code,
        license_type_name=license.license_type.name,
        issuer_name=license.issuer.name,
        issuer_uscc=license.issuer.uscc,
        seal_name=license.issuer.seal_name,
        issue_date=issued,
        holders=holders,
        co_ownership=license.get_co_ownership_display(),
        location=unit.location,
        unit_number=unit.unit_number,
        right_type=unit.right_type,
        right_nature=unit.right_nature,
        use=unit.use,
        land_area=unit.land_area,
        building_area=unit.building_area,
        term_text=_term(unit.term_start, unit.term_end),
        other_status=unit.other_status,
        notes=license.notes,
        check_url=check_url(license),
        right_or_matter=license.right_or_matter,
        obligors=obligors,
        secured_amount=license.secured_amount,
        debt_term_text=_term(license.debt_term_start, license.debt_term_end),
        encumbered_certificate_number=license.encumbered_certificate_number,
    )
