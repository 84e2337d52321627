"""PAdES signing with the commission key and validation against the dev root, checked both by
pyHanko and by poppler's independent `pdfsig`."""

import datetime as dt
import hashlib
import http.server
import io
import subprocess
import threading

import pytest
from asn1crypto import tsp
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.core.management import call_command
from pyhanko.pdf_utils.reader import PdfFileReader
from reportlab.pdfgen import canvas

from audit.signing import certificate_fingerprint
from licensing import pki, signing, validation
from licensing.rendering import render_license_pdf


def _plain_pdf(text: str = "licence body") -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pageCompression=0, invariant=1)
    c.drawString(72, 720, text)
    c.showPage()
    c.save()
    return buf.getvalue()


def _pdfsig(tmp_path, data: bytes) -> str:
    path = tmp_path / "licence.pdf"
    path.write_bytes(data)
    result = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, timeout=60, check=False)
    return result.stdout + result.stderr


@pytest.fixture
def signed(dev_pki):
    return signing.sign_pdf(_plain_pdf())


def test_it_signs_so_that_pyhanko_validates_against_the_dev_root(dev_pki, signed):
    result = validation.validate_pdf(signed.data)

    assert result.problems == []
    assert result.intact and result.trusted and result.timestamp_ok and result.ok
    signing_cert = x509.load_pem_x509_certificate(dev_pki.signing_cert_path.read_bytes())
    assert signed.signer_fingerprint == certificate_fingerprint(signing_cert)
    assert result.signer_fingerprint == signed.signer_fingerprint
    assert result.signed_at == signed.signed_at
    assert abs(dt.datetime.now(dt.UTC) - signed.signed_at) < dt.timedelta(minutes=1)


def test_it_signs_so_that_pdfsig_accepts_the_signature(tmp_path, signed):
    out = _pdfsig(tmp_path, signed.data)

    assert "Signature is Valid" in out
    assert "Total document signed" in out
    assert "ETSI.CAdES.detached" in out  # PAdES, not the legacy adbe.pkcs7.detached


def test_it_signs_a_rendered_licence_keeping_its_text_and_fonts(tmp_path, dev_pki, certificate_doc):
    signed = signing.sign_pdf(render_license_pdf(certificate_doc))

    assert validation.validate_pdf(signed.data).ok
    out = _pdfsig(tmp_path, signed.data)
    assert "Signature is Valid" in out and "Total document signed" in out
    path = tmp_path / "licence.pdf"
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, timeout=60).stdout
    assert certificate_doc.identifier in text
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, timeout=60).stdout
    assert all(row.split()[-5] == "yes" for row in fonts.splitlines()[2:])


def test_it_leaves_the_licence_metadata_as_rendered(dev_pki, certificate_doc):
    rendered = PdfFileReader(io.BytesIO(render_license_pdf(certificate_doc)))
    signed = PdfFileReader(io.BytesIO(signing.sign_pdf(render_license_pdf(certificate_doc)).data))

    assert signed.root["/Metadata"].data == rendered.root["/Metadata"].data
    assert dict(signed.trailer["/Info"]) == dict(rendered.trailer["/Info"])


def test_it_detects_a_flipped_byte_with_pyhanko_and_pdfsig(tmp_path, signed):
    data = bytearray(signed.data)
    at = data.index(b"(licence body)") + 1
    data[at] ^= 0x20  # "l" -> "L": still a well-formed PDF, different content
    tampered = bytes(data)

    result = validation.validate_pdf(tampered)
    assert not result.intact
    assert not result.ok
    assert any("altered" in p for p in result.problems)

    out = _pdfsig(tmp_path, tampered)
    assert "Signature is Valid" not in out
    assert "Digest Mismatch" in out


def test_it_detects_content_appended_after_signing(signed):
    appended = signed.data + b"\n% a line added after signing\n"

    result = validation.validate_pdf(appended)

    assert not result.intact
    assert any("after signing" in p for p in result.problems)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "not a PDF"),
        (b"hello, I am not a PDF", "not a PDF"),
        (b"%PDF-1.7\n" + bytes(range(256)) * 4, "unreadable PDF"),
        ("a str, not bytes", "expected PDF bytes"),
    ],
)
def test_it_reports_hostile_input_as_a_problem_without_raising(dev_pki, data, expected):
    result = validation.validate_pdf(data)

    assert not result.intact and not result.trusted and not result.timestamp_ok
    assert any(expected in p for p in result.problems), result.problems


