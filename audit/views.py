"""The auditors' pages at /audit/: search, licence timeline, organisation activity, CSV export,
chain state. Server-rendered, read-only; every view is behind `auditor_required`."""

import csv
import functools
import json

from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from audit import selectors
from audit.actions import action_label
from audit.forms import EventSearchForm
from audit.models import AuditEvent
from audit.permissions import can_view_audit
from audit.services import record_event
from registry.models import RequestingOrganisation

EXPORT_LIMIT = 100_000


def auditor_required(view):
    """Refuse (403) everyone but audit administrators, and record each refusal in the chain."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not can_view_audit(request.user):
            record_event(
                action="audit.denied",
                result="DENIED",
                reason=f"{request.method} {request.path}",
                details={"path": request.path, "view": view.__name__},
            )
            return render(request, "audit/denied.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper


def _querystring(request, **changes) -> str:
    params = request.GET.copy()
    for key, value in changes.items():
        params.pop(key, None)
        if value is not None:
            params[key] = value
    return params.urlencode()


@require_GET
@auditor_required
def event_list(request):
    form = EventSearchForm(request.GET or None)
    page = None
    if form.is_bound and form.is_valid():
        page = selectors.event_search(**form.filters(), before=form.cleaned_data.get("before"))
    elif not form.is_bound:
        page = selectors.event_search()
    older_url = _querystring(request, before=page.older) if page and page.older else None
    return render(
        request,
        "audit/event_list.html",
        {"form": form, "page": page, "older_url": older_url, "export_url": _querystring(request, before=None)},
    )


@require_GET
@auditor_required
def event_detail(request, seq: int):
    event = get_object_or_404(AuditEvent.objects.select_related("organisation"), seq=seq)
    details = json.dumps(event.details, ensure_ascii=False, indent=2, sort_keys=True)
    return render(request, "audit/event_detail.html", {"event": event, "details": details})


@require_GET
@auditor_required
def license_timeline(request, identifier: str):
    try:
        after = int(request.GET["after"]) if request.GET.get("after") else None
    except ValueError as exc:
        raise Http404("after 参数必须是序号") from exc
    page = selectors.license_timeline(license_identifier=identifier, after=after)
    uses = selectors.license_uses(license_identifier=identifier, limit=20)
    later_url = _querystring(request, after=page.newer) if page.newer else None
    return render(
        request,
        "audit/timeline.html",
        {"identifier": identifier, "page": page, "later_url": later_url, "uses": uses},
    )


@require_GET
@auditor_required
def organisation_activity(request, pk: int):
    organisation = get_object_or_404(RequestingOrganisation, pk=pk)
    try:
        before = int(request.GET["before"]) if request.GET.get("before") else None
    except ValueError as exc:
        raise Http404("before 参数必须是序号") from exc
    page = selectors.event_search(organisation=organisation, before=before)
    older_url = _querystring(request, before=page.older) if page.older else None
    return render(
        request, "audit/organisation.html", {"organisation": organisation, "page": page, "older_url": older_url}
    )


@require_GET
@auditor_required
def chain_state(request):
    return render(request, "audit/chain.html", {"state": selectors.chain_state()})


class _Echo:
    def write(self, value):
        return value


def _cell(value) -> str:
    text = "" if value is None else str(value)
    # A cell starting with = + - @ is a formula to spreadsheet programs (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


CSV_HEADER = [
    "序号",
    "时间",
    "操作人",
    "用证机构",
    "API 密钥",
    "操作",
    "操作名称",
    "对象类型",
    "对象 ID",
    "对象",
    "电子证照标识",
    "证书（证明）号",
    "结果",
    "原因",
    "用证事由",
    "详情",
    "关联 ID",
    "来源地址",
    "哈希",
]


def _csv_rows(queryset):
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(CSV_HEADER)  # BOM: spreadsheet programs then read UTF-8 Chinese
    for event in queryset.iterator(chunk_size=2000):
        yield writer.writerow(
            [
                _cell(v)
                for v in (
                    event.seq,
                    timezone.localtime(event.occurred_at).isoformat(),
                    event.actor_repr,
                    event.organisation.name if event.organisation_id else "",
                    event.api_key_repr,
                    event.action,
                    action_label(event.action),
                    event.target_type,
                    event.target_id,
                    event.target_repr,
                    event.license_identifier,
                    event.certificate_number,
                    event.get_result_display(),
                    event.reason,
                    event.purpose,
                    json.dumps(event.details, ensure_ascii=False, sort_keys=True),
                    event.correlation_id,
                    event.remote_addr,
                    event.hash,
                )
            ]
        )


@require_GET
@auditor_required
def export_csv(request):
    form = EventSearchForm(request.GET)
    if not form.is_valid():
        return render(request, "audit/event_list.html", {"form": form, "page": None}, status=400)
    queryset = selectors.event_queryset(**form.filters()).order_by("-seq").select_related("organisation")[:EXPORT_LIMIT]
    # Recorded before the first byte leaves: an export that cannot be audited does not happen.
    record_event(action="audit.export", details={"filters": form.described_filters(), "limit": EXPORT_LIMIT})
    filename = f"audit-{timezone.localtime():%Y%m%d-%H%M%S}.csv"
    response = StreamingHttpResponse(_csv_rows(queryset), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
