"""Validation of the commission's signature on a licence PDF, against SIGNING_TRUST_ROOTS only.

`validate_pdf(data)` never raises on hostile input (uploads to the public check page, files
coming back for filing): whatever is wrong comes back in `problems`. Only configuration errors
(trust roots that cannot be read) raise, as `SigningConfigurationError`, because reporting them
as "untrusted" would send people looking for a problem in the file.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from dataclasses import dataclass, field

from asn1crypto import x509
from django.conf import settings
from pyhanko.keys import load_certs_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from licensing.signing import SigningConfigurationError

# A licence is ~60 KB; refuse much larger input before parsing anything (parsing is CPU-bound
# and an uploaded file is hostile until proven otherwise).
MAX_VALIDATE_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class PdfValidation:
    intact: bool  # digest and signature value check out, and the signature covers the whole file
    trusted: bool  # the signer certificate chains to SIGNING_TRUST_ROOTS with non-repudiation
    signer_fingerprint: str | None
    signed_at: dt.datetime | None
    timestamp_ok: bool  # a signature timestamp is present, intact and from a trusted TSA
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.intact and self.trusted and self.timestamp_ok and not self.problems


def trust_roots() -> list[x509.Certificate]:
    paths = [str(p) for p in settings.SIGNING_TRUST_ROOTS if str(p)]
    if not paths:
        raise SigningConfigurationError("SIGNING_TRUST_ROOTS is empty: nothing to validate against")
    try:
        return list(load_certs_from_pemder(paths))
    except (OSError, ValueError) as exc:
        raise SigningConfigurationError(f"cannot read SIGNING_TRUST_ROOTS {paths}: {exc}") from exc


def validate_pdf(data: bytes) -> PdfValidation:
    """Validate the commission signature on `data`; problems are reported, never raised."""
    return asyncio.run(async_validate_pdf(data))


async def async_validate_pdf(data: bytes) -> PdfValidation:
    """`validate_pdf` for callers already inside an event loop."""

    def failed(problem: str) -> PdfValidation:
        return PdfValidation(False, False, None, None, False, [problem])

    if not isinstance(data, bytes | bytearray):
        return failed(f"expected PDF bytes, got {type(data).__name__}")
    data = bytes(data)
    if len(data) > MAX_VALIDATE_BYTES:
        return failed(f"file too large ({len(data)} bytes; a licence is at most {MAX_VALIDATE_BYTES})")
    if b"%PDF-" not in data[:1024]:
        return failed("not a PDF file (no %PDF- header)")
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = reader.embedded_signatures
    except Exception as exc:  # noqa: BLE001 - hostile input may break the parser in any way
        return failed(f"unreadable PDF: {type(exc).__name__}: {exc}")
    if not signatures:
        return failed("the file carries no signature")

    problems: list[str] = []
    if len(signatures) > 1:
        problems.append(f"the file carries {len(signatures)} signatures; a licence has exactly one")
    # The roots are configuration: if they cannot be read, say so rather than report "untrusted".
    roots = trust_roots()
    # A fresh context per call: ValidationContext caches paths and revocation state.
    context = ValidationContext(trust_roots=roots, allow_fetching=False)
    try:
        status = await async_validate_pdf_signature(
            signatures[0], signer_validation_context=context, ts_validation_context=context
        )
    except Exception as exc:  # noqa: BLE001 - a malformed signature dictionary or CMS blob
        return failed(f"the signature cannot be validated: {type(exc).__name__}: {exc}")

    intact = bool(status.intact and status.valid and status.coverage == SignatureCoverageLevel.ENTIRE_FILE)
    if not status.intact:
        problems.append("the signed content was altered (digest mismatch)")
    if not status.valid:
        problems.append("the signature value does not verify")
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        problems.append("the file was changed after signing (bytes outside the signed range)")
    if status.docmdp_ok is False:
        problems.append("changes after signing violate the certification signature's permissions")
    trusted = bool(status.trusted)
    # pyHanko only evaluates trust for a signature that verifies; saying "untrusted" on top of
    # "altered" would send people looking for a certificate problem that may not exist.
    if not trusted and status.intact and status.valid:
        reason = f" ({status.trust_problem_indic.name})" if status.trust_problem_indic else ""
        problems.append(f"the signer certificate does not chain to a trusted root{reason}")
    ts = status.timestamp_validity
    timestamp_ok = bool(ts is not None and ts.intact and ts.valid and ts.trusted)
    if ts is None:
        problems.append("the signature has no timestamp")
    elif not (ts.intact and ts.valid):
        problems.append("the signature timestamp does not verify")
    elif not ts.trusted:
        problems.append("the signature timestamp is not from a trusted TSA")
    signed_at = ts.timestamp if ts is not None else status.signer_reported_dt
    return PdfValidation(
        intact=intact,
        trusted=trusted,
        signer_fingerprint=status.signing_cert.sha256.hex(),
        signed_at=signed_at,
        timestamp_ok=timestamp_ok,
        problems=problems,
    )
