"""GB/T 36903 electronic-licence metadata of a licence PDF: the document information
dictionary (with extra entries) and an XMP packet, both carrying the same values.

Keys (Info) / elements (XMP namespace XMP_NS): LicenseName 证照名称, LicenseTypeCode
证照类型代码, LicenseNumber 证照编号, LicenseIdentifier 证照标识, IssuerName 证照颁发机构,
IssuerCode 证照颁发机构代码, IssueDate 证照颁发日期, HolderNames 持证主体, HolderIdTypes
持证主体代码类型, HolderIdNumbers 持证主体代码 (masked as printed). The XMP also has the Dublin
Core title, creator, identifier and date.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from reportlab.pdfbase import pdfdoc
from reportlab.pdfgen import canvas

if TYPE_CHECKING:
    from licensing.rendering import LicenseDocument

XMP_NS = "urn:gbt-36903:electronic-licence:metadata:1.0#"
PRODUCER = "北京市不动产登记电子证照系统（ReportLab）"


def metadata_fields(doc: LicenseDocument) -> dict[str, str]:
    """GB/T 36903 electronic-licence metadata of `doc` (the same values in Info and XMP)."""
    return {
        "LicenseName": doc.license_type_name or doc.title,
        "LicenseTypeCode": doc.license_type_code,
        "LicenseNumber": doc.certificate_number,
        "LicenseIdentifier": doc.identifier,
        "IssuerName": doc.issuer_name,
        "IssuerCode": doc.issuer_uscc,
        "IssueDate": doc.issue_date.isoformat(),
        "HolderNames": "；".join(h.name for h in doc.holders),
        "HolderIdTypes": "；".join(h.id_type_label for h in doc.holders),
        "HolderIdNumbers": "；".join(h.id_number_masked for h in doc.holders),
    }


class _LicenceInfo(pdfdoc.PDFInfo):
    """The document information dictionary with the GB/T 36903 entries added and the issue
    date as creation date (so the same licence renders to the same bytes)."""

    def __init__(self, base: pdfdoc.PDFInfo, extra: dict[str, str], date: dt.date):
        super().__init__()
        self.__dict__.update(base.__dict__)
        self._extra = extra
        self._date = date

    def format(self, document):
        d = {
            "Title": pdfdoc.PDFString(self.title),
            "Author": pdfdoc.PDFString(self.author),
            "Subject": pdfdoc.PDFString(self.subject),
            "Keywords": pdfdoc.PDFString(self.keywords),
            "Creator": pdfdoc.PDFString(self.creator),
            "Producer": pdfdoc.PDFString(self.producer),
            "CreationDate": pdfdoc.PDFString(_pdf_date(self._date)),
            "ModDate": pdfdoc.PDFString(_pdf_date(self._date)),
            "Trapped": pdfdoc.PDFName("False"),
        }
        for key, value in self._extra.items():
            d[key] = pdfdoc.PDFString(value)
        return pdfdoc.PDFDictionary(d).format(document)


class _XmpStream(pdfdoc.PDFStream):
    """An uncompressed XMP metadata stream (readable by tools that do not inflate streams)."""

    def __init__(self, xml: str):
        super().__init__(
            dictionary=pdfdoc.PDFDictionary({"Type": pdfdoc.PDFName("Metadata"), "Subtype": pdfdoc.PDFName("XML")}),
            content=xml.encode("utf-8"),
        )

    def format(self, document):
        content = self.content
        dictionary = pdfdoc.PDFDictionary(dict(self.dictionary.dict))
        dictionary["Length"] = len(content)
        return pdfdoc.format(dictionary, document) + b"\nstream\n" + content + b"\nendstream\n"


def set_metadata(c: canvas.Canvas, doc: LicenseDocument) -> None:
    meta = metadata_fields(doc)
    c.setTitle(f"{doc.title} {doc.certificate_number}")
    c.setAuthor(doc.issuer_name)
    c.setSubject(f"{doc.license_type_name} {doc.identifier}")
    c.setKeywords(f"{doc.license_type_name};{doc.certificate_number};{doc.identifier};{doc.unit_number}")
    c.setCreator("北京市不动产登记电子证照系统")
    c.setProducer(PRODUCER)
    pdf_doc = c._doc
    pdf_doc.info = _LicenceInfo(pdf_doc.info, meta, doc.issue_date)
    pdf_doc.Catalog.Metadata = _XmpStream(_xmp(doc, meta))


def _pdf_date(d: dt.date) -> str:
    return f"D:{d:%Y%m%d}000000+08'00'"


def _xmp(doc: LicenseDocument, meta: dict[str, str]) -> str:
    e = escape
    date = f"{doc.issue_date.isoformat()}T00:00:00+08:00"
    holders = "".join(f"<rdf:li>{e(h.name)}</rdf:li>" for h in doc.holders)
    licence = "".join(f"<ecl:{k}>{e(v)}</ecl:{k}>" for k, v in meta.items() if k != "HolderNames")
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        '<rdf:Description rdf:about=""'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
        ' xmlns:xmp="http://ns.adobe.com/xap/1.0/"'
        ' xmlns:pdf="http://ns.adobe.com/pdf/1.3/"'
        f' xmlns:ecl="{XMP_NS}">\n'
        "<dc:format>application/pdf</dc:format>\n"
        f'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{e(doc.title)} {e(doc.certificate_number)}</rdf:li>'
        "</rdf:Alt></dc:title>\n"
        f"<dc:creator><rdf:Seq><rdf:li>{e(doc.issuer_name)}</rdf:li></rdf:Seq></dc:creator>\n"
        f"<dc:identifier>{e(doc.identifier)}</dc:identifier>\n"
        f"<dc:date><rdf:Seq><rdf:li>{date}</rdf:li></rdf:Seq></dc:date>\n"
        f"<xmp:CreateDate>{date}</xmp:CreateDate>\n"
        f"<xmp:ModifyDate>{date}</xmp:ModifyDate>\n"
        f"<xmp:MetadataDate>{date}</xmp:MetadataDate>\n"
        "<xmp:CreatorTool>北京市不动产登记电子证照系统</xmp:CreatorTool>\n"
        f"<pdf:Producer>{e(PRODUCER)}</pdf:Producer>\n"
        f"<ecl:HolderNames><rdf:Seq>{holders}</rdf:Seq></ecl:HolderNames>\n"
        f"{licence}\n"
        "</rdf:Description>\n"
        "</rdf:RDF>\n"
        "</x:xmpmeta>\n"
        '<?xpacket end="w"?>'
    )
