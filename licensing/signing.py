"""PAdES signatures on licence PDFs: the commission's key and an RFC 3161 timestamp.

- `sign_pdf(pdf)` applies one PAdES baseline B-T signature (CMS signature + signature timestamp)
  with the commission's key (`registry.commission_key`: the PKCS#12 file named by
  SIGNING_PKCS12_PATH, loaded in one place for licences and audit checkpoints). The timestamp
  comes from the TSA at TSA_URL, or, when that is empty, from the local development TSA key
  (TSA_CERT_PATH / TSA_KEY_PATH, made by `manage.py init_dev_pki`).
- Checking a signature is `licensing.validation.validate_pdf`.

The loaded key is held for the life of the process (`load_commission_signer`); the cache
notices a replaced key file (its mtime) and `reset_commission_signer()` drops it. Signing a
licence takes ~5 ms here because (1) the parsed signing and TSA keys are held: pyHanko re-parses
a DER key for every signature and every token, ~57 ms each for RSA-2048 with cryptography's key
checks; (2) the CMS structures are assembled from templates verified against pyHanko's own
encoding (`licensing.cms_templates`), where asn1crypto would spend ~30 ms re-encoding the
certificates. pyHanko still does all of the PDF work: field, byte range, digest, embedding.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

from asn1crypto import cms, core, keys, x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from django.conf import settings
from pyhanko.keys import load_certs_from_pemder
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.general import as_signing_certificate, get_pyca_cryptography_hash, simple_cms_attribute
from pyhanko.sign.timestamps import HTTPTimeStamper, TimeStamper
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore

from licensing import cms_templates
from registry.commission_key import CommissionKeyUnavailable, load_commission_key

logger = logging.getLogger(__name__)

SIGNATURE_FIELD = "CommissionSignature"
# Room for the CMS blob, hex-encoded in the file (so twice its size). Before the first signature
# of a process a generous fixed amount; after it, 1.5 times what the last one needed. A fixed
# amount also skips pyHanko's dry-run signature for size estimation. Every reader parses this
# hex string character by character (two thirds of validation time at 32 KiB), so it is kept
# near what is needed: about 5.4 KiB of CMS, 16 KiB reserved, with the dev PKI.
FIRST_BYTES_RESERVED = 32 * 1024
MIN_BYTES_RESERVED = 12 * 1024
TSA_TIMEOUT_SECONDS = 10


class SigningError(Exception):
    """The licence could not be signed (missing or unreadable key, TSA failure, bad input)."""


class SigningConfigurationError(SigningError):
    """The signing key or TSA material named by the settings cannot be used."""


@dataclass(frozen=True)
class SignedPdf:
    data: bytes = field(repr=False)  # never into logs, and repr of 50 KB is not free either
    signer_fingerprint: str  # SHA-256 hex of the signer certificate's DER
    signed_at: dt.datetime  # time of the RFC 3161 timestamp on the signature


class CommissionSigner(signers.SimpleSigner):
    """A SimpleSigner that keeps the parsed private key and assembles its CMS from a template.

    Both shortcuts exist for speed (see module docstring and `licensing.cms_templates`); any
    request outside the one shape licences use goes to pyHanko's general implementation.
    """

    def __init__(self, *, private_key: RSAPrivateKey, timestamper: TimeStamper, source: str, **kwargs):
        super().__init__(**kwargs)
        self._private_key = private_key
        self.timestamper = timestamper
        self.source = source
        self.fingerprint: str = self.signing_cert.sha256.hex()
        self._template: cms_templates.SignatureTemplate | None = None
        self._template_failed = False
        self.bytes_reserved = FIRST_BYTES_RESERVED

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        if mechanism == "rsassa_pkcs1v15":
            return self._private_key.sign(data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))
        return super().sign_raw(data, digest_algorithm)  # other mechanisms: correct, just slower

    async def async_sign(
        self,
        data_digest: bytes,
        digest_algorithm: str,
        dry_run=False,
        use_pades=False,
        timestamper=None,
        signed_attr_settings=None,
        is_pdf_sig=True,
        encap_content_info=None,
    ) -> cms.ContentInfo:
        plain_attrs = signed_attr_settings is None or (
            signed_attr_settings.cades_signed_attrs is None and signed_attr_settings.adobe_revinfo_attr is None
        )
        template = None
        if use_pades and is_pdf_sig and not dry_run and encap_content_info is None and plain_attrs:
            template = await self._signature_template(digest_algorithm)
        if template is None:
            return await super().async_sign(
                data_digest,
                digest_algorithm,
                dry_run=dry_run,
                use_pades=use_pades,
                timestamper=timestamper,
                signed_attr_settings=signed_attr_settings,
                is_pdf_sig=is_pdf_sig,
                encap_content_info=encap_content_info,
            )
        signed_attrs = template.signed_attributes(data_digest)
        signature = self.sign_raw(signed_attrs, digest_algorithm)
        token = None
        if timestamper is not None:
            # CAdES signature-time-stamp: a token over the hash of the signature value.
            token_info = await timestamper.async_timestamp(
                hashlib.new(digest_algorithm, signature).digest(), digest_algorithm
            )
            token = token_info.dump()
        der = template.assemble(data_digest, signature, token)
        needed = 2 * len(der) * 3 // 2
        self.bytes_reserved = max(MIN_BYTES_RESERVED, (needed + 1023) // 1024 * 1024)
        return cms.ContentInfo.load(der)

    async def _signature_template(self, digest_algorithm: str) -> cms_templates.SignatureTemplate | None:
        if self._template_failed or digest_algorithm != "sha256":
            return None
        if self._template is None:
            reference_digest = hashlib.sha256(b"licence signature template").digest()
            reference = await super().async_sign(reference_digest, digest_algorithm, use_pades=True)
            try:
                self._template = cms_templates.SignatureTemplate(reference, reference_digest)
            except (cms_templates.TemplateMismatch, ValueError, KeyError) as exc:
                logger.warning("Signing through pyHanko's general path (template unusable: %s)", exc)
                self._template_failed = True
                return None
        return self._template


class _LocalTimeStamper(DummyTimeStamper):
    """pyHanko's local TSA, with the parsed TSA key held and tokens assembled from a template."""

    def __init__(self, tsa_cert: x509.Certificate, tsa_key: RSAPrivateKey):
        der = tsa_key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        super().__init__(tsa_cert=tsa_cert, tsa_key=keys.PrivateKeyInfo.load(der))
        self._pyca_key = tsa_key
        self._template: cms_templates.TimestampTemplate | None = None
        self._template_failed = False

    def _sign_tst_info(self, tst_info_data: bytes, md_algorithm: str, dt_: dt.datetime):
        # Same signed attributes as the parent's (pyHanko 0.38, pinned), signed with the held
        # key: the parent re-parses the DER key for every token (~57 ms for RSA-2048 here).
        digest = hashlib.new(md_algorithm, tst_info_data).digest()
        signed_attrs = cms.CMSAttributes(
            [
                simple_cms_attribute("content_type", "tst_info"),
                simple_cms_attribute("signing_time", cms.Time({"utc_time": core.UTCTime(dt_)})),
                simple_cms_attribute("signing_certificate", as_signing_certificate(self.tsa_cert)),
                simple_cms_attribute("message_digest", digest),
            ]
        )
        return self._sign(signed_attrs.dump(), md_algorithm), signed_attrs

    def _sign(self, data: bytes, md_algorithm: str = "sha256") -> bytes:
        return self._pyca_key.sign(data, PKCS1v15(), get_pyca_cryptography_hash(md_algorithm))

    async def async_timestamp(self, message_digest, md_algorithm) -> cms.ContentInfo:
        template = self._token_template() if md_algorithm == "sha256" else None
        if template is None:
            return await super().async_timestamp(message_digest, md_algorithm)
        return cms.ContentInfo.load(template.token(message_digest))

    def _token_template(self) -> cms_templates.TimestampTemplate | None:
        if self._template is None and not self._template_failed:
            reference = super().request_tsa_response(self.request_cms(hashlib.sha256(b"tsa").digest(), "sha256")[1])
            try:
                self._template = cms_templates.TimestampTemplate(reference["time_stamp_token"], self._sign)
            except (cms_templates.TemplateMismatch, ValueError, KeyError) as exc:
                logger.warning("Timestamping through pyHanko's general path (template unusable: %s)", exc)
                self._template_failed = True
        return self._template


