"""CSV import of property units and holders (the admin's 导入CSV pages call this).

Decision, so that "good rows are imported and a failed import leaves nothing half-written":
- Each data row is one unit of work in its own savepoint: a row is written completely or not at
  all. A row that fails validation is rolled back to its savepoint and reported with its line
  number and reason; the other rows go in.
- The whole file runs inside one outer transaction. Anything unexpected (a database failure, a
  bug, the process dying) rolls back the entire file, so a crash never leaves a partly imported
  file or a partly written row; the clerk fixes the cause and imports the same file again.
- Rows are matched on their natural key (unit number; ID type + blind index of the ID number),
  so importing a corrected file again updates instead of duplicating.

Row numbers are the file's line numbers as a spreadsheet shows them: the header is line 1.
Reasons never repeat an ID number.

Own code rather than django-import-export: its row results and error reports print the submitted
values, and holders must go through `holder_create`/`holder_update` (encryption, blind index).
"""

import csv
import datetime
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.views.decorators.debug import sensitive_variables

from registry import services
from registry.models import Holder, HolderKind, IdType, PropertyUnit
from registry.validators import ORGANISATION_ID_TYPES

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20000


class ImportFileError(Exception):
    """The file as a whole cannot be imported (encoding, header, size)."""


@dataclass
class RowError:
    row: int
    message: str

    def __str__(self):
        return f"第{self.row}行：{self.message}"


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.created + self.updated


# column -> accepted header spellings (Chinese as clerks' spreadsheets have them, or field names)
UNIT_COLUMNS = {
    "unit_number": ("不动产单元号", "unit_number"),
    "location": ("坐落", "location"),
    "right_type": ("权利类型", "right_type"),
    "right_nature": ("权利性质", "right_nature"),
    "use": ("用途", "use"),
    "land_area": ("土地面积", "土地面积（㎡）", "土地面积(㎡)", "land_area"),
    "building_area": ("房屋面积", "房屋面积（㎡）", "房屋面积(㎡)", "building_area"),
    "term_start": ("使用期限起", "term_start"),
    "term_end": ("使用期限止", "term_end"),
    "other_status": ("权利其他状况", "other_status"),
}
UNIT_REQUIRED = ("unit_number", "location", "right_type", "right_nature", "use")

HOLDER_COLUMNS = {
    "kind": ("主体类别", "kind"),
    "name": ("名称/姓名", "姓名/名称", "姓名", "名称", "name"),
    "id_type": ("证件类型", "id_type"),
    "id_number": ("证件号码", "id_number"),
    "phone": ("联系电话", "phone"),
    "address": ("通讯地址", "address"),
}
HOLDER_REQUIRED = ("name", "id_type", "id_number")

FIELD_LABELS = {
    "unit_number": "不动产单元号",
    "location": "坐落",
    "right_type": "权利类型",
    "right_nature": "权利性质",
    "use": "用途",
    "land_area": "土地面积",
    "building_area": "房屋面积",
    "term_start": "使用期限起",
    "term_end": "使用期限止",
    "other_status": "权利其他状况",
    "kind": "主体类别",
    "name": "名称/姓名",
    "id_type": "证件类型",
    "id_number": "证件号码",
    "phone": "联系电话",
    "address": "通讯地址",
}


def _decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise ImportFileError(f"文件超过 {MAX_BYTES // 1024 // 1024} MB")
    for encoding in ("utf-8-sig", "gb18030"):  # Excel on Chinese Windows saves CSV as GB18030/GBK
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError("无法识别文件编码（应为 UTF-8 或 GBK）")


