"""Signing and checking checkpoints with the commission key (a PKCS#12 file).

The key and certificate come from `registry.commission_key`, which also serves the licence
signatures.
"""

import base64
import datetime as dt
import json

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from registry.commission_key import (
    CommissionKey,
    CommissionKeyUnavailable,
    certificate_fingerprint,
    load_commission_key,
)

# The key is loaded in one place for the whole project (registry.commission_key); the audit code
# reaches it through this module.
__all__ = [
    "CommissionKey",
    "CommissionKeyUnavailable",
    "certificate_fingerprint",
    "checkpoint_payload",
    "load_commission_key",
    "sign",
    "signature_valid",
]


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
        raise CommissionKeyUnavailable(f"unsupported commission key type {type(private_key).__name__}")
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
