from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError

from registry import crypto, services
from registry.models import Holder, PropertyUnit

pytestmark = pytest.mark.django_db

ID = "110105199003071239"


def test_it_creates_a_holder_with_encrypted_indexed_and_masked_number(clerk):
    holder = services.holder_create(
        kind="PERSON", name=" 张伟 ", id_type="111", id_number="110105 19900307 1239", phone="13800138001", actor=clerk
    )
    holder.refresh_from_db()
    assert holder.name == "张伟"
    assert holder.id_number_masked == "110105********1239"
    assert ID not in holder.id_number_ciphertext
    assert holder.id_number_index == crypto.blind_index("111", ID)
    assert crypto.reveal_id_number(holder) == ID
    assert str(holder) == "张伟（110105********1239）"


def test_it_rejects_an_invalid_number_naming_the_field_but_not_the_number():
    with pytest.raises(ValidationError) as exc_info:
        services.holder_create(kind="PERSON", name="张伟", id_type="111", id_number="110105199003071238")
    assert "id_number" in exc_info.value.message_dict
    assert "校验码错误" in str(exc_info.value)
    assert "110105199003071238" not in str(exc_info.value)
    assert not Holder.objects.exists()


@pytest.mark.parametrize(
    ("kind", "id_type", "number", "field"),
    [
        ("PERSON", "001", "91110000802100433B", "id_type"),
        ("ORGANISATION", "111", ID, "id_type"),
        ("ORGANISATION", "001", "91110000802100433C", "id_number"),
        ("ROBOT", "111", ID, "kind"),
        ("PERSON", "777", ID, "id_type"),
    ],
)
def test_it_checks_that_kind_type_and_number_fit(kind, id_type, number, field):
    with pytest.raises(ValidationError) as exc_info:
        services.holder_create(kind=kind, name="某某", id_type=id_type, id_number=number)
    assert field in exc_info.value.message_dict


def test_it_refuses_a_second_holder_with_the_same_number():
    services.holder_create(kind="PERSON", name="张伟", id_type="111", id_number=ID)
    with pytest.raises(ValidationError, match="已有使用该证件号码的权利人"):
        services.holder_create(kind="PERSON", name="张伟伟", id_type="111", id_number=ID.lower())
    assert Holder.objects.count() == 1


def test_it_updates_a_holder_and_keeps_the_number_unless_given(clerk):
    holder = services.holder_create(kind="PERSON", name="张伟", id_type="111", id_number=ID)
    cipher = holder.id_number_ciphertext
    services.holder_update(holder=holder, name="张伟明", phone="010-1", actor=clerk)
    assert (holder.name, holder.phone, holder.id_number_ciphertext) == ("张伟明", "010-1", cipher)

    services.holder_update(holder=holder, id_number="11010819850101002X")
    assert holder.id_number_masked == "110108********002X"
    assert crypto.reveal_id_number(holder) == "11010819850101002X"


def test_it_rechecks_the_number_when_the_id_type_changes():
    holder = services.holder_create(kind="PERSON", name="张伟", id_type="111", id_number=ID)
    with pytest.raises(ValidationError) as exc_info:
        services.holder_update(holder=holder, id_type="516")  # not a valid HK/Macao permit number
    assert "id_number" in exc_info.value.message_dict
    holder.refresh_from_db()
    assert holder.id_type == "111"

    services.holder_update(holder=holder, id_type="999")
    assert holder.id_type == "999"
    assert crypto.reveal_id_number(holder) == ID  # re-encrypted under the new associated data
    assert holder.id_number_index == crypto.blind_index("999", ID)


def test_it_keeps_ciphertext_index_and_plaintext_out_of_the_change_log(clerk):
    holder = services.holder_create(kind="PERSON", name="张伟", id_type="111", id_number=ID, actor=clerk)
    services.holder_update(holder=holder, id_number="11010819850101002X", phone="13900000000", actor=clerk)
    entries = LogEntry.objects.get_for_object(holder)
    assert entries.count() == 2
    for entry in entries:
        assert entry.actor == clerk
        text = str(entry.changes) + entry.object_repr + str(entry.additional_data)
        assert "id_number_ciphertext" not in text and "id_number_index" not in text
        assert ID not in text and "11010819850101002X" not in text
        assert holder.id_number_ciphertext not in text and holder.id_number_index not in text
    update = entries.get(action=LogEntry.Action.UPDATE)
    assert update.changes_dict["id_number_masked"] == ["110105********1239", "110108********002X"]
    assert "13900000000" not in str(update.changes)  # the phone is masked too


def _unit(**overrides):
    values = {
        "unit_number": "110105003001GB00012F00031201",
        "location": "北京市朝阳区建国路88号3号楼12层1201",
        "right_type": "国有建设用地使用权/房屋所有权",
        "right_nature": "出让/商品房",
        "use": "城镇住宅用地/住宅",
        "building_area": Decimal("89.37"),
    }
    return {**values, **overrides}


def test_it_creates_a_property_unit_in_the_district_of_its_number(clerk):
    unit = services.property_unit_create(actor=clerk, **_unit())
    assert unit.district.name == "朝阳区"
    assert unit.parts.parcel_code == "110105003001GB00012"
    assert LogEntry.objects.get_for_object(unit).get().actor == clerk


@pytest.mark.parametrize(
    ("overrides", "field", "needle"),
    [
        ({"unit_number": "310105003001GB00012F00031201"}, "unit_number", "不是北京市的区县代码"),
        ({"unit_number": "110105003001GB00012F0003120"}, "unit_number", "28 位"),
        ({"location": "  "}, "location", "不能为空"),
        ({"building_area": Decimal("-1")}, "building_area", "负数"),
    ],
)
def test_it_rejects_a_bad_property_unit(overrides, field, needle):
    with pytest.raises(ValidationError) as exc_info:
        services.property_unit_create(**_unit(**overrides))
    assert needle in " ".join(exc_info.value.message_dict[field])
    assert not PropertyUnit.objects.exists()


def test_it_refuses_a_duplicate_unit_and_updates_an_existing_one():
    unit = services.property_unit_create(**_unit())
    with pytest.raises(ValidationError, match="已登记"):
        services.property_unit_create(**_unit())
    services.property_unit_update(unit=unit, use="商服用地/商业")
    assert PropertyUnit.objects.get().use == "商服用地/商业"


def test_it_checks_the_district_matches_the_unit_number_on_model_clean():
    unit = services.property_unit_create(**_unit())
    from registry.models import District

    unit.district = District.objects.get(code="110108")
    with pytest.raises(ValidationError) as exc_info:
        unit.full_clean()
    assert "district" in exc_info.value.message_dict
