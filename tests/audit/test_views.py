import csv
import datetime as dt
import io

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from audit.checkpoints import create_checkpoint
from audit.models import AuditEvent
from audit.selectors import license_uses
from audit.services import record_event
from tests.audit.conftest import CERTIFICATE_NUMBER, IDENTIFIER, FakeLicence


@pytest.fixture
def auditor_client(client, auditor):
    client.force_login(auditor)
    return client


def _lifecycle(clerk, bank, court) -> int:
    """Five events about two licences; returns the seq before them (sign-ins come first)."""
    base = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    licence = FakeLicence()
    record_event(action="license.create_draft", actor=clerk, target=licence)
    record_event(action="license.issue", actor=clerk, target=licence)
    record_event(
        action="license.read",
        target=licence,
        organisation=bank,
        purpose="MORTGAGE_LOAN",
        details={"fields": ["坐落", "权利人（脱敏）"]},
    )
    record_event(
        action="license.read",
        target=FakeLicence(identifier="1.2.156.other", certificate_number="other"),
        organisation=court,
        purpose="LITIGATION",
    )
    record_event(
        action="license.download",
        target=licence,
        organisation=court,
        purpose="LITIGATION",
        details={"fields": ["file"]},
    )
    return base


@pytest.mark.parametrize("who", ["clerk", "approver", "outsider", "superuser", "anonymous"])
@pytest.mark.parametrize("name", ["audit:events", "audit:chain", "audit:export"])
def test_it_refuses_everyone_but_audit_administrators_and_records_the_attempt(
    client, clerk, approver, outsider, who, name
):
    user = {"clerk": clerk, "approver": approver, "outsider": outsider}.get(who)
    if who == "superuser":
        user = get_user_model().objects.create_superuser("root", password="root-Secret-123")
    if user is not None:
        client.force_login(user)
    response = client.get(reverse(name))
    assert response.status_code == 403
    assert "审计记录仅限审计管理员查看" in response.content.decode()
    denied = AuditEvent.objects.get(action="audit.denied")
    assert denied.result == "DENIED" and denied.reason == f"GET {reverse(name)}"
    assert denied.actor == user
    assert not AuditEvent.objects.filter(action="audit.export").exists()


def test_it_refuses_the_timeline_to_an_organisation_operator(client, bank_operator):
    client.force_login(bank_operator)
    assert client.get(reverse("audit:timeline", args=[IDENTIFIER])).status_code == 403
    assert AuditEvent.objects.filter(action="audit.denied", actor=bank_operator).count() == 1


def test_it_searches_by_licence_certificate_organisation_actor_and_action(auditor_client, clerk, bank, court):
    b = _lifecycle(clerk, bank, court)

    def seqs(**params):
        response = auditor_client.get(reverse("audit:events"), params)
        assert response.status_code == 200
        return [e.seq for e in response.context["page"].events]

    assert seqs(license_identifier=IDENTIFIER) == [b + 5, b + 3, b + 2, b + 1]
    assert seqs(certificate_number=CERTIFICATE_NUMBER) == [b + 5, b + 3, b + 2, b + 1]
    assert seqs(organisation=court.pk) == [b + 5, b + 4]
    assert seqs(actor="clerk") == [b + 2, b + 1]
    assert seqs(action="license.read", organisation=bank.pk) == [b + 3]
    assert seqs() == [b + 5, b + 4, b + 3, b + 2, b + 1, 1]  # everything, with the auditor's sign-in


def test_it_filters_by_time_range(auditor_client, clerk, bank, court):
    b = _lifecycle(clerk, bank, court)
    third = AuditEvent.objects.get(seq=b + 3).occurred_at
    fifth = AuditEvent.objects.get(seq=b + 5).occurred_at
    tz = timezone.get_current_timezone()
    response = auditor_client.get(
        reverse("audit:events"),
        {
            "start": third.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S.%f"),
            "end": fifth.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S.%f"),
        },
    )
    assert [e.seq for e in response.context["page"].events] == [b + 4, b + 3]
    future = timezone.now() + dt.timedelta(days=1)
    response = auditor_client.get(reverse("audit:events"), {"start": future.strftime("%Y-%m-%d %H:%M")})
    assert response.context["page"].events == []


