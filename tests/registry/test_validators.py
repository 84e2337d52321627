import datetime

import pytest
from django.core.exceptions import ValidationError

from registry.validators import (
    CertificateNumber,
    format_certificate_number,
    format_identifier,
    identifier_check_char,
    mod37_36_check_char,
    parse_certificate_number,
    parse_identifier,
    parse_unit_number,
    validate_holder_id_number,
    validate_id_number,
    validate_identifier,
    validate_uscc,
)

REAL_IDENTIFIER = "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U"
DEMO_IDENTIFIER = "1.2.156.3005.2.11100000MB03271699001.11110000MB0000001Y.20260001234.001.5"


def _message(exc_info) -> str:
    return " ".join(exc_info.value.messages)


# --- licence identifier ---------------------------------------------------------------


@pytest.mark.parametrize("value", [REAL_IDENTIFIER, DEMO_IDENTIFIER])
def test_it_accepts_the_real_and_the_demo_identifier(value):
    assert validate_identifier(value) is None


def test_it_computes_the_check_character_of_both_identifiers():
    assert identifier_check_char("11100000000013338W011", "11430000006122244L", "20230000403", "001") == "U"
    assert identifier_check_char("11100000MB03271699001", "11110000MB0000001Y", "20260001234", 1) == "5"
    assert format_identifier("11100000MB03271699001", "11110000MB0000001Y", "20260001234", 1) == DEMO_IDENTIFIER


def test_it_splits_an_identifier_into_its_parts():
    parts = parse_identifier(REAL_IDENTIFIER)
    assert (parts.type_code, parts.issuer_uscc, parts.serial, parts.version, parts.check) == (
        "11100000000013338W011",
        "11430000006122244L",
        "20230000403",
        "001",
        "U",
    )
    assert str(parts) == REAL_IDENTIFIER


def test_it_follows_the_iso_7064_mod_37_36_recurrence():
    # Worked by hand from the recurrence in DOMAIN.md: p=36; "0": s=36, p=72%37=35; check=(37-35)%36=2.
    assert mod37_36_check_char("0") == "2"
    # ISO 7064 verification: running the recurrence over data + check ends with s == 1.
    data = "11100000MB03271699001" + "11110000MB0000001Y" + "20260001234001"
    p = s = 36
    for ch in data + mod37_36_check_char(data):
        s = (p + "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ".index(ch)) % 36 or 36
        p = (2 * s) % 37
    assert s == 1


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        (DEMO_IDENTIFIER[:-1] + "6", "校验位错误：应为“5”，实际为“6”"),
        (REAL_IDENTIFIER[:-1] + "u", "校验位字符小写字母“u”"),
        ("1.2.156.3005.3.11100000MB03271699001.11110000MB0000001Y.20260001234.001.5", "根"),
        ("1.2.156.3005.2.11100000MB03271699001.11110000MB0000001Y.20260001234.5", "5 段"),
        ("1.2.156.3005.2.11100000MB0327169901.11110000MB0000001Y.20260001234.001.5", "21 位"),
        ("1.2.156.3005.2.11100000MB03271699001.11110000MB0000001X.20260001234.001.5", "发证机构代码"),
        ("1.2.156.3005.2.11100000MB03271699001.11110000MB0000001Y.2026-0001234.001.5", "流水号第5位"),
        ("1.2.156.3005.2.11100000MB03271699001.11110000MB0000001Y..001.5", "流水号不能为空"),
        ("1.2.156.3005.2.11100000MB03271699001.11110000MB0000001Y.20260001234.01.5", "版本号应为 3 位数字"),
        ("1.2.156.3005.2.11100000MB03271699001.11110000MB0000001Y.20260001234.000.6", "001 开始"),
        ("1.2.156.3005.2.11100000MB0327169900A.11110000MB0000001Y.20260001234.001.5", "第19-21位"),
        (" " + DEMO_IDENTIFIER, "空白"),
        ("", "不能为空"),
    ],
)
def test_it_rejects_a_bad_identifier_naming_the_problem(value, needle):
    with pytest.raises(ValidationError) as exc_info:
        validate_identifier(value)
    assert needle in _message(exc_info)


# --- USCC ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["11100000000013338W", "11100000MB03271699", "11110000MB0000001Y", "91110000802100433B", "11430000006122244L"],
)
def test_it_accepts_valid_social_credit_codes(value):
    assert validate_uscc(value) is None


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ("11110000MB0000001X", "校验位错误：应为“Y”，实际为“X”"),
        ("11110000MB000000I1", "第17位字符“I”无效"),
        ("11110000MB0000001", "应为 18 位，实际为 17 位"),
        ("11110000mb0000001Y", "小写字母"),
        ("111A0000MB0000001Y", "第3-8位"),
        ("", "不能为空"),
    ],
)
def test_it_rejects_bad_social_credit_codes_naming_the_problem(value, needle):
    with pytest.raises(ValidationError) as exc_info:
        validate_uscc(value)
    assert needle in _message(exc_info)


