"""Licence PDFs as the outside world reads them: poppler's tools for fonts, text and images,
zbarimg for the QR code, pyHanko's reader for the metadata."""

import dataclasses
import io
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest
from PIL import Image
from pyhanko.pdf_utils.reader import PdfFileReader

from licensing import rendering
from licensing.fonts import FontMissingError
from licensing.rendering import PreviewError, RenderError, preview_png, render_license_pdf

XMP_NS = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "ecl": rendering.XMP_NS,
}


def _run(tmp_path, argv: list[str], pdf: bytes) -> str:
    path = tmp_path / "licence.pdf"
    path.write_bytes(pdf)
    result = subprocess.run([*argv, str(path)], capture_output=True, text=True, timeout=60, check=True)
    return result.stdout


def _text(tmp_path, pdf: bytes) -> str:
    path = tmp_path / "licence.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, timeout=60, check=True
    ).stdout


def _scan_qr(tmp_path, pdf: bytes) -> str:
    (tmp_path / "licence.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "200", "-png", "-singlefile", str(tmp_path / "licence.pdf"), str(tmp_path / "page")],
        check=True,
        timeout=60,
    )
    result = subprocess.run(
        ["zbarimg", "--quiet", "--raw", str(tmp_path / "page.png")], capture_output=True, text=True, timeout=60
    )
    return result.stdout


def _xmp_root(reader: PdfFileReader) -> ET.Element:
    """The parsed XMP packet: ElementTree raises on anything not well-formed."""
    xmp = reader.root["/Metadata"].data.decode("utf-8")
    packet = xmp[xmp.index("<x:xmpmeta") : xmp.index("</x:xmpmeta>") + len("</x:xmpmeta>")]
    return ET.fromstring(packet)  # noqa: S314 - our own renderer's output, not untrusted input


@pytest.fixture(params=["certificate_doc", "certification_doc"])
def any_doc(request):
    return request.getfixturevalue(request.param)


@pytest.mark.parametrize("watermark", [None, "已注销"])
def test_it_embeds_every_font_it_uses(tmp_path, any_doc, watermark):
    out = _run(tmp_path, ["pdffonts"], render_license_pdf(any_doc, watermark=watermark))

    rows = out.splitlines()[2:]  # after the header and the dashes
    assert rows, out
    for row in rows:
        cols = row.split()
        # name type [encoding...] emb sub uni id gen: emb/sub/uni are the 5th-3rd from the end
        assert cols[-5:-2] == ["yes", "yes", "yes"], row  # embedded, subset, with ToUnicode
    assert "Helvetica" not in out


def test_it_puts_the_check_url_in_a_qr_code_a_scanner_reads(tmp_path, any_doc):
    assert _scan_qr(tmp_path, render_license_pdf(any_doc)).strip() == any_doc.check_url


def test_it_prints_holders_unit_number_certificate_number_and_identifier(tmp_path, certificate_doc):
    text = _text(tmp_path, render_license_pdf(certificate_doc))

    for value in (
        "不 动 产 权 证 书",
        "张伟",
        "欧阳娜娜",
        "110105********1239",
        "110105003001GB00012F00031201",
        "京(2026)朝阳区不动产权第0001234号",
        "1.2.156.3005.2.11100000MB03271699001.11110000MB0000001Y.20260001234.001.5",
        "按份共有",
        "北京市朝阳区建国路88号院3号楼12层1201",
        "国有建设用地使用权/房屋所有权",
        "12034.50㎡",
        "89.12㎡",
        "2076年02月28日止",
        "钢筋混凝土结构",
        "2026年1月5日转移登记",
        "北京市规划和自然资源委员会",
        "2026年1月5日",
    ):
        assert value in text, value


def test_it_prints_the_certification_fields(tmp_path, certification_doc):
    text = _text(tmp_path, render_license_pdf(certification_doc))

    for value in (
        "不 动 产 登 记 证 明",
        "证明权利或事项",
        "抵押权",
        "中国工商银行股份有限公司北京市分行",
        "义务人",
        "张伟、欧阳娜娜",
        "人民币 3,000,000.00 元",
        "2056年01月31日止",
        "京(2026)朝阳区不动产权第0001234号",
        "京(2026)朝阳区不动产证明第0000042号",
        "110105003001GB00012F00031201",
        "最高额抵押",
    ):
        assert value in text, value


def test_it_writes_gbt36903_metadata_to_info_and_xmp(certificate_doc):
    reader = PdfFileReader(io.BytesIO(render_license_pdf(certificate_doc)))

    info = reader.trailer["/Info"]
    assert info["/LicenseName"] == "不动产权证书"
    assert info["/LicenseTypeCode"] == "11100000MB03271699001"
    assert info["/LicenseNumber"] == "京(2026)朝阳区不动产权第0001234号"
    assert info["/LicenseIdentifier"] == certificate_doc.identifier
    assert info["/IssuerName"] == "北京市规划和自然资源委员会"
    assert info["/IssuerCode"] == "11110000MB0000001Y"
    assert info["/IssueDate"] == "2026-01-05"
    assert info["/HolderNames"] == "张伟；欧阳娜娜"
    assert info["/CreationDate"].startswith("D:20260105")

    root = _xmp_root(reader)
    desc = root.find("rdf:RDF/rdf:Description", XMP_NS)
    assert desc.findtext("dc:identifier", namespaces=XMP_NS) == certificate_doc.identifier
    assert desc.findtext("ecl:LicenseNumber", namespaces=XMP_NS) == "京(2026)朝阳区不动产权第0001234号"
    assert desc.findtext("ecl:IssuerCode", namespaces=XMP_NS) == "11110000MB0000001Y"
    assert desc.findtext("ecl:IssueDate", namespaces=XMP_NS) == "2026-01-05"
    holders = [li.text for li in desc.findall("ecl:HolderNames/rdf:Seq/rdf:li", XMP_NS)]
    assert holders == ["张伟", "欧阳娜娜"]


