"""Validators and parsers for the codes of DOMAIN.md.

Plain functions so that models, forms, the API and the CSV import share one definition. The
`validate_*` functions return `None` or raise `django.core.exceptions.ValidationError` whose
message names the problem (which position, expected and found check character). Messages never
repeat a whole ID number: validation errors end up in pages and logs, ID numbers must not.
"""

import datetime
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError

# --- GB/T 2260: the 16 districts of Beijing (also loaded into District by a data migration) ----
BEIJING_DISTRICTS = {
    "110101": "东城区",
    "110102": "西城区",
    "110105": "朝阳区",
    "110106": "丰台区",
    "110107": "石景山区",
    "110108": "海淀区",
    "110109": "门头沟区",
    "110111": "房山区",
    "110112": "通州区",
    "110113": "顺义区",
    "110114": "昌平区",
    "110115": "大兴区",
    "110116": "怀柔区",
    "110117": "平谷区",
    "110118": "密云区",
    "110119": "延庆区",
}
BEIJING_DISTRICT_CODES = {name: code for code, name in BEIJING_DISTRICTS.items()}


def _fail(message: str, code: str):
    raise ValidationError(message, code=code)


def _position_of_bad_char(value: str, alphabet: str) -> tuple[int, str] | None:
    for i, ch in enumerate(value, start=1):
        if ch not in alphabet:
            return i, ch
    return None


def _describe_char(ch: str) -> str:
    if ch.isspace():
        return "空白字符"
    if ch.islower() and ch.isascii():
        return f"小写字母“{ch}”（应为大写）"
    return f"“{ch}”"


# --- ISO/IEC 7064 MOD 37,36 (GB/T 36904 licence identifier) -----------------------------------
IDENTIFIER_ROOT = "1.2.156.3005.2"
_ALNUM36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def mod37_36_check_char(data: str) -> str:
    """The hybrid MOD 37,36 check character over `data` (alphabet 0-9A-Z)."""
    p = 36
    for i, ch in enumerate(data, start=1):
        v = _ALNUM36.find(ch)
        if v < 0:
            _fail(f"第{i}位字符{_describe_char(ch)}不在校验字符集 0-9A-Z 内", "invalid_character")
        s = (p + v) % 36 or 36
        p = (2 * s) % 37
    return _ALNUM36[(37 - p) % 36]


def _version_str(version) -> str:
    if isinstance(version, int):
        if not 1 <= version <= 999:
            _fail(f"版本号应在 1 至 999 之间，实际为 {version}", "invalid_version")
        return f"{version:03d}"
    return str(version)


def identifier_check_char(type_code: str, issuer_uscc: str, serial: str, version) -> str:
    """The check character of a licence identifier: MOD 37,36 over type+issuer+serial+version.

    `version` may be given as `"001"` or as the integer 1.
    """
    return mod37_36_check_char(f"{type_code}{issuer_uscc}{serial}{_version_str(version)}")


@dataclass(frozen=True)
class LicenceIdentifier:
    type_code: str
    issuer_uscc: str
    serial: str
    version: str
    check: str

    def __str__(self):
        return format_identifier(self.type_code, self.issuer_uscc, self.serial, self.version)


def format_identifier(type_code: str, issuer_uscc: str, serial: str, version) -> str:
    """`1.2.156.3005.2.<type>.<issuer>.<serial>.<version>.<check>` with its check character."""
    version = _version_str(version)
    check = identifier_check_char(type_code, issuer_uscc, serial, version)
    return f"{IDENTIFIER_ROOT}.{type_code}.{issuer_uscc}.{serial}.{version}.{check}"


_SERIAL_MAX = 40