# --- resident ID ----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["110105199003071239", "11010819850101002X", "110101200001010010"])
def test_it_accepts_valid_resident_id_numbers(value):
    assert validate_id_number(value) is None


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ("110105199003071238", "校验码错误：应为“9”，实际为“8”"),
        ("11010819850101002x", "小写字母"),
        ("110105199002301234", "不是真实的出生日期"),  # 30 February
        ("110105190002291236", "不是真实的出生日期"),  # 1900 was no leap year
        ("11010519900307123", "应为 18 位"),
        ("1101051990030712A9", "第17位应为数字"),
    ],
)
def test_it_rejects_bad_resident_id_numbers_without_echoing_them(value, needle):
    with pytest.raises(ValidationError) as exc_info:
        validate_id_number(value)
    assert needle in _message(exc_info)
    assert value not in _message(exc_info)


def test_it_rejects_a_birth_date_in_the_future():
    from registry.validators import id_number_check_char

    body = "11010520300101123"
    with pytest.raises(ValidationError, match="出生日期"):
        validate_id_number(body + id_number_check_char(body), today=datetime.date(2026, 1, 1))


@pytest.mark.parametrize(
    ("id_type", "value", "ok"),
    [
        ("111", "110105199003071239", True),
        ("001", "91110000802100433B", True),
        ("516", "H12345678", True),
        ("516", "X12345678", False),
        ("414", "E12345678", True),
        ("414", "E1234567/8", False),
        ("511", "12345678", True),
        ("999", "军字第123号", True),
        ("123", "whatever", False),
    ],
)
def test_it_validates_other_documents_by_their_type(id_type, value, ok):
    if ok:
        assert validate_holder_id_number(id_type, value) is None
    else:
        with pytest.raises(ValidationError):
            validate_holder_id_number(id_type, value)


# --- unit number ---------------------------------------------------------------------


def test_it_decomposes_the_domain_example_unit_number():
    parts = parse_unit_number("110105003001GB00012F00031201")
    assert parts.county_code == "110105"
    assert parts.district_name == "朝阳区"
    assert (parts.cadastral_district, parts.cadastral_subdistrict) == ("003", "001")
    assert (parts.ownership, parts.parcel_type, parts.parcel_number) == ("G", "B", "00012")
    assert (parts.fixture_type, parts.building, parts.unit) == ("F", "0003", "1201")
    assert parts.parcel_code == "110105003001GB00012"
    assert parts.fixture_code == "F00031201"
    assert str(parts) == "110105003001GB00012F00031201"
    assert parts.ownership_label == "国家土地所有权"


def test_it_accepts_a_parcel_without_fixture():
    assert parse_unit_number("110114002005JC00033W00000000").fixture_type_label == "无定着物"


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ("110105003001GB00012F0003120", "应为 28 位"),
        ("11010A003001GB00012F00031201", "第6位"),
        ("110105003001XB00012F00031201", "第13位"),
        ("110105003001GI00012F00031201", "第14位"),
        ("110105003001GB0001AF00031201", "第19位"),
        ("110105003001GB00012K00031201", "第20位"),
        ("110105003001GB00012F0003120A", "第28位"),
        ("110105003001GB00012W00031201", "W（无定着物）"),
    ],
)
def test_it_rejects_bad_unit_numbers_naming_the_position(value, needle):
    with pytest.raises(ValidationError) as exc_info:
        parse_unit_number(value)
    assert needle in _message(exc_info)


# --- certificate numbers --------------------------------------------------------------


def test_it_parses_certificate_and_certification_numbers():
    assert parse_certificate_number("京(2026)朝阳区不动产权第0001234号") == CertificateNumber(
        "CERTIFICATE", 2026, "朝阳区", 1234
    )
    assert parse_certificate_number("京(2025)石景山区不动产证明第0000001号") == CertificateNumber(
        "CERTIFICATION", 2025, "石景山区", 1
    )


def test_it_accepts_fullwidth_parentheses_and_formats_with_ascii_ones():
    parsed = parse_certificate_number("京（2026）海淀区不动产权第0012345号")
    assert str(parsed) == "京(2026)海淀区不动产权第0012345号"


def test_it_formats_certificate_numbers():
    assert format_certificate_number("CERTIFICATE", 2026, "朝阳区", 1234) == "京(2026)朝阳区不动产权第0001234号"
    assert format_certificate_number("CERTIFICATION", 2026, "朝阳区", 1234) == "京(2026)朝阳区不动产证明第0001234号"
    with pytest.raises(ValueError):
        format_certificate_number("CERTIFICATE", 2026, "浦东新区", 1)
    with pytest.raises(ValueError):
        format_certificate_number("CERTIFICATE", 2026, "朝阳区", 10_000_000)


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ("沪(2026)朝阳区不动产权第0001234号", "京"),
        ("京(26)朝阳区不动产权第0001234号", "4位年份"),
        ("京(2026)浦东新区不动产权第0001234号", "不是北京市的行政区"),
        ("京(2026)朝阳区不动产第0001234号", "不动产权第"),
        ("京(2026)朝阳区不动产权第001234号", "7位数字"),
        ("京(2026)朝阳区不动产权第0000000号", "0000001"),
    ],
)
def test_it_rejects_bad_certificate_numbers(value, needle):
    with pytest.raises(ValidationError) as exc_info:
        parse_certificate_number(value)
    assert needle in _message(exc_info)
