"""`/healthz`: the state of everything a request or a task depends on.

Answers 200 when the database, the broker and the file storage all work, 503 naming the
failing part otherwise, so that a load balancer or an operator sees at once what is down.
"""

import time

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.celery import app as celery_app

BROKER_TIMEOUT_S = 2.0


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return connection.vendor


def _check_broker() -> str:
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_S)
        return conn.transport.driver_type


def _check_storage() -> str:
    name = default_storage.save(".healthz/probe", ContentFile(b"ok"))
    try:
        with default_storage.open(name) as fh:
            if fh.read() != b"ok":
                raise OSError("storage returned different bytes than written")
    finally:
        default_storage.delete(name)
    return type(default_storage).__name__


CHECKS = {"database": _check_database, "broker": _check_broker, "storage": _check_storage}


@never_cache
@require_GET
def healthz(request):
    components = {}
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            detail = check()
            components[name] = {"status": "ok", "detail": detail}
        except Exception as exc:  # noqa: BLE001 - any failure means the component is down
            components[name] = {"status": "down", "error": f"{type(exc).__name__}: {exc}"[:300]}
        components[name]["ms"] = round((time.perf_counter() - started) * 1000, 1)
    healthy = all(c["status"] == "ok" for c in components.values())
    body = {"status": "ok" if healthy else "down", "components": components}
    if settings.DEBUG or healthy:
        return JsonResponse(body, status=200 if healthy else 503)
    # In production keep error details (hosts, paths) out of an unauthenticated answer.
    for c in components.values():
        c.pop("error", None)
    return JsonResponse(body, status=503)
