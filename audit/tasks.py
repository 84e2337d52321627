from celery import shared_task
from django.db.models import F
from django.utils import timezone

from audit.models import WorkerHeartbeat


@shared_task(bind=True, ignore_result=True)
def record_worker_heartbeat(self):
    """Record that a worker is alive. Idempotent in effect: a redelivery only refreshes the time."""
    hostname = self.request.hostname or "unknown"
    now = timezone.now()
    updated = WorkerHeartbeat.objects.filter(hostname=hostname).update(last_seen=now, beats=F("beats") + 1)
    if not updated:
        WorkerHeartbeat.objects.get_or_create(hostname=hostname, defaults={"last_seen": now, "beats": 1})
