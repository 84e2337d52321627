"""Gapless number allocation: certificate numbers and GB/T 36904 identifiers.

A counter row per scope is locked (`SELECT … FOR UPDATE`) and incremented inside the issuing
transaction. Concurrent issuers of the same scope queue on the row lock; a rolled-back issue rolls
its increment back too, so serials are unique and consecutive. Must be called inside
`transaction.atomic`.
"""

from django.db import transaction

from licensing.models import NumberCounter
from registry.models import District, Issuer, LicenseType
from registry.validators import format_certificate_number, format_identifier

SERIAL_DIGITS = 7


def next_value(scope: str) -> int:
    assert transaction.get_connection().in_atomic_block, "allocate numbers inside the issuing transaction"
    # Create the row if it is missing without a race: a concurrent creator's row is simply kept.
    NumberCounter.objects.bulk_create([NumberCounter(scope=scope)], ignore_conflicts=True)
    counter = NumberCounter.objects.select_for_update().get(scope=scope)
    counter.last_value += 1
    counter.save(update_fields=["last_value"])
    return counter.last_value


def allocate_certificate_number(*, kind: str, year: int, district: District) -> tuple[str, int]:
    """`京(2026)朝阳区不动产权第0001234号`: serial unique per (kind, year, district)."""
    serial = next_value(f"certificate-number:{kind}:{year}:{district.code}")
    return format_certificate_number(kind, year, district, serial), serial


def allocate_identifier_serial(*, license_type: LicenseType, issuer: Issuer, year: int) -> str:
    """Issuer-assigned serial: year + 7 digits, never reused for this (type, issuer)."""
    value = next_value(f"identifier-serial:{license_type.code}:{issuer.uscc}:{year}")
    return f"{year}{value:0{SERIAL_DIGITS}d}"


def build_identifier(*, license_type: LicenseType, issuer: Issuer, serial: str, version: int) -> str:
    return format_identifier(license_type.code, issuer.uscc, serial, version)