class _LicenceWriter(IncrementalPdfFileWriter):
    """The signing revision adds the signature and nothing else.

    pyHanko's writer otherwise rewrites the Info dictionary (ModDate, Producer) and re-serialises
    the XMP packet in the signed revision; the licence's GB/T 36903 metadata stays exactly as
    rendered instead (and reading it back costs ~3 ms per signature).
    """

    def _update_meta(self):
        return None


class _RecordingTimeStamper(TimeStamper):
    """Per-signature wrapper that remembers the time in the token it obtained."""

    def __init__(self, inner: TimeStamper):
        super().__init__(include_nonce=inner.include_nonce)
        self._inner = inner
        self.gen_time: dt.datetime | None = None

    async def async_timestamp(self, message_digest, md_algorithm) -> cms.ContentInfo:
        token = await self._inner.async_timestamp(message_digest, md_algorithm)
        tst_info = token["content"]["encap_content_info"]["content"].parsed
        self.gen_time = tst_info["gen_time"].native
        return token


# --- the per-process signer ----------------------------------------------------------------

_cache_lock = threading.Lock()
_cached: tuple[tuple, CommissionSigner] | None = None


def _cache_key() -> tuple:
    path = Path(settings.SIGNING_PKCS12_PATH)
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        stamp = None
    tsa_stamp = None
    if not settings.TSA_URL:
        try:
            tsa_stamp = (
                Path(settings.TSA_CERT_PATH).stat().st_mtime_ns,
                Path(settings.TSA_KEY_PATH).stat().st_mtime_ns,
            )
        except OSError:
            tsa_stamp = None
    return (str(path), stamp, settings.SIGNING_PKCS12_PASSWORD, settings.TSA_URL, tsa_stamp)


