"""What an annotated copy (加注件) prints: the licence's document with the field policy applied.

A copy is made for one organisation and purpose, so it shows no more than the API would show
that organisation for that purpose: omitted fields are blank, masked fields masked.
"""

import dataclasses

from access.models import AnnotatedCopy
from access.policy import Treatment, mask_certificate_number, mask_location, plan_for


def copy_plan(copy: AnnotatedCopy):
    consent_fields = copy.authorisation.fields if copy.authorisation_id else None
    return plan_for(org_type=copy.organisation.org_type, purpose_code=copy.purpose.code, consent_fields=consent_fields)


def annotated_document(copy: AnnotatedCopy, *, identifier: str):
    from licensing.documents import license_document
    from licensing.rendering import HolderLine
    from registry.masking import mask_name

    doc = license_document(copy.license)
    plan = copy_plan(copy)

    def pick(name, value, masked=None):
        t = plan.treatment(name)
        if t is Treatment.CLEAR:
            return value
        if t is Treatment.MASKED and masked is not None:
            return masked(value)
        return ""

    names = plan.treatment("holder_names")
    holders = tuple(
        HolderLine(
            pick("holder_names", name, mask_name) or "—",
            id_type if plan.shown("holder_id_numbers") else "",
            # license_document prints ID numbers masked already; a copy never shows more.
            id_masked if plan.shown("holder_id_numbers") else "",
            share if plan.shown("shares") else "",
        )
        for name, id_type, id_masked, share in doc.holders
    )
    obligors = tuple(pick("holder_names", n, mask_name) or "—" for n in doc.obligors) if names else ()
    return dataclasses.replace(
        doc,
        identifier=identifier,
        certificate_number=pick("certificate_number", doc.certificate_number, mask_certificate_number),
        holders=holders,
        obligors=obligors,
        co_ownership=pick("co_ownership", doc.co_ownership),
        location=pick("location", doc.location, mask_location),
        unit_number=pick("unit_number", doc.unit_number),
        right_type=pick("right_type", doc.right_type),
        right_nature=pick("right_nature", doc.right_nature),
        use=pick("use", doc.use),
        land_area=pick("land_area", doc.land_area),
        building_area=pick("building_area", doc.building_area),
        term_text=pick("term", doc.term_text),
        other_status=pick("other_status", doc.other_status),
        notes=pick("notes", doc.notes),
        right_or_matter=pick("right_or_matter", doc.right_or_matter),
        secured_amount=pick("secured_amount", doc.secured_amount),
        debt_term_text=pick("debt_term", doc.debt_term_text),
        encumbered_certificate_number=pick("encumbered_certificate_number", doc.encumbered_certificate_number),
    )