def parse_identifier(value: str) -> LicenceIdentifier:
    """Split and check a GB/T 36904 licence identifier; raises ValidationError naming the fault."""
    if not isinstance(value, str) or not value:
        _fail("电子证照标识不能为空", "required")
    if value != value.strip():
        _fail("电子证照标识首尾不能有空白字符", "whitespace")
    if not value.startswith(IDENTIFIER_ROOT + "."):
        _fail(f"电子证照标识应以根 {IDENTIFIER_ROOT}. 开头", "invalid_root")
    parts = value[len(IDENTIFIER_ROOT) + 1 :].split(".")
    if len(parts) != 5:
        _fail(
            f"电子证照标识在根之后应有 5 段（证照类型代码.发证机构代码.流水号.版本号.校验位），实际为 {len(parts)} 段",
            "invalid_structure",
        )
    type_code, issuer, serial, version, check = parts
    if len(type_code) != 21:
        _fail(f"证照类型代码应为 21 位，实际为 {len(type_code)} 位", "invalid_type_code")
    bad = _position_of_bad_char(type_code, _ALNUM36)
    if bad:
        _fail(f"证照类型代码第{bad[0]}位字符{_describe_char(bad[1])}无效（应为数字或大写字母）", "invalid_type_code")
    if not type_code[18:].isdigit():
        _fail("证照类型代码第19-21位应为3位数字顺序码", "invalid_type_code")
    try:
        validate_uscc(type_code[:18])
    except ValidationError as exc:
        _fail(f"证照类型代码前18位应为定义部门的统一社会信用代码：{exc.messages[0]}", "invalid_type_code")
    try:
        validate_uscc(issuer)
    except ValidationError as exc:
        _fail(f"发证机构代码无效：{exc.messages[0]}", "invalid_issuer")
    if not serial:
        _fail("流水号不能为空", "invalid_serial")
    if len(serial) > _SERIAL_MAX:
        _fail(f"流水号不能超过 {_SERIAL_MAX} 位", "invalid_serial")
    bad = _position_of_bad_char(serial, _ALNUM36)
    if bad:
        _fail(f"流水号第{bad[0]}位字符{_describe_char(bad[1])}无效（应为数字或大写字母）", "invalid_serial")
    if len(version) != 3 or not version.isdigit() or not version.isascii():
        _fail(f"版本号应为 3 位数字，实际为“{version}”", "invalid_version")
    if version == "000":
        _fail("版本号从 001 开始，不能为 000", "invalid_version")
    if len(check) != 1:
        _fail(f"校验位应为 1 位，实际为 {len(check)} 位", "invalid_check")
    if check not in _ALNUM36:
        _fail(f"校验位字符{_describe_char(check)}无效（应为数字或大写字母）", "invalid_check")
    expected = identifier_check_char(type_code, issuer, serial, version)
    if check != expected:
        _fail(f"校验位错误：应为“{expected}”，实际为“{check}”（MOD 37,36）", "invalid_check")
    return LicenceIdentifier(type_code, issuer, serial, version, check)


def validate_identifier(value: str) -> None:
    """Validate a GB/T 36904 licence identifier (structure and MOD 37,36 check character)."""
    parse_identifier(value)


# --- GB 32100 unified social credit code ---------------------------------------------------
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_char(first17: str) -> str:
    total = 0
    for i, (ch, w) in enumerate(zip(first17, _USCC_WEIGHTS, strict=True), start=1):
        v = USCC_ALPHABET.find(ch)
        if v < 0:
            _fail(f"统一社会信用代码第{i}位字符{_describe_char(ch)}无效（不含 I、O、S、V、Z）", "invalid_character")
        total += v * w
    return USCC_ALPHABET[(31 - total % 31) % 31]


def validate_uscc(value: str) -> None:
    """Validate an 18-character unified social credit code (GB 32100)."""
    if not isinstance(value, str) or not value:
        _fail("统一社会信用代码不能为空", "required")
    if len(value) != 18:
        _fail(f"统一社会信用代码应为 18 位，实际为 {len(value)} 位", "invalid_length")
    bad = _position_of_bad_char(value, USCC_ALPHABET)
    if bad:
        _fail(
            f"统一社会信用代码第{bad[0]}位字符{_describe_char(bad[1])}无效"
            "（字符集为数字和除 I、O、S、V、Z 外的大写字母）",
            "invalid_character",
        )
    if not value[2:8].isdigit():
        _fail("统一社会信用代码第3-8位应为登记管理机关的行政区划码（数字）", "invalid_division")
    expected = uscc_check_char(value[:17])
    if value[17] != expected:
        _fail(f"统一社会信用代码校验位错误：应为“{expected}”，实际为“{value[17]}”", "invalid_check")