def test_it_reports_a_truncated_signed_pdf_as_a_problem(signed):
    result = validation.validate_pdf(signed.data[: len(signed.data) // 2])

    assert not result.intact
    assert result.problems


def test_it_reports_an_unsigned_pdf(dev_pki):
    result = validation.validate_pdf(_plain_pdf())

    assert not result.intact
    assert result.problems == ["the file carries no signature"]


def test_it_refuses_to_sign_something_that_is_not_a_pdf(dev_pki):
    with pytest.raises(signing.SigningError, match="not a PDF"):
        signing.sign_pdf(b"GIF89a")


def test_it_loads_the_key_once_for_many_signatures(dev_pki, monkeypatch):
    calls = []
    real_loader = signing._load_signer_from_settings

    def counting_loader():
        calls.append(1)
        return real_loader()

    monkeypatch.setattr(signing, "_load_signer_from_settings", counting_loader)
    signing.reset_commission_signer()

    first = signing.sign_pdf(_plain_pdf("one"))
    second = signing.sign_pdf(_plain_pdf("two"))

    assert len(calls) == 1
    assert signing.load_commission_signer() is signing.load_commission_signer()
    assert first.signer_fingerprint == second.signer_fingerprint
    signing.reset_commission_signer()
    signing.sign_pdf(_plain_pdf("three"))
    assert len(calls) == 2


def test_it_names_a_missing_key_file(dev_pki, settings, tmp_path):
    settings.SIGNING_PKCS12_PATH = tmp_path / "missing.p12"

    with pytest.raises(signing.SigningConfigurationError, match="init_dev_pki"):
        signing.sign_pdf(_plain_pdf())


def test_it_names_a_wrong_key_password(dev_pki, settings):
    settings.SIGNING_PKCS12_PASSWORD = "not-the-password"

    with pytest.raises(signing.SigningConfigurationError, match="SIGNING_PKCS12_PASSWORD"):
        signing.sign_pdf(_plain_pdf())


def test_licences_and_audit_checkpoints_use_the_one_commission_key(dev_pki):
    from audit import signing as audit_signing

    signed = signing.sign_pdf(_plain_pdf())
    assert signed.signer_fingerprint == audit_signing.load_commission_key().fingerprint


def test_it_does_not_trust_a_signature_from_another_pki(dev_pki, settings, tmp_path):
    other = pki.DevPki(tmp_path / "other-pki")
    pki.ensure_dev_pki(other, password="other-secret")
    settings.SIGNING_PKCS12_PATH = other.signing_pkcs12_path
    settings.SIGNING_PKCS12_PASSWORD = "other-secret"
    settings.TSA_CERT_PATH = other.tsa_cert_path
    settings.TSA_KEY_PATH = other.tsa_key_path
    foreign = signing.sign_pdf(_plain_pdf())

    result = validation.validate_pdf(foreign.data)  # trust roots are still the session's dev root

    assert result.intact
    assert not result.trusted
    assert not result.timestamp_ok
    assert any("trusted root" in p for p in result.problems)


class _TsaHandler(http.server.BaseHTTPRequestHandler):
    """An RFC 3161 TSA over HTTP, answering with the dev TSA key (pyHanko's general path)."""

    timestamper = None
    requests = 0

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        assert self.headers["Content-Type"] == "application/timestamp-query"
        response = type(self).timestamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
        type(self).requests += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(response)))
        self.end_headers()
        self.wfile.write(response)

    def log_message(self, *args):
        pass


def test_it_timestamps_through_a_configured_tsa_url(dev_pki, settings):
    _TsaHandler.timestamper = signing._load_timestamper()  # the local TSA key, served over HTTP
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _TsaHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        settings.TSA_URL = f"http://127.0.0.1:{server.server_address[1]}/tsa"
        signed = signing.sign_pdf(_plain_pdf())
    finally:
        server.shutdown()
        server.server_close()

    assert _TsaHandler.requests == 1
    assert isinstance(signing.load_commission_signer().timestamper, signing.HTTPTimeStamper)
    result = validation.validate_pdf(signed.data)
    assert result.ok, result.problems


def test_it_keeps_a_valid_dev_pki_and_recreates_it_on_force(dev_pki, settings, tmp_path):
    settings.PKI_DIR = tmp_path / "pki"
    out = io.StringIO()
    call_command("init_dev_pki", stdout=out, stderr=io.StringIO())
    created = pki.DevPki(tmp_path / "pki")
    root = created.root_cert_path.read_bytes()
    assert f"Root certificate (trust this to validate licences): {created.root_cert_path}" in out.getvalue()

    out = io.StringIO()
    call_command("init_dev_pki", stdout=out, stderr=io.StringIO())
    assert "Kept the existing valid" in out.getvalue()
    assert created.root_cert_path.read_bytes() == root

    call_command("init_dev_pki", "--force", stdout=io.StringIO(), stderr=io.StringIO())
    assert created.root_cert_path.read_bytes() != root
    assert pki.dev_pki_problems(created, password=settings.SIGNING_PKCS12_PASSWORD) == []


