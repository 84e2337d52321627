import pytest

from registry.masking import mask_holder_name, mask_id_number, mask_name
from registry.models import Holder


@pytest.mark.parametrize(
    ("id_type", "value", "masked"),
    [
        ("111", "110105199003071239", "110105********1239"),
        ("111", "11010819850101002x", "110108********002X"),
        ("001", "91110000802100433B", "911100********433B"),
        ("414", "E12345678", "E1*****78"),
        ("516", "H12345678", "H1*****78"),
        ("999", "AB12", "****"),
        ("999", "ABC123", "A****3"),
        ("111", "", ""),
    ],
)
def test_it_masks_id_numbers(id_type, value, masked):
    assert mask_id_number(id_type, value) == masked


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("张三丰", "张*"),
        ("王", "王*"),
        ("欧阳娜娜", "欧阳*"),
        ("欧阳娜", "欧阳*"),
        ("司马光辉", "司马*"),
        ("诸葛亮", "诸葛*"),
        ("上官婉儿", "上官*"),
        ("东方明", "东方*"),
        ("皇甫嵩", "皇甫*"),
        ("尉迟恭", "尉迟*"),
        ("公孙胜", "公孙*"),
        ("慕容复", "慕容*"),
        ("令狐冲", "令狐*"),
        ("钟离春", "钟离*"),
        ("欧阳", "欧*"),  # two characters: surname 欧 and given name 阳
        ("", ""),
    ],
)
def test_it_masks_names_as_surname_and_star(name, masked):
    assert mask_name(name) == masked


def test_it_masks_persons_but_not_organisations():
    assert mask_holder_name(Holder(kind="PERSON", name="李娜")) == "李*"
    assert mask_holder_name(Holder(kind="ORGANISATION", name="北京京华置业有限公司")) == "北京京华置业有限公司"