def test_it_keeps_the_xmp_well_formed_with_markup_in_values(certificate_doc):
    doc = dataclasses.replace(certificate_doc, holders=(("A&B <公司>", "统一社会信用代码", "91110000802100433B", ""),))

    reader = PdfFileReader(io.BytesIO(render_license_pdf(doc)))

    root = _xmp_root(reader)
    assert [li.text for li in root.iter(f"{{{XMP_NS['rdf']}}}li") if li.text == "A&B <公司>"]


def _red_pixels(png: bytes) -> int:
    img = Image.open(io.BytesIO(png)).convert("RGB")
    w, h = img.size
    middle = img.crop((w // 4, h // 3, 3 * w // 4, 2 * h // 3))  # inside the table, away from the seal
    raw = middle.tobytes()
    # The watermark is translucent red: red clearly above green and blue.
    return sum(1 for i in range(0, len(raw), 3) if raw[i] > raw[i + 1] + 30 and raw[i] > raw[i + 2] + 30)


@pytest.mark.parametrize("mark", ["已注销", "仅供中国工商银行北京市分行用于抵押贷款审查，有效期至2027-01-01"])
def test_it_draws_a_visible_watermark(tmp_path, certificate_doc, mark):
    plain = render_license_pdf(certificate_doc)
    marked = render_license_pdf(certificate_doc, watermark=mark)

    assert mark in _text(tmp_path, marked).replace(" ", "")
    assert mark not in _text(tmp_path, plain)
    assert _red_pixels(preview_png(marked, dpi=40)) > 20 * _red_pixels(preview_png(plain, dpi=40)) + 200


def test_it_draws_the_status_watermark_of_the_document(tmp_path, certificate_doc):
    doc = dataclasses.replace(certificate_doc, status_watermark="已注销")

    assert "已注销" in _text(tmp_path, render_license_pdf(doc))


def test_it_puts_the_banner_only_on_marked_copies(tmp_path, certificate_doc):
    mark = "仅供测试机构用于抵押贷款审查，有效期至2027-01-01"
    cancelled = dataclasses.replace(certificate_doc, status_watermark="已注销")
    annotated = render_license_pdf(cancelled, watermark=mark)

    assert "【" not in _text(tmp_path, render_license_pdf(certificate_doc))  # a valid licence carries none
    assert f"【已注销】【{mark}】" in _text(tmp_path, annotated).replace(" ", "")


def test_it_renders_the_same_bytes_for_the_same_licence(certificate_doc):
    assert render_license_pdf(certificate_doc) == render_license_pdf(certificate_doc)
    other = dataclasses.replace(certificate_doc, notes="另一附记")
    assert render_license_pdf(other) != render_license_pdf(certificate_doc)


def test_it_fits_long_notes_on_one_page(tmp_path, certificate_doc):
    doc = dataclasses.replace(certificate_doc, notes="；".join(f"第{i}项附记：共有人约定事项说明" for i in range(40)))

    info = _run(tmp_path, ["pdfinfo"], render_license_pdf(doc))

    assert "Pages:           1" in info


def test_it_refuses_text_that_cannot_fit_one_page(certificate_doc):
    doc = dataclasses.replace(certificate_doc, notes="很长的附记" * 3000)

    with pytest.raises(RenderError, match="one page"):
        render_license_pdf(doc)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"holders": (("张伟", "居民身份证", "110105199003071239", ""),)}, "not masked"),
        ({"holders": (("张伟", "111", "11010819850101002X", ""),)}, "not masked"),
        ({"check_url": "/v/relative"}, "absolute"),
        ({"kind": "PASSPORT"}, "kind"),
        ({"holders": ()}, "at least one holder"),
        ({"unit_number": " "}, "unit_number is empty"),
    ],
)
def test_it_refuses_documents_it_must_not_print(certificate_doc, change, message):
    with pytest.raises(RenderError, match=message):
        dataclasses.replace(certificate_doc, **change)


def test_it_names_a_missing_font(settings, certificate_doc):
    settings.CJK_FONT_PATH = "/nonexistent/font.ttc"

    with pytest.raises(FontMissingError, match="CJK_FONT_PATH"):
        render_license_pdf(certificate_doc)


def test_it_previews_the_first_page_as_png(certificate_doc):
    png = preview_png(render_license_pdf(certificate_doc), dpi=60)

    img = Image.open(io.BytesIO(png))
    assert img.format == "PNG"
    assert (img.width, img.height) in {(496, 702), (496, 701), (497, 702)}  # A4 at 60 dpi


def test_it_explains_a_preview_that_cannot_be_made(monkeypatch):
    with pytest.raises(PreviewError, match="could not render"):
        preview_png(b"not a pdf at all")

    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(PreviewError, match="poppler-utils"):
        preview_png(b"%PDF-1.4")