# --- GB 11643 citizen identity number --------------------------------------------------------
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_number_check_char(first17: str) -> str:
    if len(first17) != 17 or not first17.isdigit() or not first17.isascii():
        _fail("前17位应为数字", "invalid_character")
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def validate_id_number(value: str, *, today: datetime.date | None = None) -> None:
    """Validate an 18-character resident identity number (GB 11643): digits, birth date, check.

    The message never contains the number itself, only positions and check characters.
    """
    if not isinstance(value, str) or not value:
        _fail("居民身份证号码不能为空", "required")
    if len(value) != 18:
        _fail(f"居民身份证号码应为 18 位，实际为 {len(value)} 位", "invalid_length")
    for i, ch in enumerate(value[:17], start=1):
        if not ("0" <= ch <= "9"):
            _fail(f"居民身份证号码第{i}位应为数字，实际为{_describe_char(ch)}", "invalid_character")
    last = value[17]
    if last not in "0123456789X":
        _fail(f"居民身份证号码第18位（校验码）应为数字或大写 X，实际为{_describe_char(last)}", "invalid_character")
    try:
        birth = datetime.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        _fail("居民身份证号码第7-14位不是真实的出生日期", "invalid_birth_date")
    if birth < datetime.date(1850, 1, 1) or birth > (today or datetime.date.today()):
        _fail("居民身份证号码第7-14位出生日期不在合理范围内（不能早于1850年或晚于今天）", "invalid_birth_date")
    expected = id_number_check_char(value[:17])
    if last != expected:
        _fail(f"居民身份证号码校验码错误：应为“{expected}”，实际为“{last}”", "invalid_check")


# --- GB/T 37346 real property unit number ---------------------------------------------------
OWNERSHIP_CODES = {"G": "国家土地所有权", "J": "集体土地所有权", "Z": "土地所有权未确定或有争议"}
PARCEL_TYPES = {
    "A": "集体土地所有权宗地",
    "B": "建设用地使用权宗地（地表）",
    "S": "建设用地使用权宗地（地上）",
    "X": "建设用地使用权宗地（地下）",
    "C": "宅基地使用权宗地",
    "D": "土地承包经营权宗地（耕地）",
    "E": "林地使用权宗地",
    "F": "草原使用权宗地",
    "H": "海域使用权宗海",
    "G": "无居民海岛使用权",
    "W": "使用权未确定或有争议的土地",
    "Y": "其他使用权宗地",
}
FIXTURE_TYPES = {"F": "房屋等建筑物、构筑物", "L": "森林、林木", "Q": "其他", "W": "无定着物"}


@dataclass(frozen=True)
class UnitNumber:
    """The parts of a 28-character unit number (不动产单元号)."""

    county_code: str  # 1-6
    cadastral_district: str  # 7-9 地籍区
    cadastral_subdistrict: str  # 10-12 地籍子区
    ownership: str  # 13
    parcel_type: str  # 14
    parcel_number: str  # 15-19
    fixture_type: str  # 20
    building: str  # 21-24
    unit: str  # 25-28

    @property
    def parcel_code(self) -> str:
        """宗地（宗海）代码: the first 19 characters."""
        return (
            f"{self.county_code}{self.cadastral_district}{self.cadastral_subdistrict}"
            f"{self.ownership}{self.parcel_type}{self.parcel_number}"
        )

    @property
    def fixture_code(self) -> str:
        """定着物单元代码: the last 9 characters."""
        return f"{self.fixture_type}{self.building}{self.unit}"

    @property
    def ownership_label(self) -> str:
        return OWNERSHIP_CODES[self.ownership]

    @property
    def parcel_type_label(self) -> str:
        return PARCEL_TYPES[self.parcel_type]

    @property
    def fixture_type_label(self) -> str:
        return FIXTURE_TYPES[self.fixture_type]

    @property
    def district_name(self) -> str | None:
        return BEIJING_DISTRICTS.get(self.county_code)

    def __str__(self):
        return self.parcel_code + self.fixture_code


