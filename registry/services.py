"""Writes to registry data. Admin, API, import and commands call these; they own the rules.

Holder ID numbers are accepted here in clear exactly once: normalised, validated for their ID
type, encrypted, indexed and masked before anything is saved. Errors name the field and the
problem but never echo the number.
"""

import contextlib
import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.views.decorators.debug import sensitive_variables

from audit import context as audit_context
from registry import crypto, masking
from registry.models import District, Holder, HolderKind, IdType, PropertyUnit
from registry.validators import (
    ORGANISATION_ID_TYPES,
    PERSON_ID_TYPES,
    normalise_id_number,
    parse_unit_number,
    validate_holder_id_number,
)


class _Unset:
    def __repr__(self):
        return "UNSET"


UNSET = _Unset()


def acting_as(actor):
    """Attribute change records to `actor` when one is given (commands, tasks, imports outside a
    request); with None the surrounding context (the request's user) stays in charge."""
    return audit_context.acting_as(actor) if actor is not None else contextlib.nullcontext()


# --- Holders -----------------------------------------------------------------------------


def _check_kind_matches_id_type(kind: str, id_type: str) -> None:
    if kind not in HolderKind.values:
        raise ValidationError({"kind": f"未知的主体类别“{kind}”"})
    if id_type not in IdType.values:
        raise ValidationError({"id_type": f"未知的证件类型代码“{id_type}”"})
    if kind == HolderKind.PERSON and id_type in ORGANISATION_ID_TYPES:
        raise ValidationError({"id_type": "自然人不能使用机构证件类型"})
    if kind == HolderKind.ORGANISATION and id_type in PERSON_ID_TYPES:
        raise ValidationError({"id_type": "法人或其他组织不能使用个人证件类型"})


@sensitive_variables("id_number", "normalised")
def _set_id_number(holder: Holder, id_type: str, id_number: str) -> None:
    normalised = normalise_id_number(id_number)
    try:
        validate_holder_id_number(id_type, normalised)
    except ValidationError as exc:
        raise ValidationError({"id_number": exc.messages}) from None
    holder.id_type = id_type
    holder.id_number_ciphertext = crypto.encrypt_id_number(id_type, normalised)
    holder.id_number_index = crypto.blind_index(id_type, normalised)
    holder.id_number_masked = masking.mask_id_number(id_type, normalised)


def _clean_text(value, field: str, max_length: int, *, required: bool = False) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({field: "不能为空"})
    if len(value) > max_length:
        raise ValidationError({field: f"不能超过 {max_length} 个字符"})
    return value


@sensitive_variables("id_number", "normalised")
def holder_check(*, kind, id_type, id_number=None, holder: Holder | None = None) -> None:
    """The checks `holder_create`/`holder_update` make, without writing anything.

    For forms that show errors beside their fields before the service runs; the service repeats
    them (and the database constraint settles a race).
    """
    _check_kind_matches_id_type(kind, id_type)
    if id_number:
        normalised = normalise_id_number(id_number)
    elif holder is not None and holder.pk:
        normalised = crypto.reveal_id_number(holder)
    else:
        raise ValidationError({"id_number": "不能为空"})
    try:
        validate_holder_id_number(id_type, normalised)
    except ValidationError as exc:
        raise ValidationError({"id_number": exc.messages}) from None
    duplicate = Holder.objects.filter(id_type=id_type, id_number_index=crypto.blind_index(id_type, normalised))
    if holder is not None and holder.pk:
        duplicate = duplicate.exclude(pk=holder.pk)
    if duplicate.exists():
        raise ValidationError({"id_number": "已有使用该证件号码的权利人"})


def _save_holder(holder: Holder) -> Holder:
    duplicate = Holder.objects.filter(id_type=holder.id_type, id_number_index=holder.id_number_index)
    if holder.pk:
        duplicate = duplicate.exclude(pk=holder.pk)
    if duplicate.exists():
        raise ValidationError({"id_number": "已有使用该证件号码的权利人"})
    try:
        # A savepoint, so that losing a race on the unique constraint leaves the caller's
        # transaction usable and turns into the same clear message.
        with transaction.atomic():
            holder.save()
    except IntegrityError:
        raise ValidationError({"id_number": "已有使用该证件号码的权利人"}) from None
    return holder


@sensitive_variables("id_number")
def holder_create(*, kind, name, id_type, id_number, phone="", address="", actor=None) -> Holder:
    """Create a holder; the ID number is validated for its type (GB 11643 for 111, GB 32100 for 001)."""
    holder = Holder(
        kind=kind,
        name=_clean_text(name, "name", 100, required=True),
        phone=_clean_text(phone, "phone", 30),
        address=_clean_text(address, "address", 200),
    )
    _check_kind_matches_id_type(kind, id_type)
    _set_id_number(holder, id_type, id_number)
    with transaction.atomic(), acting_as(actor):
        return _save_holder(holder)


