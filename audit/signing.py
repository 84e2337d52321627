"""Signing and checking checkpoints with the commission key (a PKCS#12 file).

The PKCS#12 file is made by `manage.py init_dev_pki` in development (licensing.pki); its path and
password come from settings SIGNING_PKCS12_PATH / SIGNING_PKCS12_PASSWORD.
"""

import base64
import datetime as dt
import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from django.conf import settings


class SigningKeyUnavailable(Exception):
    pass


@dataclass(frozen=True)
class CommissionKey:
    private_key: object
    certificate: x509.Certificate

    @property
    def certificate_pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")

    @property
    def fingerprint(self) -> str:
        return certificate_fingerprint(self.certificate)


def certificate_fingerprint(certificate: x509.Certificate) -> str:
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()


def _pkcs12_location() -> tuple[Path, bytes | None]:
    path = getattr(settings, "SIGNING_PKCS12_PATH", None) or Path(settings.VAR_DIR) / "pki" / "signing.p12"
    password = getattr(settings, "SIGNING_PKCS12_PASSWORD", None)
    if isinstance(password, str):
        password = password.encode("utf-8")
    return Path(path), password or None


@functools.lru_cache(maxsize=4)
def _load(path: str, mtime_ns: int, password: bytes | None) -> CommissionKey:
    try:
        key, cert, _ = pkcs12.load_key_and_certificates(Path(path).read_bytes(), password)
    except ValueError as exc:
        raise SigningKeyUnavailable(f"cannot open the commission PKCS#12 file {path}: {exc}") from exc
    if key is None or cert is None:
        raise SigningKeyUnavailable(f"the PKCS#12 file {path} holds no private key and certificate")
    return CommissionKey(private_key=key, certificate=cert)


def load_commission_key() -> CommissionKey:
    """The commission's key and certificate; re-read only when the file changes."""
    path, password = _pkcs12_location()
    try:
        mtime_ns = path.stat().st_mtime_ns
    except FileNotFoundError as exc:
        raise SigningKeyUnavailable(
            f"commission signing key not found at {path} (settings.SIGNING_PKCS12_PATH); "
            "run `manage.py init_dev_pki` in development"
        ) from exc
    return _load(str(path), mtime_ns, password)


def checkpoint_payload(*, seq: int, hash: str, created_at: dt.datetime) -> bytes:
    """The signed bytes of a checkpoint: canonical JSON of (seq, hash, time in UTC)."""
    body = {
        "seq": str(seq),
        "hash": hash,
        "created_at": created_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode("ascii")


def sign(data: bytes, key: CommissionKey) -> str:
    private_key = key.private_key
    if isinstance(private_key, rsa.RSAPrivateKey):
        signature = private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    elif isinstance(private_key, ec.EllipticCurvePrivateKey):
        signature = private_key.sign(data, ec.ECDSA(hashes.SHA256()))
    else:
        raise SigningKeyUnavailable(f"unsupported commission key type {type(private_key).__name__}")
    return base64.b64encode(signature).decode("ascii")


def signature_valid(data: bytes, signature_b64: str, certificate_pem: str) -> bool:
    try:
        certificate = x509.load_pem_x509_certificate(certificate_pem.encode("ascii"))
        signature = base64.b64decode(signature_b64, validate=True)
        public_key = certificate.public_key()
        if isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        else:
            return False
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True