def load_commission_signer() -> CommissionSigner:
    """The commission's signer, loaded once per process (again only if the key file changes)."""
    global _cached
    key = _cache_key()
    cached = _cached
    if cached is not None and cached[0] == key:
        return cached[1]
    with _cache_lock:
        if _cached is None or _cached[0] != key:
            _cached = (key, _load_signer_from_settings())
        return _cached[1]


def reset_commission_signer() -> None:
    """Forget the loaded key (tests, key rotation); the next signature loads it again."""
    global _cached
    with _cache_lock:
        _cached = None


def _load_signer_from_settings() -> CommissionSigner:
    try:
        key = load_commission_key()
    except CommissionKeyUnavailable as exc:
        raise SigningConfigurationError(str(exc)) from exc
    if not isinstance(key.private_key, RSAPrivateKey):
        raise SigningConfigurationError(f"the key in {key.source} is not an RSA key; only RSA is supported")
    der = serialization.Encoding.DER
    signing_cert = x509.Certificate.load(key.certificate.public_bytes(der))
    cert_registry = SimpleCertificateStore()
    cert_registry.register_multiple([x509.Certificate.load(c.public_bytes(der)) for c in key.chain])
    signer = CommissionSigner(
        private_key=key.private_key,
        timestamper=_load_timestamper(),
        source=key.source,
        signing_cert=signing_cert,
        signing_key=keys.PrivateKeyInfo.load(
            key.private_key.private_bytes(der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        ),
        cert_registry=cert_registry,
    )
    logger.info("Loaded commission signing certificate %s from %s", signer.fingerprint, key.source)
    return signer


def _load_timestamper() -> TimeStamper:
    if settings.TSA_URL:
        return HTTPTimeStamper(settings.TSA_URL, timeout=TSA_TIMEOUT_SECONDS)
    cert_path, key_path = Path(settings.TSA_CERT_PATH), Path(settings.TSA_KEY_PATH)
    try:
        (tsa_cert,) = load_certs_from_pemder([str(cert_path)])
        tsa_key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise SigningConfigurationError(
            f"TSA_URL is empty and the local TSA certificate/key ({cert_path}, {key_path}) cannot be read: {exc}; "
            "in development run `manage.py init_dev_pki`"
        ) from exc
    if not isinstance(tsa_key, RSAPrivateKey):
        raise SigningConfigurationError(f"the local TSA key {key_path} is not an RSA key")
    return _LocalTimeStamper(tsa_cert, tsa_key)


# --- signing ------------------------------------------------------------------------------


def sign_pdf(pdf: bytes) -> SignedPdf:
    """Sign `pdf` with the commission's key and a signature timestamp (PAdES B-T)."""
    return asyncio.run(async_sign_pdf(pdf))


async def async_sign_pdf(pdf: bytes) -> SignedPdf:
    """`sign_pdf` for callers already inside an event loop."""
    if not isinstance(pdf, bytes | bytearray) or not bytes(pdf[:1024]).lstrip().startswith(b"%PDF-"):
        raise SigningError("refusing to sign: the input is not a PDF document")
    signer = load_commission_signer()
    timestamper = _RecordingTimeStamper(signer.timestamper)
    meta = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason="不动产登记电子证照签发",
        location="北京市",
        # A certification (DocMDP) signature: the licence is final, any later change shows.
        certify=True,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
    )
    pdf_signer = signers.PdfSigner(meta, signer=signer, timestamper=timestamper)
    try:
        writer = _LicenceWriter(io.BytesIO(bytes(pdf)), strict=False)
        out = io.BytesIO()
        await pdf_signer.async_sign_pdf(writer, output=out, bytes_reserved=signer.bytes_reserved)
    except SigningError:
        raise
    except Exception as exc:  # pyHanko, aiohttp and asn1crypto raise many types; one error for callers
        raise SigningError(f"signing failed: {type(exc).__name__}: {exc}") from exc
    if timestamper.gen_time is None:
        raise SigningError("signing failed: no timestamp was obtained")
    return SignedPdf(data=out.getvalue(), signer_fingerprint=signer.fingerprint, signed_at=timestamper.gen_time)