@sensitive_variables("id_number", "current")
def holder_update(
    *,
    holder: Holder,
    kind=UNSET,
    name=UNSET,
    id_type=UNSET,
    id_number=UNSET,
    phone=UNSET,
    address=UNSET,
    actor=None,
) -> Holder:
    """Change a holder. Arguments left out stay as they are; a new ID type re-checks the number."""
    with transaction.atomic(), acting_as(actor):
        locked = Holder.objects.select_for_update().get(pk=holder.pk)
        if name is not UNSET:
            locked.name = _clean_text(name, "name", 100, required=True)
        if phone is not UNSET:
            locked.phone = _clean_text(phone, "phone", 30)
        if address is not UNSET:
            locked.address = _clean_text(address, "address", 200)
        if kind is not UNSET:
            locked.kind = kind
        new_type = locked.id_type if id_type is UNSET else id_type
        _check_kind_matches_id_type(locked.kind, new_type)
        if id_number is not UNSET and id_number:
            _set_id_number(locked, new_type, id_number)
        elif new_type != locked.id_type:
            # The type is bound into the ciphertext and the index: re-derive both from the number.
            current = crypto.reveal_id_number(locked)
            _set_id_number(locked, new_type, current)
        _save_holder(locked)
    holder.refresh_from_db()
    return holder


@sensitive_variables("id_number")
def holder_find(id_number: str, id_type: str | None = None):
    """Holders whose ID number is exactly `id_number` (of `id_type`, or of any type), via the index."""
    if id_type:
        return Holder.objects.filter(id_type=id_type, id_number_index=crypto.blind_index(id_type, id_number))
    return Holder.objects.filter(id_number_index__in=list(crypto.blind_indexes_any_type(id_number)))


# --- Property units -------------------------------------------------------------------------

UNIT_FIELDS = (
    "location",
    "right_type",
    "right_nature",
    "use",
    "land_area",
    "building_area",
    "term_start",
    "term_end",
    "other_status",
)


def _apply_unit_fields(unit: PropertyUnit, values: dict) -> None:
    for field in UNIT_FIELDS:
        if field in values:
            setattr(unit, field, values[field])
    for field in ("location", "right_type", "right_nature", "use"):
        setattr(unit, field, _clean_text(getattr(unit, field), field, 200 if field == "location" else 60))
        if not getattr(unit, field):
            raise ValidationError({field: "不能为空"})
    unit.other_status = (unit.other_status or "").strip()
    for field in ("land_area", "building_area"):
        value = getattr(unit, field)
        if value is not None and Decimal(value) < 0:
            raise ValidationError({field: "面积不能为负数"})
    for field in ("term_start", "term_end"):
        value = getattr(unit, field)
        if value is not None and not isinstance(value, datetime.date):
            raise ValidationError({field: "应为日期"})
    if unit.term_start and unit.term_end and unit.term_end < unit.term_start:
        raise ValidationError({"term_end": "使用期限止不能早于使用期限起"})


def district_for_unit_number(unit_number: str) -> District:
    """The District named by the first six characters of a (valid) unit number."""
    try:
        parts = parse_unit_number(unit_number)
    except ValidationError as exc:
        raise ValidationError({"unit_number": exc.messages}) from None
    district = District.objects.filter(code=parts.county_code).first()
    if district is None:
        raise ValidationError({"unit_number": f"不动产单元号前6位“{parts.county_code}”不是北京市的区县代码"})
    return district


def property_unit_create(*, unit_number: str, actor=None, **values) -> PropertyUnit:
    """Create a property unit; its district is taken from the unit number's county code."""
    unknown = set(values) - set(UNIT_FIELDS)
    if unknown:
        raise TypeError(f"unknown property unit fields: {sorted(unknown)}")
    unit_number = (unit_number or "").strip()
    unit = PropertyUnit(unit_number=unit_number, district=district_for_unit_number(unit_number))
    _apply_unit_fields(unit, values)
    with transaction.atomic(), acting_as(actor):
        if PropertyUnit.objects.filter(unit_number=unit_number).exists():
            raise ValidationError({"unit_number": "该不动产单元号已登记"})
        try:
            with transaction.atomic():
                unit.save()
        except IntegrityError:
            raise ValidationError({"unit_number": "该不动产单元号已登记"}) from None
    return unit


def property_unit_update(*, unit: PropertyUnit, actor=None, **values) -> PropertyUnit:
    """Change a property unit's registered facts. The unit number itself never changes."""
    unknown = set(values) - set(UNIT_FIELDS)
    if unknown:
        raise TypeError(f"unknown property unit fields: {sorted(unknown)}")
    with transaction.atomic(), acting_as(actor):
        locked = PropertyUnit.objects.select_for_update().get(pk=unit.pk)
        _apply_unit_fields(locked, values)
        locked.save()
    unit.refresh_from_db()
    return unit
