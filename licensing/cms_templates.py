"""Fast assembly of the two CMS structures a licence signature needs, from verified templates.

Why this exists: pyHanko builds every CMS object through asn1crypto, which deep-copies and
re-encodes the embedded certificates and names on every signature. That costs ~20 ms for the
signature and ~10 ms for a local timestamp token on this machine, against ~1 ms each for the
RSA operations themselves, and would put render+sign far above its 40 ms budget.

Everything that does not change between licences (certificates, signer identifier, algorithm
identifiers, the ESS signing-certificate attribute, the TSA name) is the same from one
signature to the next. So each template is taken once from a structure that pyHanko itself
produced, and only the parts that change (digests, times, serial, signature values, the
timestamp token) are encoded here per signature. A template is accepted only if re-assembling
the reference from its parts gives back pyHanko's exact bytes; otherwise `TemplateMismatch`
is raised and the caller uses pyHanko's own (slower) path.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable

from asn1crypto import cms, core

OID_SIGNED_DATA = core.ObjectIdentifier("1.2.840.113549.1.7.2").dump()
OID_TST_INFO = core.ObjectIdentifier("1.2.840.113549.1.9.16.1.4").dump()
OID_MESSAGE_DIGEST = core.ObjectIdentifier("1.2.840.113549.1.9.4").dump()
OID_SIGNING_TIME = core.ObjectIdentifier("1.2.840.113549.1.9.5").dump()
OID_SIGNATURE_TIMESTAMP = core.ObjectIdentifier("1.2.840.113549.1.9.16.2.14").dump()


class TemplateMismatch(Exception):
    """The reference structure is not shaped as expected: use pyHanko's own path instead."""


# --- DER ----------------------------------------------------------------------------------


def _tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + content


def _seq(*parts: bytes) -> bytes:
    return _tlv(0x30, b"".join(parts))


def _octets(value: bytes) -> bytes:
    return _tlv(0x04, value)


def _attribute(oid_der: bytes, value_der: bytes) -> bytes:
    return _seq(oid_der, _tlv(0x31, value_der))


def _content_info(signed_data: bytes) -> bytes:
    return _seq(OID_SIGNED_DATA, _tlv(0xA0, signed_data))


def _attr_type(attr: cms.CMSAttribute) -> str:
    return attr["type"].dotted


# --- the commission's signature -------------------------------------------------------------


class SignatureTemplate:
    """CMS SignedData of a PAdES signature: content-type, message-digest and ESS
    signing-certificate-v2 signed attributes, optionally one signature-timestamp attribute."""

    def __init__(self, reference: cms.ContentInfo, reference_digest: bytes):
        sd = reference["content"]
        (si,) = sd["signer_infos"]
        attrs = list(si["signed_attrs"])
        types = [_attr_type(a) for a in attrs]
        if "1.2.840.113549.1.9.4" not in types or si["unsigned_attrs"].native is not None:
            raise TemplateMismatch(f"unexpected signed attributes {types}")
        self._digest_len = len(reference_digest)
        # Signed attributes in the reference's order; only message-digest changes.
        self._attr_parts: list[bytes | None] = [
            None if _attr_type(a) == "1.2.840.113549.1.9.4" else a.dump() for a in attrs
        ]
        self._head = sd["version"].dump() + sd["digest_algorithms"].dump() + sd["encap_content_info"].dump()
        self._certificates = sd["certificates"].dump()
        self._si_head = si["version"].dump() + si["sid"].dump() + si["digest_algorithm"].dump()
        self._si_sig_alg = si["signature_algorithm"].dump()
        self.digest_algorithm = si["digest_algorithm"]["algorithm"].native
        # Self-check: our assembly of pyHanko's reference must be byte-identical to it.
        if self.assemble(reference_digest, si["signature"].native, None) != reference.dump():
            raise TemplateMismatch("re-assembled reference signature differs from pyHanko's encoding")

    def signed_attributes(self, digest: bytes) -> bytes:
        """DER of the SET OF signed attributes (the bytes the signature is computed over)."""
        if len(digest) != self._digest_len:
            raise ValueError("digest length differs from the template's")
        parts = [p if p is not None else _attribute(OID_MESSAGE_DIGEST, _octets(digest)) for p in self._attr_parts]
        return _tlv(0x31, b"".join(parts))

    def assemble(self, digest: bytes, signature: bytes, timestamp_token: bytes | None) -> bytes:
        signed_attrs = self.signed_attributes(digest)
        signer_info = self._si_head + _tlv(0xA0, signed_attrs[_header_len(signed_attrs) :])
        signer_info += self._si_sig_alg + _octets(signature)
        if timestamp_token is not None:
            signer_info += _tlv(0xA1, _attribute(OID_SIGNATURE_TIMESTAMP, timestamp_token))
        signed_data = _seq(self._head, self._certificates, _tlv(0x31, _seq(signer_info)))
        return _content_info(signed_data)


