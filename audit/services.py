"""Writes to the audit chain. `record_event` is the only code that creates an `AuditEvent`."""

import ipaddress
from functools import lru_cache

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from audit import chain
from audit.actions import ACTIONS
from audit.context import current
from audit.models import AuditChainHead, AuditEvent, AuditResult

# Keys that would mean the caller forgot to mask: refused rather than written into a record that
# can never be corrected.
_FORBIDDEN_DETAIL_KEYS = {"password", "id_number", "secret", "token", "private_key", "api_key"}


_HEAD_TABLE = AuditChainHead._meta.db_table


def _check_masked(value, path="details"):
    if isinstance(value, dict):
        for key, item in value.items():
            if str(key).lower() in _FORBIDDEN_DETAIL_KEYS:
                raise ValueError(f"{path}.{key}: secrets and clear ID numbers must not enter the audit trail")
            _check_masked(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_masked(item, f"{path}[{index}]")


def _lock_head() -> tuple[int, str]:
    """The sequencer row's (seq, hash), locked for the rest of the caller's transaction.

    Created on first use (and again after a test flush). Two first writers may race to create
    it: the loser's INSERT fails inside a savepoint and it then waits on the winner's lock.
    A plain statement, not the ORM: every audited action runs it.
    """
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT seq, hash FROM {_HEAD_TABLE} WHERE id = 1{lock}")  # noqa: S608
        row = cursor.fetchone()
    if row is not None:
        return row[0], row[1]
    last = AuditEvent.objects.order_by("-seq").values("seq", "hash").first()
    try:
        with transaction.atomic():
            AuditChainHead.objects.create(
                pk=1, seq=last["seq"] if last else 0, hash=last["hash"] if last else chain.GENESIS_HASH
            )
    except IntegrityError:
        pass
    head = AuditChainHead.objects.select_for_update().get(pk=1)
    return head.seq, head.hash


def _clean_ip(value) -> str:
    try:
        return str(ipaddress.ip_address(value)) if value else ""
    except ValueError:
        return ""  # not an address (a misconfigured proxy header): better none than a wrong one


def _clip(value, limit: int) -> str:
    return str(value)[:limit] if value is not None else ""


def record_event(
    *,
    action: str,
    actor=None,
    target=None,
    organisation=None,
    result: str = "SUCCESS",
    reason: str = "",
    details: dict | None = None,
    api_key=None,
    purpose: str = "",
) -> AuditEvent:
    """Append one event to the audit chain, inside the caller's transaction.

    `actor`, `organisation` and `api_key` default to the current audit context
    (`audit.context`); the correlation id and remote address always come from it. `target` is
    any model instance: its type, pk and str are stored, and its `identifier` /
    `certificate_number` (licences) are copied into indexed columns. `details` must already be
    masked. Raises ValueError on bad input; any error propagates so that the caller's
    transaction rolls back with it — an action that cannot be audited does not happen.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}; known actions are listed in audit.actions.ACTIONS")
    if result not in AuditResult.values:
        raise ValueError(f"audit result must be one of {', '.join(AuditResult.values)}, not {result!r}")
    ctx = current()
    if actor is None:
        actor = ctx.actor
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None  # AnonymousUser: the event is by nobody identified
    if api_key is None:
        api_key = ctx.api_key
    if organisation is None:
        organisation = ctx.organisation
    if organisation is None and api_key is not None:
        organisation = getattr(api_key, "organisation", None)
    details = chain.normalise_details(details)
    _check_masked(details)

    if actor is not None:
        actor_repr = actor.get_username()
    else:
        actor_repr = f"系统（{ctx.system_label}）" if ctx.system_label else "系统"
    target_type = target_id = target_repr = identifier = certificate_number = ""
    if target is not None:
        meta = target._meta
        target_type = f"{meta.app_label}.{meta.model_name}"
        target_id = _clip(target.pk, 64)
        target_repr = _clip(target, 200)
        identifier = _clip(getattr(target, "identifier", "") or "", 100)
        certificate_number = _clip(getattr(target, "certificate_number", "") or "", 60)

    # No savepoint of its own: if the event cannot be written, the caller's whole transaction
    # must fail with it (and a savepoint would cost two more round trips on every action).
    with transaction.atomic(savepoint=False):
        head_seq, head_hash = _lock_head()
        event = AuditEvent(
            seq=head_seq + 1,
            occurred_at=timezone.now(),
            actor=actor,
            actor_repr=_clip(actor_repr, 150),
            organisation=organisation,
            api_key_repr=_clip(api_key, 100) if api_key is not None else "",
            action=action,
            target_type=target_type,
            target_id=target_id,
            target_repr=target_repr,
            license_identifier=identifier,
            certificate_number=certificate_number,
            result=result,
            reason=reason or "",
            purpose=_clip(purpose, 100) if purpose else "",
            details=details,
            correlation_id=ctx.correlation_id,
            remote_addr=_clean_ip(ctx.remote_addr),
            prev_hash=head_hash,
        )
        event.hash = chain.event_hash(event.prev_hash, chain.canonical_event(event_values(event)))
        _append(event)
    return event


def _append(event: AuditEvent) -> None:
    """Insert the event and move the head to it (the head is bookkeeping, not a record: its
    update is allowed). On PostgreSQL both go in one round trip, a data-modifying CTE: every
    audited action pays for this, so it is kept to two statements after the lock."""
    if connection.vendor != "postgresql":
        event.save()
        AuditChainHead.objects.filter(pk=1).update(seq=event.seq, hash=event.hash)
        return
    fields = AuditEvent._meta.concrete_fields
    params = [field.get_db_prep_save(getattr(event, field.attname), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(_append_sql(), [*params, event.seq, event.hash])
        if cursor.rowcount != 1:
            raise IntegrityError("the audit chain head row is missing")
    event._state.adding = False
    event._state.db = connection.alias


@lru_cache(maxsize=1)
def _append_sql() -> str:
    """INSERT of every AuditEvent column (seq is the key, no database default is involved) and
    the head's move, as one statement; built once, it is the same for every event."""
    quote = connection.ops.quote_name
    fields = AuditEvent._meta.concrete_fields
    columns = ", ".join(quote(field.column) for field in fields)
    marks = ", ".join(["%s"] * len(fields))
    head = quote(_HEAD_TABLE)
    return (
        f"WITH appended AS (INSERT INTO {quote(AuditEvent._meta.db_table)} ({columns}) "  # noqa: S608
        f"VALUES ({marks}) RETURNING 1) "
        f"UPDATE {head} SET seq = %s, hash = %s FROM appended WHERE {head}.id = 1"
    )


def event_values(event: AuditEvent) -> dict:
    """The hashed fields of an event instance, by name (see audit.chain.HASHED_FIELDS)."""
    return {name: getattr(event, name) for name in chain.HASHED_FIELDS}


def store_verification(result, *, source: str):
    """Keep the outcome of a chain verification for the chain-state page."""
    from audit.models import AuditVerification

    return AuditVerification.objects.create(
        ran_at=timezone.now(),
        ok=result.ok,
        events_checked=result.events_checked,
        last_seq=result.last_seq,
        checkpoints_checked=result.checkpoints_checked,
        first_bad_seq=result.first_bad_seq,
        problem=result.problem,
        duration_ms=result.duration_ms,
        source=source[:40],
    )