def _digits(value: str, start: int, end: int, what: str) -> str:
    part = value[start - 1 : end]
    for i, ch in enumerate(part, start=start):
        if not ("0" <= ch <= "9"):
            _fail(f"不动产单元号第{i}位（{what}）应为数字，实际为{_describe_char(ch)}", "invalid_unit_number")
    return part


def parse_unit_number(value: str) -> UnitNumber:
    """Split a 28-character unit number into its parts, checking every position (GB/T 37346)."""
    if not isinstance(value, str) or not value:
        _fail("不动产单元号不能为空", "required")
    if len(value) != 28:
        _fail(f"不动产单元号应为 28 位，实际为 {len(value)} 位", "invalid_length")
    county = _digits(value, 1, 6, "县级行政区划代码")
    district = _digits(value, 7, 9, "地籍区")
    subdistrict = _digits(value, 10, 12, "地籍子区")
    ownership, parcel_type = value[12], value[13]
    if ownership not in OWNERSHIP_CODES:
        _fail(
            f"不动产单元号第13位（土地所有权类型）应为 G、J 或 Z，实际为{_describe_char(ownership)}",
            "invalid_unit_number",
        )
    if parcel_type not in PARCEL_TYPES:
        _fail(
            f"不动产单元号第14位（宗地/宗海类型）应为 {'、'.join(PARCEL_TYPES)} 之一，"
            f"实际为{_describe_char(parcel_type)}",
            "invalid_unit_number",
        )
    parcel_number = _digits(value, 15, 19, "宗地顺序号")
    fixture_type = value[19]
    if fixture_type not in FIXTURE_TYPES:
        _fail(
            f"不动产单元号第20位（定着物类型）应为 F、L、Q 或 W，实际为{_describe_char(fixture_type)}",
            "invalid_unit_number",
        )
    building = _digits(value, 21, 24, "定着物单元编号（幢号）")
    unit = _digits(value, 25, 28, "定着物单元编号（户号）")
    if fixture_type == "W" and building + unit != "00000000":
        _fail("不动产单元号第20位为 W（无定着物）时，第21-28位应为 00000000", "invalid_unit_number")
    return UnitNumber(
        county, district, subdistrict, ownership, parcel_type, parcel_number, fixture_type, building, unit
    )


def validate_unit_number(value: str) -> None:
    parse_unit_number(value)


# --- Certificate / certification numbers ------------------------------------------------------
KIND_WORDS = {"CERTIFICATE": "不动产权", "CERTIFICATION": "不动产证明"}
_KIND_BY_WORD = {word: kind for kind, word in KIND_WORDS.items()}
# Real certificates print the parentheses either as ASCII or fullwidth characters.
_CERT_RE = re.compile(
    r"^京[(（](?P<year>\d{4})[)）](?P<district>[^\d()（）]+?)(?P<word>不动产权|不动产证明)第(?P<serial>\d{7})号$"
)


@dataclass(frozen=True)
class CertificateNumber:
    kind: str  # "CERTIFICATE" or "CERTIFICATION" (registry.models.LicenseKind)
    year: int
    district_name: str
    serial: int

    def __str__(self):
        return format_certificate_number(self.kind, self.year, self.district_name, self.serial)


