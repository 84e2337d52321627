"""Benchmark of the audit trail at scale: `python bench/audit.py` (needs DATABASE_URL on PostgreSQL).

1. Creates a scratch database `<db>_bench_audit` (dropped at the end, also on error), migrates it.
2. Seeds 5,000,000 events (BENCH_AUDIT_EVENTS) with one INSERT … SELECT generate_series per
   million rows. The distribution is meant to be realistic — about half the events are
   organisations reading licences, then public verifications, downloads, the lifecycle actions
   of clerks, grants, sign-ins; organisations and licences are skewed (a few banks and hot
   licences account for much of the traffic); times spread over a year in sequence order. The
   `hash`/`prev_hash` columns are filler, NOT a valid chain (the bench measures reads; computing
   5M SHA-256 links in Python would take longer than the rest), and licence identifiers carry no
   valid check character.
3. ANALYZE, then p50/p95 of requests through the Django test client (middleware, session,
   permission check, template) as the audit administrator: the event list (newest page and
   random older pages), a filtered search (organisation + action + 30-day window) and a licence
   timeline.
4. `audit_overhead_ratio`: see `measure_audit_overhead`.

Last line: `events=… list_p95_ms=… search_p95_ms=… timeline_p95_ms=… audit_overhead_ratio=…`.
"""

import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scratch import deployment_settings, scratch_database  # noqa: E402

