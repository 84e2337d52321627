"""A view that queues a task, and the task, for following a correlation id into a real worker."""

from auditlog.cid import get_cid
from django.db import transaction
from django.http import HttpResponse
from django.urls import include, path

from audit.services import record_event
from config.celery import app


@app.task(name="tests.audit.probe_task", ignore_result=True)
def probe_task():
    record_event(action="license.verify", details={"auditlog_cid": get_cid()})


def queue_probe(request):
    transaction.on_commit(probe_task.delay)
    return HttpResponse("queued")


urlpatterns = [
    path("probe/", queue_probe),
    path("", include("config.urls")),
]
