"""The archive package of a licence (归档): what Article IV's electronic file management keeps.

A deterministic ZIP: the signed PDF (and the cancelled rendition, if any), `metadata.json` (the
licence record with ID numbers masked), `validation.json` (the signature validation at filing
time with the signer and trust-root certificates), and `manifest-sha256.txt` in `sha256sum`
format so an archivist can check the package with standard tools.
"""

import hashlib
import io
import json
import zipfile
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from licensing.models import License
from licensing.validation import validate_pdf

# Fixed entry times keep the package's bytes a function of its content.
_ZIP_TIME = (2000, 1, 1, 0, 0, 0)


def _metadata(license: License, archive_number: str) -> dict:
    parties = license.parties.select_related("holder").order_by("position", "id")
    return {
        "archive_number": archive_number,
        "retention": "永久",
        "identifier": license.identifier,
        "certificate_number": license.certificate_number,
        "license_type": {"code": license.license_type.code, "name": license.license_type.name},
        "issuer": {"name": license.issuer.name, "uscc": license.issuer.uscc},
        "status": license.status,
        "status_reason": license.status_reason,
        "issued_at": license.issued_at.isoformat() if license.issued_at else None,
        "signed_at": license.signed_at.isoformat() if license.signed_at else None,
        "unit_number": license.property_unit.unit_number,
        "parties": [
            {
                "role": p.role,
                "name": p.holder.name,
                "id_type": p.holder.id_type,
                "id_number_masked": p.holder.id_number_masked,
                "share": p.share,
            }
            for p in parties
        ],
        "supersedes": license.supersedes.identifier if license.supersedes_id else None,
        "history": [
            {
                "at": e.created_at.isoformat(),
                "action": e.action,
                "from": e.from_status,
                "to": e.to_status,
                "reason": e.reason,
            }
            for e in license.status_events.order_by("id")
        ],
        "filed_at": timezone.now().isoformat(),
    }


def _validation(pdf: bytes) -> dict:
    result = validate_pdf(pdf)
    roots = [Path(path).read_text("ascii", errors="replace") for path in settings.SIGNING_TRUST_ROOTS]
    return {
        "intact": result.intact,
        "trusted": result.trusted,
        "timestamp_ok": result.timestamp_ok,
        "signer_fingerprint": result.signer_fingerprint,
        "signed_at": result.signed_at.isoformat() if result.signed_at else None,
        "problems": result.problems,
        "trust_roots_pem": roots,
        "validated_at": timezone.now().isoformat(),
    }


def build_package(license: License, archive_number: str) -> tuple[bytes, dict[str, str]]:
    """Return the ZIP bytes and the manifest {file name: SHA-256}."""
    files: dict[str, bytes] = {}
    with license.file.open("rb") as fh:
        files["license.pdf"] = fh.read()
    if license.cancelled_file:
        with license.cancelled_file.open("rb") as fh:
            files["license-cancelled.pdf"] = fh.read()
    files["metadata.json"] = json.dumps(_metadata(license, archive_number), ensure_ascii=False, indent=2).encode()
    files["validation.json"] = json.dumps(_validation(files["license.pdf"]), ensure_ascii=False, indent=2).encode()
    manifest = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
    files["manifest-sha256.txt"] = "".join(f"{digest}  {name}\n" for name, digest in manifest.items()).encode()

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=_ZIP_TIME), data)
    return buffer.getvalue(), manifest