def parse_certificate_number(value: str) -> CertificateNumber:
    """Parse `京(2026)朝阳区不动产权第0001234号` (or the 不动产证明 form; fullwidth brackets accepted)."""
    if not isinstance(value, str) or not value:
        _fail("证书（证明）号不能为空", "required")
    if value != value.strip():
        _fail("证书（证明）号首尾不能有空白字符", "whitespace")
    if not value.startswith("京"):
        _fail("证书（证明）号应以省级简称“京”开头", "invalid_certificate_number")
    match = _CERT_RE.match(value)
    if not match:
        if not re.match(r"^京[(（]\d{4}[)）]", value):
            _fail("证书（证明）号“京”后应为括号中的4位年份，如 京(2026)", "invalid_certificate_number")
        if not re.search(r"(不动产权|不动产证明)第", value):
            _fail("证书（证明）号应含“不动产权第”或“不动产证明第”", "invalid_certificate_number")
        if not re.search(r"第\d{7}号$", value):
            _fail("证书（证明）号应以“第”+7位数字顺序号+“号”结尾", "invalid_certificate_number")
        _fail("证书（证明）号格式应为 京(年份)区名不动产权第0000000号", "invalid_certificate_number")
    district = match["district"]
    if district not in BEIJING_DISTRICT_CODES:
        _fail(f"“{district}”不是北京市的行政区", "invalid_district")
    serial = int(match["serial"])
    if serial == 0:
        _fail("顺序号从 0000001 开始", "invalid_serial")
    return CertificateNumber(_KIND_BY_WORD[match["word"]], int(match["year"]), district, serial)


def format_certificate_number(kind, year: int, district, serial: int) -> str:
    """`京(2026)朝阳区不动产权第0001234号`; `kind` is "CERTIFICATE"/"CERTIFICATION" (or a LicenseType),
    `district` a district name or a District."""
    kind = getattr(kind, "kind", kind)
    kind = str(getattr(kind, "value", kind))
    if kind not in KIND_WORDS:
        raise ValueError(f"unknown licence kind {kind!r}")
    name = getattr(district, "name", district)
    if name not in BEIJING_DISTRICT_CODES:
        raise ValueError(f"{name!r} is not a Beijing district")
    year, serial = int(year), int(serial)
    if not 1000 <= year <= 9999:
        raise ValueError(f"year {year} is not a 4-digit year")
    if not 1 <= serial <= 9_999_999:
        raise ValueError(f"serial {serial} does not fit 7 digits")
    return f"京({year}){name}{KIND_WORDS[kind]}第{serial:07d}号"


# --- Holder ID numbers by ID type (GB/T 36903 annex) -----------------------------------------
_GENERIC_DOC = re.compile(r"^[0-9A-Z]{4,30}$")
_HK_MACAO = re.compile(r"^[HM]\d{8}(\d{2})?$")
_TAIWAN = re.compile(r"^(\d{8}|\d{10}|[0-9A-Z]{10})$")
_FREE_DOC = re.compile(r"^[0-9A-Z\u4e00-\u9fff()（）-]{2,40}$")
ORGANISATION_ID_TYPES = {"001", "099"}
PERSON_ID_TYPES = {"111", "114", "414", "511", "516", "999"}


def validate_holder_id_number(id_type: str, value: str) -> None:
    """Validate an ID number for its GB/T 36903 ID type code (expects the normalised form)."""
    if id_type == "111":
        validate_id_number(value)
    elif id_type == "001":
        validate_uscc(value)
    elif id_type == "516":
        if not _HK_MACAO.match(value or ""):
            _fail("港澳居民来往内地通行证号码应为 H 或 M 加 8 位（或 10 位）数字", "invalid_id_number")
    elif id_type == "511":
        if not _TAIWAN.match(value or ""):
            _fail("台湾居民来往大陆通行证号码应为 8 位或 10 位数字/字母", "invalid_id_number")
    elif id_type in ("099", "414"):
        if not _GENERIC_DOC.match(value or ""):
            _fail("证件号码应为 4 至 30 位数字或大写字母", "invalid_id_number")
    elif id_type in ("114", "999"):
        if not _FREE_DOC.match(value or ""):
            _fail("证件号码应为 2 至 40 位数字、大写字母或汉字", "invalid_id_number")
    else:
        _fail(f"未知的证件类型代码“{id_type}”", "invalid_id_type")


def normalise_id_number(value: str) -> str:
    """The canonical form an ID number is validated, indexed and encrypted in.

    NFKC turns fullwidth digits/letters (common from Chinese input methods) into ASCII; spaces are
    dropped and letters upper-cased, so `11010819850101002x` and `１１０１…002X` are one number.
    """
    import unicodedata

    return "".join(unicodedata.normalize("NFKC", value or "").split()).upper()
