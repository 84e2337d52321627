"""Reads of the audit chain for auditors and holders.

Every list is keyset-paginated on `seq` (`before=` / `after=`) and never counts the table: each
query is one index range scan on a (key, seq) index, whatever the size of the chain.
"""

import datetime as dt
from dataclasses import dataclass

from audit.actions import USE_ACTIONS, action_label
from audit.models import AuditChainHead, AuditCheckpoint, AuditEvent, AuditVerification

PAGE_SIZE = 50


@dataclass(frozen=True)
class Page:
    events: list
    older: int | None  # pass as `before=` for the next (older) page, None at the end
    newer: int | None = None  # pass as `after=` for the next page of an ascending list


def _seq_bounds(start: dt.datetime | None, end: dt.datetime | None) -> tuple[int | None, int | None]:
    """Turn a time range into a sequence range, through the (occurred_at) index.

    `record_event` stamps `occurred_at` while it holds the sequencer lock, so sequence order is
    time order; the range then narrows the (key, seq) index scans instead of filtering rows.
    """
    low = high = None
    if start is not None:
        low = AuditEvent.objects.filter(occurred_at__gte=start).order_by("occurred_at").values_list("seq", flat=True)
        low = low.first()
        if low is None:
            low = -1  # nothing at or after `start`: an empty range
    if end is not None:
        high = AuditEvent.objects.filter(occurred_at__lt=end).order_by("-occurred_at").values_list("seq", flat=True)
        high = high.first()
        if high is None:
            high = -1
    return low, high


def event_search(
    *,
    license_identifier: str = "",
    certificate_number: str = "",
    organisation=None,
    actor=None,
    action: str = "",
    result: str = "",
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    before: int | None = None,
    limit: int = PAGE_SIZE,
) -> Page:
    """Events matching every given filter, newest first, `limit` at a time."""
    qs = event_queryset(
        license_identifier=license_identifier,
        certificate_number=certificate_number,
        organisation=organisation,
        actor=actor,
        action=action,
        result=result,
        start=start,
        end=end,
    )
    if before is not None:
        qs = qs.filter(seq__lt=before)
    rows = list(qs.order_by("-seq").select_related("organisation")[: limit + 1])
    older = rows[limit - 1].seq if len(rows) > limit else None
    return Page(events=rows[:limit], older=older)


def event_queryset(
    *,
    license_identifier: str = "",
    certificate_number: str = "",
    organisation=None,
    actor=None,
    action: str = "",
    result: str = "",
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
):
    """The filtered events, unordered (for the search page and the CSV export)."""
    qs = AuditEvent.objects.all()
    if license_identifier:
        qs = qs.filter(license_identifier=license_identifier)
    if certificate_number:
        qs = qs.filter(certificate_number=certificate_number)
    if organisation is not None:
        qs = qs.filter(organisation=organisation)
    if actor is not None:
        qs = qs.filter(actor=actor)
    if action:
        qs = qs.filter(action=action)
    if result:
        qs = qs.filter(result=result)
    if start is not None or end is not None:
        low, high = _seq_bounds(start, end)
        if low is not None:
            qs = qs.filter(seq__gte=low, occurred_at__gte=start)
        if high is not None:
            qs = qs.filter(seq__lte=high, occurred_at__lt=end)
    return qs


def license_timeline(*, license_identifier: str, after: int | None = None, limit: int = 200) -> Page:
    """Every event about one licence — lifecycle and every access — oldest first."""
    qs = AuditEvent.objects.filter(license_identifier=license_identifier)
    if after is not None:
        qs = qs.filter(seq__gt=after)
    rows = list(qs.order_by("seq").select_related("organisation")[: limit + 1])
    newer = rows[limit - 1].seq if len(rows) > limit else None
    return Page(events=rows[:limit], older=None, newer=newer)


@dataclass(frozen=True)
class LicenseUse:
    seq: int
    occurred_at: dt.datetime
    organisation: str
    person: str
    action: str
    action_label: str
    purpose: str
    fields: list
    result: str


def license_uses(*, license_identifier: str, before: int | None = None, limit: int = PAGE_SIZE) -> list[LicenseUse]:
    """Who used one licence: reads, downloads and verifications, newest first.

    The data of a holder's "who used my licence" view: organisation, person, time, stated
    purpose and the fields returned (as recorded, already masked, in `details["fields"]`).
    """
    qs = AuditEvent.objects.filter(license_identifier=license_identifier, action__in=USE_ACTIONS)
    if before is not None:
        qs = qs.filter(seq__lt=before)
    uses = []
    for event in qs.order_by("-seq").select_related("organisation")[:limit]:
        fields = event.details.get("fields", []) if isinstance(event.details, dict) else []
        uses.append(
            LicenseUse(
                seq=event.seq,
                occurred_at=event.occurred_at,
                organisation=str(event.organisation) if event.organisation_id else "",
                person=event.actor_repr,
                action=event.action,
                action_label=action_label(event.action),
                purpose=event.purpose,
                fields=list(fields) if isinstance(fields, list) else [str(fields)],
                result=event.result,
            )
        )
    return uses


@dataclass(frozen=True)
class ChainState:
    head: AuditChainHead | None
    last_verification: AuditVerification | None
    last_successful_verification: AuditVerification | None
    last_checkpoint: AuditCheckpoint | None


def chain_state() -> ChainState:
    return ChainState(
        head=AuditChainHead.objects.filter(pk=1).first(),
        last_verification=AuditVerification.objects.order_by("-ran_at").first(),
        last_successful_verification=AuditVerification.objects.filter(ok=True).order_by("-ran_at").first(),
        last_checkpoint=AuditCheckpoint.objects.order_by("-seq", "-created_at").first(),
    )