def test_it_replaces_a_dev_pki_whose_key_no_longer_opens(settings, tmp_path):
    dev = pki.DevPki(tmp_path / "pki")
    assert pki.ensure_dev_pki(dev, password="first") is True
    assert pki.ensure_dev_pki(dev, password="first") is False
    assert pki.dev_pki_problems(dev, password="second")

    assert pki.ensure_dev_pki(dev, password="second") is True
    assert pki.dev_pki_problems(dev, password="second") == []


def test_it_issues_certificates_fit_for_signing_and_timestamping(dev_pki):
    root = x509.load_pem_x509_certificate(dev_pki.root_cert_path.read_bytes())
    cert = x509.load_pem_x509_certificate(dev_pki.signing_cert_path.read_bytes())
    tsa = x509.load_pem_x509_certificate(dev_pki.tsa_cert_path.read_bytes())

    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "北京市规划和自然资源委员会"
    org_id = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)[0].value
    assert org_id.endswith("11110000MB0000001Y")
    eku = tsa.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical and list(eku.value) == [ExtendedKeyUsageOID.TIME_STAMPING]
    cert.verify_directly_issued_by(root)
    tsa.verify_directly_issued_by(root)
    assert hashlib.sha256(dev_pki.signing_pkcs12_path.read_bytes()).digest()  # present and readable
    assert dev_pki.signing_pkcs12_path.stat().st_mode & 0o077 == 0


def test_it_signs_through_pyhankos_general_path_when_templates_are_unusable(dev_pki):
    signing.reset_commission_signer()
    signer = signing.load_commission_signer()
    signer._template_failed = True
    signer.timestamper._template_failed = True
    try:
        signed = signing.sign_pdf(_plain_pdf())
    finally:
        signing.reset_commission_signer()

    assert signer._template is None and signer.timestamper._template is None
    assert validation.validate_pdf(signed.data).ok


def test_it_rejects_a_template_reference_of_another_shape(dev_pki):
    import asyncio

    from licensing import cms_templates

    signer = signing.load_commission_signer()
    digest = hashlib.sha256(b"x").digest()
    # A reference with an unsigned timestamp attribute is not the shape the template expects.
    reference = asyncio.run(
        signing.signers.SimpleSigner.async_sign(
            signer, digest, "sha256", use_pades=True, timestamper=signer.timestamper
        )
    )

    with pytest.raises(cms_templates.TemplateMismatch):
        cms_templates.SignatureTemplate(reference, digest)


def test_it_produces_a_cms_signature_and_timestamp_that_openssl_verifies(tmp_path, dev_pki, signed):
    """A third, independent implementation: the signature over the signed byte ranges, and the
    RFC 3161 token over the signature value, both chained to the dev root."""
    import re

    from asn1crypto import cms

    data = signed.data
    a, b, c, d = map(int, re.search(rb"/ByteRange \[\s*(\d+) (\d+) (\d+) (\d+)\s*\]", data).groups())
    blob = cms.ContentInfo.load(bytes.fromhex(data[a + b + 1 : c - 1].decode()), strict=False)
    signer_info = blob["content"]["signer_infos"][0]
    (tmp_path / "sig.der").write_bytes(blob.dump())
    (tmp_path / "content.bin").write_bytes(data[a : a + b] + data[c : c + d])
    (tmp_path / "token.der").write_bytes(signer_info["unsigned_attrs"][0]["values"][0].dump())
    (tmp_path / "sigvalue.bin").write_bytes(signer_info["signature"].native)
    root = str(dev_pki.root_cert_path)

    cms_argv = ["openssl", "cms", "-verify", "-inform", "DER", "-in", str(tmp_path / "sig.der"), "-binary"]
    cms_argv += ["-content", str(tmp_path / "content.bin"), "-CAfile", root, "-purpose", "any", "-out", "/dev/null"]
    verify = subprocess.run(
        cms_argv,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert verify.returncode == 0, verify.stderr
    ts_argv = ["openssl", "ts", "-verify", "-in", str(tmp_path / "token.der"), "-token_in"]
    ts_argv += ["-data", str(tmp_path / "sigvalue.bin"), "-CAfile", root]
    ts = subprocess.run(
        ts_argv,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Verification: OK" in ts.stdout, ts.stdout + ts.stderr
