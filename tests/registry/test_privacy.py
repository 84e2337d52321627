"""No raw ID number from the demo data appears in admin pages, URLs, log lines, SQL or audit records."""

import logging

import pytest
from auditlog.models import LogEntry as AuditLogEntry
from django.contrib.admin.models import LogEntry as AdminLogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from registry import demo
from registry.models import Holder, PropertyUnit

pytestmark = pytest.mark.django_db

DEMO_NUMBERS = [number for _, _, number, _, _ in demo.PERSONS] + [code for _, code, _, _ in demo.COMPANIES]


def _variants(number: str) -> set[str]:
    return {number, number.lower(), number[:-1]}  # the last form catches a number shown minus its check char


def test_it_never_shows_logs_or_stores_a_demo_id_number_in_clear(client, caplog):
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []
    with CaptureQueriesContext(connection) as queries:
        credentials = demo.seed({})
        assert Holder.objects.count() == len(DEMO_NUMBERS)

        clerk = credentials["users"]["clerk"]
        # Through the sign-in form: the lockout backend (django-axes) needs the request.
        response = client.post("/admin/login/", {"username": clerk["username"], "password": clerk["password"]})
        assert response.status_code == 302

        def visit(response):
            seen.append(response.content.decode(errors="replace"))
            seen.append(response.get("Location", ""))
            seen.extend(url for url, _status in getattr(response, "redirect_chain", []))
            return response

        visit(client.get(reverse("admin:index")))
        visit(client.get(reverse("admin:registry_holder_changelist")))
        visit(client.get(reverse("admin:registry_holder_changelist") + "?kind__exact=PERSON&id_type__exact=111"))
        visit(client.get(reverse("admin:registry_propertyunit_changelist")))
        for holder in Holder.objects.all():
            visit(client.get(reverse("admin:registry_holder_change", args=[holder.pk])))
            visit(client.get(reverse("admin:registry_holder_history", args=[holder.pk])))
        for unit in PropertyUnit.objects.all():
            visit(client.get(reverse("admin:registry_propertyunit_change", args=[unit.pk])))
        for number in DEMO_NUMBERS:
            visit(client.post(reverse("admin:registry_holder_lookup"), {"q": number}, follow=True))
            visit(client.post(reverse("admin:registry_holder_lookup"), {"id_number": number}, follow=True))
        # A number arriving in a URL anyway is answered without echoing it.
        visit(client.get(reverse("admin:registry_holder_changelist"), {"q": DEMO_NUMBERS[0]}, follow=True))

        # Edits through the admin: a change, a duplicate and an invalid number.
        zhang = Holder.objects.get(name="张伟")
        form = {"kind": "PERSON", "name": "张伟", "id_type": "111", "phone": "13800138001", "address": ""}
        visit(
            client.post(
                reverse("admin:registry_holder_change", args=[zhang.pk]), {**form, "id_number": DEMO_NUMBERS[0]}
            )
        )
        visit(client.post(reverse("admin:registry_holder_add"), {**form, "id_number": DEMO_NUMBERS[1]}))
        visit(client.post(reverse("admin:registry_holder_add"), {**form, "id_number": DEMO_NUMBERS[2][:-1] + "0"}))

        # A CSV import repeating demo numbers, with one bad row.
        rows = "".join(f"自然人,{name},{t},{n},,\n" for name, t, n, _, _ in demo.PERSONS)
        rows += f"自然人,坏行,111,{DEMO_NUMBERS[3][:-1]}9,,\n"
        upload = SimpleUploadedFile(
            "h.csv", ("主体类别,名称/姓名,证件类型,证件号码,联系电话,通讯地址\n" + rows).encode()
        )
        visit(client.post(reverse("admin:registry_holder_import"), {"file": upload}))

        demo.seed({})  # idempotent re-run: updates, no duplicates
        assert Holder.objects.count() == len(DEMO_NUMBERS)

    audit_text = [
        f"{e.changes} {e.object_repr} {e.additional_data} {e.changes_text}" for e in AuditLogEntry.objects.all()
    ]
    admin_text = [f"{e.change_message} {e.object_repr}" for e in AdminLogEntry.objects.all()]
    sql_text = [f"{q['sql']}" for q in queries.captured_queries]
    assert AuditLogEntry.objects.filter(content_type__model="holder").exists()

    haystacks = {
        "admin pages and URLs": "\n".join(seen),
        "log lines": caplog.text + "\n".join(r.getMessage() for r in caplog.records),
        "auditlog change records": "\n".join(audit_text),
        "admin history": "\n".join(admin_text),
        "SQL sent to the database": "\n".join(sql_text),
    }
    for number in DEMO_NUMBERS:
        for variant in _variants(number):
            for where, text in haystacks.items():
                assert variant not in text, f"an ID number appears in {where}"
    # The masked forms are what people see.
    assert "110105********1239" in haystacks["admin pages and URLs"]
