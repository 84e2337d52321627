"""Organisation API under load: 200,000 licences and 200,000 grants on PostgreSQL.

Creates a scratch database `<db>_bench_api` (named from DATABASE_URL), migrates it, bulk-inserts
the licences, parties, grants (with their guardian rows) for 100 organisations, then times, in
this one process through Django's test client:
- a trivial authenticated endpoint (`/api/v1/ping`: key check + rate limit),
- the licence list (first page, for a stated purpose),
- the licence detail (field policy, one use consumed, one audit event written).
Each round makes one request of each kind in a shuffled (seeded) order. With a fixed order the
detail always ran straight after the list, the heaviest request, which leaves the CPU caches cold
for whatever comes next: that alone moved the detail/ping ratio by about 5%.
Prints p50/p95 for each; last line `licenses=… grants=… trivial_p95_ms=… list_p95_ms=…
detail_p95_ms=… detail_ratio=…`. The scratch database is dropped at the end.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/licences REDIS_URL=redis://127.0.0.1:6379/0 python bench/api.py
"""

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scratch import deployment_settings, scratch_database  # noqa: E402

LICENSES = int(os.environ.get("BENCH_LICENSES", 200_000))
GRANTS = int(os.environ.get("BENCH_GRANTS", 200_000))
ORGS = 100
SAMPLES = int(os.environ.get("BENCH_SAMPLES", 1000))  # per endpoint; ~45 s of requests
BATCH = 5000


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def populate():
    import secrets
    from datetime import timedelta

    from django.contrib.auth.models import Group, Permission
    from django.db import connection, transaction
    from django.utils import timezone

    from access import permissions
    from access.models import Authorisation, LicenseGroupObjectPermission
    from licensing.models import License, LicenseHolder
    from registry import roles
    from registry.models import (
        District,
        Issuer,
        LicenseType,
        OrganisationMember,
        OrganisationType,
        PropertyUnit,
        Purpose,
        RequestingOrganisation,
    )
    from registry.services import holder_create
    from registry.validators import format_certificate_number, format_identifier, id_number_check_char

    roles.ensure_role_groups()
    purpose, _ = Purpose.objects.get_or_create(
        code="MORTGAGE_LOAN", defaults={"name": "抵押贷款审查", "basis": Purpose.Basis.CONSENT}
    )
    district = District.objects.get(code="110105")
    ltype = LicenseType.objects.get(code="11100000MB03271699001")
    issuer = Issuer.objects.get(uscc="11110000MB0000001Y")
    now = timezone.now()
    t0 = time.perf_counter()

    holders = []
    for i in range(200):
        body = f"110105199003{(i % 28) + 1:02d}{i:03d}"
        holders.append(
            holder_create(kind="PERSON", name=f"测试{i}", id_type="111", id_number=body + id_number_check_char(body))
        )
    units = [
        PropertyUnit(
            unit_number=f"110105003001GB{i // 10000:05d}F{i % 10000:04d}{i % 7:04d}"[:28],
            district=district,
            location=f"朝阳区建国路{i}号院1号楼12层1201",
            right_type="国有建设用地使用权/房屋所有权",
            right_nature="出让/商品房",
            use="住宅",
        )
        for i in range(LICENSES)
    ]
    PropertyUnit.objects.bulk_create(units, batch_size=BATCH)
    unit_ids = list(PropertyUnit.objects.order_by("id").values_list("id", flat=True))
    licenses = []
    for i, unit_id in enumerate(unit_ids):
        serial = f"2026{i + 1:07d}"
        licenses.append(
            License(
                kind="CERTIFICATE",
                license_type=ltype,
                issuer=issuer,
                property_unit_id=unit_id,
                identifier=format_identifier(ltype.code, issuer.uscc, serial, 1),
                serial=serial,
                certificate_number=format_certificate_number("CERTIFICATE", 2026, district, i + 1),
                number_year=2026,
                number_serial=i + 1,
                status="VALID",
                check_code=secrets.token_hex(12),
                issued_at=now,
                status_changed_at=now,
            )
        )
    License.objects.bulk_create(licenses, batch_size=BATCH)
    license_ids = list(License.objects.order_by("id").values_list("id", flat=True))
    LicenseHolder.objects.bulk_create(
        [LicenseHolder(license_id=lid, holder=holders[i % len(holders)]) for i, lid in enumerate(license_ids)],
        batch_size=BATCH,
    )
    print(f"licences and parties inserted in {time.perf_counter() - t0:.1f}s", flush=True)

    from django.contrib.auth import get_user_model

    User = get_user_model()
    sysadmin = User.objects.create_user("bench_sysadmin", password=None)
    sysadmin.groups.add(Group.objects.get(name=roles.GROUP_NAMES[roles.SYSTEM_ADMIN]))
    orgs = []
    for n in range(ORGS):
        org = RequestingOrganisation.objects.create(
            name=f"测试银行{n}", uscc=f"9111000080210{n:04d}X"[:18], org_type=OrganisationType.BANK
        )
        org.purposes.set([purpose])
        orgs.append(org)
    view = Permission.objects.get(content_type__app_label="licensing", codename="view_license")
    groups = [permissions.organisation_group(org) for org in orgs]
    grants = []
    perms = []
    for g in range(GRANTS):
        org_index = g % ORGS
        lid = license_ids[(g * 7919) % len(license_ids)]
        grants.append(
            Authorisation(
                license_id=lid,
                organisation=orgs[org_index],
                holder=holders[0],
                fields=[],
                valid_until=now + timedelta(days=365),
                max_uses=1_000_000,
                granted_by=sysadmin,
            )
        )
        perms.append((groups[org_index].pk, lid))
    with transaction.atomic():
        Authorisation.objects.bulk_create(grants, batch_size=BATCH)
        # Every consent field at once (the column is JSON): cheaper than 200,000 Python lists.
        from access.policy import FIELDS

        Authorisation.objects.update(fields=list(FIELDS))
        through = Authorisation.purposes.through
        through.objects.bulk_create(
            [
                through(authorisation_id=a, purpose_id=purpose.pk)
                for a in Authorisation.objects.values_list("id", flat=True)
            ],
            batch_size=BATCH,
        )
        LicenseGroupObjectPermission.objects.bulk_create(
            [
                LicenseGroupObjectPermission(group_id=gid, permission=view, content_object_id=lid)
                for gid, lid in set(perms)
            ],
            batch_size=BATCH,
            ignore_conflicts=True,
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"grants inserted in {time.perf_counter() - t0:.1f}s total", flush=True)

    bank = orgs[0]
    operator = User.objects.create_user("bench_operator", password=None)
    OrganisationMember.objects.create(user=operator, organisation=bank, role=OrganisationMember.Role.OPERATOR)
    from access import services

    _, plaintext = services.api_key_issue(organisation=bank, user=operator, label="bench", actor=sysadmin)
    visible = list(
        Authorisation.objects.filter(organisation=bank).values_list("license__identifier", flat=True)[:SAMPLES]
    )
    return plaintext, visible, Authorisation.objects.count(), License.objects.count()


