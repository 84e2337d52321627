"""Permission-aware reads for the API: licences by identifier, payloads shaped by the field plan."""

from access import permissions
from access.policy import FieldPlan, Treatment, mask_certificate_number, mask_location
from licensing.models import License, LicenseHolder
from registry.prepared import PreparedRead

# The fields a list item carries: L1 only, so a list never needs per-licence consent plans and
# never shows more than any grant's narrowest consent could (see README "Organisation API").
LIST_FIELDS = [
    "identifier",
    "kind",
    "license_type",
    "status",
    "issued_at",
    "status_changed_at",
    "certificate_number:masked",
]


_BY_IDENTIFIER = PreparedRead(
    lambda identifier: License.objects.select_related("license_type", "issuer", "property_unit__district").filter(
        identifier=identifier
    ),
    "access.license_by_identifier",
)


_WITH_PARTIES = PreparedRead(
    lambda identifier: (
        LicenseHolder.objects.filter(license__identifier=identifier)
        .select_related("holder", "license__license_type", "license__issuer", "license__property_unit__district")
        .order_by("role", "position")
    ),
    "access.license_with_parties",
)


_PARTIES = PreparedRead(
    lambda license_id: (
        LicenseHolder.objects.filter(license_id=license_id).select_related("holder").order_by("role", "position")
    ),
    "access.parties",
)


def license_by_identifier(identifier: str) -> License | None:
    # Parties are read only once access is granted and the plan shows them (`_holders`).
    [license] = _BY_IDENTIFIER(identifier=identifier) or [None]
    return license


def license_with_parties(identifier: str) -> License | None:
    """The licence and its parties in one round trip (the detail read: every request counts).
    Issued licences always have a holder; a licence without parties is read the plain way."""
    parties = _WITH_PARTIES(identifier=identifier)
    if not parties:
        return license_by_identifier(identifier)
    license = parties[0].license
    license._parties = parties
    return license


def list_licenses(organisation, purpose, *, filters: dict):
    qs = permissions.visible_licenses(organisation, purpose).select_related("license_type")
    if filters.get("certificate_number"):
        qs = qs.filter(certificate_number=filters["certificate_number"])
    if filters.get("unit_number"):
        qs = qs.filter(property_unit__unit_number=filters["unit_number"])
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("kind"):
        qs = qs.filter(kind=filters["kind"])
    return qs


def list_item(license: License) -> dict:
    return {
        "identifier": license.identifier,
        "kind": license.kind,
        "license_type": license.license_type.name,
        "status": license.status,
        "issued_at": license.issued_at.isoformat() if license.issued_at else None,
        "status_changed_at": license.status_changed_at.isoformat() if license.status_changed_at else None,
        "certificate_number": mask_certificate_number(license.certificate_number or ""),
    }


def _date(d):
    return d.isoformat() if d else None


def _decimal(d):
    return str(d) if d is not None else None


def _holders(license: License, plan: FieldPlan) -> list[dict]:
    from registry.masking import mask_name

    names, ids, shares = plan.treatment("holder_names"), plan.treatment("holder_id_numbers"), plan.treatment("shares")
    out = []
    parties = getattr(license, "_parties", None)
    for party in parties if parties is not None else _PARTIES(license_id=license.pk):
        holder = party.holder
        item = {"role": party.role}
        if names is Treatment.CLEAR:
            item["name"] = holder.name
        elif names is Treatment.MASKED:
            item["name"] = mask_name(holder.name)
        if ids is not Treatment.OMITTED:
            item["id_type"] = holder.id_type
            if ids is Treatment.CLEAR:
                from registry.crypto import reveal_id_number

                item["id_number"] = reveal_id_number(holder)  # only where the policy allows L4
            else:
                item["id_number"] = holder.id_number_masked
        if shares is Treatment.CLEAR and party.share:
            item["share"] = party.share
        out.append(item)
    return out


def license_payload(license: License, plan: FieldPlan) -> dict:
    """The licence as this caller may see it: every field clear, masked or absent per `plan`."""
    unit = license.property_unit
    values = {
        "identifier": lambda: license.identifier,
        "kind": lambda: license.kind,
        "license_type": lambda: license.license_type.name,
        "issuer": lambda: license.issuer.name,
        "issued_at": lambda: license.issued_at.isoformat() if license.issued_at else None,
        "status": lambda: license.status,
        "status_changed_at": lambda: license.status_changed_at.isoformat() if license.status_changed_at else None,
        "certificate_number": lambda: license.certificate_number,
        "unit_number": lambda: unit.unit_number,
        "district": lambda: unit.district.name,
        "right_type": lambda: unit.right_type,
        "right_nature": lambda: unit.right_nature,
        "use": lambda: unit.use,
        "term": lambda: {"start": _date(unit.term_start), "end": _date(unit.term_end)},
        "right_or_matter": lambda: license.right_or_matter,
        "location": lambda: unit.location,
        "co_ownership": lambda: license.co_ownership,
        "land_area": lambda: _decimal(unit.land_area),
        "building_area": lambda: _decimal(unit.building_area),
        "other_status": lambda: unit.other_status,
        "notes": lambda: license.notes,
        "secured_amount": lambda: _decimal(license.secured_amount),
        "debt_term": lambda: {"start": _date(license.debt_term_start), "end": _date(license.debt_term_end)},
        "encumbered_certificate_number": lambda: license.encumbered_certificate_number,
    }
    masked = {
        "certificate_number": lambda: mask_certificate_number(license.certificate_number or ""),
        "location": lambda: mask_location(unit.location),
    }
    out = {}
    for name, value in values.items():
        t = plan.treatment(name)
        if t is Treatment.CLEAR:
            out[name] = value()
        elif t is Treatment.MASKED and name in masked:
            out[name] = masked[name]()
    if any(plan.shown(n) for n in ("holder_names", "holder_id_numbers", "shares")):
        out["holders"] = _holders(license, plan)
    out["file_available"] = plan.file_allowed and bool(license.file)
    return out
