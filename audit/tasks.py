from celery import shared_task
from django.db.models import F
from django.utils import timezone

from audit.context import acting_as_system
from audit.models import WorkerHeartbeat


@shared_task(bind=True, ignore_result=True)
def record_worker_heartbeat(self):
    """Record that a worker is alive. Idempotent in effect: a redelivery only refreshes the time."""
    hostname = self.request.hostname or "unknown"
    now = timezone.now()
    updated = WorkerHeartbeat.objects.filter(hostname=hostname).update(last_seen=now, beats=F("beats") + 1)
    if not updated:
        WorkerHeartbeat.objects.get_or_create(hostname=hostname, defaults={"last_seen": now, "beats": 1})


@shared_task(ignore_result=True)
def sign_checkpoint():
    """Sign the chain head with the commission key (periodic). A no-op when nothing is new."""
    from audit.checkpoints import create_checkpoint

    with acting_as_system("sign_checkpoint"):
        create_checkpoint()


# Verifying millions of events takes minutes: its own limits, still below the visibility timeout.
@shared_task(ignore_result=True, soft_time_limit=3000, time_limit=3300)
def verify_audit_chain():
    """Recompute the whole chain and store the outcome for the auditors' chain-state page."""
    from audit.services import store_verification
    from audit.verification import verify_chain

    with acting_as_system("verify_audit_chain"):
        store_verification(verify_chain(), source="periodic task")
