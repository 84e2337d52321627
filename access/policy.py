"""What an organisation sees of a licence: by organisation type and purpose, per data grade.

DOMAIN.md grades: L1 public, L2 internal, L3 sensitive, L4 highly sensitive (ID numbers, the
full file). A policy names the highest grade shown clear. A field one grade above that is shown
masked if it has a masked form (names → 张*, ID numbers → 110105********1239, full location →
building level, certificate number → 京(2026)****第***1234号), otherwise omitted; anything higher
is omitted. A holder's consent lists fields and can only narrow this further; a statutory grant
does not narrow it (the legal document defines its scope).
"""

import re
from dataclasses import dataclass
from enum import StrEnum

from registry.models import OrganisationType

L1, L2, L3, L4 = 1, 2, 3, 4


class Treatment(StrEnum):
    CLEAR = "clear"
    MASKED = "masked"
    OMITTED = "omitted"


@dataclass(frozen=True)
class Field:
    name: str
    grade: int
    maskable: bool = False
    label: str = ""


# Every field the API can return about a licence. `identifier`, `kind` and `status` are L1:
# they are how the caller names the licence and is told whether it is still valid.
FIELDS: dict[str, Field] = {
    f.name: f
    for f in [
        Field("identifier", L1, label="电子证照标识"),
        Field("kind", L1, label="证照种类"),
        Field("license_type", L1, label="证照类型"),
        Field("issuer", L1, label="发证机构"),
        Field("issued_at", L1, label="签发时间"),
        Field("status", L1, label="状态"),
        Field("status_changed_at", L1, label="状态变更时间"),
        # L1 shows the masked number; the clear number identifies a property's owner: L2.
        Field("certificate_number", L2, maskable=True, label="证书（证明）号"),
        Field("unit_number", L2, label="不动产单元号"),
        Field("district", L2, label="行政区"),
        Field("right_type", L2, label="权利类型"),
        Field("right_nature", L2, label="权利性质"),
        Field("use", L2, label="用途"),
        Field("term", L2, label="使用期限"),
        Field("right_or_matter", L2, label="证明权利或事项"),
        Field("location", L3, maskable=True, label="坐落"),
        Field("holder_names", L3, maskable=True, label="权利人/义务人名称"),
        Field("shares", L3, label="份额"),
        Field("co_ownership", L3, label="共有情况"),
        Field("land_area", L3, label="土地面积"),
        Field("building_area", L3, label="房屋面积"),
        Field("other_status", L3, label="权利其他状况"),
        Field("notes", L3, label="附记"),
        Field("secured_amount", L3, label="被担保主债权数额"),
        Field("debt_term", L3, label="债务履行期限"),
        Field("encumbered_certificate_number", L3, label="抵押不动产权证书号"),
        Field("holder_id_numbers", L4, maskable=True, label="证件号码"),
        Field("file", L4, label="签章文件"),
    ]
}

# (organisation type, purpose code) → highest grade shown clear. Pairs not listed see L1 only.
CLEAR_GRADE: dict[tuple[str, str], int] = {
    (OrganisationType.BANK, "MORTGAGE_LOAN"): L3,
    (OrganisationType.NOTARY, "NOTARISATION"): L3,
    (OrganisationType.GOVERNMENT, "GOVERNMENT_SERVICE"): L3,
    # A court deciding a case may need to establish exactly who holds the property.
    (OrganisationType.COURT, "LITIGATION"): L4,
}


@dataclass(frozen=True)
class FieldPlan:
    """The treatment of every field for one read."""

    treatments: dict[str, Treatment]

    def treatment(self, name: str) -> Treatment:
        return self.treatments.get(name, Treatment.OMITTED)

    def shown(self, name: str) -> bool:
        return self.treatment(name) is not Treatment.OMITTED

    def returned_fields(self) -> list[str]:
        """Names (with `:masked` where masked) for the audit record of what was returned."""
        out = []
        for name, t in self.treatments.items():
            if name == "file" or t is Treatment.OMITTED:
                continue
            out.append(name if t is Treatment.CLEAR else f"{name}:masked")
        return out

    @property
    def file_allowed(self) -> bool:
        return self.treatment("file") is Treatment.CLEAR


def clear_grade(org_type: str, purpose_code: str) -> int:
    return CLEAR_GRADE.get((org_type, purpose_code), L1)


def plan_for(*, org_type: str, purpose_code: str, consent_fields: list[str] | None = None) -> FieldPlan:
    """The field plan for an organisation type and purpose; `consent_fields` (a consent grant's
    field set) removes fields, it never adds any. `None` means no narrowing (statutory grant)."""
    top = clear_grade(org_type, purpose_code)
    allowed = set(consent_fields) if consent_fields is not None else None
    treatments = {}
    for name, field in FIELDS.items():
        if field.grade <= top:
            t = Treatment.CLEAR
        elif field.grade == top + 1 and field.maskable:
            t = Treatment.MASKED
        else:
            t = Treatment.OMITTED
        # identifier/kind/status always go back: without them the caller cannot name the licence.
        if allowed is not None and name not in allowed and field.grade > L1:
            t = Treatment.OMITTED
        treatments[name] = t
    return FieldPlan(treatments)


def widest_plan(plans: list[FieldPlan]) -> FieldPlan:
    """Several live grants for the same purpose: each field gets the widest treatment of any."""
    order = [Treatment.OMITTED, Treatment.MASKED, Treatment.CLEAR]
    merged = {}
    for name in FIELDS:
        merged[name] = max((p.treatment(name) for p in plans), key=order.index, default=Treatment.OMITTED)
    return FieldPlan(merged)


def validate_field_names(names) -> list[str]:
    unknown = sorted(set(names) - set(FIELDS))
    if unknown:
        raise ValueError(f"未知字段：{', '.join(unknown)}")
    return sorted(set(names), key=list(FIELDS).index)


_BUILDING = re.compile(r"^.*?(?:号楼|栋|幢|座)")


def mask_location(location: str) -> str:
    """Building-level location (L2): the full location down to the building, not the flat."""
    m = _BUILDING.match(location or "")
    if m:
        return m.group(0) + "****"
    keep = max(len(location) - 6, len(location) // 2)
    return location[:keep] + "****"


_NUMBER = re.compile(r"^(.*?)第(\d+)号$")


def mask_certificate_number(number: str) -> str:
    """京(2026)朝阳区不动产权第0001234号 → 京(2026)朝阳区不动产权第***1234号."""
    if not number:
        return ""
    m = _NUMBER.match(number)
    if not m:
        return number[:4] + "****"
    serial = m.group(2)
    return f"{m.group(1)}第{'*' * (len(serial) - 4)}{serial[-4:]}号"