# --- the local development TSA ---------------------------------------------------------------


class TimestampTemplate:
    """RFC 3161 token of the local TSA (TSTInfo with policy, imprint, serial, genTime, nonce,
    tsa name; SignerInfo with content-type, signing-time, message-digest, ESS signing-certificate)."""

    def __init__(self, reference: cms.ContentInfo, sign: Callable[[bytes], bytes]):
        self._sign = sign
        sd = reference["content"]
        tst = sd["encap_content_info"]["content"].parsed
        present = [k for k, v in tst.native.items() if v is not None and k != "ordering"]
        expected = ["version", "policy", "message_imprint", "serial_number", "gen_time", "nonce", "tsa"]
        if present != expected or tst["ordering"].native:
            raise TemplateMismatch(f"unexpected TSTInfo fields {present}")
        self._tst_head = tst["version"].dump() + tst["policy"].dump()
        self._imprint_alg = tst["message_imprint"]["hash_algorithm"].dump()
        self._tsa_name = tst["tsa"].dump()
        self.md_algorithm = tst["message_imprint"]["hash_algorithm"]["algorithm"].native
        (si,) = sd["signer_infos"]
        attrs = list(si["signed_attrs"])
        self._attr_parts = [
            a.dump() if _attr_type(a) not in (_SIGNING_TIME, _MESSAGE_DIGEST) else _attr_type(a) for a in attrs
        ]
        self._head = sd["version"].dump() + sd["digest_algorithms"].dump()
        self._certificates = sd["certificates"].dump()
        self._si_head = si["version"].dump() + si["sid"].dump() + si["digest_algorithm"].dump()
        self._si_sig_alg = si["signature_algorithm"].dump()
        self._si_md = si["digest_algorithm"]["algorithm"].native
        # Self-check against pyHanko's encoding of the reference token.
        rebuilt = self._assemble(
            imprint=tst["message_imprint"]["hashed_message"].native,
            serial=tst["serial_number"].native,
            gen_time=tst["gen_time"].native,
            nonce=tst["nonce"].native,
            signing_time_der=_signed_attr_value(attrs, _SIGNING_TIME),
            signature=si["signature"].native,
        )
        if rebuilt != reference.dump():
            raise TemplateMismatch("re-assembled reference token differs from pyHanko's encoding")

    def token(self, message_digest: bytes, *, now: dt.datetime | None = None) -> bytes:
        """A fresh token over `message_digest` (which was computed with `md_algorithm`)."""
        now = now or dt.datetime.now(dt.UTC)
        return self._assemble(
            imprint=message_digest,
            serial=int.from_bytes(secrets.token_bytes(8), "big"),
            gen_time=now,
            nonce=int.from_bytes(secrets.token_bytes(8), "big"),
            signing_time_der=cms.Time({"utc_time": core.UTCTime(now)}).dump(),
            signature=None,
        )

    def _assemble(self, *, imprint, serial, gen_time, nonce, signing_time_der, signature) -> bytes:
        tst_info = _seq(
            self._tst_head,
            _seq(self._imprint_alg, _octets(imprint)),
            core.Integer(serial).dump(),
            core.GeneralizedTime(gen_time).dump(),
            core.Integer(nonce).dump(),
            self._tsa_name,
        )
        tst_digest = hashlib.new(self._si_md, tst_info).digest()
        parts = []
        for part in self._attr_parts:
            if part == _SIGNING_TIME:
                parts.append(_attribute(OID_SIGNING_TIME, signing_time_der))
            elif part == _MESSAGE_DIGEST:
                parts.append(_attribute(OID_MESSAGE_DIGEST, _octets(tst_digest)))
            else:
                parts.append(part)
        signed_attrs = _tlv(0x31, b"".join(parts))
        if signature is None:
            signature = self._sign(signed_attrs)
        encap = _seq(OID_TST_INFO, _tlv(0xA0, _octets(tst_info)))
        signer_info = _seq(
            self._si_head,
            _tlv(0xA0, signed_attrs[_header_len(signed_attrs) :]),
            self._si_sig_alg,
            _octets(signature),
        )
        signed_data = _seq(self._head, encap, self._certificates, _tlv(0x31, signer_info))
        return _content_info(signed_data)


_SIGNING_TIME = "1.2.840.113549.1.9.5"
_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"


def _signed_attr_value(attrs: list[cms.CMSAttribute], oid: str) -> bytes:
    for attr in attrs:
        if _attr_type(attr) == oid:
            (value,) = attr["values"]
            return value.dump()
    raise TemplateMismatch(f"reference lacks attribute {oid}")


def _header_len(der: bytes) -> int:
    first = der[1]
    return 2 if first < 0x80 else 2 + (first & 0x7F)