def test_it_explains_bad_search_input(auditor_client):
    response = auditor_client.get(
        reverse("audit:events"), {"actor": "nobody", "start": "2026-05-02", "end": "2026-05-01"}
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "没有用户名为“nobody”的用户" in text and "截止时间必须晚于起始时间" in text


def test_it_pages_through_events_by_sequence_number_without_counting(auditor_client, django_assert_max_num_queries):
    for i in range(60):
        record_event(action="license.verify", reason=f"核验{i}")
    with django_assert_max_num_queries(8):
        first = auditor_client.get(reverse("audit:events"), {"action": "license.verify"})
    page = first.context["page"]
    # seq 1 is the auditor's sign-in
    assert [e.seq for e in page.events] == list(range(61, 11, -1))
    assert page.older == 12
    assert "before=12" in first.content.decode()
    second = auditor_client.get(reverse("audit:events"), {"action": "license.verify", "before": 12})
    assert [e.seq for e in second.context["page"].events] == list(range(11, 1, -1))
    assert second.context["page"].older is None


def test_it_shows_a_licence_timeline_in_order_with_its_uses(auditor_client, clerk, bank, court):
    b = _lifecycle(clerk, bank, court)
    response = auditor_client.get(reverse("audit:timeline", args=[IDENTIFIER]))
    assert response.status_code == 200
    assert [e.seq for e in response.context["page"].events] == [b + 1, b + 2, b + 3, b + 5]
    text = response.content.decode()
    assert bank.name in text and "坐落、权利人（脱敏）" in text


def test_it_lists_who_used_a_licence_for_its_holder(clerk, bank, court):
    b = _lifecycle(clerk, bank, court)
    uses = license_uses(license_identifier=IDENTIFIER)
    assert [(u.seq, u.organisation, u.action, u.purpose, u.fields) for u in uses] == [
        (b + 5, court.name, "license.download", "LITIGATION", ["file"]),
        (b + 3, bank.name, "license.read", "MORTGAGE_LOAN", ["坐落", "权利人（脱敏）"]),
    ]


def test_it_shows_an_organisations_activity_and_an_event(auditor_client, clerk, bank, court):
    b = _lifecycle(clerk, bank, court)
    response = auditor_client.get(reverse("audit:organisation", args=[court.pk]))
    assert [e.seq for e in response.context["page"].events] == [b + 5, b + 4]
    detail = auditor_client.get(reverse("audit:event_detail", args=[b + 3]))
    assert detail.status_code == 200 and AuditEvent.objects.get(seq=b + 3).hash in detail.content.decode()
    assert auditor_client.get(reverse("audit:event_detail", args=[999])).status_code == 404


def test_it_exports_a_search_as_csv_and_records_the_export(auditor_client, auditor, clerk, bank, court):
    b = _lifecycle(clerk, bank, court)
    record_event(action="license.read", reason='=HYPERLINK("http://evil")', target=FakeLicence())
    response = auditor_client.get(reverse("audit:export"), {"license_identifier": IDENTIFIER})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][0] == "序号"
    assert [int(r[0]) for r in rows[1:]] == [b + 6, b + 5, b + 3, b + 2, b + 1]
    assert rows[1][13].startswith("'=")  # a formula is neutralised, not executed by a spreadsheet
    export = AuditEvent.objects.get(action="audit.export")
    assert export.actor == auditor and export.details["filters"] == {"license_identifier": IDENTIFIER}


def test_it_shows_the_chain_state(auditor_client, commission_key, clerk, bank, court):
    from django.core.management import call_command

    _lifecycle(clerk, bank, court)
    create_checkpoint()
    call_command("verify_audit")
    text = auditor_client.get(reverse("audit:chain")).content.decode()
    assert "完整" in text and commission_key.fingerprint in text


def test_it_offers_auditors_a_read_only_admin_and_hides_it_from_superusers(client, auditor):
    record_event(action="auth.login")
    client.force_login(auditor)
    assert client.get(reverse("admin:audit_auditevent_changelist")).status_code == 200
    assert client.get(reverse("admin:audit_auditevent_change", args=[1])).status_code == 200
    assert client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    assert client.post(reverse("admin:audit_auditevent_delete", args=[1]), {"post": "yes"}).status_code == 403
    root = get_user_model().objects.create_superuser("root", password="root-Secret-123")
    client.force_login(root)
    assert client.get(reverse("admin:audit_auditevent_changelist")).status_code == 403
    assert AuditEvent.objects.filter(seq=1).exists()


def test_it_finds_an_organisation_by_name_or_credit_code(auditor_client, clerk, bank, court):
    b = _lifecycle(clerk, bank, court)
    for value in (court.name, court.uscc, str(court.pk)):
        response = auditor_client.get(reverse("audit:events"), {"organisation": value})
        assert [e.seq for e in response.context["page"].events] == [b + 5, b + 4]
    response = auditor_client.get(reverse("audit:events"), {"organisation": "不存在的机构"})
    assert "没有名称、统一社会信用代码或编号为“不存在的机构”的用证机构" in response.content.decode()