EVENTS = int(os.environ.get("BENCH_AUDIT_EVENTS", "5000000"))
BATCH = 1_000_000
REPEATS = int(os.environ.get("BENCH_AUDIT_REPEATS", "200"))
LICENCES = max(EVENTS // 10, 1000)
ORGANISATIONS = 300
STAFF = 40


SEED_SQL = """
INSERT INTO audit_auditevent (
    seq, occurred_at, actor_id, actor_repr, organisation_id, api_key_repr, action, target_type, target_id,
    target_repr, license_identifier, certificate_number, result, reason, purpose, details, correlation_id,
    remote_addr, prev_hash, hash)
SELECT
    s,
    %(start)s::timestamptz + s * %(step)s * interval '1 second',
    CASE WHEN kind = 'staff' THEN staff_id WHEN kind = 'org' THEN operator_id END,
    CASE WHEN kind = 'staff' THEN 'staff' || staff_id WHEN kind = 'org' THEN 'operator' || operator_id ELSE '系统' END,
    CASE WHEN kind = 'org' THEN org_id END,
    CASE WHEN kind = 'org' AND s %% 3 = 0 THEN 'key-' || org_id ELSE '' END,
    action,
    CASE WHEN lic THEN 'licensing.license' ELSE '' END,
    CASE WHEN lic THEN licence_no::text ELSE '' END,
    CASE WHEN lic THEN '京(2026)朝阳区不动产权第' || lpad(licence_no::text, 7, '0') || '号' ELSE '' END,
    CASE WHEN lic THEN '1.2.156.3005.2.11100000MB03271699001.11110000MB0000001Y.2026'
                       || lpad(licence_no::text, 7, '0') || '.001.X' ELSE '' END,
    CASE WHEN lic THEN '京(2026)朝阳区不动产权第' || lpad(licence_no::text, 7, '0') || '号' ELSE '' END,
    CASE WHEN action = 'auth.login_failed' THEN 'FAILURE' WHEN s %% 97 = 0 THEN 'DENIED' ELSE 'SUCCESS' END,
    CASE WHEN action IN ('license.cancel', 'license.revoke', 'license.suspend') THEN '法院裁定' ELSE '' END,
    CASE WHEN action IN ('license.read', 'license.download') THEN
        (ARRAY['MORTGAGE_LOAN', 'NOTARISATION', 'LITIGATION', 'GOVERNMENT_SERVICE'])[1 + s %% 4] ELSE '' END,
    CASE WHEN action = 'license.read' THEN '{"fields": ["坐落", "用途", "权利人（脱敏）"]}'::jsonb
         WHEN action = 'auth.login_failed' THEN '{"username": "clerk"}'::jsonb ELSE '{}'::jsonb END,
    md5(s::text),
    '10.' || (s %% 250) || '.' || (s %% 200) || '.' || (s %% 100),
    md5((s - 1)::text) || md5((s - 1)::text),
    md5(s::text) || md5(s::text)
FROM (
    SELECT *, action LIKE 'license.%%' OR action LIKE 'access.%%' AS lic,
        CASE WHEN action IN ('license.read', 'license.download', 'access.grant', 'access.revoke') THEN 'org'
             WHEN action IN ('license.verify', 'license.sign', 'auth.login_failed') THEN 'system'
             ELSE 'staff' END AS kind
    FROM (
        SELECT s,
            CASE WHEN r < 0.45 THEN 'license.read' WHEN r < 0.65 THEN 'license.verify'
                 WHEN r < 0.73 THEN 'license.download' WHEN r < 0.78 THEN 'license.create_draft'
                 WHEN r < 0.83 THEN 'license.issue' WHEN r < 0.88 THEN 'license.sign'
                 WHEN r < 0.91 THEN 'access.grant' WHEN r < 0.92 THEN 'access.revoke'
                 WHEN r < 0.95 THEN 'auth.login' WHEN r < 0.955 THEN 'auth.login_failed'
                 WHEN r < 0.965 THEN 'license.cancel' WHEN r < 0.97 THEN 'license.suspend'
                 WHEN r < 0.975 THEN 'license.revoke' WHEN r < 0.98 THEN 'license.reinstate'
                 WHEN r < 0.99 THEN 'license.file' WHEN r < 0.995 THEN 'license.cancel_request'
                 ELSE 'license.transfer' END AS action,
            1 + floor(%(licences)s * power(random(), 1.5))::int AS licence_no,
            (%(orgs)s::bigint[])[1 + floor(%(norgs)s * power(random(), 2))::int] AS org_id,
            (%(operators)s::bigint[])[1 + floor(%(noperators)s * random())::int] AS operator_id,
            (%(staff)s::bigint[])[1 + floor(%(nstaff)s * random())::int] AS staff_id
        FROM (SELECT s, random() AS r FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) AS s) AS g
    ) AS a
) AS b
"""


def seed(stdout=print):
    import datetime as dt

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection

    from audit.models import AuditChainHead
    from registry import roles
    from registry.models import OrganisationType, RequestingOrganisation

    User = get_user_model()
    roles.ensure_role_groups()
    auditor = User.objects.create_user("bench-auditor", password=None, is_staff=True)
    auditor.groups.add(Group.objects.get(name=roles.GROUP_NAMES[roles.AUDIT_ADMIN]))
    staff = User.objects.bulk_create([User(username=f"staff{i}", is_staff=True) for i in range(STAFF)])
    orgs = RequestingOrganisation.objects.bulk_create(
        [
            RequestingOrganisation(name=f"用证机构{i:03d}", uscc=f"9111000000{i:07d}X", org_type=OrganisationType.BANK)
            for i in range(ORGANISATIONS)
        ]
    )
    operators = User.objects.bulk_create([User(username=f"operator{i}") for i in range(2 * ORGANISATIONS)])
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    step = 365 * 86400 / EVENTS
    params = {
        "start": start,
        "step": step,
        "licences": LICENCES,
        "orgs": [o.pk for o in orgs],
        "norgs": len(orgs),
        "operators": [u.pk for u in operators],
        "noperators": len(operators),
        "staff": [u.pk for u in staff],
        "nstaff": len(staff),
    }
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'audit_auditevent' AND indexname NOT LIKE '%%pkey'"
        )
        index_defs = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'audit_auditevent' AND indexname NOT LIKE '%%pkey'"
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{name}"')
        # Foreign-key checks are triggers: skip them for the bulk load (the ids are real).
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("SET maintenance_work_mem = '512MB'")
        for lo in range(1, EVENTS + 1, BATCH):
            hi = min(lo + BATCH - 1, EVENTS)
            began = time.monotonic()
            cursor.execute(SEED_SQL, {**params, "lo": lo, "hi": hi})
            stdout(f"  seeded events {lo:,}–{hi:,} in {time.monotonic() - began:.1f} s")
        cursor.execute("SET session_replication_role = DEFAULT")
        began = time.monotonic()
        for definition in index_defs:
            cursor.execute(definition)
        stdout(f"  rebuilt {len(index_defs)} indexes in {time.monotonic() - began:.1f} s")
        cursor.execute("SELECT hash FROM audit_auditevent WHERE seq = %s", [EVENTS])
        last_hash = cursor.fetchone()[0]
    AuditChainHead.objects.update_or_create(pk=1, defaults={"seq": EVENTS, "hash": last_hash})
    began = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) audit_auditevent")
    stdout(f"  VACUUM ANALYZE in {time.monotonic() - began:.1f} s")
    return auditor, orgs


def _timed(client, url, params=None) -> float:
    began = time.perf_counter()
    response = client.get(url, params or {}, secure=True)  # as behind the TLS proxy (DEBUG off)
    elapsed = (time.perf_counter() - began) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"{url} {params} answered {response.status_code}")
    if hasattr(response, "streaming_content"):
        b"".join(response.streaming_content)
    return elapsed


