"""Licence PDFs: one A4 page per licence, drawn with ReportLab.

`render_license_pdf(doc)` takes a `LicenseDocument` (plain printable values, no models, so the
renderer never decides what may be shown: the caller masks ID numbers before building it) and
returns the unsigned PDF. Two layouts: 不动产权证书 (kind CERTIFICATE) and 不动产登记证明
(CERTIFICATION). Every glyph is set in the embedded, subset CJK TrueType font (licensing.fonts);
the QR code holds the public check URL; GB/T 36903 metadata goes into the document information
dictionary and an XMP packet. The same input gives the same bytes (ReportLab invariant mode, and
the issue date as the document date).

`preview_png(pdf)` renders the first page to PNG through poppler's pdftoppm in a subprocess, with
a timeout, for the admin preview.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen import canvas
from reportlab.platypus import Paragraph

from licensing import marks
from licensing.fonts import cjk_font_name
from licensing.pdf_metadata import XMP_NS, metadata_fields, set_metadata

CERTIFICATE = "CERTIFICATE"
CERTIFICATION = "CERTIFICATION"
KINDS = (CERTIFICATE, CERTIFICATION)

PAGE_W, PAGE_H = A4
MARGIN = 48
INK = colors.HexColor("#1a1a1a")
FRAME = colors.HexColor("#8a6d3b")
PREVIEW_TIMEOUT_SECONDS = 20


class RenderError(ValueError):
    """The licence cannot be rendered from these values."""


class HolderLine(NamedTuple):
    name: str
    id_type_label: str  # e.g. 居民身份证, 统一社会信用代码
    id_number_masked: str  # already masked by the caller: 110105********1239
    share_text: str = ""  # e.g. 1/2, 60%; empty unless 按份共有


@dataclass(frozen=True)
class LicenseDocument:
    """Everything printed on one licence, as display values."""

    kind: str
    title: str
    certificate_number: str
    identifier: str
    license_type_code: str
    license_type_name: str
    issuer_name: str
    issuer_uscc: str
    issue_date: dt.date
    holders: tuple[HolderLine, ...]
    location: str
    unit_number: str
    check_url: str
    seal_name: str = ""
    co_ownership: str = ""
    right_type: str = ""
    right_nature: str = ""
    use: str = ""
    land_area: Decimal | str | None = None
    building_area: Decimal | str | None = None
    term_text: str = ""
    other_status: str = ""
    notes: str = ""
    # 不动产登记证明 only
    right_or_matter: str = ""
    obligors: tuple[str, ...] = ()
    secured_amount: Decimal | str | None = None
    debt_term_text: str = ""
    encumbered_certificate_number: str = ""
    status_watermark: str | None = None

    def __post_init__(self):
        holders = tuple(h if isinstance(h, HolderLine) else HolderLine(*h) for h in self.holders)
        object.__setattr__(self, "holders", holders)
        object.__setattr__(self, "obligors", tuple(self.obligors))
        problems = []
        if self.kind not in KINDS:
            problems.append(f"kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        for name in ("title", "certificate_number", "identifier", "issuer_name", "location", "unit_number"):
            if not str(getattr(self, name)).strip():
                problems.append(f"{name} is empty")
        if not isinstance(self.issue_date, dt.date):
            problems.append("issue_date must be a date")
        if not holders:
            problems.append("a licence has at least one holder")
        for h in holders:
            # Privacy rule: a resident ID number never appears in clear on a licence rendition.
            unmasked_label = "身份证" in h.id_type_label and "*" not in h.id_number_masked
            if unmasked_label or _is_resident_id(h.id_number_masked):
                problems.append(f"the ID number of holder {h.name} is not masked")
        if not re.match(r"^https?://[^\s/]+/\S*$", self.check_url or ""):
            problems.append(f"check_url must be an absolute http(s) URL, not {self.check_url!r}")
        if problems:
            raise RenderError("; ".join(problems))


def _is_resident_id(value: str) -> bool:
    """A complete GB 11643 resident ID number (birth date and check character valid)."""
    if not re.fullmatch(r"\d{17}[\dX]", value or ""):
        return False
    try:
        dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return "10X98765432"[sum(int(d) * w for d, w in zip(value, weights, strict=False)) % 11] == value[17]


# --- public API ---------------------------------------------------------------------------


def render_license_pdf(doc: LicenseDocument, *, watermark: str | None = None) -> bytes:
    """The unsigned one-page PDF of `doc`; `watermark` (and doc.status_watermark) are drawn
    diagonally across the page, e.g. 已注销 or the purpose and expiry of an annotated copy."""
    font = cjk_font_name()
    buf = io.BytesIO()
    # initialFontName: the page preamble selects the initial font before anything is drawn;
    # left at its default it would put an unembedded Helvetica into every file.
    c = canvas.Canvas(
        buf,
        pagesize=A4,
        invariant=1,
        pageCompression=1,
        initialFontName=font,
        initialFontSize=10,
    )
    set_metadata(c, doc)
    _draw_frame(c)
    y = _draw_heading(c, doc, font)
    table_bottom = _draw_table(c, doc, font, top=y, bottom=MARGIN + 190)
    _draw_footer_block(c, doc, font, top=table_bottom - 16)
    texts = [m for m in (doc.status_watermark, watermark) if m]
    for i, text in enumerate(texts):
        marks.draw_watermark(c, text, font, offset=(i - (len(texts) - 1) / 2) * 120)
    if texts:
        # The same words once more, horizontally at the top: readable in a glance at a
        # thumbnail, and by text extraction (which cannot reassemble diagonal text).
        marks.draw_banner(c, "【" + "】【".join(texts) + "】", font, margin=MARGIN)
    c.showPage()
    c.save()
    return buf.getvalue()


class PreviewError(RuntimeError):
    """The preview image could not be produced."""


def preview_png(pdf: bytes, *, dpi: int = 60) -> bytes:
    """PNG of the first page, rendered by pdftoppm in a subprocess with a timeout."""
    exe = shutil.which("pdftoppm")
    if exe is None:
        raise PreviewError("pdftoppm is not installed (Debian package poppler-utils); no preview possible")
    if not 10 <= dpi <= 300:
        raise PreviewError(f"dpi must be between 10 and 300, not {dpi}")
    with tempfile.TemporaryDirectory(prefix="licence-preview-") as tmp:
        out_root = Path(tmp) / "page"
        try:
            # The PDF goes in through stdin; this pdftoppm cannot write the image to stdout.
            result = subprocess.run(  # noqa: S603 - fixed argv
                [exe, "-png", "-r", str(dpi), "-f", "1", "-l", "1", "-singlefile", "-", str(out_root)],
                input=pdf,
                capture_output=True,
                timeout=PREVIEW_TIMEOUT_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise PreviewError(f"pdftoppm took longer than {PREVIEW_TIMEOUT_SECONDS} s") from exc
        png_path = out_root.with_suffix(".png")
        if result.returncode != 0 or not png_path.is_file():
            message = result.stderr.decode("utf-8", "replace").strip()[:300]
            raise PreviewError(f"pdftoppm could not render the file (exit {result.returncode}): {message}")
        return png_path.read_bytes()


# --- layout -------------------------------------------------------------------------------


def _draw_frame(c: canvas.Canvas) -> None:
    c.saveState()
    c.setStrokeColor(FRAME)
    c.setLineWidth(2)
    c.rect(24, 24, PAGE_W - 48, PAGE_H - 48)
    c.setLineWidth(0.6)
    c.rect(29, 29, PAGE_W - 58, PAGE_H - 58)
    c.restoreState()


def _draw_heading(c: canvas.Canvas, doc: LicenseDocument, font: str) -> float:
    c.setFillColor(INK)
    c.setFont(font, 11)
    c.drawCentredString(PAGE_W / 2, PAGE_H - 68, "中华人民共和国")
    c.setFont(font, 26)
    c.drawCentredString(PAGE_W / 2, PAGE_H - 102, _spaced(doc.title))
    c.setFont(font, 12)
    c.drawCentredString(PAGE_W / 2, PAGE_H - 128, doc.certificate_number)
    c.setFont(font, 7.5)
    c.drawCentredString(PAGE_W / 2, PAGE_H - 146, f"电子证照标识：{doc.identifier}")
    return PAGE_H - 156


def _rows(doc: LicenseDocument) -> list[tuple[str, str]]:
    holders = "\n".join(_holder_text(h) for h in doc.holders)
    if doc.kind == CERTIFICATE:
        return [
            ("权利人", holders),
            ("共有情况", _co_ownership_text(doc)),
            ("坐落", doc.location),
            ("不动产单元号", doc.unit_number),
            ("权利类型", doc.right_type),
            ("权利性质", doc.right_nature),
            ("用途", doc.use),
            ("面积", _area_text(doc)),
            ("使用期限", doc.term_text),
            ("权利其他状况", doc.other_status),
            ("附记", doc.notes),
        ]
    other = []
    if doc.secured_amount not in (None, ""):
        other.append(f"被担保主债权数额：{_amount(doc.secured_amount)}")
    if doc.debt_term_text:
        other.append(f"债务履行期限：{doc.debt_term_text}")
    if doc.encumbered_certificate_number:
        other.append(f"抵押不动产权证书号：{doc.encumbered_certificate_number}")
    if doc.other_status:
        other.append(doc.other_status)
    return [
        ("证明权利或事项", doc.right_or_matter),
        ("权利人（申请人）", holders),
        ("义务人", "、".join(doc.obligors)),
        ("坐落", doc.location),
        ("不动产单元号", doc.unit_number),
        ("其他", "\n".join(other)),
        ("附记", doc.notes),
    ]


def _draw_table(c: canvas.Canvas, doc: LicenseDocument, font: str, *, top: float, bottom: float) -> float:
    """The two-column field table. Drawn directly rather than with platypus.Table, which would
    wrap every paragraph a second time (a fifth of the rendering time)."""
    width = PAGE_W - 2 * MARGIN
    label_w = 104
    pad = 8
    rows = _rows(doc)
    # Long notes or many co-owners: step the type size down until the table fits the page.
    for size in (10.5, 9.5, 8.5, 7.5, 6.5):
        label_style = ParagraphStyle("label", fontName=font, fontSize=size, leading=size * 1.35, alignment=TA_CENTER)
        value_style = ParagraphStyle("value", fontName=font, fontSize=size, leading=size * 1.45, wordWrap="CJK")
        cells = []
        for label, value in rows:
            lp = _cell(_spaced_label(label), label_style, label_w - 2 * pad, centred=True)
            vp = _cell(value or "—", value_style, width - label_w - 2 * pad)
            lh = lp.wrap(label_w - 2 * pad, PAGE_H)[1]
            vh = vp.wrap(width - label_w - 2 * pad, PAGE_H)[1]
            # Each row at least two lines high, like the printed form; taller when text wraps.
            cells.append((lp, lh, vp, vh, max(size * 2.6, lh + pad, vh + pad)))
        total = sum(cell[4] for cell in cells)
        if total <= top - bottom:
            break
    else:
        raise RenderError("the licence text does not fit on one page even at the smallest type size")
    # Spread spare room over the rows (up to half again), like the fixed printed form.
    stretch = min(1.5, (top - bottom) / total)
    height = total * stretch
    c.saveState()
    c.setFillColor(colors.HexColor("#f6f1e7"))
    c.rect(MARGIN, top - height, label_w, height, stroke=0, fill=1)
    c.setStrokeColor(INK)
    c.setLineWidth(0.6)
    y = top
    for lp, lh, vp, vh, row_h in cells:
        row_h *= stretch
        lp.drawOn(c, MARGIN + pad, y - row_h + (row_h - lh) / 2)
        vp.drawOn(c, MARGIN + label_w + pad, y - row_h + (row_h - vh) / 2)
        y -= row_h
        if y > top - height + 0.5:
            c.line(MARGIN, y, MARGIN + width, y)
    c.line(MARGIN + label_w, top, MARGIN + label_w, top - height)
    c.setLineWidth(1.2)
    c.rect(MARGIN, top - height, width, height, stroke=1, fill=0)
    c.restoreState()
    return top - height


class _Lines:
    """Text whose every line fits the cell, drawn as plain strings. Building and wrapping a
    Paragraph costs ~0.3 ms even for one short line, and most fields are one short line."""

    def __init__(self, lines: list[str], style: ParagraphStyle, *, centred: bool):
        self.lines, self.style, self.centred = lines, style, centred

    def wrap(self, width: float, height: float) -> tuple[float, float]:
        self.width = width
        return width, self.style.leading * len(self.lines)

    def drawOn(self, c: canvas.Canvas, x: float, y: float) -> None:
        size, leading = self.style.fontSize, self.style.leading
        c.setFont(self.style.fontName, size)
        c.setFillColor(INK)
        for i, line in enumerate(reversed(self.lines)):
            baseline = y + i * leading + (leading - size) / 2 + size * 0.15
            if self.centred:
                c.drawCentredString(x + self.width / 2, baseline, line)
            else:
                c.drawString(x, baseline, line)


def _cell(text: str, style: ParagraphStyle, width: float, *, centred: bool = False) -> _Lines | Paragraph:
    lines = text.splitlines() or [""]
    if all(pdfmetrics.stringWidth(line, style.fontName, style.fontSize) <= width for line in lines):
        return _Lines(lines, style, centred=centred)
    return Paragraph("<br/>".join(escape(line) for line in lines), style)


def _draw_footer_block(c: canvas.Canvas, doc: LicenseDocument, font: str, *, top: float) -> None:
    # QR code with the public check URL, bottom left.
    qr_size = 104
    qr_x, qr_y = MARGIN, MARGIN + 44
    marks.draw_qr(c, doc.check_url, qr_x, qr_y, qr_size)
    c.setFillColor(INK)
    c.setFont(font, 8)
    c.drawCentredString(qr_x + qr_size / 2, qr_y - 11, "扫码核验证照状态")

    # Issuer, date and seal, bottom right.
    right = PAGE_W - MARGIN - 10
    c.setFont(font, 11)
    c.drawRightString(right, MARGIN + 120, f"登记机构（章）：{doc.issuer_name}")
    c.setFont(font, 8.5)
    c.drawRightString(right, MARGIN + 103, f"统一社会信用代码：{doc.issuer_uscc}")
    c.setFont(font, 11)
    c.drawRightString(right, MARGIN + 82, _chinese_date(doc.issue_date))
    marks.draw_seal(c, font, doc.seal_name or doc.issuer_name, cx=right - 72, cy=MARGIN + 100, radius=54)

    c.setFont(font, 7)
    c.setFillColor(colors.HexColor("#555555"))
    c.drawString(MARGIN, MARGIN + 14, f"核验地址：{doc.check_url}")
    c.drawRightString(PAGE_W - MARGIN, MARGIN + 14, f"证照类型：{doc.license_type_name}（{doc.license_type_code}）")
    c.drawString(
        MARGIN,
        MARGIN + 4,
        "本电子证照经登记机构电子签名，依据《中华人民共和国电子签名法》与纸质证照具有同等法律效力。",
    )


# --- text helpers -------------------------------------------------------------------------


def _holder_text(h: HolderLine) -> str:
    ident = f"（{h.id_type_label} {h.id_number_masked}）" if h.id_number_masked else ""
    return f"{h.name}{ident}"


def _co_ownership_text(doc: LicenseDocument) -> str:
    shares = [f"{h.name} {h.share_text}" for h in doc.holders if h.share_text]
    text = doc.co_ownership or ("单独所有" if len(doc.holders) == 1 else "")
    return f"{text}（{'；'.join(shares)}）" if shares else text


def _area_text(doc: LicenseDocument) -> str:
    parts = []
    if doc.land_area not in (None, ""):
        parts.append(f"共有宗地面积 {_number(doc.land_area)}㎡")
    if doc.building_area not in (None, ""):
        parts.append(f"房屋建筑面积 {_number(doc.building_area)}㎡")
    return " / ".join(parts)


def _number(value: Decimal | str | float | int) -> str:
    if isinstance(value, str):
        return value
    return f"{Decimal(str(value)):.2f}"


def _amount(value: Decimal | str | float | int) -> str:
    if isinstance(value, str):
        return value
    return f"人民币 {Decimal(str(value)):,.2f} 元"


def _chinese_date(d: dt.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _spaced(title: str) -> str:
    return "  ".join(title) if len(title) <= 8 else title


def _spaced_label(label: str) -> str:
    return label if len(label) > 2 else " ".join(label)


__all__ = [
    "CERTIFICATE",
    "CERTIFICATION",
    "XMP_NS",
    "HolderLine",
    "LicenseDocument",
    "PreviewError",
    "RenderError",
    "metadata_fields",
    "preview_png",
    "render_license_pdf",
]