def _rows(data: bytes, columns: dict, required: tuple):
    """Yield (line number, {field: value}) for every non-empty data row."""
    reader = csv.reader(io.StringIO(_decode(data), newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError("文件为空") from None
    except csv.Error as exc:
        raise ImportFileError(f"第1行：CSV 格式错误（{exc}）") from None
    lookup = {spelling: name for name, spellings in columns.items() for spelling in spellings}
    positions = {}
    for i, title in enumerate(header):
        name = lookup.get(title.strip())
        if name:
            if name in positions:
                raise ImportFileError(f"第1行：列“{FIELD_LABELS[name]}”出现了两次")
            positions[name] = i
    missing = [FIELD_LABELS[name] for name in required if name not in positions]
    if missing:
        raise ImportFileError(f"第1行：缺少列 {'、'.join(missing)}")
    count = 0
    while True:
        try:
            raw = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportFileError(f"第{reader.line_num}行：CSV 格式错误（{exc}）") from None
        if not any(cell.strip() for cell in raw):
            continue
        count += 1
        if count > MAX_ROWS:
            raise ImportFileError(f"一个文件最多 {MAX_ROWS} 行数据")
        values = {name: (raw[i].strip() if i < len(raw) else "") for name, i in positions.items()}
        yield reader.line_num, values


def _reason(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "；".join(
            f"{FIELD_LABELS.get(name, name)}：{'，'.join(messages)}"
            for name, messages in exc.message_dict.items()
            if name != "__all__"
        ) or "；".join(exc.message_dict.get("__all__", []))
    return "；".join(exc.messages)


def _run(rows, handle_row, *, actor) -> ImportResult:
    result = ImportResult()
    with transaction.atomic(), services.acting_as(actor):
        for line, values in rows:
            try:
                with transaction.atomic():
                    created = handle_row(values, actor=actor)
            except ValidationError as exc:
                result.errors.append(RowError(line, _reason(exc)))
                continue
            if created:
                result.created += 1
            else:
                result.updated += 1
    return result


# --- property units -------------------------------------------------------------------------


def _decimal(value: str, name: str):
    if not value:
        return None
    cleaned = value.replace(",", "").replace("㎡", "").replace("平方米", "").strip()
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        raise ValidationError({name: f"“{value}”不是数字"}) from None
    if not number.is_finite() or number.as_tuple().exponent < -2 or abs(number) >= Decimal(10) ** 10:
        raise ValidationError({name: f"“{value}”应为不超过两位小数的面积"})
    return number


_DATE_RE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")


def _date(value: str, name: str):
    if not value:
        return None
    match = _DATE_RE.match(value)
    try:
        if not match:
            raise ValueError
        return datetime.date(*(int(g) for g in match.groups()))
    except ValueError:
        raise ValidationError({name: f"“{value}”不是日期（应为 YYYY-MM-DD）"}) from None


def _unit_row(values: dict, *, actor) -> bool:
    fields = {
        "location": values.get("location", ""),
        "right_type": values.get("right_type", ""),
        "right_nature": values.get("right_nature", ""),
        "use": values.get("use", ""),
        "other_status": values.get("other_status", ""),
    }
    for name in ("land_area", "building_area"):
        if name in values:
            fields[name] = _decimal(values[name], name)
    for name in ("term_start", "term_end"):
        if name in values:
            fields[name] = _date(values[name], name)
    unit_number = values["unit_number"]
    existing = PropertyUnit.objects.filter(unit_number=unit_number).first()
    if existing:
        services.property_unit_update(unit=existing, actor=actor, **fields)
        return False
    services.property_unit_create(unit_number=unit_number, actor=actor, **fields)
    return True


def import_property_units(data: bytes, *, actor=None) -> ImportResult:
    return _run(_rows(data, UNIT_COLUMNS, UNIT_REQUIRED), _unit_row, actor=actor)


# --- holders ----------------------------------------------------------------------------

_KIND_WORDS = {
    "自然人": HolderKind.PERSON,
    "个人": HolderKind.PERSON,
    "PERSON": HolderKind.PERSON,
    "法人或其他组织": HolderKind.ORGANISATION,
    "法人": HolderKind.ORGANISATION,
    "其他组织": HolderKind.ORGANISATION,
    "组织": HolderKind.ORGANISATION,
    "ORGANISATION": HolderKind.ORGANISATION,
}
_ID_TYPE_WORDS = {label: code for code, label in IdType.choices}
_ID_TYPE_WORDS |= {"身份证": IdType.RESIDENT_ID, "护照": IdType.PASSPORT}


def _id_type(value: str) -> str:
    value = value.strip()
    if value.isdigit() and len(value) <= 3:
        value = value.zfill(3)  # spreadsheets turn 001 into 1
    if value in IdType.values:
        return value
    if value in _ID_TYPE_WORDS:
        return _ID_TYPE_WORDS[value]
    raise ValidationError({"id_type": f"未知的证件类型“{value}”（应为代码如 111，或名称如 居民身份证）"})


@sensitive_variables("values", "id_number")
def _holder_row(values: dict, *, actor) -> bool:
    id_type = _id_type(values["id_type"])
    id_number = values["id_number"]
    if re.fullmatch(r"\d(\.\d+)?E\+\d+", id_number.upper()):
        raise ValidationError({"id_number": "被表格软件改成了科学计数法，请把该列设为文本后重新导出"})
    kind_text = values.get("kind", "")
    if kind_text:
        kind = _KIND_WORDS.get(kind_text.upper() if kind_text.isascii() else kind_text)
        if kind is None:
            raise ValidationError({"kind": f"未知的主体类别“{kind_text}”（应为 自然人 或 法人或其他组织）"})
    else:
        kind = HolderKind.ORGANISATION if id_type in ORGANISATION_ID_TYPES else HolderKind.PERSON
    existing = services.holder_find(id_number, id_type).first()
    extra = {name: values[name] for name in ("phone", "address") if name in values}
    if existing:
        services.holder_update(holder=existing, kind=kind, name=values["name"], actor=actor, **extra)
        return False
    services.holder_create(kind=kind, name=values["name"], id_type=id_type, id_number=id_number, actor=actor, **extra)
    return True


def import_holders(data: bytes, *, actor=None) -> ImportResult:
    return _run(_rows(data, HOLDER_COLUMNS, HOLDER_REQUIRED), _holder_row, actor=actor)


IMPORTERS = {PropertyUnit: import_property_units, Holder: import_holders}