def _stats(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    return statistics.median(ordered), p95


def measure_reads(auditor, orgs, stdout=print) -> dict:
    import datetime as dt

    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(auditor)
    rng = random.Random(20261204)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    list_url, timeline = reverse("audit:events"), "audit:timeline"

    def list_params():
        # Half the requests open the newest page, half follow an "older" link somewhere deep.
        return {} if rng.random() < 0.5 else {"before": rng.randint(2, EVENTS)}

    def search_params():
        window_start = start + dt.timedelta(days=rng.randint(0, 330))
        return {
            "organisation": rng.choice(orgs[:50]).pk,
            "action": rng.choice(["license.read", "license.download", "access.grant"]),
            "start": window_start.strftime("%Y-%m-%d %H:%M"),
            "end": (window_start + dt.timedelta(days=30)).strftime("%Y-%m-%d %H:%M"),
        }

    def timeline_url():
        number = 1 + int(LICENCES * rng.random() ** 1.5)
        identifier = f"1.2.156.3005.2.11100000MB03271699001.11110000MB0000001Y.2026{number:07d}.001.X"
        return reverse(timeline, args=[identifier])

    results = {}
    for name, make in [
        ("list", lambda: (list_url, list_params())),
        ("search", lambda: (list_url, search_params())),
        ("timeline", lambda: (timeline_url(), None)),
    ]:
        for _ in range(10):  # warm-up: caches and connection
            _timed(client, *make())
        samples = [_timed(client, *make()) for _ in range(REPEATS)]
        p50, p95 = _stats(samples)
        results[name] = (p50, p95)
        stdout(f"{name:9s} p50={p50:.1f} ms p95={p95:.1f} ms over {REPEATS} requests")
    return results


def explain_queries(orgs, stdout=print) -> None:
    """Print the plans of the three queries, to show each is an index scan, not a table scan."""
    import datetime as dt

    from audit import selectors
    from audit.models import AuditEvent

    start = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    search = selectors.event_queryset(
        organisation=orgs[3], action="license.download", start=start, end=start + dt.timedelta(days=30)
    ).order_by("-seq")[:51]
    identifier = "1.2.156.3005.2.11100000MB03271699001.11110000MB0000001Y.20260000042.001.X"
    for name, qs in [
        ("list (older page)", AuditEvent.objects.filter(seq__lt=EVENTS // 2).order_by("-seq")[:51]),
        ("search", search),
        ("timeline", AuditEvent.objects.filter(license_identifier=identifier).order_by("seq")[:201]),
    ]:
        plan = qs.explain(analyze=True).splitlines()
        stdout(f"plan of {name}:")
        for line in plan[:6]:
            stdout(f"    {line}")


def measure_audit_overhead(stdout=print, rounds: int = 200) -> str:
    """Cost of issuing a licence with the audit chain divided by the cost without it.

    Times `license_issue` (numbering, validation, status history, and — in the first variant —
    the chain event with its sequencer lock and SHA-256 link) on the 5M-event table, alternating
    the two variants round by round so that drift hits both alike. Signing is not enqueued in
    either variant: the broker publish is the same cost for both and would only add noise.
    Returns the ratio of the medians.
    """
    from unittest import mock

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from licensing import services
    from registry import roles
    from registry.models import HolderKind, IdType, Issuer, LicenseKind, LicenseType
    from registry.services import holder_create, property_unit_create
    from registry.validators import id_number_check_char

    roles.ensure_role_groups()
    clerk = get_user_model().objects.create_user("bench-clerk", is_staff=True)
    clerk.groups.add(Group.objects.get(name=roles.GROUP_NAMES[roles.CLERK]))
    clerk = get_user_model().objects.get(pk=clerk.pk)
    body = "11010519900307123"
    holder = holder_create(
        kind=HolderKind.PERSON, name="基准测试", id_type=IdType.RESIDENT_ID, id_number=body + id_number_check_char(body)
    )
    license_type = LicenseType.objects.get(code="11100000MB03271699001")
    issuer = Issuer.objects.get(uscc="11110000MB0000001Y")

    def issue_once(n: int) -> float:
        unit = property_unit_create(
            unit_number=f"110105003001GB{n:05d}F00031201",
            location="朝阳区基准路1号",
            right_type="国有建设用地使用权/房屋所有权",
            right_nature="出让/商品房",
            use="住宅",
        )
        draft = services.license_create_draft(
            actor=clerk,
            kind=LicenseKind.CERTIFICATE,
            license_type=license_type,
            issuer=issuer,
            property_unit=unit,
            parties=[services.Party(holder)],
        )
        started = time.perf_counter()
        services.license_issue(license=draft, actor=clerk)
        return (time.perf_counter() - started) * 1000

    with_chain, without_chain = [], []
    with mock.patch.object(services, "_enqueue_signing", lambda license_id: None):
        for n in range(1, 2 * rounds + 1, 2):
            with_chain.append(issue_once(n))
            with mock.patch.object(services, "record_event", lambda **kwargs: None):
                without_chain.append(issue_once(n + 1))
    a, b = statistics.median(with_chain[10:]), statistics.median(without_chain[10:])
    stdout(f"issue with chain: median {a:.2f} ms; without: {b:.2f} ms over {rounds - 10} rounds each")
    return f"{a / b:.3f}"


def main() -> int:
    with scratch_database("audit") as name:
        print(f"scratch database {name}")
        deployment_settings()
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        settings.DEBUG = False  # no query log kept in memory during the measurements
        call_command("migrate", verbosity=0)
        began = time.monotonic()
        auditor, orgs = seed()
        print(f"seeded {EVENTS:,} events in {time.monotonic() - began:.0f} s")
        explain_queries(orgs)
        reads = measure_reads(auditor, orgs)
        ratio = measure_audit_overhead()
    print(
        f"events={EVENTS} list_p95_ms={reads['list'][1]:.1f} search_p95_ms={reads['search'][1]:.1f} "
        f"timeline_p95_ms={reads['timeline'][1]:.1f} audit_overhead_ratio={ratio}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