def measure(plaintext, identifiers):
    import random

    from django.conf import settings
    from django.test import Client

    settings.ACCESS_API_RATE = "1000000/min"
    client = Client(HTTP_AUTHORIZATION=f"Api-Key {plaintext}")

    def timed(path, purpose=True):
        headers = {"HTTP_X_PURPOSE": "MORTGAGE_LOAN"} if purpose else {}
        start = time.perf_counter()
        # secure=True: as behind the TLS-terminating proxy (with DEBUG off, plain HTTP redirects).
        response = client.get(path, secure=True, **headers)
        elapsed = (time.perf_counter() - start) * 1000
        assert response.status_code == 200, (path, response.status_code, response.content[:300])
        return elapsed

    for _ in range(20):  # warm caches and connections
        timed("/api/v1/ping", purpose=False)
        timed("/api/v1/licenses/")
        timed(f"/api/v1/licenses/{identifiers[0]}/")
    trivial, listing, detail = [], [], []
    rounds = random.Random(20261204)
    for i in range(SAMPLES):
        requests = [
            (trivial, "/api/v1/ping", False),
            (listing, "/api/v1/licenses/", True),
            (detail, f"/api/v1/licenses/{identifiers[i % len(identifiers)]}/", True),
        ]
        rounds.shuffle(requests)
        for times, path, purpose in requests:
            times.append(timed(path, purpose=purpose))
    return trivial, listing, detail


def main():
    with scratch_database("api"):
        deployment_settings()
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        plaintext, identifiers, grants, licenses = populate()
        trivial, listing, detail = measure(plaintext, identifiers)
    for label, values in (("trivial", trivial), ("list", listing), ("detail", detail)):
        print(f"{label:8s} p50={statistics.median(values):.2f} ms  p95={pct(values, 0.95):.2f} ms  n={len(values)}")
    t95, l95, d95 = pct(trivial, 0.95), pct(listing, 0.95), pct(detail, 0.95)
    print(
        f"licenses={licenses} grants={grants} trivial_p95_ms={t95:.2f} list_p95_ms={l95:.2f} "
        f"detail_p95_ms={d95:.2f} detail_ratio={d95 / t95:.2f}"
    )


if __name__ == "__main__":
    main()
