"""The hash chain's arithmetic, shared by the writer (`record_event`) and `verify_audit`.

`canonical_event` turns the hashed fields of one event into deterministic bytes: JSON with sorted
keys and no whitespace, times in UTC ISO 8601 with microseconds, ids as strings, empty values as
"" (never null, so a NULL/"" difference cannot hide). `event_hash` chains it to its predecessor:
SHA-256(prev_hash + canonical event), hex.
"""

import datetime as dt
import hashlib
import json

from django.core.serializers.json import DjangoJSONEncoder

GENESIS_HASH = "0" * 64

# Every column of AuditEvent except `hash` itself. `prev_hash` is hashed as the prefix.
HASHED_FIELDS = (
    "seq",
    "occurred_at",
    "actor_id",
    "actor_repr",
    "organisation_id",
    "api_key_repr",
    "action",
    "target_type",
    "target_id",
    "target_repr",
    "license_identifier",
    "certificate_number",
    "result",
    "reason",
    "purpose",
    "details",
    "correlation_id",
    "remote_addr",
)


def _as_utc_iso(value: dt.datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def normalise_details(details) -> dict:
    """The details exactly as they will read back from the database (plain JSON types).

    Dates, decimals and UUIDs become strings now, so the value hashed at write time is the value
    `verify_audit` reads later.
    """
    if details is None:
        return {}
    if not isinstance(details, dict):
        raise TypeError(f"audit details must be a dict, not {type(details).__name__}")
    return _floats_as_text(json.loads(json.dumps(details, cls=DjangoJSONEncoder, ensure_ascii=False)))


def _floats_as_text(value):
    # PostgreSQL's jsonb stores numbers as numeric: -0.0 comes back as 0.0 and 1e16 as an
    # integer, which would change the canonical form. Floats are kept as their text instead.
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict):
        return {key: _floats_as_text(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_floats_as_text(item) for item in value]
    return value


def canonical_event(values: dict) -> bytes:
    """Deterministic bytes of one event, from a mapping that holds every name in HASHED_FIELDS."""
    out = {}
    for name in HASHED_FIELDS:
        value = values[name]
        if name == "details":
            out[name] = value if value is not None else {}
        elif name == "occurred_at":
            out[name] = _as_utc_iso(value)
        elif value is None:
            out[name] = ""
        else:
            out[name] = str(value)
    return json.dumps(out, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def event_hash(prev_hash: str, canonical: bytes) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + canonical).hexdigest()
